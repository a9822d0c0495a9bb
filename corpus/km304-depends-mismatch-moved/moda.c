// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/*
 * shared_fn used to live here; it has moved to modc. rebuild.py builds the old moda
 * (-DMODA_OLD) only to give modb the Module.symvers modb was built against.
 */
#include <linux/module.h>
#include <linux/printk.h>
#include "shared.h"

int moda_version(void)
{
	return 2;
}
EXPORT_SYMBOL(moda_version);

#ifdef MODA_OLD
int shared_fn(int x)
{
	return x * 3;
}
EXPORT_SYMBOL(shared_fn);
#endif

static int __init moda_init(void)
{
	pr_info("moda: loaded\n");
	return 0;
}

static void __exit moda_exit(void)
{
	pr_info("moda: unloaded\n");
}

module_init(moda_init);
module_exit(moda_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: used to export shared_fn");
