// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modhprov.h"

static int modhuser_compute(void);

static int __init modhuser_init(void)
{
	return modhuser_compute() < 0 ? -EINVAL : 0;
}

static int modhuser_compute(void)
{
	return hprov_scale(3, 2);
}

static void __exit modhuser_exit(void)
{
}

module_init(modhuser_init);
module_exit(modhuser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses hprov_scale through the exporter's header");
