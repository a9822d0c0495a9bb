// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>
#include "modcyca.h"
#include "modcycb.h"

int cycb_pong(int n)
{
	return n > 0 ? cyca_ping(n - 1) + 1 : 0;
}
EXPORT_SYMBOL(cycb_pong);

static int __init modcycb_init(void)
{
	pr_info("modcycb: loaded\n");
	return 0;
}

static void __exit modcycb_exit(void)
{
	pr_info("modcycb: unloaded\n");
}

module_init(modcycb_init);
module_exit(modcycb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: second half of a dependency cycle");
