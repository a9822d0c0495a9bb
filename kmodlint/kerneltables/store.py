"""Where kernel tables live, and how `--kernel NAME` finds one.

- shipped with kmodlint: `kmodlint/kerneltables/data/<distribution>.kmtables.xz`;
- imported by the user (`kmodlint kernels import`): `$XDG_DATA_HOME/kmodlint/tables/`
  (default `~/.local/share/kmodlint/tables/`, folders 0700), one file per distribution
  name (`--distribution`, default `local`).

A table is named `<distribution>/<release>` (`debian-12/6.1.0-56-amd64`) or by its release
alone; the user's tables come before the shipped ones for a release both hold. Names may be
shell patterns (`debian-12/*`, `*/6.12.*-arm64`): `--kernel` then names every match.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from dataclasses import dataclass

from kmodlint.kernel.table import KernelTable
from kmodlint.kerneltables.format import SUFFIX, TableFile, TableFormatError, decode, encode
from kmodlint.kerneltables.record import KernelRecord
from kmodlint.safe_io import read_regular

SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_FILE_LIMIT = 64 * 1024 * 1024
_PATTERN_CHARS = frozenset("*?[")

# decoded table files of this process: path -> ((size, mtime_ns), file)
_TABLE_FILES: dict[str, tuple[tuple[int, int], TableFile]] = {}


@dataclass(frozen=True, slots=True)
class TableRef:
    distribution: str
    name: str  # the kernel's release
    path: str  # the table file holding it
    shipped: bool

    @property
    def full_name(self) -> str:
        return f"{self.distribution}/{self.name}"


def data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "kmodlint")


def user_dir() -> str:
    return os.path.join(data_dir(), "tables")


def table_files() -> list[tuple[str, bool]]:
    """(path, shipped) of every table file, the user's first."""
    found: list[tuple[str, bool]] = []
    for folder, shipped in ((user_dir(), False), (SHIPPED_DIR, True)):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found.extend((os.path.join(folder, n), shipped) for n in names if n.endswith(SUFFIX))
    return found


def open_file(path: str) -> TableFile:
    stat = os.stat(path)
    stamp = (stat.st_size, stat.st_mtime_ns)
    known = _TABLE_FILES.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    table_file = decode(read_regular(path, _FILE_LIMIT))
    _TABLE_FILES[path] = (stamp, table_file)
    return table_file


def catalogue() -> tuple[list[TableRef], list[str]]:
    """Every table known, and a line per table file that could not be read."""
    refs: list[TableRef] = []
    problems: list[str] = []
    for path, shipped in table_files():
        try:
            table_file = open_file(path)
        except (OSError, TableFormatError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        distribution = os.path.basename(path)[: -len(SUFFIX)]
        refs.extend(TableRef(distribution, name, path, shipped) for name in table_file.names)
    return refs, problems


def is_pattern(spec: str) -> bool:
    return any(c in _PATTERN_CHARS for c in spec)


def find(spec: str) -> list[TableRef]:
    """The tables `spec` names (a release, distribution/release, or a pattern of either);
    a plain name gives at most one (the user's before the shipped)."""
    refs, _ = catalogue()
    key = "full_name" if "/" in spec else "name"
    matches = [r for r in refs if fnmatch.fnmatchcase(getattr(r, key), spec)]
    if is_pattern(spec):
        chosen: dict[str, TableRef] = {}
        for ref in matches:
            chosen.setdefault(ref.full_name, ref)
        return sorted(chosen.values(), key=lambda r: release_order(r.full_name))
    return matches[:1]


def load(ref: TableRef) -> KernelTable:
    """The KernelTable of a stored kernel, built from its columns (a matrix loads one per
    kernel: ~25,000 rows each, so no intermediate Row objects)."""
    from kmodlint.kernel.symvers import _KINDS
    from kmodlint.kernel.table import KernelExport
    from kmodlint.kerneltables.record import LETTER_KINDS
    from kmodlint.model import Export, ExportKind, normalise_module_name

    meta, columns = open_file(ref.path).columns(ref.name)
    table = KernelTable(
        f"{ref.full_name} (kmodlint's table of {meta['source']})",
        vermagic=meta["vermagic"],
        modversions=meta["modversions"],
        module_sig=meta["module_sig"],
        retpoline=meta["retpoline"],
        complete=bool(meta["complete"]),
    )
    kinds = {**_KINDS, ExportKind.UNKNOWN.value: ExportKind.UNKNOWN}
    by_letter = {letter: kinds[kind] for letter, kind in LETTER_KINDS.items()}
    exports = table.exports
    with_crcs = bool(meta["modversions"])
    no_crc = "--------"
    for symbol, owner, letter, namespace, crc in zip(
        columns.symbols,
        columns.owners,
        columns.kinds,
        columns.namespaces,
        columns.crcs,
        strict=True,
    ):
        if symbol not in exports:  # Module.symvers: the first row of a name (read_dump)
            value = int(crc, 16) if with_crcs and crc != no_crc else None
            exports[symbol] = KernelExport(
                Export(symbol, by_letter[letter], namespace, value), owner
            )
    table.has_kinds = "?" not in columns.kinds
    table.builtin = {normalise_module_name(name) for name in meta["builtin"]}
    if not table.complete:
        table.notes.append(_INCOMPLETE_NOTE.format(ref.full_name))
    return table


_INCOMPLETE_NOTE = (
    "{} was imported from a module tree without Module.symvers: vmlinux exports no module "
    "of it uses are not checked"
)


def to_kernel_table(record: KernelRecord, full_name: str) -> KernelTable:
    from kmodlint.kernel.symvers import _KINDS
    from kmodlint.model import Export, ExportKind, normalise_module_name

    table = KernelTable(
        f"{full_name} (kmodlint's table of {record.source})",
        vermagic=record.vermagic,
        modversions=record.modversions,
        module_sig=record.module_sig,
        retpoline=record.retpoline,
        complete=record.complete,
    )
    kinds = {**_KINDS, ExportKind.UNKNOWN.value: ExportKind.UNKNOWN}
    for row in record.rows:
        crc = row.crc if record.modversions else None
        table.add(Export(row.symbol, kinds[row.kind], row.namespace, crc), row.owner)
    table.has_kinds = all(row.kind != ExportKind.UNKNOWN.value for row in record.rows)
    table.builtin = {normalise_module_name(name) for name in record.builtin}
    if not record.complete:
        table.notes.append(_INCOMPLETE_NOTE.format(full_name))
    return table


def save(record: KernelRecord, distribution: str) -> str:
    """Add (or replace) `record` in the user's table file of `distribution`."""
    folder = user_dir()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for path in (data_dir(), folder):
        os.chmod(path, 0o700)
    path = os.path.join(folder, distribution + SUFFIX)
    records: list[KernelRecord] = []
    if os.path.exists(path):
        records = [r for r in open_file(path).records() if r.name != record.name]
    records.append(record)
    data = encode(distribution, records)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".import-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _TABLE_FILES.pop(path, None)
    return path


def release_order(name: str) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """By flavour (amd64, arm64), then release, numbers compared as numbers:
    6.1.0-9-amd64 before 6.1.0-10-amd64."""
    import re

    natural = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    )
    return name.rsplit("-", 1)[-1], natural
