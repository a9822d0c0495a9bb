// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modchainb.h"
#include "modchainc.h"

int chainb_step(int n)
{
	return chainc_step(n) + 1;
}
EXPORT_SYMBOL(chainb_step);

static int __init modchainb_init(void)
{
	pr_info("modchainb: loaded\n");
	return 0;
}

static void __exit modchainb_exit(void)
{
	pr_info("modchainb: unloaded\n");
}

module_init(modchainb_init);
module_exit(modchainb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: middle of a chain, uses modchainc");
