// SPDX-License-Identifier: GPL-2.0
/* Parameters whose sysfs permissions are wrong in each of the ways the kernel checks. */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/stat.h>

static int everyone;
static int decimal;
static int symbolic;
static int groupw;
static char *label = "x";
static int readable;

module_param(everyone, int, 0666);	/* expect[src]: writable-param */
module_param(decimal, int, 644);	/* expect[src]: writable-param */
module_param(symbolic, int, S_IRUGO | S_IWUGO);	/* expect[src]: writable-param */
module_param(groupw, int, 0464);	/* expect[src]: writable-param */
module_param_named(name, label, charp, 0446);	/* expect[src]: writable-param */
module_param(readable, int, 0644);

static int __init modparamperm_init(void)
{
	return everyone + decimal + symbolic + groupw + readable + (label ? 0 : 1);
}

static void __exit modparamperm_exit(void)
{
}

module_init(modparamperm_init);
module_exit(modparamperm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module parameters with bad permissions");
