/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODDEAD_H
#define MODDEAD_H
#include <linux/types.h>

typedef unsigned int moddead_flags_t;

int moddead_testmode_cmd(int cmd);
int moddead_soc_probe(void);

#ifdef CONFIG_MODDEAD_TESTMODE
#define MODDEAD_TESTMODE_CMD(cmd) .testmode_cmd = (cmd),
#else
#define MODDEAD_TESTMODE_CMD(cmd)
#endif

static inline bool moddead_is_soc(void)
{
	return IS_ENABLED(CONFIG_MODDEAD_SOC);
}
#endif
