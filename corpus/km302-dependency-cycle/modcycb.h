/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCYCB_H
#define MODCYCB_H

int cycb_pong(int n);

#endif
