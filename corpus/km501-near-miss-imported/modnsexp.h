/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODNSEXP_H
#define MODNSEXP_H

int nsexp_get(void);

#endif
