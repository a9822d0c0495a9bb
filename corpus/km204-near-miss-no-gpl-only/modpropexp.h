/* expect-none */
#ifndef MODPROPEXP_H
#define MODPROPEXP_H

int propexp_value(void);

#endif
