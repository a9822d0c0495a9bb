// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modgen.h"

EXPORT_SYMBOL_GPL(modgen_emit);

static int __init modgen_init(void)
{
	return modgen_blocks(0);
}

static void __exit modgen_exit(void)
{
}

module_init(modgen_init);
module_exit(modgen_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: C glue around an assembler part made at build time");
