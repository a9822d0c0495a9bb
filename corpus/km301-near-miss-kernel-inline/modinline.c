// SPDX-License-Identifier: GPL-2.0
/* A driver that declares a kernel inline itself. */
#include <linux/module.h>
#include <linux/timekeeping.h>

ktime_t ktime_get_real(void);	/* expect[src]: extern-in-source */

static int __init modinline_init(void)
{
	return ktime_get_real() < 0 ? -EINVAL : 0;
}

static void __exit modinline_exit(void)
{
}

module_init(modinline_init);
module_exit(modinline_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: redeclares a kernel static inline");
