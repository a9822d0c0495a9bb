/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#include <linux/types.h>

/* defined nowhere: link-time assertions that constant folding removes */
extern void __buggy_use_of_modfold_get(void);
int __missing_modfold_selector(void);
