// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init moddual_init(void)
{
	pr_info("moddual: loaded\n");
	return 0;
}

static void __exit moddual_exit(void)
{
	pr_info("moddual: unloaded\n");
}

module_init(moddual_init);
module_exit(moddual_exit);

MODULE_LICENSE("Dual BSD/GPL");
MODULE_DESCRIPTION("kmodlint corpus: dual-licensed module");
