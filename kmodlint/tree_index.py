"""A kernel source tree's index of exports and imports, for `check --focus` inside the tree.

Analysing a whole kernel tree takes hours, so a pre-commit run on one changed file cannot
use the tree as its context. What a module's findings depend on beyond its own files is
small and nameable: the modules that use its exports, the modules that export what it
uses (or the same names), the modules on a dependency cycle through it, and the kernel
table. This index finds them without analysing anything:

- the Kbuild grouping of the whole tree (`kbuild.group_sources`, ~7 s), kept with the
  stamps of every Kbuild/Makefile-like file and the shape of every folder (its
  sub-folders, C/assembler/_shipped files, Makefiles): regrouped only when one changes;
- one record per file of a module (its C files and the headers and C files they include
  with quotes): the names it exports (any `*EXPORT*(name)` call outside a #define,
  tracepoint exports expanded), the exported names it mentions (any identifier, comments
  included: an over-approximation only widens the context), its includes, and the CRC-32
  of every identifier it holds, so a name exported for the first time finds the files that
  already mention it without reading the tree again.

Records are keyed by path and checked by (size, mtime, ctime, inode); a file changed less
than two seconds before it was read is read again next time (a timestamp can lie). The
index lives in the cache folder (`cache.Cache`: signed entries), never in the tree: one
entry with the grouping, the stamps and the module graph (all a run in which nothing
changed reads), one with the file records (read when a file changed), one per folder
with the identifier CRCs (read when a name is exported for the first time). kmodlint's
own code fingerprint is part of the keys, so a new kmodlint builds a new index.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import time
import zlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, NamedTuple

from kmodlint.cache import Cache
from kmodlint.cfront.kbuild.arch import is_kernel_tree
from kmodlint.cfront.kbuild.grouping import KbuildModule, KbuildResult, group_sources
from kmodlint.folders import ancestors
from kmodlint.safe_io import SOURCE_LIMIT, read_regular

FORMAT = 1
_RACY_NS = 2_000_000_000  # as cache.py: a change this recent may not move the timestamp

_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# EXPORT_SYMBOL*, EXPORT_TRACEPOINT_SYMBOL*, EXPORT_PER_CPU_SYMBOL, EXPORT_STATIC_CALL*,
# EXPORT_*_DEV_PM_OPS and drivers' wrappers (IWL_EXPORT_SYMBOL): the first argument.
_EXPORT = re.compile(rb"\b(\w*EXPORT\w*)[ \t]*\([ \t\n]*([A-Za-z_][A-Za-z0-9_]*)")
# a preprocessor line with its backslash continuations
_DIRECTIVE = re.compile(rb"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", re.MULTILINE)
_TRACEPOINT_PARTS = ("__tracepoint_{}", "__traceiter_{}", "__SCK__tp_func_{}", "__SCT__tp_func_{}")
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.MULTILINE)
_MAKE_PREFIXES = ("Makefile", "Kbuild")
_MAKE_SUFFIXES = (".mk", ".mak", ".include")
_GROUPED_SUFFIXES = (".c", ".S", "_shipped")

Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


class FileRecord(NamedTuple):
    stamp: Stamp  # (-1, ...) when it was read while still changing: read again next time
    exports: tuple[str, ...]
    mentions: tuple[str, ...]  # identifiers that some module of the tree exported
    quoted: tuple[str, ...]  # #include "..." as written
    included: tuple[str, ...]  # basenames of every #include


class _Scan(NamedTuple):
    record: FileRecord
    idents: set[str]


@dataclass(frozen=True)
class GroupSettings:
    """What the Kbuild grouping depends on besides the tree (load_sources's arguments)."""

    config: dict[str, str] | None
    defines: dict[str, str] | None
    release: str | None
    kernel_tree: str | None

    @cached_property
    def digest(self) -> str:
        parts = repr(
            (
                FORMAT,
                sorted((self.config or {}).items()) if self.config is not None else None,
                sorted((self.defines or {}).items()),
                self.release,
                self.kernel_tree,
            )
        )
        return hashlib.sha256(parts.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(slots=True)
class Grouping:
    """The tree's KbuildResult, every path relative to the tree's top."""

    modules: list[KbuildModule]
    problems: list[tuple[str, int, str]]
    skipped_by_config: int

    # Pickled with the modules as plain tuples: unpickling 4,000 frozen dataclasses field by
    # field was a third of a warm run's index load.
    def __getstate__(self) -> tuple[object, ...]:
        rows = [astuple_shallow(m) for m in self.modules]
        return (rows, self.problems, self.skipped_by_config)

    def __setstate__(
        self, state: tuple[list[tuple[Any, ...]], list[tuple[str, int, str]], int]
    ) -> None:
        rows, self.problems, self.skipped_by_config = state
        self.modules = [KbuildModule(*row) for row in rows]


def astuple_shallow(module: KbuildModule) -> tuple[object, ...]:
    return tuple(getattr(module, f.name) for f in fields(module))


@dataclass(slots=True)
class TreeIndex:
    root: str  # real path of the tree's top
    settings_digest: str
    dirs: dict[str, tuple[int, str]] = field(default_factory=dict)  # mtime_ns, shape
    makefiles: dict[str, Stamp] = field(default_factory=dict)
    grouping: Grouping = field(default_factory=lambda: Grouping([], [], 0))
    stamps: dict[str, Stamp] = field(default_factory=dict)  # of every file recorded
    closures: dict[str, list[str]] = field(default_factory=dict)  # module key -> its files
    graph: _Graph | None = None  # made from the above; None: to be made again
    # The file records, in a cache entry of their own: a run in which no file changed
    # needs only their stamps (above) and the graph made from them.
    files: dict[str, FileRecord] = field(default_factory=dict)
    files_loaded: bool = True
    # this run only (not stored)
    read: int = 0  # files (re)read
    built: bool = False  # no usable index was found: built from scratch
    regrouped: bool = False
    previous: set[str] = field(default_factory=set)  # the files recorded before this run
    old_exports: set[str] = field(default_factory=set)  # the names exported before it
    # The identifier CRCs of each file, by folder: one cache entry per folder, read only
    # when a name is exported for the first time, written when a file of it was read.
    names: dict[str, dict[str, bytes]] = field(default_factory=dict)
    dirty_names: set[str] = field(default_factory=set)
    cache: Cache | None = None

    def state(self) -> tuple[object, ...]:
        if self.files_loaded:
            self.stamps = {rel: record.stamp for rel, record in self.files.items()}
        return (
            FORMAT,
            self.root,
            self.dirs,
            self.makefiles,
            self.grouping,
            self.stamps,
            self.closures,
            self.graph,
        )

    def files_key(self) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key(self.root, salt=f"tree-files:{self.settings_digest}")

    def load_files(self) -> None:
        """The file records, when a run needs them (a file changed, a header's includers
        are asked for); their entry gone (evicted) means building the index again."""
        if self.files_loaded:
            return
        key = self.files_key()
        stored = self.cache.load(key) if self.cache and key else None
        if not isinstance(stored, dict) or stored.keys() != self.stamps.keys():
            raise _Rebuild
        self.files = stored
        self.files_loaded = True

    def path(self, rel: str) -> str:
        return self.root if rel == "." else f"{self.root}/{rel}"

    def names_key(self, folder: str) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key(self.root, salt=f"tree-names:{self.settings_digest}:{folder}")

    def names_of(self, folder: str) -> dict[str, bytes]:
        if folder not in self.names:
            key = self.names_key(folder)
            stored = self.cache.load(key) if self.cache and key else None
            self.names[folder] = stored if isinstance(stored, dict) else {}
        return self.names[folder]

    def set_names(self, rel: str, names: bytes) -> None:
        folder = os.path.dirname(rel)
        self.names_of(folder)[rel] = names
        self.dirty_names.add(folder)


@dataclass(slots=True)
class Context:
    """What a focus needs analysed, as tree-relative modules."""

    focus_modules: list[KbuildModule]
    modules: list[KbuildModule]  # the focus modules first, then the others by path
    problems: list[tuple[str, int, str]]  # grouping problems in the context's Kbuild files


def kernel_tree_top(path: str) -> str | None:
    """The top of the kernel source tree *path* lies in: a folder with Kbuild, Makefile,
    arch/ (kbuild.is_kernel_tree) whose Makefile sets VERSION and PATCHLEVEL. A driver
    repository that happens to have the first three is not a kernel tree."""
    start = path if os.path.isdir(path) else os.path.dirname(path) or "."
    for folder in ancestors(start):
        if is_kernel_tree(folder) and _sets_version(os.path.join(folder, "Makefile")):
            return folder
    return None


def _sets_version(makefile: str) -> bool:
    try:
        head = read_regular(makefile, SOURCE_LIMIT)[:4096]
    except OSError:
        return False
    return bool(
        re.search(rb"^VERSION\s*=", head, re.MULTILINE)
        and re.search(rb"^PATCHLEVEL\s*=", head, re.MULTILINE)
    )


# --------------------------------------------------------------------------- building


def open_index(
    root: str, settings: GroupSettings, cache: Cache | None, need_files: bool = False
) -> TreeIndex:
    """The index of the tree at *root*, brought up to date: only what changed is read.
    *need_files*: the file records are wanted even if nothing changed (a header's
    includers are asked for)."""
    real = os.path.realpath(root)
    key = cache.key(real, salt="tree-index:" + settings.digest) if cache else None
    stored = cache.load(key) if cache and key else None
    index = _from_state(stored, real, settings.digest)
    if index is not None:
        index.cache = cache
        try:
            changed = _refresh(index, settings)
            if need_files:
                index.load_files()
        except _Rebuild:
            index = None
    if index is None:
        index = TreeIndex(real, settings.digest, built=True, cache=cache)
        _walk(index)
        _group(index, settings)
        _scan_all(index)
        changed = True
    if index.graph is None:
        index.graph = _graph(index)
        changed = True
    files_key = index.files_key()
    if changed and cache and key:
        if index.files_loaded and files_key:
            cache.store(files_key, index.files, [])
        cache.store(key, index.state(), [])
        for folder in sorted(index.dirty_names):
            names_key = index.names_key(folder)
            if names_key:
                cache.store(names_key, index.names[folder], [])
        cache.maybe_evict()
    index.dirty_names.clear()
    return index


class _Rebuild(Exception):
    """The stored index cannot be brought up to date: build it again."""


def _from_state(state: object, root: str, digest: str) -> TreeIndex | None:
    if not isinstance(state, tuple) or len(state) != 8 or state[0] != FORMAT:
        return None
    _, stored_root, dirs, makefiles, grouping, stamps, closures, graph = state
    if stored_root != root:
        return None
    return TreeIndex(
        root, digest, dirs, makefiles, grouping, stamps, closures, graph, files_loaded=False
    )


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _is_makefile(name: str) -> bool:
    return name.startswith(_MAKE_PREFIXES) or name.endswith(_MAKE_SUFFIXES)


def _shape(folder: str) -> str:
    """What the grouping sees of a folder: its sub-folders, its C, assembler and _shipped
    files (which objects have a source) and its Makefiles (not build products)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return "-"
    names = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            names.append(name + "/")
        elif (name.endswith(_GROUPED_SUFFIXES) and not name.endswith(".mod.c")) or _is_makefile(
            name
        ):
            names.append(name)
    return hashlib.blake2b("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _walk(index: TreeIndex) -> None:
    index.dirs.clear()
    index.makefiles.clear()
    for folder, subdirs, names in os.walk(index.root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        rel = os.path.relpath(folder, index.root)
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            continue
        index.dirs[rel] = (mtime, _shape(folder))
        for name in names:
            if _is_makefile(name):
                path = os.path.join(folder, name)
                try:
                    index.makefiles[os.path.normpath(os.path.join(rel, name))] = _stamp(
                        os.stat(path)
                    )
                except OSError:
                    continue


def _group(index: TreeIndex, settings: GroupSettings) -> None:
    index.grouping = regroup(index.root, settings)
    index.regrouped = True


def regroup(root: str, settings: GroupSettings) -> Grouping:
    """The whole tree's Kbuild grouping, as load_sources would make it, tree-relative."""
    result = group_sources(
        [root], settings.config, [], settings.defines, settings.release, settings.kernel_tree
    )
    return Grouping(
        [relocate(m, root, "") for m in result.modules],
        [(_relative(p, root), line, text) for p, line, text in result.problems],
        result.skipped_by_config,
    )


def _grouping_changed(index: TreeIndex) -> bool:
    for rel, (mtime, shape) in index.dirs.items():
        folder = index.path(rel)
        try:
            now = os.stat(folder).st_mtime_ns
        except OSError:
            return True  # a folder went
        if now != mtime:
            if _shape(folder) != shape:
                return True
            index.dirs[rel] = (now, shape)  # a file saved by rename: nothing moved
    for rel, stamp in index.makefiles.items():
        try:
            if _stamp(os.stat(index.path(rel))) != stamp:
                return True
        except OSError:
            return True
    return False


def _refresh(index: TreeIndex, settings: GroupSettings) -> bool:
    if index.files_loaded:
        index.old_exports = _all_exports(index.files)
    dirs_before = dict(index.dirs)
    if _grouping_changed(index):
        _walk(index)
        _group(index, settings)
    changed = index.regrouped or index.dirs != dirs_before
    fresh = _update_files(index, keep_idents=True)
    if fresh:
        old_exports = index.old_exports
        exports = _all_exports(index.files)
        for rel, idents in fresh.items():
            index.files[rel] = index.files[rel]._replace(mentions=tuple(sorted(idents & exports)))
        _find_new_users(index, exports - old_exports, set(fresh))
    if changed or fresh or (index.files_loaded and index.files.keys() != index.previous):
        index.graph = None
        return True
    return False


def _update_files(index: TreeIndex, keep_idents: bool) -> dict[str, set[str]]:
    """Every module's files (its sources and what they include with quotes, next to the
    including file or in the module's -I folders), each read again only when its stamp
    moved; the identifiers of the files read (when *keep_idents*). The modules' file lists
    are walked again only when the grouping or some file's quoted includes changed."""
    fresh: dict[str, set[str]] = {}
    stamps = (
        {rel: r.stamp for rel, r in index.files.items()} if index.files_loaded else index.stamps
    )
    index.previous = set(stamps)
    stale = not index.closures or index.regrouped
    for rel, stamp in list(stamps.items()):
        try:
            info = os.stat(index.path(rel))
        except OSError:
            _need_files(index)
            del index.files[rel]
            stale = True
            continue
        if stamp == _stamp(info):
            continue
        _need_files(index)
        record = index.files[rel]
        scanned = _scan_file(index, rel, None, light=not keep_idents)
        if scanned is None:
            del index.files[rel]
            stale = True
            continue
        index.files[rel] = scanned.record
        stale = stale or scanned.record.quoted != record.quoted
        if keep_idents:
            fresh[rel] = scanned.idents
    if stale:
        _need_files(index)
        _walk_modules(index, fresh if keep_idents else None)
    return fresh


def _need_files(index: TreeIndex) -> None:
    if not index.files_loaded:
        index.load_files()
        index.old_exports = _all_exports(index.files)


def _walk_modules(index: TreeIndex, fresh: dict[str, set[str]] | None) -> None:
    """Each module's files: its sources, then what they include with quotes (next to the
    including file, else in the module's -I folders), read when not recorded yet."""
    walker = _IncludeWalker(index, fresh)
    kept: set[str] = set()
    index.closures = {}
    for module in index.grouping.modules:
        closure = walker.closure(module.sources, module.include_dirs)
        kept.update(closure)
        index.closures[module_key(module)] = closure
    for rel in [r for r in index.files if r not in kept]:
        del index.files[rel]  # no longer part of any module


class _IncludeWalker:
    """Follows quoted includes from a module's sources, reading each file once per run
    and resolving each (folder, include) pair once for all modules."""

    def __init__(self, index: TreeIndex, fresh: dict[str, set[str]] | None) -> None:
        self.index = index
        self.fresh = fresh
        self.resolved: dict[tuple[str, str], str | None] = {}

    def closure(self, sources: Iterable[str], include_dirs: Iterable[str]) -> list[str]:
        closure: list[str] = []
        pending = list(reversed(list(sources)))
        seen: set[str] = set()
        while pending:
            rel = pending.pop()
            if rel in seen:
                continue
            seen.add(rel)
            record = self.record_of(rel)
            if record is None:
                continue
            closure.append(rel)
            folders = (os.path.dirname(rel), *include_dirs)
            for name in record.quoted:
                found = next((f for b in folders if (f := self.resolve(b, name))), None)
                if found is not None:
                    pending.append(found)
        return closure

    def record_of(self, rel: str) -> FileRecord | None:
        record = self.index.files.get(rel)
        if record is None:
            scanned = _scan_file(self.index, rel, None, light=self.fresh is None)
            if scanned is None:
                return None
            record = self.index.files[rel] = scanned.record
            if self.fresh is not None:
                self.fresh[rel] = scanned.idents
        return record

    def resolve(self, base: str, name: str) -> str | None:
        if (base, name) not in self.resolved:
            candidate = os.path.normpath(os.path.join(base, name))
            found: str | None = None
            inside = not (candidate.startswith(".." + os.sep) or os.path.isabs(candidate))
            if inside and (
                candidate in self.index.files or os.path.isfile(self.index.path(candidate))
            ):
                found = candidate
            self.resolved[base, name] = found
        return self.resolved[base, name]


def _find_new_users(index: TreeIndex, symbols: set[str], skip: set[str]) -> None:
    """Names exported for the first time: the unchanged files that mention them, found by
    their identifier CRCs and confirmed by reading them."""
    if not symbols:
        return
    crcs = {zlib.crc32(s.encode()): s for s in symbols}
    for rel, record in list(index.files.items()):
        if rel in skip:
            continue
        names = index.names_of(os.path.dirname(rel)).get(rel)
        if names is not None:  # else (its folder's entry was evicted): read it
            table = array("I")
            table.frombytes(names)
            if not any(_holds(table, crc) for crc in crcs):
                continue
        scanned = _scan_file(index, rel, None)
        if scanned is None:
            continue
        found = scanned.idents & set(crcs.values())
        mentions = tuple(sorted(set(record.mentions) | found))
        index.files[rel] = scanned.record._replace(mentions=mentions)


def _holds(table: array[int], crc: int) -> bool:
    at = bisect.bisect_left(table, crc)
    return at < len(table) and table[at] == crc


def _all_exports(files: dict[str, FileRecord]) -> set[str]:
    return {symbol for record in files.values() for symbol in record.exports}


def _scan_all(index: TreeIndex) -> None:
    """First pass: every module file and what it includes with quotes, for the exports;
    second: the exported names each one mentions (two reads, not 6 million names kept)."""
    _update_files(index, keep_idents=False)
    exports = _all_exports(index.files)
    for rel in list(index.files):
        scanned = _scan_file(index, rel, exports)
        if scanned is not None:
            index.files[rel] = scanned.record
            index.read -= 1  # the same file, counted once


def _scan_file(
    index: TreeIndex, rel: str, exports: set[str] | None, light: bool = False
) -> _Scan | None:
    """What the index keeps of a file; *exports*: the names exported in the tree (its
    mentions are those); *light*: its exports and includes only (the first pass)."""
    path = index.path(rel)
    try:
        info = os.stat(path)
        data = read_regular(path, SOURCE_LIMIT)  # never a FIFO, bounded
    except OSError:
        return None
    index.read += 1
    stamp = _stamp(info)
    if time.time_ns() - info.st_mtime_ns < _RACY_NS:
        stamp = (-1, *stamp[1:])
    found: list[str] = []
    directives = [m.span() for m in _DIRECTIVE.finditer(data)] if b"EXPORT" in data else []
    starts = [start for start, _ in directives]
    for match in _EXPORT.finditer(data):
        at = bisect.bisect_right(starts, match.start()) - 1
        if at >= 0 and directives[at][1] > match.start():
            continue  # in a #define (a wrapper): its parameter is no export
        name = match.group(2).decode("ascii")
        if b"TRACEPOINT" in match.group(1):
            found.extend(part.format(name) for part in _TRACEPOINT_PARTS)
        else:
            found.append(name)
    quoted: list[str] = []
    included: list[str] = []
    for kind, name in _INCLUDE.findall(data):
        text = name.decode("utf-8", "surrogateescape").strip()
        included.append(os.path.basename(text))
        if kind == b'"':
            quoted.append(text)
    idents = set() if light else {word.decode("ascii") for word in set(_IDENT.findall(data))}
    names = array("I", sorted({zlib.crc32(word.encode("ascii")) for word in idents}))
    mentions = tuple(sorted(idents & exports)) if exports is not None else ()
    record = FileRecord(
        stamp,
        tuple(dict.fromkeys(found)),
        mentions,
        tuple(dict.fromkeys(quoted)),
        tuple(dict.fromkeys(included)),
    )
    if not light:
        index.set_names(rel, names.tobytes())
    return _Scan(record, idents)


# --------------------------------------------------------------------------- context


@dataclass(slots=True)
class _Graph:
    exports: dict[str, set[str]]  # module key -> names it exports
    mentions: dict[str, set[str]]  # module key -> exported names it mentions
    exporters: dict[str, set[str]]  # name -> module keys
    users: dict[str, set[str]]  # name -> module keys mentioning it

    def providers(self, key: str) -> set[str]:
        return {
            other
            for symbol in self.mentions[key]
            for other in self.exporters.get(symbol, ())
            if other != key
        }

    def importers(self, key: str) -> set[str]:
        """The modules using *key*'s exports, or exporting the same names."""
        return {
            other
            for symbol in self.exports[key]
            for group in (self.users.get(symbol, ()), self.exporters.get(symbol, ()))
            for other in group
            if other != key
        }


def module_key(module: KbuildModule) -> str:
    return f"{module.kbuild_path}:{module.name}"


def _graph(index: TreeIndex) -> _Graph:
    graph = _Graph({}, {}, {}, {})
    for key, closure in index.closures.items():
        graph.exports[key] = {s for rel in closure for s in index.files[rel].exports}
        graph.mentions[key] = {s for rel in closure for s in index.files[rel].mentions}
        for symbol in graph.exports[key]:
            graph.exporters.setdefault(symbol, set()).add(key)
    for key, mentions in graph.mentions.items():
        for symbol in mentions:
            if symbol in graph.exporters:
                graph.users.setdefault(symbol, set()).add(key)
    return graph


def context_for(index: TreeIndex, files: list[str], dirs: list[str]) -> Context:
    """The modules a focus (tree-relative files and folders) needs analysed with it: the
    modules it belongs to (as `focus.focus_modules` sees them), the modules using their
    exports or exporting the same names, those exporting what they mention, and those on a
    dependency cycle through them."""
    if any(f.endswith(".h") for f in files):
        index.load_files()  # which .c files include it, by name (open_index's need_files)
    graph = index.graph or _graph(index)
    by_key = {module_key(m): m for m in index.grouping.modules}
    base = _owners(index, files, dirs)
    chosen = set(base)
    for key in base:
        chosen |= graph.providers(key) | graph.importers(key)
    # a dependency cycle through the focus: reachable both ways
    chosen |= _reach(base, graph.providers) & _reach(base, graph.importers)
    modules = sorted((by_key[k] for k in chosen), key=lambda m: (m.kbuild_path, m.name))
    focus_modules = [m for m in modules if module_key(m) in base]
    kbuild_files = {m.kbuild_path for m in modules} | set(files)
    problems = [p for p in index.grouping.problems if p[0] in kbuild_files]
    ordered = focus_modules + [m for m in modules if module_key(m) not in base]
    return Context(focus_modules, ordered, problems)


def _owners(index: TreeIndex, files: list[str], dirs: list[str]) -> set[str]:
    """The modules `focus.focus_modules` will say a focus belongs to: built from a focus
    file (or including it with quotes), declared by or below a focus Kbuild, whose .c
    files include a focus header (by name, one level), with a file in a focus folder."""
    kbuild_dirs = [
        os.path.dirname(f) for f in files if os.path.basename(f) in ("Kbuild", "Makefile")
    ]
    headers = {os.path.basename(f) for f in files if f.endswith(".h")}
    wanted = set(files)
    found: set[str] = set()
    for module in index.grouping.modules:
        key = module_key(module)
        closure = index.closures.get(key, [])
        if (
            wanted.intersection(closure)
            or any(_under(module.kbuild_path, d) for d in kbuild_dirs)
            or any(_under(f, d) for d in dirs for f in (*closure, module.kbuild_path))
            or (
                headers
                and any(
                    headers.intersection(index.files[f].included)
                    for f in module.sources
                    if f in index.files
                )
            )
        ):
            found.add(key)
    return found


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path.startswith(folder.rstrip(os.sep) + os.sep)


def _reach(start: set[str], step: Callable[[str], set[str]]) -> set[str]:
    seen = set(start)
    pending = list(start)
    while pending:
        for other in step(pending.pop()):
            if other not in seen:
                seen.add(other)
                pending.append(other)
    return seen


# --------------------------------------------------------------------------- paths


def _relative(path: str, root: str) -> str:
    if path == root:
        return "."
    if path.startswith(root + os.sep):
        return path[len(root) + 1 :]
    return path


def _rebase(path: str, old: str, new: str) -> str:
    if old:
        return _relative(path, old)
    if os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(new, path))


def relocate(module: KbuildModule, old: str, new: str) -> KbuildModule:
    """*module* with the paths under *old* made relative (new == "") or, from relative
    paths (old == ""), placed under *new*: the grouping is stored tree-relative and shown
    the way the user named the tree."""

    def move(path: str) -> str:
        return _rebase(path, old, new)

    def move_value(value: str) -> str:
        if old and (value == old or value.startswith(old + os.sep)):
            return move(value)
        return value

    return replace(
        module,
        directory=move(module.directory),
        kbuild_path=move(module.kbuild_path),
        sources=tuple(map(move, module.sources)),
        include_dirs=tuple(map(move, module.include_dirs)),
        defines=tuple((name, move_value(value)) for name, value in module.defines),
    )


def restricted_result(
    index: TreeIndex, context: Context, shown_root: str, base: KbuildResult | None = None
) -> KbuildResult:
    """The KbuildResult a whole-tree grouping gives, cut to the context's modules, with
    paths under *shown_root*; merged into *base* (the grouping of other given paths)."""
    result = base or KbuildResult()
    result.modules.extend(relocate(m, "", shown_root) for m in context.modules)
    result.problems.extend(
        (_rebase(path, "", shown_root), line, text) for path, line, text in context.problems
    )
    result.skipped_by_config += index.grouping.skipped_by_config
    return result
