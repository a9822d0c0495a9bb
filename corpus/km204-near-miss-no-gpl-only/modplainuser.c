// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Uses the proprietary module's symbol but no GPL-only symbol: the loader only inherits taint. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modpropexp.h"

static int __init modplainuser_init(void)
{
	pr_info("modplainuser: %d\n", propexp_value());
	return 0;
}

static void __exit modplainuser_exit(void)
{
	pr_info("modplainuser: unloaded\n");
}

module_init(modplainuser_init);
module_exit(modplainuser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: GPL module importing from a proprietary module");
