// SPDX-License-Identifier: GPL-2.0
/* Exports code the kernel frees after init (and code it never keeps for a built-in). */
#include <linux/module.h>
#include <linux/init.h>

int __init modinitexp_setup(void)
{
	return 0;
}
EXPORT_SYMBOL(modinitexp_setup);	/* expect[src]: init-exit-export */

void __exit modinitexp_teardown(void)
{
}
EXPORT_SYMBOL_GPL(modinitexp_teardown);	/* expect[src]: init-exit-export */

static int __init modinitexp_init(void)
{
	return modinitexp_setup();
}

static void __exit modinitexp_exit(void)
{
	modinitexp_teardown();
}

module_init(modinitexp_init);
module_exit(modinitexp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports __init and __exit functions");
