/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#define MODDESC_CARD_NAME "Darla20"
