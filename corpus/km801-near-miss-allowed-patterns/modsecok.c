// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/printk.h>

static int boot_level __initdata = 1;
module_param(boot_level, int, 0);

int __init modsecok_setup(void);
int __init modsecok_setup(void)
{
	return boot_level;
}

struct modsecok_callbacks {
	int (*setup)(void);
};

struct modsecok_callbacks modsecok_ops = {
	.setup = modsecok_setup,
};

const struct modsecok_callbacks modsecok_table = {
	.setup = modsecok_setup,
};

static int modsecok_probe(struct platform_device *pdev)
{
	return 0;
}

static int __exit modsecok_remove(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver modsecok_driver = {
	.driver = { .name = "modsecok" },
	.probe = modsecok_probe,
	.remove = __exit_p(modsecok_remove),
};

/* thinkpad_acpi's tpacpi_is_lenovo(): always inlined, so no reference is left */
static __always_inline int __init modsecok_boot_only(void)
{
	return 2;
}

int modsecok_level(void);
int modsecok_level(void)
{
	return modsecok_boot_only();
}

/* qed_main.c's speed maps: __ro_after_init data (.data..ro_after_init) is not checked */
static const u32 modsecok_speeds[] __initconst = { 1, 10 };

struct modsecok_map {
	const u32 *speeds;
};

static struct modsecok_map modsecok_maps[] __ro_after_init = {
	{ .speeds = modsecok_speeds },
};

/* chromeos_laptop.c's style: __init after the return type's '*', on the line before */
static struct modsecok_map * __init
modsecok_pick(void)
{
	return modsecok_boot_only() ? &modsecok_maps[0] : NULL;
}

int __ref modsecok_late_setup(void);
int __ref modsecok_late_setup(void)
{
	return modsecok_setup();
}

static int __init modsecok_init(void)
{
	pr_info("modsecok: %d %p\n", modsecok_setup() + boot_level, modsecok_pick());
	return platform_driver_register(&modsecok_driver);
}

static void __exit modsecok_exit(void)
{
	platform_driver_unregister(&modsecok_driver);
}

module_init(modsecok_init);
module_exit(modsecok_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: legitimate references to init and exit sections");
