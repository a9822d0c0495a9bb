// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include "modtrace_pcpu.h"

#define CREATE_TRACE_POINTS
#include "modtrace_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(modtrace_event);

MODTRACE_DEFINE_COUNTER(modtrace_hits);
EXPORT_PER_CPU_SYMBOL_GPL(modtrace_hits);

static int __init modtrace_init(void)
{
	trace_modtrace_event(1);
	return 0;
}

static void __exit modtrace_exit(void)
{
}

module_init(modtrace_init);
module_exit(modtrace_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports a tracepoint and a per-CPU counter");
