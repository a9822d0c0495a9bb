// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/stat.h>

#define MODPARAMOK_PERM 0600

static int level = 1;
static bool verbose;
static unsigned long limits[4];
static int hidden;
static int tuned;

module_param(level, int, 0644);
module_param(verbose, bool, S_IRUGO);
module_param_array(limits, ulong, NULL, 0444);
module_param(hidden, int, 0);
module_param(tuned, int, MODPARAMOK_PERM);

static int __init modparamok_init(void)
{
	return level + verbose + (int)limits[0] + hidden + tuned > 100 ? -EINVAL : 0;
}

static void __exit modparamok_exit(void)
{
}

module_init(modparamok_init);
module_exit(modparamok_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module parameters with sound permissions");
