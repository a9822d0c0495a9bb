/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODOSDEP_OSDEP_H
#define MODOSDEP_OSDEP_H
struct modosdep_hw;
struct modosdep_dma_mem;

int modosdep_allocate_dma_mem_d(struct modosdep_hw *hw, struct modosdep_dma_mem *mem,
				unsigned long long size, unsigned int alignment);
#define modosdep_allocate_dma_mem(h, m, unused, s, a) \
			modosdep_allocate_dma_mem_d(h, m, s, a)
#endif
