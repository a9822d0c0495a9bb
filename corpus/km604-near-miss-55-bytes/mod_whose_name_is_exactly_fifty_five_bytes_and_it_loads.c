// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* The module name (file name without .ko) is 55 bytes long. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init longname_init(void)
{
	pr_info("%s: loaded\n", KBUILD_MODNAME);
	return 0;
}

static void __exit longname_exit(void)
{
	pr_info("%s: unloaded\n", KBUILD_MODNAME);
}

module_init(longname_init);
module_exit(longname_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module name of 55 bytes");
