/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
struct modbus_driver {
	const char *name;
	int (*probe)(int);
};

extern struct modbus_driver modcore_drv;
int modcore_hook(int value);
int modbus_register(struct modbus_driver *modcore_drv);
