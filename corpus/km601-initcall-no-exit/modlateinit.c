// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

static int __init modlateinit_init(void)
{
	return 0;
}
late_initcall(modlateinit_init);	/* expect: no-module-exit */

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: an initcall macro and no module_exit");
