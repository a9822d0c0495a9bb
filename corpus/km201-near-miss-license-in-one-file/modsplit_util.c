// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Second object of modsplit.ko: no MODULE_* tag here, and none is needed. */
#include "modsplit.h"

int modsplit_twice(int x)
{
	return 2 * x;
}
