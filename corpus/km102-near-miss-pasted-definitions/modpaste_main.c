// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/interval_tree_generic.h>
#include "modpaste.h"

struct modpaste_node {
	struct rb_node rb;
	unsigned long start, last, __subtree_last;
};

#define START(node) ((node)->start)
#define LAST(node) ((node)->last)

INTERVAL_TREE_DEFINE(struct modpaste_node, rb, unsigned long, __subtree_last,
		     START, LAST, , modpaste_tree)

static struct rb_root_cached modpaste_root = RB_ROOT_CACHED;

static int __init modpaste_init(void)
{
	static struct modpaste_node node = { .start = 1, .last = 2 };

	modpaste_tree_insert(&node, &modpaste_root);
	if (!modpaste_tree_iter_first(&modpaste_root, 0, 3))
		return -EINVAL;
	modpaste_tree_remove(&node, &modpaste_root);
	return dev_attr_modpaste_level.attr.mode ? modpaste_probe(0) : 0;
}

static void __exit modpaste_exit(void)
{
}

module_init(modpaste_init);
module_exit(modpaste_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: names defined by pasting and by alias");
