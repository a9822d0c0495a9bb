// SPDX-License-Identifier: GPL-2.0
/* Exports modghost_missing, which is declared (modghost.h) but defined nowhere. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modghost.h"

int modghost_present(void)
{
	return 42;
}
EXPORT_SYMBOL(modghost_present);

EXPORT_SYMBOL(modghost_missing);	/* expect: export-without-definition */

static int __init modghost_init(void)
{
	pr_info("modghost: loaded\n");
	return 0;
}

static void __exit modghost_exit(void)
{
	pr_info("modghost: unloaded\n");
}

module_init(modghost_init);
module_exit(modghost_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports a symbol it never defines");
