/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#include <linux/percpu.h>

#define MODTRACE_DEFINE_COUNTER(name) DEFINE_PER_CPU(unsigned long, name)
