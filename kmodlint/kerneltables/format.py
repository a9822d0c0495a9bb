"""The kernel-table file: many kernels' export tables in one xz-compressed JSON document.

Data only: reading one runs `lzma` and `json` and nothing else (never pickle), so a table
from anywhere is safe to read. Symbols, owners and namespaces are interned once per file
(kernels of one distribution share most of their ~25,000-30,000 exports), and each kernel's
rows are columns of compact strings, in Module.symvers order, so consecutive kernels with
the same ABI repeat long runs the compressor stores once:

  {"format": "kmodlint-kernel-tables", "version": 1, "distribution": "debian-12",
   "symbols": "a\\nb\\n...", "owners": "vmlinux\\n...", "namespaces": "\\nCXL\\n...",
   "kernels": [{"name", "release", "arch", "vermagic", "modversions", "module_sig",
                "retpoline", "source", "complete", "rows": N,
                "symbol": "ids", "owner": "ids", "namespace": "ids",   (base-36, space-separated)
                "kind": "PG?...",                                     (a letter per row)
                "crc": "4c9d28b0815f2897...",                          (8 hex digits per row;
                                                                        "--------": none)
                "builtin": "name\\n..."}]}

Decoding a kernel's columns is done on demand (`TableFile.kernel`): a matrix of 14
kernels decodes 14, not every kernel of the file.
"""

from __future__ import annotations

import json
import lzma
import re
from dataclasses import dataclass
from typing import Any

from kmodlint.kerneltables.record import KIND_LETTERS, LETTER_KINDS, KernelRecord, Row

FORMAT = "kmodlint-kernel-tables"
VERSION = 1
SUFFIX = ".kmtables.xz"
# a table file inflates to a few tens of MB; a hostile one must not take the machine's memory
INFLATED_LIMIT = 512 * 1024 * 1024
_NO_CRC = "--------"
_META = ("name", "release", "arch", "vermagic", "modversions", "module_sig", "retpoline")


class TableFormatError(ValueError):
    """Not a kernel-table file of a version this kmodlint reads."""


def encode(distribution: str, kernels: list[KernelRecord]) -> bytes:
    symbols = sorted({row.symbol for k in kernels for row in k.rows})
    owners = sorted({row.owner for k in kernels for row in k.rows})
    namespaces = sorted({row.namespace for k in kernels for row in k.rows} | {""})
    symbol_id = {name: i for i, name in enumerate(symbols)}
    owner_id = {name: i for i, name in enumerate(owners)}
    namespace_id = {name: i for i, name in enumerate(namespaces)}
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "distribution": distribution,
        "symbols": "\n".join(symbols),
        "owners": "\n".join(owners),
        "namespaces": "\n".join(namespaces),
        "kernels": [],
    }
    for kernel in sorted(kernels, key=lambda k: k.name):
        entry: dict[str, Any] = {key: getattr(kernel, key) for key in _META}
        entry["source"] = kernel.source
        entry["complete"] = kernel.complete
        entry["rows"] = len(kernel.rows)
        entry["symbol"] = " ".join(_b36(symbol_id[r.symbol]) for r in kernel.rows)
        entry["owner"] = " ".join(_b36(owner_id[r.owner]) for r in kernel.rows)
        entry["namespace"] = " ".join(_b36(namespace_id[r.namespace]) for r in kernel.rows)
        entry["kind"] = "".join(KIND_LETTERS[r.kind] for r in kernel.rows)
        entry["crc"] = "".join(_NO_CRC if r.crc is None else f"{r.crc:08x}" for r in kernel.rows)
        entry["builtin"] = "\n".join(sorted(kernel.builtin))
        document["kernels"].append(entry)
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return lzma.compress(text.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME)


@dataclass(slots=True)
class Columns:
    symbols: list[str]
    owners: list[str]
    kinds: str  # a letter per row (record.KIND_LETTERS)
    namespaces: list[str]
    crcs: list[str]  # 8 hex digits, or "--------" for none

    def crc(self, index: int) -> int | None:
        text = self.crcs[index]
        return None if text == _NO_CRC else int(text, 16)


