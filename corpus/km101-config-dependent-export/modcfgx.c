// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Not built by config.fragment (obj-$(CONFIG_MODCFG_EXTRA)): its missing licence is not reported. */
static int modcfgx_value(void)
{
	return 4;
}
EXPORT_SYMBOL(modcfgx_value);
