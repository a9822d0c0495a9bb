// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modchainc.h"

int chainc_step(int n)
{
	return n;
}
EXPORT_SYMBOL(chainc_step);

static int __init modchainc_init(void)
{
	pr_info("modchainc: loaded\n");
	return 0;
}

static void __exit modchainc_exit(void)
{
	pr_info("modchainc: unloaded\n");
}

module_init(modchainc_init);
module_exit(modchainc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: bottom of a chain");
