// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/static_call.h>

struct modsc_ops {
	int (*get)(int);
	int (*put)(int);
};

#define MODSC_OP(func)							\
	DEFINE_STATIC_CALL_NULL(modsc_##func, *(((struct modsc_ops *)0)->func));
#include "modsc-ops.h"

#define MODSC_OP(func) EXPORT_STATIC_CALL_GPL(modsc_##func);
#include "modsc-ops.h"

static int __init modsc_init(void)
{
	return 0;
}

static void __exit modsc_exit(void)
{
}

module_init(modsc_init);
module_exit(modsc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: exports static calls an x-macro defines");
