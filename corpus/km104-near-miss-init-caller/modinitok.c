// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/init.h>

static int __initdata modinitok_boot_value = 3;

int modinitok_setup(int value)
{
	return value * 2;
}
EXPORT_SYMBOL(modinitok_setup);

static int __init modinitok_init(void)
{
	return modinitok_setup(modinitok_boot_value) > 0 ? 0 : -EINVAL;
}

static void __exit modinitok_exit(void)
{
}

module_init(modinitok_init);
module_exit(modinitok_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: an exported helper called from __init");
