// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "mod1.h"

static int __init mod2_init(void)
{
	pr_info("mod2: %d %d\n", myadd(3, 5), mysub(8, 5));
	return 0;
}

static void __exit mod2_exit(void)
{
	pr_info("mod2: unloaded\n");
}

module_init(mod2_init);
module_exit(mod2_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses mod1's myadd and mysub");
