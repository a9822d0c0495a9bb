"""The target kernel's export table, whatever it was read from."""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodlint.model import Export, InputProblem

VMLINUX = "vmlinux"


@dataclass(slots=True)
class KernelExport:
    export: Export
    # "vmlinux" or a module name (Module.symvers writes the module's path without .ko).
    owner: str
    # Set when the CRC was not read from the kernel but taken from this module's
    # __versions (a /lib/modules tree without Module.symvers).
    crc_inferred_from: str | None = None


@dataclass(slots=True)
class KernelTable:
    """Exports of the kernel a module set will be loaded into.

    `complete` is False when the source cannot list every vmlinux export (a
    /lib/modules tree without Module.symvers); then a symbol missing from the table is
    not proof that the kernel lacks it, and unresolved-symbol stays quiet for it.
    """

    source: str
    exports: dict[str, KernelExport] = field(default_factory=dict)
    vermagic: str | None = None
    modversions: bool | None = None
    # CONFIG_MODULE_SIG and CONFIG_RETPOLINE (CONFIG_MITIGATION_RETPOLINE from 6.9): the
    # loader's "module verification failed" taint and retpoline warning; None = unknown.
    module_sig: bool | None = None
    retpoline: bool | None = None
    complete: bool = True
    has_kinds: bool = True  # False for System.map: no GPL flag, namespace or CRC
    builtin: set[str] = field(default_factory=set)  # modules.builtin names (normalised)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, export: Export, owner: str, crc_inferred_from: str | None = None) -> None:
        # Module.symvers holds one row per name; keep the first as modpost's read_dump does.
        self.exports.setdefault(export.symbol, KernelExport(export, owner, crc_inferred_from))

    def without_modules(self, names: set[str]) -> KernelTable:
        """The table with rows owned by `names` removed: modules of the set being checked
        replace their own rows, as modpost does for the modules it is building."""
        if not names:
            return self
        kept = KernelTable(
            self.source,
            vermagic=self.vermagic,
            modversions=self.modversions,
            module_sig=self.module_sig,
            retpoline=self.retpoline,
            complete=self.complete,
            has_kinds=self.has_kinds,
            builtin=self.builtin,
            problems=self.problems,
            notes=self.notes,
        )
        kept.exports = {
            symbol: row
            for symbol, row in self.exports.items()
            if owner_module_name(row.owner) not in names
        }
        return kept


def owner_module_name(owner: str) -> str:
    """`drivers/usb/core/usbcore` -> `usbcore`, normalised like the kernel's module names."""
    return owner.rsplit("/", 1)[-1].replace("-", "_")
