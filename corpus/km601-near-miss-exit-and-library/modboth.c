// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modboth_init(void)
{
	pr_info("modboth: loaded\n");
	return 0;
}

static void __exit modboth_exit(void)
{
	pr_info("modboth: unloaded\n");
}

module_init(modboth_init);
module_exit(modboth_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module_init and module_exit");
