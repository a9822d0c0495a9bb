// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modhda.h"

#if IS_ENABLED(CONFIG_MODHDA_HDMI) || \
	IS_ENABLED(CONFIG_MODHDA_DP)

void modhda_display_power(int enable)
{
}
EXPORT_SYMBOL_NS(modhda_display_power, MODHDA_I915);

int modhda_display_init(void)
{
	return 0;
}
EXPORT_SYMBOL_NS(modhda_display_init, MODHDA_I915);

#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports declared under a multi-line IS_ENABLED() test");
