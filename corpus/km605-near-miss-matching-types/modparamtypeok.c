// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/types.h>

static bool verbose;
static unsigned int count = 4;
static u32 mask;
static unsigned long long big;
static long offset;
static char *tag;
static short small;
static unsigned char byte;

module_param(verbose, bool, 0644);
module_param(count, uint, 0444);
module_param(mask, hexint, 0444);
module_param(big, ullong, 0444);
module_param(offset, long, 0444);
module_param(tag, charp, 0444);
module_param(small, short, 0444);
module_param(byte, byte, 0444);

static int __init modparamtypeok_init(void)
{
	return verbose + count + mask + big + offset + small + byte + (tag ? 1 : 0) > 100 ? -EINVAL : 0;
}

static void __exit modparamtypeok_exit(void)
{
}

module_init(modparamtypeok_init);
module_exit(modparamtypeok_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module_param types that match");
