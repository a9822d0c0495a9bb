// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* Not built: CONFIG_OOTDRV_BOARD is the kernel's option and "is not set". Were it read as the
 * driver's own (=m), this export of an undefined function would be an error. */
#include <linux/export.h>

EXPORT_SYMBOL(ootdrv_board_missing);
