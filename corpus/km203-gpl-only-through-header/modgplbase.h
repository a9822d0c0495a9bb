/* SPDX-License-Identifier: GPL-2.0 */
/* expect-none */
#ifndef MODGPLBASE_H
#define MODGPLBASE_H

int modgplbase_register(int id);
int modgplbase_unregister(int id);
int modgplbase_unused(int id);

/* The upper module calls these, and so imports what they call. */
static inline int modgplbase_attach(int id)
{
	return modgplbase_register(id);
}

#define MODGPLBASE_DETACH(id) modgplbase_unregister(id)

/* Never called by the upper module: gcc emits nothing, so it imports nothing. */
static inline int modgplbase_probe_unused(int id)
{
	return modgplbase_unused(id);
}
#endif
