// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>

static int __init modiso_init(void)
{
	return 0;
}

static void __exit modiso_exit(void)
{
}

module_init(modiso_init);
module_exit(modiso_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: plain ISO C beside the GNU C file");
