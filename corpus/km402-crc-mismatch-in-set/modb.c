// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "moda.h"

static int __init modb_init(void)
{
	pr_info("modb: moda_scale(3) = %ld\n", (long)moda_scale(3));
	return 0;
}

static void __exit modb_exit(void)
{
	pr_info("modb: unloaded\n");
}

module_init(modb_init);
module_exit(modb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses moda_scale");
