/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODGHOST_H
#define MODGHOST_H

int modghost_present(void);
int modghost_missing(void);

#endif
