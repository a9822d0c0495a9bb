// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modosdep_alloc.h"
#include "modosdep_osdep.h"

enum modosdep_state { MODOSDEP_DOWN, MODOSDEP_UP };
/* an enum type without its list: the AST walk once failed on it (every such file unparsed) */
static enum modosdep_state modosdep_state = MODOSDEP_UP;

int modosdep_allocate_dma_mem_d(struct modosdep_hw *hw, struct modosdep_dma_mem *mem,
				unsigned long long size, unsigned int alignment)
{
	return hw && mem && size && alignment && modosdep_state == MODOSDEP_UP ? 0 : -22;
}

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: calls through a renaming macro");
