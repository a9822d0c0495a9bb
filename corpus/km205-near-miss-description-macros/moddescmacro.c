// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "moddescname.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Echo " MODDESC_CARD_NAME " soundcards driver");
