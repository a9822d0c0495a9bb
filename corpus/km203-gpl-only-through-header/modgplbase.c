// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modgplbase.h"

int modgplbase_register(int id)
{
	return id;
}
EXPORT_SYMBOL_GPL(modgplbase_register);

int modgplbase_unregister(int id)
{
	return -id;
}
EXPORT_SYMBOL_GPL(modgplbase_unregister);

int modgplbase_unused(int id)
{
	return id + 1;
}
EXPORT_SYMBOL_GPL(modgplbase_unused);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: GPL-only exports wrapped by its header");
