// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init usbtoy_init(void)
{
	pr_info("usbtoy: loaded\n");
	return 0;
}

static void __exit usbtoy_exit(void)
{
	pr_info("usbtoy: unloaded\n");
}

module_init(usbtoy_init);
module_exit(usbtoy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: a lone module beside a user-space tool");
