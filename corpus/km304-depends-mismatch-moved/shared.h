/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef SHARED_H
#define SHARED_H

int moda_version(void);
int shared_fn(int x);

#endif
