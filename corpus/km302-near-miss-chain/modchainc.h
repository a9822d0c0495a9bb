/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCHAINC_H
#define MODCHAINC_H

int chainc_step(int n);

#endif
