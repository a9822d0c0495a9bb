// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* No MODULE_DESCRIPTION: the finding points at this module's obj-m line in Kbuild. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modnodesc_init(void)
{
	pr_info("modnodesc: loaded\n");
	return 0;
}

static void __exit modnodesc_exit(void)
{
	pr_info("modnodesc: unloaded\n");
}

module_init(modnodesc_init);
module_exit(modnodesc_exit);

MODULE_LICENSE("GPL");
