"""`kmodlint kernels import PATH`: a kernel table from what a user has.

- a headers/build folder (Module.symvers beside .config, include/generated/utsrelease.h,
  include/config/auto.conf), or a Module.symvers file (its folder read the same way);
- a linux-headers-<release>-<flavour>.deb, read in memory (`deb.py`);
- a /lib/modules/<ver> tree: its build/Module.symvers when present, else its modules, as
  `--kernel` reads such a tree (kernel/load.py: the table is then incomplete).

Rows are kept exactly as Module.symvers holds them, in its order, so the table renders back
to the same bytes (`symvers_text`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from kmodlint.kernel.symvers import _parse_row, lines
from kmodlint.kernel.vermagic import vermagic_from_texts
from kmodlint.kerneltables.deb import DebError, read_members
from kmodlint.kerneltables.record import KernelRecord, Row
from kmodlint.safe_io import MB, TABLE_LIMIT, read_regular, read_regular_head, read_regular_text

DEB_LIMIT = 256 * MB

# .config symbol -> the kernel's ARCH (arch/<ARCH>/), most specific first
_ARCHES = [
    ("CONFIG_X86_64", "x86_64"),
    ("CONFIG_X86_32", "i386"),
    ("CONFIG_ARM64", "arm64"),
    ("CONFIG_ARM", "arm"),
    ("CONFIG_PPC64", "powerpc"),
    ("CONFIG_PPC32", "powerpc"),
    ("CONFIG_S390", "s390"),
    ("CONFIG_RISCV", "riscv"),
    ("CONFIG_LOONGARCH", "loongarch"),
    ("CONFIG_MIPS", "mips"),
]


class ImportError_(ValueError):
    """PATH cannot become a kernel table (a usage error, exit 2)."""


def import_path(
    path: str, read_tree: Callable[..., object] | None = None, release: str | None = None
) -> KernelRecord:
    """`release`: the kernel's release where PATH does not say it (a Module.symvers and a
    .config without include/generated/utsrelease.h); it names the table."""
    if os.path.isdir(path):
        return _from_folder(path, read_tree, release)
    if not os.path.lexists(path):
        raise ImportError_(f"{path}: no such file or directory")
    if path.endswith(".deb"):
        return from_deb(path)
    if os.path.basename(path) == "Module.symvers" or _head(path).count("\tEXPORT_"):
        return from_headers(os.path.dirname(path) or ".", symvers=path, release=release)
    raise ImportError_(
        f"{path}: not a Module.symvers, a headers folder, a linux-headers .deb or a "
        "/lib/modules/<ver> tree"
    )


def from_headers(
    folder: str, symvers: str | None = None, release: str | None = None
) -> KernelRecord:
    symvers = symvers or os.path.join(folder, "Module.symvers")
    text = _text(symvers)
    config = _optional_text(os.path.join(folder, "include", "config", "auto.conf")) or (
        _optional_text(os.path.join(folder, ".config"))
    )
    release_h = _optional_text(os.path.join(folder, "include", "generated", "utsrelease.h"))
    if release_h is None and release:
        release_h = f'#define UTS_RELEASE "{release}"\n'
    return _record(text, symvers, config, release_h, os.path.abspath(symvers))


def from_deb(path: str) -> KernelRecord:
    try:
        data = read_regular(path, DEB_LIMIT)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    wanted = re.compile(
        r"usr/src/linux-headers-[^/]+/"
        r"(Module\.symvers|\.config|include/config/auto\.conf|include/generated/utsrelease\.h)"
    )
    try:
        files, control = read_members(data, lambda name: wanted.fullmatch(name) is not None)
    except DebError as exc:
        raise ImportError_(f"{path}: {exc}") from exc

    def member(suffix: str) -> str | None:
        found = sorted(name for name in files if name.endswith("/" + suffix))
        return files[found[0]].decode("utf-8", "surrogateescape") if found else None

    text = member("Module.symvers")
    if text is None:
        raise ImportError_(
            f"{path}: holds no Module.symvers (the flavour's package does, "
            "linux-headers-<release>-<flavour>, not the -common one)"
        )
    package = control.get("Package", os.path.basename(path))
    source = f"{package} {control.get('Version', '')}".strip()
    return _record(
        text, path, member("auto.conf") or member(".config"), member("utsrelease.h"), source
    )


def _from_folder(
    folder: str, read_tree: Callable[..., object] | None, release: str | None = None
) -> KernelRecord:
    for candidate in (folder, os.path.join(folder, "build")):
        if os.path.isfile(os.path.join(candidate, "Module.symvers")):
            return from_headers(candidate, release=release)
    if os.path.isdir(os.path.join(folder, "kernel")) or os.path.isfile(
        os.path.join(folder, "modules.builtin")
    ):
        return _from_module_tree(folder, read_tree)
    raise ImportError_(f"{folder}: holds no Module.symvers, build/Module.symvers or modules")


def _from_module_tree(folder: str, read_tree: Callable[..., object] | None) -> KernelRecord:
    from kmodlint.kernel.load import _load_module_tree

    if read_tree is None:
        raise ImportError_(f"{folder}: a module tree needs its modules read")
    table = _load_module_tree(folder, read_tree)  # type: ignore[arg-type]
    release = os.path.basename(os.path.normpath(folder))
    # /boot/config-<release> of the same root, as Debian installs it
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(folder))))
    config = _optional_text(os.path.join(root, "boot", f"config-{release}"))
    rows = [
        Row(
            symbol,
            row.owner,
            row.export.kind.value,
            row.export.namespace,
            row.export.crc,
        )
        for symbol, row in table.exports.items()
    ]
    flags = _flags(config or "")
    return KernelRecord(
        name=release,
        release=release,
        arch=flags.arch,
        vermagic=table.vermagic,
        modversions=table.modversions,
        module_sig=flags.module_sig if config else None,
        retpoline=flags.retpoline if config else None,
        source=os.path.abspath(folder),
        rows=rows,
        complete=False,
        builtin=sorted(table.builtin),
    )


def _record(
    text: str, where: str, config: str | None, release_h: str | None, source: str
) -> KernelRecord:
    rows: list[Row] = []
    for number, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        parsed = _parse_row(line.split("\t"))
        if parsed is None:
            raise ImportError_(f"{where}:{number}: not a Module.symvers row")
        crc, symbol, owner, kind, namespace = parsed
        rows.append(Row(symbol, owner, kind, namespace, int(crc, 16)))
    if not rows:
        raise ImportError_(f"{where}: lists no exports")
    match = re.search(r'#define\s+UTS_RELEASE\s+"([^"]*)"', release_h or "")
    if match is None:
        raise ImportError_(
            f"{where}: no include/generated/utsrelease.h beside it: the kernel's release "
            "(the table's name) is unknown; give it with --release"
        )
    release = match.group(1)
    flags = _flags(config or "")
    modversions = any(row.crc for row in rows)
    if not modversions:
        for row in rows:
            row.crc = None  # modpost writes 0x00000000 when CONFIG_MODVERSIONS is off
    return KernelRecord(
        name=release,
        release=release,
        arch=flags.arch,
        vermagic=vermagic_from_texts(release_h or "", config) if config else None,
        modversions=modversions,
        module_sig=flags.module_sig if config else None,
        retpoline=flags.retpoline if config else None,
        source=source,
        rows=rows,
    )


@dataclass(slots=True)
class _Flags:
    arch: str
    module_sig: bool
    retpoline: bool


def _flags(config: str) -> _Flags:
    values = {
        key: value
        for key, _, value in (line.strip().partition("=") for line in lines(config))
        if key.startswith("CONFIG_")
    }
    return _Flags(
        arch=next((arch for option, arch in _ARCHES if values.get(option) == "y"), ""),
        module_sig=values.get("CONFIG_MODULE_SIG") == "y",
        # renamed CONFIG_MITIGATION_RETPOLINE in 6.9
        retpoline=values.get("CONFIG_RETPOLINE") == "y"
        or values.get("CONFIG_MITIGATION_RETPOLINE") == "y",
    )


def symvers_text(record: KernelRecord) -> str:
    """The Module.symvers the record came from, as modpost writes it (write_dump)."""
    return "".join(
        f"0x{row.crc or 0:08x}\t{row.symbol}\t{row.owner}\t{row.kind}\t{row.namespace}\n"
        for row in record.rows
    )


def _text(path: str) -> str:
    try:
        return read_regular_text(path, TABLE_LIMIT)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def _optional_text(path: str) -> str | None:
    try:
        return read_regular_text(path, TABLE_LIMIT)
    except OSError:
        return None


def _head(path: str) -> str:
    try:
        return read_regular_head(path, 4000).decode("utf-8", "replace")
    except OSError:
        return ""
