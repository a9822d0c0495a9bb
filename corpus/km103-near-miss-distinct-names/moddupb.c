// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

unsigned int dup_checksum_b(const unsigned char *buf, unsigned int len)
{
	unsigned int sum = 0xffff;

	while (len--)
		sum ^= *buf++;
	return sum;
}
EXPORT_SYMBOL(dup_checksum_b);

static int __init moddupb_init(void)
{
	pr_info("moddupb: loaded\n");
	return 0;
}

static void __exit moddupb_exit(void)
{
	pr_info("moddupb: unloaded\n");
}

module_init(moddupb_init);
module_exit(moddupb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: second exporter of dup_checksum_b");
