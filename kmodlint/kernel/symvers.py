"""Module.symvers in every historical column layout, and System.map.

Module.symvers rows (scripts/mod/modpost.c: write_dump, read_dump):
  <= 5.3         crc symbol module type
  5.4 - 5.6-rc6  crc symbol namespace module type
  5.6-rc7+       crc symbol module type namespace
The layout is recognised per row by the column that holds `EXPORT_*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kmodlint.kernel.table import VMLINUX, KernelTable
from kmodlint.model import Export, ExportKind, InputProblem

_KINDS = {
    "EXPORT_SYMBOL": ExportKind.PLAIN,
    "EXPORT_SYMBOL_GPL": ExportKind.GPL,
    "EXPORT_SYMBOL_GPL_FUTURE": ExportKind.GPL_FUTURE,
    "EXPORT_UNUSED_SYMBOL": ExportKind.PLAIN,
    "EXPORT_UNUSED_SYMBOL_GPL": ExportKind.GPL,
}


# modpost writes "0x%08x" (write_dump); a CRC is 32 bits. strtoul() in read_dump would
# also take "-0x5", 200 digits or whitespace, none of which modpost ever wrote.
_CRC = re.compile(r"0[xX][0-9a-fA-F]{1,8}")
# A symbol, module path or namespace: no blanks, controls (a NUL-separated file) or DEL.
_FIELD = re.compile(r"[^\x00-\x20\x7f]+")

# Rows read at most: 25 times an allmodconfig x86_64 kernel's ~40,000 exports. A table
# within the size bound (safe_io.TABLE_LIMIT) could hold millions: ~350 bytes of memory
# and ~10 us each, so more would cost gigabytes and minutes for no real table.
MAX_ROWS = 1_000_000

# What an incomplete table costs, said once wherever a table is found incomplete.
INCOMPLETE = (
    "the table is treated as incomplete: a symbol missing from it is not reported as "
    "unresolved, nor a namespace import as unused"
)


def read_symvers(text: str, path: str, table: KernelTable) -> None:
    """Rows into `table`. Any unreadable row makes the table incomplete: the symbol a
    garbled row held may be the one a module imports, so a miss proves nothing."""
    bad_lines: list[int] = []
    crcs_seen = False
    rows = 0
    for number, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        rows += 1
        if rows > MAX_ROWS:
            _too_many(table, path, "Module.symvers rows")
            break
        parsed = _parse_row(line.split("\t"))
        if parsed is None:
            bad_lines.append(number)
            continue
        crc_text, symbol, owner, kind, namespace = parsed
        crc = int(crc_text, 16)
        crcs_seen = crcs_seen or crc != 0
        table.add(Export(symbol, _KINDS[kind], namespace, crc), owner)
    if table.modversions is None:
        # modpost writes 0x00000000 for every row when CONFIG_MODVERSIONS is off.
        table.modversions = crcs_seen
    if not table.modversions:
        for row in table.exports.values():
            row.export.crc = None
    if bad_lines:
        table.complete = False
        shown = ", ".join(str(n) for n in bad_lines[:5])
        more = f" and {len(bad_lines) - 5} more" if len(bad_lines) > 5 else ""
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                f"{len(bad_lines)} unreadable Module.symvers line(s): {shown}{more}; " + INCOMPLETE,
            )
        )
    elif not table.exports:
        table.complete = False
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                "Module.symvers lists no exports; kernel symbols were not checked",
            )
        )


def lines(text: str) -> Iterator[str]:
    """The lines of `text` one at a time (splitlines() would hold a list of every line
    of a table of hundreds of MB at once); a CR before the newline is dropped."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start : end - 1 if text.endswith("\r", start, end) else end]
        start = end + 1


def _too_many(table: KernelTable, path: str, what: str) -> None:
    table.complete = False
    table.problems.append(
        InputProblem(
            "invalid-kernel-table",
            path,
            f"more than {MAX_ROWS:,} {what}: the rest was not read; {INCOMPLETE}",
        )
    )


def _parse_row(cols: list[str]) -> tuple[str, str, str, str, str] | None:
    """(crc, symbol, owner, kind, namespace) of a row of any layout; None for a row
    modpost did not write (wrong column count, a CRC that is not 32-bit hex, an empty
    or blank-holding field)."""
    if len(cols) in (4, 5) and cols[3] in _KINDS:
        row = cols[0], cols[1], cols[2], cols[3], cols[4] if len(cols) > 4 else ""
    elif len(cols) == 5 and cols[4] in _KINDS:
        row = cols[0], cols[1], cols[3], cols[4], cols[2]
    else:
        return None
    crc, symbol, owner, _kind, namespace = row
    if not _CRC.fullmatch(crc) or not _FIELD.fullmatch(symbol) or not _FIELD.fullmatch(owner):
        return None
    if namespace and not _FIELD.fullmatch(namespace):
        return None
    return row


_ADDRESS = re.compile(r"[0-9a-fA-F]{1,16}")
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
    for line in lines(text):
        if not line.strip():
            continue
        parts = line.split()
        # `nm -n vmlinux`: address, one type letter, name (scripts/mksysmap)
        if len(parts) != 3 or not _ADDRESS.fullmatch(parts[0]) or len(parts[1]) != 1:
            bad += 1
            continue
        name = parts[2]
        if name.startswith("__ksymtab_"):
            if len(table.exports) >= MAX_ROWS:
                _too_many(table, path, "__ksymtab_ entries")
                return
            table.add(Export(name[len("__ksymtab_") :], ExportKind.UNKNOWN), VMLINUX)
    table.modversions = None
    if bad:
        table.complete = False
        table.problems.append(
            InputProblem(
                "invalid-kernel-table", path, f"{bad} unreadable System.map line(s); {INCOMPLETE}"
            )
        )
        return
    if not table.exports:
        table.complete = False
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                "System.map lists no __ksymtab_ entries; kernel symbols were not checked",
            )
        )
