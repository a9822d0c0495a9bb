/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODHPROV_H
#define MODHPROV_H
int hprov_scale(int value, unsigned int shift);
#endif
