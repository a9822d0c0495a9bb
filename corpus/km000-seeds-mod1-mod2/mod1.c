// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* The seeds' base layer (seed 000, "Practical Example: myadd Across Two Modules"). */
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("EmbeddedPathashala");
MODULE_DESCRIPTION("Base module: exports myadd symbol");

/*
 * myadd - exported addition function
 * @a: first operand
 * @b: second operand
 */
int myadd(int a, int b)
{
	pr_info("%s: sum of %d + %d = %d\n", __func__, a, b, a + b);
	return a + b;
}
EXPORT_SYMBOL(myadd);

static int mod1_init(void)
{
	pr_info("%s: mod1 loaded, myadd now in symbol table\n", __func__);
	return 0;
}

static void mod1_exit(void)
{
	pr_info("%s: mod1 unloading\n", __func__);
}

module_init(mod1_init);
module_exit(mod1_exit);
