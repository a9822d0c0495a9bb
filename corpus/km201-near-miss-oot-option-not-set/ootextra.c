// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Not built: "# CONFIG_OOTEXTRA is not set". No MODULE_LICENSE, nothing reported. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init ootextra_init(void)
{
	pr_info("ootextra: loaded\n");
	return 0;
}

module_init(ootextra_init);

MODULE_DESCRIPTION("kmodlint corpus: an extra module its configuration turns off");