@dataclass(slots=True)
class TableFile:
    distribution: str
    _document: dict[str, Any]
    _symbols: list[str]
    _owners: list[str]
    _namespaces: list[str]

    @property
    def names(self) -> list[str]:
        return [entry["name"] for entry in self._document["kernels"]]

    def summary(self, name: str) -> dict[str, Any]:
        """The kernel's metadata (no rows decoded)."""
        entry = self._entry(name)
        return {key: entry.get(key) for key in (*_META, "source", "complete", "rows")}

    def columns(self, name: str) -> tuple[dict[str, Any], Columns]:
        """The kernel's metadata and its rows as columns (symbol, owner, kind letter,
        namespace, CRC text: 8 hex digits or "--------"), without a Row per row: what a
        check needs, several times faster than `kernel`."""
        entry = self._entry(name)
        try:
            count = entry["rows"]
            crc_text = entry["crc"]
            kinds = entry["kind"]
            if len(kinds) != count or len(crc_text) != 8 * count:
                raise TableFormatError(f"kernel {name}: columns of different lengths")
            if any(letter not in LETTER_KINDS for letter in set(kinds)):
                raise TableFormatError(f"kernel {name}: an unknown kind letter")
            columns = Columns(
                _ids(entry["symbol"], count, self._symbols),
                _ids(entry["owner"], count, self._owners),
                kinds,
                _ids(entry["namespace"], count, self._namespaces),
                [crc_text[i : i + 8] for i in range(0, 8 * count, 8)],
            )
            meta = {key: entry[key] for key in (*_META, "source", "complete")}
            meta["builtin"] = [n for n in entry.get("builtin", "").split("\n") if n]
            return meta, columns
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, TableFormatError):
                raise
            raise TableFormatError(f"kernel {name}: malformed entry ({exc})") from exc

    def kernel(self, name: str) -> KernelRecord:
        entry = self._entry(name)
        try:
            count = entry["rows"]
            symbols = _ids(entry["symbol"], count, self._symbols)
            owners = _ids(entry["owner"], count, self._owners)
            namespaces = _ids(entry["namespace"], count, self._namespaces)
            kinds = [LETTER_KINDS[letter] for letter in entry["kind"]]
            crc_text = entry["crc"]
            if len(kinds) != count or len(crc_text) != 8 * count:
                raise TableFormatError(f"kernel {name}: columns of different lengths")
            crcs = [
                None if crc_text[i : i + 8] == _NO_CRC else int(crc_text[i : i + 8], 16)
                for i in range(0, 8 * count, 8)
            ]
            rows = [
                Row(*fields)
                for fields in zip(symbols, owners, kinds, namespaces, crcs, strict=True)
            ]
            meta = {key: entry[key] for key in _META}
            builtin = [n for n in entry.get("builtin", "").split("\n") if n]
            return KernelRecord(
                **meta,
                source=entry["source"],
                rows=rows,
                complete=bool(entry["complete"]),
                builtin=builtin,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, TableFormatError):
                raise
            raise TableFormatError(f"kernel {name}: malformed entry ({exc})") from exc

    def records(self) -> list[KernelRecord]:
        return [self.kernel(name) for name in self.names]

    def _entry(self, name: str) -> dict[str, Any]:
        for entry in self._document["kernels"]:
            if entry["name"] == name:
                _check_entry(entry)
                return entry  # type: ignore[no-any-return]
        raise KeyError(name)


# what each field of a kernel's entry may hold: a table from elsewhere is data, and a value
# of another type (a vermagic that is a number) must be an error here, not in a rule
_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "release": (str,),
    "arch": (str,),
    "vermagic": (str, type(None)),
    "modversions": (bool, type(None)),
    "module_sig": (bool, type(None)),
    "retpoline": (bool, type(None)),
    "source": (str,),
    "complete": (bool,),
    "rows": (int,),
    "symbol": (str,),
    "owner": (str,),
    "namespace": (str,),
    "kind": (str,),
    "crc": (str,),
}
_CRC_TEXT = re.compile(r"(?:[0-9a-f]{8}|-{8})*")


def _check_entry(entry: dict[str, Any]) -> None:
    for key, types in _TYPES.items():
        value = entry.get(key)
        # bool is an int: a `true` row count is as wrong as a string
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise TableFormatError(f"kernel {entry.get('name')!r}: field {key!r} malformed")
    if not _CRC_TEXT.fullmatch(entry["crc"]):
        raise TableFormatError(f"kernel {entry['name']!r}: field 'crc' malformed")


def decode(data: bytes) -> TableFile:
    try:
        decompressor = lzma.LZMADecompressor()
        text = decompressor.decompress(data, max_length=INFLATED_LIMIT)
        if not decompressor.eof:
            raise TableFormatError("truncated, or inflates beyond 512 MB")
        document = json.loads(text.decode("utf-8"))
    except (lzma.LZMAError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableFormatError(f"not a kernel-table file ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TableFormatError("not a kernel-table file")
    if document.get("version") != VERSION:
        raise TableFormatError(
            f"kernel-table format version {document.get('version')!r}: this kmodlint reads "
            f"version {VERSION} (re-import the table with this kmodlint)"
        )
    try:
        kernels = document["kernels"]
        if not isinstance(kernels, list) or not all(
            isinstance(k, dict) and isinstance(k.get("name"), str) for k in kernels
        ):
            raise TypeError("kernels")
        return TableFile(
            str(document["distribution"]),
            document,
            document["symbols"].split("\n"),
            document["owners"].split("\n"),
            document["namespaces"].split("\n"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise TableFormatError(f"malformed kernel-table file ({exc})") from exc


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out))


def _ids(text: str, count: int, names: list[str]) -> list[str]:
    parts = text.split(" ") if count else []
    if len(parts) != count:
        raise TableFormatError("a column of the wrong length")
    ids = [int(part, 36) for part in parts]
    if any(not 0 <= i < len(names) for i in ids):
        raise TableFormatError("an id beyond its interned list")
    return [names[i] for i in ids]
