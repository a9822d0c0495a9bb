// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* No MODULE_LICENSE in any part: the finding points at the obj-$(CONFIG_OOTDRV) line. */
#include <linux/module.h>
#include <linux/printk.h>

int ootdrv_usb_probe(void);

static int __init ootdrv_init(void)
{
	return ootdrv_usb_probe();
}

static void __exit ootdrv_exit(void)
{
	pr_info("ootdrv: unloaded\n");
}

module_init(ootdrv_init);
module_exit(ootdrv_exit);

MODULE_DESCRIPTION("kmodlint corpus: an out-of-tree driver built under its own option");
