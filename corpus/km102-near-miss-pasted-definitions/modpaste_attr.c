// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modpaste.h"

static ssize_t modpaste_level_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "1\n");
}
DEVICE_ATTR_RO(modpaste_level);
EXPORT_SYMBOL_GPL(dev_attr_modpaste_level);

int modpaste_probe(int value)
{
	return value;
}
int modpaste_probe_alias(int value) __attribute__((alias("modpaste_probe")));
EXPORT_SYMBOL_GPL(modpaste_probe_alias);
