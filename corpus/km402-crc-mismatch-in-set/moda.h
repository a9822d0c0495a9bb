/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODA_H
#define MODA_H

/* The old ABI (before moda 2.0) took and returned int; rebuild.py builds it with -DMODA_OLD_ABI. */
#ifdef MODA_OLD_ABI
typedef int moda_val_t;
#else
typedef long moda_val_t;
#endif

moda_val_t moda_scale(moda_val_t x);

#endif
