"""Kbuild without make: which C files make which module, with which flags.

``grouping.group_sources`` is the entry point; ``make`` interprets the GNU make subset Kbuild
files use, ``arch`` finds the kernel tree and its architecture, ``dkms`` reads dkms.conf,
``kconfig`` reads a ``.config``."""
