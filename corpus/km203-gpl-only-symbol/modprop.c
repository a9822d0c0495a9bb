/* A proprietary module that uses GPL-only symbols of modgplexp and of the kernel. */
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/timekeeping.h>
#include "modgplexp.h"

static int __init modprop_init(void)
{
	int a = gplexp_public(1);
	int b = gplexp_secret(2);	/* expect: gpl-only-symbol */
	ktime_t now = ktime_get();	/* expect: gpl-only-symbol */

	pr_info("modprop: %d %d %lld\n", a, b, (long long)now);
	return 0;
}

static void __exit modprop_exit(void)
{
	pr_info("modprop: unloaded\n");
}

module_init(modprop_init);
module_exit(modprop_exit);

MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmodlint corpus: proprietary user of GPL-only symbols");
