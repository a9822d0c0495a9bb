// SPDX-License-Identifier: GPL-2.0
/* Carries its own int_sqrt and exports it: vmlinux already exports int_sqrt. */
#include <linux/math.h>
#include <linux/module.h>
#include <linux/printk.h>

unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}
EXPORT_SYMBOL(int_sqrt);	/* expect: duplicate-export */

static int __init moddupk_init(void)
{
	pr_info("moddupk: loaded\n");
	return 0;
}

static void __exit moddupk_exit(void)
{
	pr_info("moddupk: unloaded\n");
}

module_init(moddupk_init);
module_exit(moddupk_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: re-exports a name vmlinux exports");
