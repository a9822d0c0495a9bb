"""One kernel's table as imported: what the loader and modpost need to know about it."""

from __future__ import annotations

from dataclasses import dataclass, field

# Module.symvers kinds, one letter each in the stored format ("?" where the source does
# not say: a /lib/modules tree without Module.symvers).
KIND_LETTERS = {
    "EXPORT_SYMBOL": "P",
    "EXPORT_SYMBOL_GPL": "G",
    "EXPORT_SYMBOL_GPL_FUTURE": "F",
    "EXPORT_UNUSED_SYMBOL": "U",
    "EXPORT_UNUSED_SYMBOL_GPL": "V",
    "EXPORT_SYMBOL?": "?",
}
LETTER_KINDS = {letter: kind for kind, letter in KIND_LETTERS.items()}


@dataclass(slots=True)
class Row:
    """A Module.symvers row as modpost wrote it (write_dump: crc, symbol, module, kind,
    namespace); `crc` None only where the source had none (an inferred table)."""

    symbol: str
    owner: str
    kind: str  # EXPORT_SYMBOL, EXPORT_SYMBOL_GPL, ... (a key of KIND_LETTERS)
    namespace: str
    crc: int | None


@dataclass(slots=True)
class KernelRecord:
    name: str  # what --kernel NAME says: the release, e.g. 6.1.0-56-amd64
    release: str  # UTS_RELEASE
    arch: str  # the kernel's ARCH: x86_64, arm64, ... ("" when unknown)
    vermagic: str | None
    modversions: bool | None  # CONFIG_MODVERSIONS (None: not known)
    module_sig: bool | None  # CONFIG_MODULE_SIG
    retpoline: bool | None  # CONFIG_RETPOLINE / CONFIG_MITIGATION_RETPOLINE
    source: str  # where it was imported from: a package and version, or a path
    rows: list[Row] = field(default_factory=list)
    # False for a /lib/modules tree without Module.symvers: vmlinux exports are known only
    # where a module of the tree imports them (kernel/load.py, _load_module_tree)
    complete: bool = True
    builtin: list[str] = field(default_factory=list)  # modules.builtin names, when known
