// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modcprov.h"

static int __init modcuser_init(void)
{
	static const u8 bytes[2] = { 1, 2 };

	return cprov_log("x", cprov_rate_of(&cprov_rates[0])) + (int)cprov_sum(bytes, 2) > 1000 ? -EINVAL : 0;
}

static void __exit modcuser_exit(void)
{
}

module_init(modcuser_init);
module_exit(modcuser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses them through compatible declarations");
