// SPDX-License-Identifier: GPL-2.0
/* A GPL module that uses a GPL-only kernel symbol and a proprietary module's symbol. */
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/timekeeping.h>
#include "modpropexp.h"

static int __init modgpluser_init(void)
{
	ktime_t now = ktime_get();
	int v = propexp_value();	/* expect: proprietary-import */

	pr_info("modgpluser: %lld %d\n", (long long)now, v);
	return 0;
}

static void __exit modgpluser_exit(void)
{
	pr_info("modgpluser: unloaded\n");
}

module_init(modgpluser_init);
module_exit(modgpluser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: GPL-only user importing from a proprietary module");
