// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

static int __init ootbase_init(void)
{
	pr_info("ootbase: loaded\n");
	return 0;
}

static void __exit ootbase_exit(void)
{
	pr_info("ootbase: unloaded\n");
}

module_init(ootbase_init);
module_exit(ootbase_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: the built part of an out-of-tree driver");
