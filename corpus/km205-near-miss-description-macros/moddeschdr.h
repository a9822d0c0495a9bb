/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODDESCHDR_H
#define MODDESCHDR_H
#include <linux/module.h>

MODULE_DESCRIPTION("kmodlint corpus: the description lives in the driver's header");
MODULE_LICENSE("GPL");
#endif
