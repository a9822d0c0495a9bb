/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCYCA_H
#define MODCYCA_H

int cyca_ping(int n);

#endif
