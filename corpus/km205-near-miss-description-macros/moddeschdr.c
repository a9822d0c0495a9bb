// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include "moddeschdr.h"

int moddeschdr_value(void)
{
	return 1;
}
