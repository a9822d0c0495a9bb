// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "moda.h"

moda_val_t moda_scale(moda_val_t x)
{
	return x * 10;
}
EXPORT_SYMBOL(moda_scale);

static int __init moda_init(void)
{
	pr_info("moda: loaded\n");
	return 0;
}

static void __exit moda_exit(void)
{
	pr_info("moda: unloaded\n");
}

module_init(moda_init);
module_exit(moda_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports moda_scale (long ABI)");
