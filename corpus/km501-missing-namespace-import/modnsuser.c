// SPDX-License-Identifier: GPL-2.0
/* Uses nsexp_get from namespace MYNS without MODULE_IMPORT_NS(MYNS). */
#include <linux/module.h>
#include <linux/printk.h>
#include "modnsexp.h"

static int __init modnsuser_init(void)
{
	int v = nsexp_get();	/* expect: missing-namespace-import */

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
MODULE_DESCRIPTION("kmodlint corpus: uses a namespaced symbol without importing it");
