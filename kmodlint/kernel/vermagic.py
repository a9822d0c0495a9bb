"""The kernel's vermagic, and the loader's comparison of it.

VERMAGIC_STRING (include/linux/vermagic.h, 6.1/6.12) is
  UTS_RELEASE " " [SMP ] [preempt |preempt_rt ] [mod_unload ] [modversions ]
  MODULE_ARCH_VERMAGIC [RANDSTRUCT_<hash>]
and a headers folder holds everything needed to rebuild it: include/generated/utsrelease.h
and include/config/auto.conf.
"""

from __future__ import annotations

import os
import re

from kmodlint.kernel.symvers import lines
from kmodlint.safe_io import TABLE_LIMIT, read_regular_text

# arch/*/include/asm/module.h: MODULE_ARCH_VERMAGIC for the arches whose suffix is fixed.
# x86_32 spells its CPU family (MODULE_PROC_FAMILY); the Debian flavours are listed.
# Arches missing here (riscv, powerpc: config-dependent suffixes) get no vermagic rather
# than a guessed one.
_ARCH_SUFFIX = [
    ("CONFIG_X86_64", ""),
    ("CONFIG_ARM64", "aarch64"),
    ("CONFIG_S390", ""),
    ("CONFIG_M686", "686 "),
    ("CONFIG_MPENTIUMII", "PENTIUMII "),
    ("CONFIG_MPENTIUMIII", "PENTIUMIII "),
    ("CONFIG_MPENTIUMM", "PENTIUMM "),
    ("CONFIG_MPENTIUM4", "PENTIUM4 "),
    ("CONFIG_M586", "586 "),
    ("CONFIG_M586TSC", "586TSC "),
    ("CONFIG_M586MMX", "586MMX "),
    ("CONFIG_MCORE2", "CORE2 "),
    ("CONFIG_MATOM", "ATOM "),
    ("CONFIG_MK7", "K7 "),
    ("CONFIG_MK8", "K8 "),
    ("CONFIG_MGEODE_LX", "GEODE "),
]


_OPTIONS = {option for option, _suffix in _ARCH_SUFFIX} | {
    "CONFIG_RANDSTRUCT_FULL",
    "CONFIG_RANDSTRUCT_PERFORMANCE",
    "CONFIG_SMP",
    "CONFIG_PREEMPT_BUILD",
    "CONFIG_PREEMPT",
    "CONFIG_PREEMPT_RT",
    "CONFIG_MODULE_UNLOAD",
    "CONFIG_MODVERSIONS",
}


def vermagic_from_headers(folder: str) -> str | None:
    release_file = os.path.join(folder, "include", "generated", "utsrelease.h")
    config_file = os.path.join(folder, "include", "config", "auto.conf")
    try:
        # a headers folder from elsewhere: regular files only, bounded (safe_io)
        release = read_regular_text(release_file, TABLE_LIMIT)
        config = read_regular_text(config_file, TABLE_LIMIT)
    except OSError:
        return None
    return vermagic_from_texts(release, config)


def vermagic_from_texts(release: str, auto_conf: str) -> str | None:
    """VERMAGIC_STRING from the texts of include/generated/utsrelease.h and
    include/config/auto.conf (or a .config: the same CONFIG_ lines), wherever they were
    read from (a headers folder, a linux-headers .deb)."""
    match = re.search(r'#define\s+UTS_RELEASE\s+"([^"]*)"', release)
    # only the options read below are kept (auto.conf may be any size up to the bound)
    config = {
        key: value
        for key, _, value in (
            line.strip().partition("=") for line in lines(auto_conf) if line.startswith("CONFIG_")
        )
        if key in _OPTIONS
    }
    if match is None:
        return None
    suffix = next((s for option, s in _ARCH_SUFFIX if config.get(option) == "y"), None)
    if (
        suffix is None
        or config.get("CONFIG_RANDSTRUCT_FULL")
        or config.get("CONFIG_RANDSTRUCT_PERFORMANCE")
    ):
        # An arch whose suffix is not known here, or a hash we cannot see: do not guess.
        return None
    parts = [match.group(1) + " "]
    if config.get("CONFIG_SMP") == "y":
        parts.append("SMP ")
    if config.get("CONFIG_PREEMPT_BUILD") == "y" or config.get("CONFIG_PREEMPT") == "y":
        parts.append("preempt ")
    elif config.get("CONFIG_PREEMPT_RT") == "y":
        parts.append("preempt_rt ")
    if config.get("CONFIG_MODULE_UNLOAD") == "y":
        parts.append("mod_unload ")
    if config.get("CONFIG_MODVERSIONS") == "y":
        parts.append("modversions ")
    parts.append(suffix)
    return "".join(parts)


def same_magic(module_magic: str, kernel_magic: str, has_crcs: bool) -> bool:
    """kernel/module/version.c: same_magic() — with __versions, the release (up to the
    first space) is skipped in both strings; the rest must be byte-identical."""
    if has_crcs:
        module_magic = module_magic[_release_end(module_magic) :]
        kernel_magic = kernel_magic[_release_end(kernel_magic) :]
    return module_magic == kernel_magic


def _release_end(magic: str) -> int:
    index = magic.find(" ")
    return len(magic) if index < 0 else index
