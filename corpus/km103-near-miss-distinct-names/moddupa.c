// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/printk.h>

unsigned int dup_checksum_a(const unsigned char *buf, unsigned int len)
{
	unsigned int sum = 0;

	while (len--)
		sum += *buf++;
	return sum;
}
EXPORT_SYMBOL(dup_checksum_a);

static int __init moddupa_init(void)
{
	pr_info("moddupa: loaded\n");
	return 0;
}

static void __exit moddupa_exit(void)
{
	pr_info("moddupa: unloaded\n");
}

module_init(moddupa_init);
module_exit(moddupa_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: first exporter of dup_checksum_a");
