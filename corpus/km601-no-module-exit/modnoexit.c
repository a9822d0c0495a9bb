// SPDX-License-Identifier: GPL-2.0
/* module_init without module_exit: delete_module() refuses it with -EBUSY. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modnoexit_init(void)
{
	pr_info("modnoexit: loaded, and here to stay\n");
	return 0;
}

module_init(modnoexit_init);	/* expect: no-module-exit */

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: a module that can never be unloaded");
