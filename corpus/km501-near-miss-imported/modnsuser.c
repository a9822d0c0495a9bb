// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Uses nsexp_get from namespace MYNS and imports MYNS. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modnsexp.h"

static int __init modnsuser_init(void)
{
	int v = nsexp_get();

	pr_info("modnsuser: %d\n", v);
	return 0;
}

static void __exit modnsuser_exit(void)
{
	pr_info("modnsuser: unloaded\n");
}

module_init(modnsuser_init);
module_exit(modnsuser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses a namespaced symbol and imports its namespace");
MODULE_IMPORT_NS(MYNS);
