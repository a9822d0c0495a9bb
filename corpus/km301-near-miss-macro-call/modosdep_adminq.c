// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include "modosdep_alloc.h"
#include "modosdep_osdep.h"

int modosdep_init_asq(struct modosdep_hw *hw, struct modosdep_dma_mem *mem);

int modosdep_init_asq(struct modosdep_hw *hw, struct modosdep_dma_mem *mem)
{
	return modosdep_allocate_dma_mem(hw, mem, 1, 4096, 4096);
}
