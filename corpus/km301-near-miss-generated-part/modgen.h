/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
/* defined in modgen-asm.S, which the build makes from modgen-asm.S.in */
int modgen_blocks(int value);
int modgen_emit(void);
