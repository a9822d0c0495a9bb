// SPDX-License-Identifier: GPL-2.0
/* Declares xprov_register with the wrong prototype instead of including a shared header. */
#include <linux/module.h>

extern long xprov_register(long id);	/* expect[src]: extern-mismatch, extern-in-source */

static int __init modxuser_init(void)
{
	return xprov_register(7) < 0 ? -EINVAL : 0;
}

static void __exit modxuser_exit(void)
{
}

module_init(modxuser_init);
module_exit(modxuser_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: declares an imported function with a wrong prototype");
