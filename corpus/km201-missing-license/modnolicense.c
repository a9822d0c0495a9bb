// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* No MODULE_LICENSE anywhere: the finding points at this module's obj-m line in Kbuild. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init modnolicense_init(void)
{
	pr_info("modnolicense: loaded\n");
	return 0;
}

static void __exit modnolicense_exit(void)
{
	pr_info("modnolicense: unloaded\n");
}

module_init(modnolicense_init);
module_exit(modnolicense_exit);

MODULE_DESCRIPTION("kmodlint corpus: a module without MODULE_LICENSE");
