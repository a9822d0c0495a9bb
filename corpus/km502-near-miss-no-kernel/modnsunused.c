// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Imports DMA_BUF (uses dma_buf_put) and CXL (uses nothing from it). */
#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/printk.h>

void modnsunused_drop(struct dma_buf *buf)
{
	dma_buf_put(buf);
}
EXPORT_SYMBOL_GPL(modnsunused_drop);

static int __init modnsunused_init(void)
{
	pr_info("modnsunused: loaded\n");
	return 0;
}

static void __exit modnsunused_exit(void)
{
	pr_info("modnsunused: unloaded\n");
}

module_init(modnsunused_init);
module_exit(modnsunused_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: imports a namespace it does not use");
MODULE_IMPORT_NS(DMA_BUF);
MODULE_IMPORT_NS(CXL);
