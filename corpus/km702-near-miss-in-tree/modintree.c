// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>

static int __init modintree_init(void)
{
	return 0;
}
module_init(modintree_init);

static void __exit modintree_exit(void)
{
}
module_exit(modintree_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a module built inside the kernel tree: intree=Y, no O taint");
