"""One index of read binary modules per tree, in the cache folder (issue 13).

A distribution tree holds 4,000 modules: a cache entry per module was 4,000 files to open,
read, authenticate and unpickle on every run, and 4,000 to write on the first. Here the
models of one run's binaries live in one file per tree (the folder their paths share, with
kmodlint's own fingerprint in the name), read once and written once.

The index is JSON, not pickle: loading it runs no code, whoever wrote it. It is read only
when it is a regular file of this user's that nobody else can write, in a folder of this
user's (the cache makes its folders 0700): a cache folder another user can write is
ignored, as the per-entry MAC of `kmodlint.cache` ignores entries it did not sign. Each
entry records the file it was read from (size, times, inode, and the content hash when the
timestamps cannot be trusted: `kmodlint.cache.read_recorded`) and is used only while that
file is unchanged (`kmodlint.cache._unchanged`); a run that re-read a module rewrites the
index with this run's entries.

The encoding keeps the bulk (a tree's ~800,000 defined symbols) in few JSON values: the
names of a table as one NUL-joined string, and each defined symbol's (binding, type,
section) as an index into the module's table of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from typing import Any

from kmodlint.cache import (
    _ENTRY_LIMIT,
    _TOUCH_NS,
    Cache,
    Dep,
    _unchanged,
    private_dir,
    read_own_file,
)
from kmodlint.extract import Extraction
from kmodlint.model import Export, ExportKind, InputProblem, Module, Target

_FORMAT = "kmodlint-module-index-1"
# Module fields with an encoding of their own; any other field is a scalar (str, int,
# bool, None) stored as it is, or a field left at its default (anything else: the module
# is not indexed, and is read again next time).
_SPECIAL = {"exports", "undefined", "defined", "modinfo", "versions", "section_refs", "source"}
_EXPORT_FIELDS = ("symbol", "kind", "namespace", "crc", "target", "init_exit", "location")
_PROBLEM_FIELDS = tuple(f.name for f in dataclasses.fields(InputProblem))


class Unencodable(Exception):
    """A value this codec does not know: the result is not indexed."""


def _join(names: Sequence[str]) -> str | list[str]:
    """`names` as one string joined by NULs when that splits back to them (no name holds
    a NUL), else the list itself; an empty list stays a list ("" is one empty name)."""
    if not names:
        return []
    joined = "\0".join(names)
    return joined if joined.count("\0") == len(names) - 1 else list(names)


def _split(value: str | list[str]) -> list[str]:
    return value.split("\0") if isinstance(value, str) else list(value)


def _scalar(value: object) -> bool:
    return value is None or type(value) in (str, int, bool)


def encode_extraction(extraction: Extraction) -> list[Any]:
    problems = [[getattr(p, name) for name in _PROBLEM_FIELDS] for p in extraction.problems]
    if not all(_scalar(v) for row in problems for v in row):
        raise Unencodable("problem")
    module = extraction.module
    return [problems, None if module is None else _encode_module(module)]


def decode_extraction(value: list[Any]) -> Extraction:
    problems, module = value
    return Extraction(
        None if module is None else _decode_module(module),
        [InputProblem(*row) for row in problems],
    )


def _encode_module(module: Module) -> dict[str, Any]:
    if module.source is not None:
        raise Unencodable("source facts")
    scalars: dict[str, Any] = {}
    for spec in dataclasses.fields(module):
        if spec.name in _SPECIAL:
            continue
        value = getattr(module, spec.name)
        if _scalar(value):
            scalars[spec.name] = value
        elif not _is_default(spec, value):
            raise Unencodable(spec.name)
    facts = module.defined.values()
    kinds = list(dict.fromkeys(facts))  # the module's distinct (binding, type, section)
    if len(kinds) <= len(_KIND_CHARS):
        char_of = dict(zip(kinds, _KIND_CHARS, strict=False))
        kind_of: str | list[int] = "".join(map(char_of.__getitem__, facts))
    else:
        kind_of = list(map({kind: i for i, kind in enumerate(kinds)}.__getitem__, facts))
    versions = module.versions
    return {
        "s": scalars,
        "x": [_encode_export(export) for export in module.exports],
        "u": _join(list(module.undefined)),
        "w": "".join(map(_WEAK.__getitem__, module.undefined.values())),
        "d": _join(list(module.defined)),
        "k": kind_of,
        "t": _columns(kinds, 3),
        "m": _columns(module.modinfo, 2),
        "v": None if versions is None else [_join(list(versions)), _words(list(versions.values()))],
        "r": _columns(module.section_refs, 4),
    }


_WEAK = {False: "0", True: "1"}


# A defined symbol's entry in its module's table of (binding, type, section), one
# character each while the table is small (always, in real modules): no backslash or
# quote, so JSON writes them as they are.
_KIND_CHARS = "".join(chr(c) for c in range(0x30, 0x7F) if chr(c) != "\\")


def _columns(rows: Sequence[Sequence[str]], width: int) -> list[str | list[str]]:
    """Rows of `width` strings as `width` joined columns (see `_join`)."""
    if not rows:
        return [[] for _ in range(width)]
    if set(map(len, rows)) != {width}:
        raise Unencodable("row width")
    return [_join(column) for column in zip(*rows, strict=True)]


def _rows(columns: list[Any]) -> list[tuple[str, ...]]:
    return list(zip(*map(_split, columns), strict=True))


def _words(values: list[int]) -> str | list[int]:
    """Unsigned 32-bit values (CRCs) as one hex string, big-endian; else the list."""
    if values and set(map(type, values)) == {int} and 0 <= min(values) <= max(values) < 1 << 32:
        return array("I", values).tobytes().hex() if _BIG_HOST else _swapped(values).hex()
    return values


def _swapped(values: list[int]) -> bytes:
    words = array("I", values)
    words.byteswap()
    return words.tobytes()


def _unwords(value: str | list[int]) -> Sequence[int]:
    if not isinstance(value, str):
        return value
    words = array("I")
    words.frombytes(bytes.fromhex(value))
    if not _BIG_HOST:
        words.byteswap()
    return words


_BIG_HOST = sys.byteorder == "big"


def _is_default(spec: dataclasses.Field[Any], value: object) -> bool:
    if spec.default is not dataclasses.MISSING:
        return bool(value == spec.default)
    if spec.default_factory is not dataclasses.MISSING:
        return bool(value == spec.default_factory())
    return False


def _encode_export(export: Export) -> list[Any]:
    if export.location is not None:
        raise Unencodable("export location")
    return [
        export.symbol,
        export.kind.value,
        export.namespace,
        export.crc,
        export.target.value,
        export.init_exit,
    ]


class IndexedModule(Module):
    """A `Module` read from the index, its symbol definitions (most of a module's facts:
    a tree has ~800,000) decoded when first asked for: `deps` never asks, `check` asks
    for the modules its rules look into. Equal to the Module the inspector made in every
    field (its class aside)."""

    __slots__ = ("_pending",)
    _pending: tuple[Any, Any, Any] | None

    @property
    def defined(self) -> dict[str, tuple[str, str, str]]:
        pending = getattr(self, "_pending", None)
        if pending is not None:
            self._pending = None
            _DEFINED.__set__(self, _decode_defined(*pending))
        return _DEFINED.__get__(self, Module)  # type: ignore[no-any-return]

    @defined.setter
    def defined(self, value: dict[str, tuple[str, str, str]]) -> None:
        self._pending = None
        _DEFINED.__set__(self, value)


_DEFINED = Module.__dict__["defined"]  # the slot Module keeps `defined` in


def _decode_defined(
    names: str | list[str], kinds: str | list[int], table_columns: list[Any]
) -> dict[str, tuple[str, str, str]]:
    table = _rows(table_columns)
    lookup: Any = dict(zip(_KIND_CHARS, table, strict=False)) if isinstance(kinds, str) else table
    return dict(zip(_split(names), map(lookup.__getitem__, kinds), strict=True))


def _decode_module(value: dict[str, Any]) -> Module:
    module = IndexedModule(**value["s"])
    module.exports = [
        Export(symbol, _EXPORT_KINDS[kind], namespace, crc, _TARGETS[target], init_exit)
        for symbol, kind, namespace, crc, target, init_exit in value["x"]
    ]
    module.undefined = dict(zip(_split(value["u"]), map("1".__eq__, value["w"]), strict=True))
    names = value["d"]
    count = names.count("\0") + 1 if isinstance(names, str) else len(names)
    if count != len(value["k"]):  # checked now: a bad entry is a miss, not a later crash
        raise ValueError("defined symbols and their kinds differ in number")
    module._pending = (value["d"], value["k"], value["t"])
    module.modinfo = _rows(value["m"])  # type: ignore[assignment]
    versions = value["v"]
    if versions is not None:
        names, crcs = _split(versions[0]), _unwords(versions[1])
        module.versions = dict(zip(names, crcs, strict=True))
    module.section_refs = _rows(value["r"])  # type: ignore[assignment]
    return module


# Enum members by value: a dict lookup, where calling the enum costs a microsecond each.
_EXPORT_KINDS = {kind.value: kind for kind in ExportKind}
_TARGETS = {target.value: target for target in Target}

# A field of Export this codec does not carry would silently be lost: checked at import.
assert tuple(f.name for f in dataclasses.fields(Export)) == _EXPORT_FIELDS


class ModuleIndex:
    """The index of the binaries of one tree: `get` what is still current, `put` what was
    read again, `save` once at the end (only when something changed)."""

    def __init__(self, cache: Cache, paths: Sequence[str]) -> None:
        self.cache = cache
        absolute = [os.path.abspath(path) for path in paths]
        self.root = os.path.commonpath(absolute) if absolute else ""
        ident = f"{cache.fingerprint}\0{self.root}".encode("utf-8", "surrogateescape")
        name = hashlib.sha256(ident).hexdigest()[:32]
        self.file = os.path.join(cache.directory, "trees", f"{name}.json")
        self._entries: dict[str, list[Any]] = {}
        self._fresh: dict[str, list[Any]] = {}
        self._changed = False
        self._loaded = False
        self._last_use = 0

    @staticmethod
    def _key(path: str, display: str) -> str:
        return f"{os.path.abspath(path)}\0{display}"

    def _load(self) -> None:
        self._loaded = True
        data = _read_own_file(self.file)
        if data is None:
            return
        try:
            document = json.loads(data)
            if document.get("format") != _FORMAT or document.get("root") != self.root:
                return
            entries = document["entries"]
            if isinstance(entries, dict):
                self._entries = entries
        except (ValueError, AttributeError, KeyError, TypeError):
            return

    def get(self, path: str, display: str) -> Extraction | None:
        """The indexed result for `path` shown as `display`, if its file is unchanged."""
        if not self._loaded:
            self._load()
        key = self._key(path, display)
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            deps, value = entry
            for dep in deps:
                record: Dep = tuple(dep)
                verdicts = self.cache._verdicts
                verdict = verdicts.get(record[:6])
                if verdict is None:
                    verdict = verdicts[record[:6]] = _unchanged(record)
                if not verdict:
                    return None
            extraction = decode_extraction(value)
        except Exception:  # an entry of another layout: a miss, never an error
            return None
        self._fresh[key] = entry
        return extraction

    def put(
        self,
        path: str,
        display: str,
        extraction: Extraction,
        deps: list[Dep],
        text: str | None = None,
    ) -> None:
        """Index what was just read from `path` (with the files it was read from);
        `text`: its encoding as JSON, when the worker that read it wrote it already."""
        if text is None:
            try:
                text = encoding_text(extraction)
            except Unencodable:
                return
        self._fresh[self._key(path, display)] = [[list(dep) for dep in deps], _Text(text)]
        self._changed = True

    def save(self) -> None:
        """Write this run's entries when one was read again or one went away; on a run
        that only used the index, mark it used (eviction removes the least recently used
        first) at most once an hour. Written an entry at a time (the entries workers
        encoded as they are), never as one document string."""
        if not self._changed and self._fresh.keys() == self._entries.keys():
            with contextlib.suppress(OSError):
                if time.time_ns() - os.stat(self.file).st_mtime_ns > _TOUCH_NS:
                    os.utime(self.file)
            return
        folder = os.path.dirname(self.file)
        temp = None
        try:
            private_dir(folder)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")  # 0600
            with os.fdopen(fd, "w", encoding="ascii") as handle:  # JSON escapes the rest
                written = handle.write(
                    f'{{"format":{json.dumps(_FORMAT)},"root":{json.dumps(self.root)},"entries":{{'
                )
                for number, (key, (deps, value)) in enumerate(self._fresh.items()):
                    text = value.text if isinstance(value, _Text) else _dumps(value)
                    row = f"{',' if number else ''}{json.dumps(key)}:[{_dumps(deps)},{text}]"
                    written += handle.write(row)
                written += handle.write("}}")
            os.replace(temp, self.file)
            temp = None
            self.cache._stored_bytes += written
        except OSError:
            pass  # a read-only or full cache folder never fails the run
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)


class _Text:
    """An entry's value already written as JSON."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def encoding_text(extraction: Extraction) -> str:
    """`encode_extraction` as JSON text (what a worker hands back)."""
    return _dumps(encode_extraction(extraction))


def _read_own_file(path: str) -> bytes | None:
    """The bytes of `path` when it and its folder are this user's and nobody else can
    write them (else someone else could have chosen what it says); None otherwise."""
    try:
        folder = os.stat(os.path.dirname(path))
    except OSError:
        return None
    if folder.st_uid != os.geteuid() or folder.st_mode & 0o022:
        return None
    return read_own_file(path, 0o022, _ENTRY_LIMIT)
