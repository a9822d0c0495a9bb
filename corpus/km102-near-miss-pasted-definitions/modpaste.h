/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#include <linux/device.h>

extern struct device_attribute dev_attr_modpaste_level;
int modpaste_probe(int value);
int modpaste_probe_alias(int value);

/* INTERVAL_TREE_DEFINE(..., , modpaste_tree) in modpaste_main.c defines these (global) */
struct modpaste_node;
struct rb_root_cached;
void modpaste_tree_insert(struct modpaste_node *node, struct rb_root_cached *root);
void modpaste_tree_remove(struct modpaste_node *node, struct rb_root_cached *root);
struct modpaste_node *modpaste_tree_iter_first(struct rb_root_cached *root, unsigned long start,
					       unsigned long last);
