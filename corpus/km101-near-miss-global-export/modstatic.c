// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

int modstatic_visible(int x)
{
	return x + 1;
}
EXPORT_SYMBOL(modstatic_visible);

int modstatic_hidden(int x)
{
	return x * 2;
}
EXPORT_SYMBOL(modstatic_hidden);

static int __init modstatic_init(void)
{
	pr_info("modstatic: loaded\n");
	return 0;
}

static void __exit modstatic_exit(void)
{
	pr_info("modstatic: unloaded\n");
}

module_init(modstatic_init);
module_exit(modstatic_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: both exported functions are global");
