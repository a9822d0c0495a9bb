// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/types.h>

struct cprov_rate {
	int bitrate;
};

struct cprov_rate cprov_rates[3] = { { 10 }, { 20 }, { 55 } };
EXPORT_SYMBOL(cprov_rates);

int cprov_log(const char *tag, int level)
{
	return tag ? level : 0;
}
EXPORT_SYMBOL(cprov_log);

unsigned int cprov_sum(const unsigned char *data, unsigned int len)
{
	unsigned int i, sum = 0;

	for (i = 0; i < len; i++)
		sum += data[i];
	return sum;
}
EXPORT_SYMBOL(cprov_sum);

int cprov_rate_of(const struct cprov_rate *rate)
{
	return rate->bitrate;
}
EXPORT_SYMBOL(cprov_rate_of);

static int __init modcprov_init(void)
{
	return 0;
}

static void __exit modcprov_exit(void)
{
}

module_init(modcprov_init);
module_exit(modcprov_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports a table and two functions");
