"""`--kernel PATH`: find out what PATH is and read the target kernel's export table from it.

Accepted: a Module.symvers (any layout), a kernel headers/build folder holding one, a
System.map, or a /lib/modules/<ver> tree (its build/Module.symvers when present, else its
modules and modules.builtin).
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from kmodlint.kernel.options import flags_from_headers, flags_from_modules
from kmodlint.kernel.symvers import MAX_ROWS, lines, read_symvers, read_system_map
from kmodlint.kernel.table import VMLINUX, KernelTable
from kmodlint.kernel.vermagic import vermagic_from_headers
from kmodlint.model import Export, ExportKind, InputProblem, Module, normalise_module_name
from kmodlint.safe_io import TABLE_LIMIT, read_regular_text

# modules.builtin lines named one by one in problems; the rest are counted.
_SHOWN_BUILTIN_LINES = 5

# Extracts modules of a tree: (list of (path, display)) -> list of Module|None with problems.
TreeReader = Callable[[list[tuple[str, str]]], list[tuple[Module | None, list[InputProblem]]]]


class KernelSpecError(Exception):
    """The --kernel argument names nothing usable (a usage error, exit 2)."""


@dataclass(slots=True)
class KernelChoice:
    table: KernelTable | None
    # One line for the user about what was (not) checked against.
    note: str


def choose_kernel(spec: str | None, read_tree: TreeReader) -> KernelChoice:
    if spec is not None and spec.lower() == "none":
        return KernelChoice(None, "kernel checks are off (--kernel none)")
    if spec is None:
        running = f"/lib/modules/{platform.release()}"
        if not os.path.isdir(running):
            return KernelChoice(
                None,
                f"kernel symbols were not checked: no --kernel given and {running} does not "
                "exist (pass --kernel PATH to a Module.symvers, headers folder, System.map or "
                "/lib/modules/<ver>)",
            )
        spec = running
    table = load_kernel(spec, read_tree)
    return KernelChoice(table, f"kernel: {table.source}")


def load_kernel(spec: str, read_tree: TreeReader) -> KernelTable:
    if os.path.isdir(spec):
        return _load_folder(spec, read_tree)
    if not os.path.lexists(spec):
        from kmodlint.kerneltables.names import table_named

        found = table_named(spec)  # a kernel table's name (kmodlint kernels list)
        if found is not None:
            return found
        raise KernelSpecError(
            f"--kernel {spec}: no such file or directory, nor a kernel table's name "
            "(see `kmodlint kernels list`)"
        )
    text = _read_table(spec)
    table = KernelTable(spec)
    if _looks_like_symvers(text):
        read_symvers(text, spec, table)
    elif "System.map" in os.path.basename(spec) or _looks_like_system_map(text):
        read_system_map(text, spec, table)
    else:
        raise KernelSpecError(
            f"--kernel {spec}: neither a Module.symvers nor a System.map "
            "(nor a headers folder or /lib/modules tree)"
        )
    return table


def _load_folder(folder: str, read_tree: TreeReader) -> KernelTable:
    for symvers in (
        os.path.join(folder, "Module.symvers"),
        os.path.join(folder, "build", "Module.symvers"),
    ):
        if os.path.lexists(symvers):
            table = KernelTable(symvers)
            text = _read_table(symvers)
            read_symvers(text, symvers, table)
            table.vermagic = vermagic_from_headers(os.path.dirname(symvers))
            table.module_sig, table.retpoline = flags_from_headers(os.path.dirname(symvers))
            table.builtin = _read_builtin(folder, table)
            return table
    if os.path.isdir(os.path.join(folder, "kernel")) or os.path.isfile(
        os.path.join(folder, "modules.builtin")
    ):
        return _load_module_tree(folder, read_tree)
    raise KernelSpecError(
        f"--kernel {folder}: holds no Module.symvers, build/Module.symvers or modules"
    )


def _load_module_tree(folder: str, read_tree: TreeReader) -> KernelTable:
    """A /lib/modules/<ver> tree without its build folder. Module exports are exact; vmlinux
    exports are only known where some module of the tree imports them (with the CRC its
    __versions records), so the table is marked incomplete."""
    table = KernelTable(folder, complete=False)
    table.builtin = _read_builtin(folder, table)
    files: list[tuple[str, str]] = []
    for directory, subdirs, names in os.walk(folder):
        subdirs.sort()
        files.extend(
            (os.path.join(directory, n), os.path.join(directory, n))
            for n in sorted(names)
            if n.endswith((".ko", ".ko.xz", ".ko.zst", ".ko.gz"))
        )
    modules: list[Module] = []
    for module, problems in read_tree(files):
        table.problems.extend(problems)
        if module is not None:
            modules.append(module)
    for module in modules:
        for export in module.exports:
            table.add(export, module.name)
    imported: dict[str, tuple[int | None, str | None]] = {}
    for module in modules:
        for symbol in module.undefined:
            if symbol not in table.exports:
                crc = (module.versions or {}).get(symbol)
                known = imported.get(symbol)
                if known is None or (known[0] is None and crc is not None):
                    imported[symbol] = (crc, module.name if crc is not None else None)
    for symbol, (crc, recorded_by) in sorted(imported.items()):
        table.add(Export(symbol, ExportKind.UNKNOWN, crc=crc), VMLINUX, recorded_by)
    magic = Counter(m.vermagic for m in modules if m.vermagic)
    table.vermagic = magic.most_common(1)[0][0] if magic else None
    table.modversions = any(m.versions for m in modules)
    table.module_sig, table.retpoline = flags_from_modules(modules)
    table.has_kinds = False
    table.notes.append(
        f"{folder} has no build/Module.symvers: vmlinux exports were inferred from the "
        "imports of its modules, so kernel symbols no module of that tree uses are not checked"
    )
    return table


def _read_builtin(folder: str, table: KernelTable) -> set[str]:
    path = os.path.join(folder, "modules.builtin")
    if not os.path.lexists(path):
        return set()
    try:
        text = _read_text(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        table.problems.append(InputProblem("invalid-kernel-table", path, f"not read: {reason}"))
        return set()
    names: set[str] = set()
    invalid = 0
    for line in lines(text):
        line = line.strip()
        if not line:
            continue
        if not line.endswith(".ko") or not line.isprintable():
            invalid += 1
            if invalid <= _SHOWN_BUILTIN_LINES:  # each named, but not a million of them
                shown = line[:200].encode("unicode_escape").decode("ascii")
                table.problems.append(
                    InputProblem(
                        "invalid-kernel-table", path, f"invalid modules.builtin line: {shown}"
                    )
                )
            continue
        if len(names) >= MAX_ROWS:
            table.problems.append(
                InputProblem(
                    "invalid-kernel-table",
                    path,
                    f"more than {MAX_ROWS:,} modules.builtin lines: the rest was not read",
                )
            )
            break
        names.add(normalise_module_name(os.path.basename(line)[:-3]))
    if invalid > _SHOWN_BUILTIN_LINES:
        table.problems.append(
            InputProblem(
                "invalid-kernel-table",
                path,
                f"{invalid - _SHOWN_BUILTIN_LINES} more invalid modules.builtin line(s)",
            )
        )
    return names


def _read_text(path: str) -> str:
    # `--kernel` may name a FIFO or /dev/zero: read only a regular file, bounded
    return read_regular_text(path, TABLE_LIMIT)


def _read_table(path: str) -> str:
    """The text of the table `path`; a usage error saying why when it cannot be read
    (not a regular file, larger than the bound, a permission)."""
    try:
        return _read_text(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise KernelSpecError(f"--kernel {path}: cannot be read: {reason}") from exc


def _looks_like_symvers(text: str) -> bool:
    return any("\tEXPORT_" in line for line in islice(lines(text), 20))


def _looks_like_system_map(text: str) -> bool:
    first = next(lines(text), "").split()
    return len(first) >= 3 and all(c in "0123456789abcdefABCDEF" for c in first[0])
