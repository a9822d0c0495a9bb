/* expect-none */
/* The same proprietary module, using only modgplexp's plain EXPORT_SYMBOL. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modgplexp.h"

static int __init modprop_init(void)
{
	pr_info("modprop: %d\n", gplexp_public(1));
	return 0;
}

static void __exit modprop_exit(void)
{
	pr_info("modprop: unloaded\n");
}

module_init(modprop_init);
module_exit(modprop_exit);

MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmodlint corpus: proprietary user of a plain export");
