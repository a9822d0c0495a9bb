// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Built against the PREEMPT_RT flavour (6.1.0-56-rt-amd64). */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modrt_init(void)
{
	pr_info("modrt: loaded\n");
	return 0;
}

static void __exit modrt_exit(void)
{
	pr_info("modrt: unloaded\n");
}

module_init(modrt_init);
module_exit(modrt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: built for the -rt flavour");
