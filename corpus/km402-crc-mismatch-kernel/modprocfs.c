// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* A /proc file. Built against 6.1.0-47-amd64, whose proc_create/remove_proc_entry CRCs differ. */
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/proc_fs.h>

static const struct proc_ops modprocfs_ops = { };

static int __init modprocfs_init(void)
{
	if (!proc_create("modprocfs", 0444, NULL, &modprocfs_ops))
		return -ENOMEM;
	pr_info("modprocfs: loaded\n");
	return 0;
}

static void __exit modprocfs_exit(void)
{
	remove_proc_entry("modprocfs", NULL);
}

module_init(modprocfs_init);
module_exit(modprocfs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: creates /proc/modprocfs");
