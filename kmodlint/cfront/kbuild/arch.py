"""The kernel tree a folder belongs to, its architecture (SRCARCH) and its release numbers."""

from __future__ import annotations

import os
import platform
import re

from kmodlint.folders import ancestors
from kmodlint.safe_io import MAKEFILE_LIMIT, read_regular_text

# --------------------------------------------------------------------------- Kbuild reading


_ARCH_BY_CONFIG = (
    ("CONFIG_X86", "x86"),
    ("CONFIG_ARM64", "arm64"),
    ("CONFIG_ARM", "arm"),
    ("CONFIG_PPC", "powerpc"),
    ("CONFIG_S390", "s390"),
    ("CONFIG_RISCV", "riscv"),
    ("CONFIG_MIPS", "mips"),
    ("CONFIG_LOONGARCH", "loongarch"),
    ("CONFIG_SPARC", "sparc"),
    ("CONFIG_PARISC", "parisc"),
    ("CONFIG_ALPHA", "alpha"),
    ("CONFIG_M68K", "m68k"),
)
_ARCH_BY_MACHINE = {
    "x86_64": "x86",
    "amd64": "x86",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "s390x": "s390",
    "riscv64": "riscv",
}


def srcarch(config: dict[str, str] | None) -> str:
    if config:
        for key, arch in _ARCH_BY_CONFIG:
            if config.get(key) == "y":
                return arch
    return _ARCH_BY_MACHINE.get(platform.machine().lower(), "x86")


def kernel_source_tree(spec: str | None) -> str | None:
    """The kernel tree a --kernel folder builds with: a source tree or headers folder, the
    ``build`` link of /lib/modules/<ver>, Debian's -amd64 headers whose Makefile is
    ``include <the -common folder>/Makefile`` (that folder is kbuild's srctree)."""
    if not spec or not os.path.isdir(spec):
        return None
    candidates = [spec, os.path.join(spec, "build"), os.path.join(spec, "source")]
    for folder in candidates:
        makefile = os.path.join(folder, "Makefile")
        if not os.path.isfile(makefile):
            continue
        try:
            head = read_regular_text(makefile, MAKEFILE_LIMIT)[:4096]
        except OSError:
            continue
        match = re.match(r"\s*include\s+(\S+)/Makefile\s*$", head)
        if match and os.path.isdir(os.path.join(match.group(1), "include", "linux")):
            return os.path.abspath(match.group(1))
        if os.path.isdir(os.path.join(folder, "include", "linux")):
            return os.path.abspath(folder)
    return None


def is_kernel_tree(path: str) -> bool:
    return (
        os.path.isfile(os.path.join(path, "Kbuild"))
        and os.path.isfile(os.path.join(path, "Makefile"))
        and os.path.isdir(os.path.join(path, "arch"))
    )


def kernel_tree_of(directory: str) -> str | None:
    return next((f for f in ancestors(directory) if is_kernel_tree(f)), None)


def release_numbers(release: str | None) -> tuple[str, str, str] | None:
    """VERSION, PATCHLEVEL, SUBLEVEL of a kernel release string ("6.1.0-56-amd64")."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release or "")
    return (match.group(1), match.group(2), match.group(3) or "0") if match else None
