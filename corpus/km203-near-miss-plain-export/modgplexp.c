// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modgplexp.h"

int gplexp_public(int x)
{
	return x + 1;
}
EXPORT_SYMBOL(gplexp_public);

int gplexp_secret(int x)
{
	return x ^ 0x5a;
}
EXPORT_SYMBOL_GPL(gplexp_secret);

static int __init modgplexp_init(void)
{
	pr_info("modgplexp: loaded\n");
	return 0;
}

static void __exit modgplexp_exit(void)
{
	pr_info("modgplexp: unloaded\n");
}

module_init(modgplexp_init);
module_exit(modgplexp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports one plain and one GPL-only symbol");
