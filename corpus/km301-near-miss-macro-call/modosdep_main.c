// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modosdep_alloc.h"
#include "modosdep_osdep.h"

int modosdep_allocate_dma_mem_d(struct modosdep_hw *hw, struct modosdep_dma_mem *mem,
				unsigned long long size, unsigned int alignment)
{
	return hw && mem && size && alignment ? 0 : -22;
}

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: calls through a renaming macro");
