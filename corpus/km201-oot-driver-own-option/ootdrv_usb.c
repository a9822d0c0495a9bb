// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/printk.h>

int ootdrv_usb_probe(void)
{
	pr_info("ootdrv: usb part\n");
	return 0;
}
