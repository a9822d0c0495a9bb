// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modbus.h"

struct modbus_driver modcore_drv = { .name = "modcore" };
EXPORT_SYMBOL_NS_GPL(modcore_drv, MODNS);

int modcore_hook(int value)
{
	return value + 1;
}
EXPORT_SYMBOL_GPL(modcore_hook);

static int __init modcore_init(void)
{
	return modbus_register(&modcore_drv);
}

static void __exit modcore_exit(void)
{
}

module_init(modcore_init);
module_exit(modcore_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: registers with modbus");
