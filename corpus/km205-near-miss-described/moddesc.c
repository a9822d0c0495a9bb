// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* The same module with a description. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init moddesc_init(void)
{
	pr_info("moddesc: loaded\n");
	return 0;
}

static void __exit moddesc_exit(void)
{
	pr_info("moddesc: unloaded\n");
}

module_init(moddesc_init);
module_exit(moddesc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: a described module");
