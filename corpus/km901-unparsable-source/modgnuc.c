// SPDX-License-Identifier: GPL-2.0
/* Dispatch through label addresses: GNU C only. */
#include <linux/module.h>

int gnuc_dispatch(int op)
{
	static void *table[] = { &&op_add, &&op_sub };	/* expect[src]: unparsable-source */

	goto *table[op & 1];
op_add:
	return 1;
op_sub:
	return -1;
}
EXPORT_SYMBOL_GPL(gnuc_dispatch);

static int __init modgnuc_init(void)
{
	return gnuc_dispatch(0) == 1 ? 0 : -EINVAL;
}

static void __exit modgnuc_exit(void)
{
}

module_init(modgnuc_init);
module_exit(modgnuc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: computed goto, which pycparser cannot parse");
