// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>

int xprov_register(int id, unsigned int flags)
{
	return id + (int)flags;
}
EXPORT_SYMBOL(xprov_register);

static int __init modxprov_init(void)
{
	return 0;
}

static void __exit modxprov_exit(void)
{
}

module_init(modxprov_init);
module_exit(modxprov_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports xprov_register");
