// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Built against 6.1.0-55-amd64: only the release differs from the target. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modrel_init(void)
{
	pr_info("modrel: loaded\n");
	return 0;
}

static void __exit modrel_exit(void)
{
	pr_info("modrel: unloaded\n");
}

module_init(modrel_init);
module_exit(modrel_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: built for the previous ABI");
