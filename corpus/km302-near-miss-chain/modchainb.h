/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCHAINB_H
#define MODCHAINB_H

int chainb_step(int n);

#endif
