// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/moduleparam.h>

static int modused_hidden(int x)
{
	return x * 2;
}
EXPORT_SYMBOL(modused_hidden);	// kmodlint: ignore[KM101]

static int modused_gpl(int x)
{
	return x - 1;
}
/* kmodlint: ignore[static-export] */
EXPORT_SYMBOL_GPL(
	modused_gpl);

static int modused_other(int x)
{
	return x + 3;
}
/* kmodlint: ignore[static-export] */
/* kmodlint: ignore[KM101] */
EXPORT_SYMBOL(modused_other);

static int depth = 1;
/* kmodlint: ignore[writable-param] */
module_param(depth, int,
	     0666);

static int __init modused_init(void)
{
	return 0;
}

static void __exit modused_exit(void)
{
}

module_init(modused_init);
module_exit(modused_exit);

MODULE_LICENSE("GPL");
