// SPDX-License-Identifier: GPL-2.0
/* module_param type arguments that differ from their variables only in signedness. */
#include <linux/module.h>
#include <linux/moduleparam.h>

static int level;
static char code;
static unsigned long long total;

module_param(level, uint, 0644);	/* expect[src]: param-signedness-mismatch */
module_param(code, byte, 0444);	/* expect[src]: param-signedness-mismatch */
module_param(total, ullong, 0444);

static int __init modparamsign_init(void)
{
	return level + code + total > 100 ? -EINVAL : 0;
}

static void __exit modparamsign_exit(void)
{
}

module_init(modparamsign_init);
module_exit(modparamsign_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module_param types that differ only in sign");
