// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "moddead.h"

struct moddead_ops {
	int (*testmode_cmd)(int cmd);
	int unused;
};

static const struct moddead_ops moddead_ops = {
	MODDEAD_TESTMODE_CMD(moddead_testmode_cmd)
	.unused = 0,
};

static int __init moddead_init(void)
{
	moddead_flags_t flags = 0;

	if (moddead_is_soc())
		return moddead_soc_probe();
	return moddead_ops.unused + (int)flags;
}

static void __exit moddead_exit(void)
{
}

module_init(moddead_init);
module_exit(moddead_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: uses only dead code has");
