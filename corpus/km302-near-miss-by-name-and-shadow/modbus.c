// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modbus.h"

static struct modbus_driver *modbus_current;

int modbus_register(struct modbus_driver *modcore_drv)
{
	int (*hook)(int);
	int ret = 0;

	modbus_current = modcore_drv;
	hook = symbol_get(modcore_hook);
	if (hook) {
		ret = hook(1);
		symbol_put(modcore_hook);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(modbus_register);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: a bus that names its caller's export only as a parameter");
