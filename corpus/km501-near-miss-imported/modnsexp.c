// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modnsexp.h"

int nsexp_get(void)
{
	return 11;
}
EXPORT_SYMBOL_NS_GPL(nsexp_get, MYNS);

static int __init modnsexp_init(void)
{
	pr_info("modnsexp: loaded\n");
	return 0;
}

static void __exit modnsexp_exit(void)
{
	pr_info("modnsexp: unloaded\n");
}

module_init(modnsexp_init);
module_exit(modnsexp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports nsexp_get in namespace MYNS");
