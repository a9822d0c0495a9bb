// SPDX-License-Identifier: GPL-2.0
/* Suppressions: used ones stay quiet, the ones that match nothing are reported. */
#include <linux/module.h>
#include <linux/moduleparam.h>

static int modsupp_hidden(int x)
{
	return x * 2;
}
EXPORT_SYMBOL(modsupp_hidden);	/* kmodlint: ignore[static-export] */

int modsupp_visible(int x)
{
	return x + 1;
}
EXPORT_SYMBOL(modsupp_visible);	/* kmodlint: ignore[static-export] */ /* expect[src]: unused-suppression */

static int modsupp_gpl(int x)
{
	return x - 1;
}
/* kmodlint: ignore[KM101] */
EXPORT_SYMBOL_GPL(
	modsupp_gpl);

static int depth = 1;
// expect[src]: unused-suppression
// kmodlint: ignore[writable-param]
module_param(depth, int,
	     0444);

static int __init modsupp_init(void)
{
	return 0;
}

static void __exit modsupp_exit(void)
{
}

module_init(modsupp_init);
module_exit(modsupp_exit);

MODULE_LICENSE("GPL");
