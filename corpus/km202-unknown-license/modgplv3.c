// SPDX-License-Identifier: GPL-3.0-only
/* "GPL v3" is not one of the kernel's licence strings: the loader taints (P). */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modgplv3_init(void)
{
	pr_info("modgplv3: loaded\n");
	return 0;
}

static void __exit modgplv3_exit(void)
{
	pr_info("modgplv3: unloaded\n");
}

module_init(modgplv3_init);
module_exit(modgplv3_exit);

MODULE_LICENSE("GPL v3");	/* expect: unknown-license */
MODULE_DESCRIPTION("kmodlint corpus: licence string the kernel does not know");
