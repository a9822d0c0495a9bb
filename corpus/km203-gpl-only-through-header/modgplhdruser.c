// SPDX-License-Identifier: Proprietary
/* Calls modgplbase's GPL-only exports only through the base module's inline helper and macro. */
#include <linux/module.h>
#include "modgplbase.h"

static int __init modgplhdruser_init(void)
{
	return modgplbase_attach(1);	/* expect: gpl-only-symbol */
}

static void __exit modgplhdruser_exit(void)
{
	MODGPLBASE_DETACH(1);	/* expect: gpl-only-symbol */
}

module_init(modgplhdruser_init);
module_exit(modgplhdruser_exit);

MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmodlint corpus: a proprietary module using GPL-only symbols through a header");
