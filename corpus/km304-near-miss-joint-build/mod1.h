/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MOD1_H
#define MOD1_H

int myadd(int a, int b);

#endif
