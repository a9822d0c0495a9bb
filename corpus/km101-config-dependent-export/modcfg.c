// SPDX-License-Identifier: GPL-2.0
/* Exports inside configuration blocks: only the configured ones are compiled. */
#include <linux/module.h>

#ifdef CONFIG_MODCFG_DEBUG
static int modcfg_debug_dump(void)
{
	return 1;
}
EXPORT_SYMBOL(modcfg_debug_dump);	/* expect: static-export */
#else
static int modcfg_quiet(void)
{
	return 0;
}
EXPORT_SYMBOL(modcfg_quiet);
#endif

#if IS_ENABLED(CONFIG_MODCFG_STATS)
int modcfg_stats(void)
{
	return 2;
}
EXPORT_SYMBOL_GPL(modcfg_stats);
#endif

#ifdef CONFIG_MODCFG_TRACE
static int modcfg_trace(void)
{
	return 3;
}
EXPORT_SYMBOL(modcfg_trace);
#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports that depend on CONFIG_ options");
