// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modmitgpl_init(void)
{
	pr_info("modmitgpl: loaded\n");
	return 0;
}

static void __exit modmitgpl_exit(void)
{
}

module_init(modmitgpl_init);
module_exit(modmitgpl_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("kmodlint corpus: a dual-licensed module");
