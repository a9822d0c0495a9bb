/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM modtrace

#if !defined(_MODTRACE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MODTRACE_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(modtrace_event,
	TP_PROTO(int value),
	TP_ARGS(value),
	TP_STRUCT__entry(__field(int, value)),
	TP_fast_assign(__entry->value = value;),
	TP_printk("value=%d", __entry->value)
);

#endif

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE modtrace_trace
#include <trace/define_trace.h>
