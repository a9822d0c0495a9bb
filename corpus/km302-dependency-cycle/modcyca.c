// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* modcyca uses modcycb's export and modcycb uses modcyca's: neither can load first. */
#include <linux/module.h>
#include <linux/printk.h>
#include "modcyca.h"
#include "modcycb.h"

int cyca_ping(int n)
{
	return n > 0 ? cycb_pong(n - 1) + 1 : 0;
}
EXPORT_SYMBOL(cyca_ping);

static int __init modcyca_init(void)
{
	pr_info("modcyca: loaded\n");
	return 0;
}

static void __exit modcyca_exit(void)
{
	pr_info("modcyca: unloaded\n");
}

module_init(modcyca_init);
module_exit(modcyca_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: first half of a dependency cycle");
