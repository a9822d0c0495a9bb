// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Uses mod1 (in the set) and crc32c, exported by the kernel MODULE libcrc32c (not vmlinux). */
#include <linux/crc32c.h>
#include <linux/module.h>
#include <linux/printk.h>
#include "mod1.h"

static int __init mod2_init(void)
{
	static const char msg[] = "kmodlint";

	pr_info("mod2: myadd(3, 5) = %d, crc32c = %08x\n", myadd(3, 5),
		crc32c(~0U, msg, sizeof(msg) - 1));
	return 0;
}

static void __exit mod2_exit(void)
{
	pr_info("mod2: unloaded\n");
}

module_init(mod2_init);
module_exit(mod2_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses mod1's myadd and libcrc32c's crc32c");
