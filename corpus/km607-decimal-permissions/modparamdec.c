// SPDX-License-Identifier: GPL-2.0
/* A module parameter with decimal permissions that happen to be valid. */
#include <linux/module.h>
#include <linux/moduleparam.h>

static int level;
static int quiet;

module_param(level, int, 420);	/* expect[src]: decimal-permissions */
module_param(quiet, int, 0444);

static int __init modparamdec_init(void)
{
	return level + quiet > 100 ? -EINVAL : 0;
}

static void __exit modparamdec_exit(void)
{
}

module_init(modparamdec_init);
module_exit(modparamdec_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: decimal module_param permissions");
