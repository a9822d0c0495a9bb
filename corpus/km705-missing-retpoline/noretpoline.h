/* expect-none */
/* Included after include/linux/kconfig.h (KCFLAGS): the build as a kernel without retpolines
 * would make it, for the .mod.c's MODULE_INFO(retpoline, "Y"). */
#undef CONFIG_RETPOLINE
