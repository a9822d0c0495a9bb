// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include "moddead.h"

int moddead_soc_probe(void)
{
	return 0;
}
