// SPDX-License-Identifier: GPL-2.0
/* References from code and data that stay to __init/__initdata/__exit: modpost's
 * TEXT_TO_ANY_INIT, and DATA_TO_ANY_EXIT for an object whose name is on no allow-list. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

int __init modsecmis_setup(void);
int __init noinline modsecmis_setup(void)
{
	pr_info("modsecmis: setup\n");
	return 0;
}

static int modsecmis_boot_value __initdata = 3;

int modsecmis_reprobe(void);
int modsecmis_reprobe(void)
{
	return modsecmis_setup();	/* expect: section-mismatch */
}

int modsecmis_value(void);
int modsecmis_value(void)
{
	return modsecmis_boot_value;	/* expect: section-mismatch */
}

static void __exit modsecmis_teardown(void)
{
	pr_info("modsecmis: teardown\n");
}

struct modsecmis_hook {
	void (*fn)(void);
	int (*again)(void);
};

struct modsecmis_hook modsecmis_hooks = {
	.fn = modsecmis_teardown,	/* expect: section-mismatch */
	.again = modsecmis_reprobe,
};

static int __init modsecmis_init(void)
{
	return modsecmis_setup();
}

static void __exit modsecmis_exit(void)
{
	modsecmis_hooks.fn();
}

module_init(modsecmis_init);
module_exit(modsecmis_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: references into init and exit sections");
