// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "shared.h"

int shared_fn(int x)
{
	return x * 3;
}
EXPORT_SYMBOL(shared_fn);

static int __init modc_init(void)
{
	pr_info("modc: loaded\n");
	return 0;
}

static void __exit modc_exit(void)
{
	pr_info("modc: unloaded\n");
}

module_init(modc_init);
module_exit(modc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports shared_fn now");
