/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCHAINA_H
#define MODCHAINA_H

int chaina_step(int n);

#endif
