// SPDX-License-Identifier: GPL-2.0
/* A module that means its proprietary licence: the loader taints the kernel P. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modprop_init(void)
{
	pr_info("modprop: loaded\n");
	return 0;
}

static void __exit modprop_exit(void)
{
}

module_init(modprop_init);
module_exit(modprop_exit);

MODULE_LICENSE("Proprietary");	/* expect: proprietary-taint */
MODULE_DESCRIPTION("kmodlint corpus: a proprietary module");
