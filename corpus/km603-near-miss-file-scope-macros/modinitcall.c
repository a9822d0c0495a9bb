// SPDX-License-Identifier: GPL-2.0
/* expect-none */
#include <linux/module.h>
#include <linux/build_bug.h>

struct fsm;
#define fsm_state_decl(name, state) \
	static void name##_sm_##state(struct fsm *fsm)
#define compile_time_assert(cond, msg) \
	typedef char msg[(cond) ? 1 : -1]

fsm_state_decl(modinitcall, idle);
fsm_state_decl(modinitcall, busy);
compile_time_assert(sizeof(int) == 4, int_is_four_bytes);

/* an array of pointers to arrays (gspca/sonixj.c sensor_init): not a prototype of u8 */
static const u8 modinitcall_table[2][2] = { { 1, 2 }, { 3, 4 } };
static const u8 (*modinitcall_tables[])[2] = { modinitcall_table, modinitcall_table };

static void modinitcall_sm_idle(struct fsm *fsm)
{
}

static void modinitcall_sm_busy(struct fsm *fsm)
{
	modinitcall_sm_idle(fsm);
}

static int __init modinitcall_init(void)
{
	modinitcall_sm_busy(NULL);
	return modinitcall_tables[0][0][0] == 1 ? 0 : -EINVAL;
}
subsys_initcall(modinitcall_init);

static void __exit modinitcall_exit(void)
{
}
module_exit(modinitcall_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodlint corpus: file-scope macro invocations and subsys_initcall");
