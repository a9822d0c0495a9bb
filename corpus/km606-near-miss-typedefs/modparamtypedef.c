// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/types.h>

typedef unsigned int drv_flags_t;

static uint frequency;
static ulong timeout_ms;
static ushort port;
static size_t buffer_size;
static u8 channel;
static unsigned long int delay;
static signed retries;
static long int offset;
static drv_flags_t flags;

module_param(frequency, uint, 0444);
module_param(timeout_ms, ulong, 0644);
module_param(port, ushort, 0444);
module_param(buffer_size, ulong, 0444);
module_param(channel, byte, 0444);
module_param(delay, ulong, 0444);
module_param(retries, int, 0444);
module_param(offset, long, 0444);
module_param(flags, uint, 0444);

static int __init modparamtypedef_init(void)
{
	return frequency + timeout_ms + port + buffer_size + channel + delay + retries + offset +
	       flags > 1000 ? -EINVAL : 0;
}

static void __exit modparamtypedef_exit(void)
{
}

module_init(modparamtypedef_init);
module_exit(modparamtypedef_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: module_param through kernel typedefs");
