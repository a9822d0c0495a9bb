// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modhprov.h"

int hprov_scale(int value, unsigned int shift)
{
	return value << shift;
}
EXPORT_SYMBOL_GPL(hprov_scale);

static int __init modhprov_init(void)
{
	return 0;
}

static void __exit modhprov_exit(void)
{
}

module_init(modhprov_init);
module_exit(modhprov_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports hprov_scale, declared in modhprov.h");
