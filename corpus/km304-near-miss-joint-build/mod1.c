// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "mod1.h"

int myadd(int a, int b)
{
	return a + b;
}
EXPORT_SYMBOL(myadd);

static int __init mod1_init(void)
{
	pr_info("mod1: loaded\n");
	return 0;
}

static void __exit mod1_exit(void)
{
	pr_info("mod1: unloaded\n");
}

module_init(mod1_init);
module_exit(mod1_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports myadd");
