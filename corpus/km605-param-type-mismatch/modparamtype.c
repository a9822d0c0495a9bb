// SPDX-License-Identifier: GPL-2.0
/* module_param type arguments that disagree with the C variables behind them. */
#include <linux/module.h>
#include <linux/moduleparam.h>

static bool verbose;
static int level;
static unsigned long limits[4];
static char *tag;

module_param(verbose, int, 0644);	/* expect[src]: param-type-mismatch */
module_param(level, uint, 0644);	/* expect[src]: param-signedness-mismatch */
module_param_array(limits, int, NULL, 0444);	/* expect[src]: param-type-mismatch */
module_param(tag, charp, 0444);

static int __init modparamtype_init(void)
{
	return verbose + level + (int)limits[0] + (tag ? 1 : 0) > 100 ? -EINVAL : 0;
}

static void __exit modparamtype_exit(void)
{
}

module_init(modparamtype_init);
module_exit(modparamtype_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module_param types that do not match");
