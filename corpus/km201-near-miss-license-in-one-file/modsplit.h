/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODSPLIT_H
#define MODSPLIT_H

int modsplit_twice(int x);

#endif
