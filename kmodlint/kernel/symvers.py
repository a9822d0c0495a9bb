"""Module.symvers in every historical column layout, and System.map.

Module.symvers rows (scripts/mod/modpost.c: write_dump, read_dump):
  <= 5.3         crc symbol module type
  5.4 - 5.6-rc6  crc symbol namespace module type
  5.6-rc7+       crc symbol module type namespace
The layout is recognised per row by the column that holds `EXPORT_*`.
"""

from __future__ import annotations

from kmodlint.kernel.table import VMLINUX, KernelTable
from kmodlint.model import Export, ExportKind, InputProblem

_KINDS = {
    "EXPORT_SYMBOL": ExportKind.PLAIN,
    "EXPORT_SYMBOL_GPL": ExportKind.GPL,
    "EXPORT_SYMBOL_GPL_FUTURE": ExportKind.GPL_FUTURE,
    "EXPORT_UNUSED_SYMBOL": ExportKind.PLAIN,
    "EXPORT_UNUSED_SYMBOL_GPL": ExportKind.GPL,
}


def read_symvers(text: str, path: str, table: KernelTable) -> None:
    bad_lines: list[int] = []
    crcs_seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        parsed = _parse_row(cols)
        if parsed is None:
            bad_lines.append(number)
            continue
        crc_text, symbol, owner, kind, namespace = parsed
        try:
            crc = int(crc_text, 16)
        except ValueError:
            bad_lines.append(number)
            continue
        crcs_seen = crcs_seen or crc != 0
        table.add(Export(symbol, _KINDS[kind], namespace, crc), owner or VMLINUX)
    if table.modversions is None:
        # modpost writes 0x00000000 for every row when CONFIG_MODVERSIONS is off.
        table.modversions = crcs_seen
    if not table.modversions:
        for row in table.exports.values():
            row.export.crc = None
    if bad_lines:
        shown = ", ".join(str(n) for n in bad_lines[:5])
        more = f" and {len(bad_lines) - 5} more" if len(bad_lines) > 5 else ""
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                f"{len(bad_lines)} unreadable Module.symvers line(s): {shown}{more}",
            )
        )


def _parse_row(cols: list[str]) -> tuple[str, str, str, str, str] | None:
    if len(cols) < 4:
        return None
    if cols[3] in _KINDS:
        namespace = cols[4] if len(cols) > 4 else ""
        return cols[0], cols[1], cols[2], cols[3], namespace
    if len(cols) >= 5 and cols[4] in _KINDS:
        return cols[0], cols[1], cols[3], cols[4], cols[2]
    return None


PLACEHOLDER_MARK = "The real System.map is in"


def read_system_map(text: str, path: str, table: KernelTable) -> None:
    """System.map keeps `__ksymtab_<sym>` labels: the export names, without CRC, kind or
    namespace (what `depmod -F` uses). Debian ships a one-line placeholder instead."""
    table.has_kinds = False
    if PLACEHOLDER_MARK in text[:400]:
        table.complete = False
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                "Debian's placeholder System.map (the real one is in the linux-image-*-dbg "
                "package); kernel symbols were not checked",
            )
        )
        return
    bad = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            bad += bool(line.strip())
            continue
        name = parts[2]
        if name.startswith("__ksymtab_"):
            table.add(Export(name[len("__ksymtab_") :], ExportKind.UNKNOWN), VMLINUX)
    table.modversions = None
    if bad:
        table.problems.append(
            InputProblem("invalid-kernel-table", path, f"{bad} unreadable System.map line(s)")
        )
    if not table.exports:
        table.complete = False
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                "System.map lists no __ksymtab_ entries; kernel symbols were not checked",
            )
        )
