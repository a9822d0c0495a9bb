// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* The module's licence and description live in this file only. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modsplit.h"

static int __init modsplit_init(void)
{
	pr_info("modsplit: twice 21 = %d\n", modsplit_twice(21));
	return 0;
}

static void __exit modsplit_exit(void)
{
	pr_info("modsplit: unloaded\n");
}

module_init(modsplit_init);
module_exit(modsplit_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: two-file module, licence in one file");
