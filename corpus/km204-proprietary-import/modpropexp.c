/* expect-none */
/* A proprietary module that exports a plain symbol; clean by itself. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modpropexp.h"

int propexp_value(void)
{
	return 7;
}
EXPORT_SYMBOL(propexp_value);

static int __init modpropexp_init(void)
{
	pr_info("modpropexp: loaded\n");
	return 0;
}

static void __exit modpropexp_exit(void)
{
	pr_info("modpropexp: unloaded\n");
}

module_init(modpropexp_init);
module_exit(modpropexp_exit);

MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmodlint corpus: proprietary exporter");
