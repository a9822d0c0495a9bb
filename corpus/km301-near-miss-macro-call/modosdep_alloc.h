/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODOSDEP_ALLOC_H
#define MODOSDEP_ALLOC_H
struct modosdep_hw;
struct modosdep_dma_mem;

int modosdep_allocate_dma_mem(struct modosdep_hw *hw, struct modosdep_dma_mem *mem,
			      int type, unsigned long long size, unsigned int alignment);
#endif
