// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modfold.h"

#define MODFOLD_GET(dest, source)					\
	do {								\
		switch (sizeof(dest)) {					\
		case 1: (dest) = *(const u8 *)(source); break;		\
		case 4: (dest) = *(const u32 *)(source); break;		\
		default: __buggy_use_of_modfold_get();			\
		}							\
	} while (0)

#define MODFOLD_SEL(v) ((v) == 1 ? 10 : (v) == 2 ? 20 : __missing_modfold_selector())

static const int modfold_flags[] = { MODFOLD_SEL(1), MODFOLD_SEL(2) };

static u32 modfold_value;

static int __init modfold_init(void)
{
	static const u8 raw[4] = { 1, 2, 3, 4 };

	MODFOLD_GET(modfold_value, raw);
	return modfold_flags[0] == 10 ? 0 : -EINVAL;
}

static void __exit modfold_exit(void)
{
}

module_init(modfold_init);
module_exit(modfold_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: calls constant folding removes");
