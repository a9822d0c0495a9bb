/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODHDA_H
#define MODHDA_H

#if IS_ENABLED(CONFIG_MODHDA) && \
	(IS_ENABLED(CONFIG_MODHDA_HDMI) || \
	 IS_ENABLED(CONFIG_MODHDA_DP))

void modhda_display_power(int enable);
int modhda_display_init(void);

#else

static inline void modhda_display_power(int enable) { }
static inline int modhda_display_init(void) { return 0; }

#endif
#endif
