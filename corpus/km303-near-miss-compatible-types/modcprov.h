/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODCPROV_H
#define MODCPROV_H
#include <linux/types.h>

struct cprov_rate {
	int bitrate;
};

extern struct cprov_rate cprov_rates[];
int cprov_log(const char *__restrict tag, const int level);
u32 cprov_sum(const u8 data[], uint len);
int cprov_rate_of(const struct cprov_rate *);
#endif
