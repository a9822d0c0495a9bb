// SPDX-License-Identifier: GPL-2.0
/* expect-none */
/* A user-space tool: no kernel header, a main(). Not a module. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s on|off\n", argv[0]);
		return EXIT_FAILURE;
	}
	printf("usbtoy: %s\n", argv[1]);
	return 0;
}
