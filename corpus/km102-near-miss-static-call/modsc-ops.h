/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
/* an x-macro list, as arch/x86/include/asm/kvm-x86-ops.h */
MODSC_OP(get)
MODSC_OP(put)
#undef MODSC_OP
