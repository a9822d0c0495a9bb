// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* A library module: neither module_init nor module_exit, it only exports a helper. */
#include <linux/export.h>
#include <linux/module.h>

int modlib_sum(const int *v, int n)
{
	int s = 0;

	while (n-- > 0)
		s += v[n];
	return s;
}
EXPORT_SYMBOL(modlib_sum);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: library module without init or exit");
