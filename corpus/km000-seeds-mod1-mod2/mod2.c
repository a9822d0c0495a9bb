// SPDX-License-Identifier: GPL-2.0
/* The seeds' upper layer: calls mod1's myadd through a file-scope extern. */
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("EmbeddedPathashala");
MODULE_DESCRIPTION("Stacked module: consumes myadd from mod1");

extern int myadd(int a, int b);	/* expect[src]: extern-in-source */

static int mod2_init(void)
{
	int result;

	pr_info("%s: mod2 init, calling myadd from mod1\n", __func__);
	result = myadd(3, 5);
	pr_info("%s: myadd(3, 5) = %d\n", __func__, result);
	return 0;
}

static void mod2_exit(void)
{
	pr_info("%s: mod2 exit\n", __func__);
}

module_init(mod2_init);
module_exit(mod2_exit);
