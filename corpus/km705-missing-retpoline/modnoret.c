// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modnoret_init(void)
{
	pr_info("modnoret: loaded\n");
	return 0;
}

static void __exit modnoret_exit(void)
{
}

module_init(modnoret_init);
module_exit(modnoret_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: a module built without retpolines");
