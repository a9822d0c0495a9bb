/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODGPLEXP_H
#define MODGPLEXP_H

int gplexp_public(int x);
int gplexp_secret(int x);

#endif
