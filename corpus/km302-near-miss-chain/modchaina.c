// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modchaina.h"
#include "modchainb.h"

int chaina_step(int n)
{
	return chainb_step(n) + 1;
}
EXPORT_SYMBOL(chaina_step);

static int __init modchaina_init(void)
{
	pr_info("modchaina: loaded\n");
	return 0;
}

static void __exit modchaina_exit(void)
{
	pr_info("modchaina: unloaded\n");
}

module_init(modchaina_init);
module_exit(modchaina_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: top of a chain, uses modchainb");
