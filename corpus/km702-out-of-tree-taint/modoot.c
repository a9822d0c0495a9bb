// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modoot_init(void)
{
	pr_info("modoot: loaded\n");
	return 0;
}

static void __exit modoot_exit(void)
{
}

module_init(modoot_init);
module_exit(modoot_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: an out-of-tree, unsigned module");
