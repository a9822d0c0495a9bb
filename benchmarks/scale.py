#!/usr/bin/env python3
"""How kmodlint's time and memory grow with the size of a module tree (issue 13, "Scale").

Builds synthetic module trees of about 4k, 10k and 20k modules from a real one (default:
Debian's 6.1.0-56-amd64, 4,023 ``.ko``) and measures, for each size, as whole processes:

- ``depmod -n -b ROOT VER`` (the anchor: it reads every module and prints what depmod writes);
- ``kmodlint deps TREE --format modules.dep --no-cache -j 2`` (cold);
- the same with a cache: its first run (an empty cache, written) and then warm;
- ``kmodlint check TREE --kernel HEADERS -j 2``: its first run (on the cache deps filled) and
  warm (each copy repeats the real tree's findings, 708 on 6.1.0-56: the same per copy).

Each figure is wall time and CPU seconds (the process and every worker it waited for), peak
RSS of kmodlint's main process and of its largest worker (``getrusage`` of the main process
at exit, ``RUSAGE_SELF`` and ``RUSAGE_CHILDREN``), medians of ``--runs`` rounds; each round
runs every case once, in turn, so a change of the machine's load falls on all of them alike.
The report gives the ratio to depmod, the time per module relative to the smallest tree (1.0
is linear) and the exponent b of t ~ n^b fitted over all sizes; the verdict reads b of CPU
time (0.9-1.1: linear), as wall time moves with the load of a shared machine. Then the
memory added per 1,000 modules, beside the largest single module file's size.

**Correctness** on every tree: kmodlint's ``modules.dep`` must be byte-identical to depmod's
(the first part of ``depmod -n``'s output), with one line per module; every copy's dependency
lines must stay inside that copy and be copy 0's lines, renamed.

**The synthetic trees.** A tree of size ``f`` (``--sizes``, multiples of the real tree) holds
``floor(f)`` copies of the real tree and, for the fraction, a partial copy: the first modules
of ``modules.order`` with everything they depend on. Copy 0 is the real tree (hard links);
copy k > 0 lives under ``kernel/copyK/`` and is re-labelled so that it resolves only against
itself: every module gets a new name (file name, ``.modinfo`` ``name=`` and ``depends=``, the
name in ``.gnu.linkonce.this_module``) and every symbol some module of the tree exports is
renamed in every module of that copy (``.strtab``: the name itself, ``__ksymtab_``/
``__kstrtab_``/``__crc_``... labels and the undefined references; ``__ksymtab_strings``;
``__versions``). Symbols only the kernel (vmlinux) exports keep their names. The rewrite is
in place and keeps every length. An exported name gets one character replaced through a
per-copy rotation of ``[A-Za-z_]``, at its start and at the start of every suffix of it that is
itself exported, because the linker stores a name that ends another one as that one's tail
(``foo`` inside ``xfoo``): a rename of the suffix must then be the same bytes in both. Each
copy's rotation is the first one for which no renamed name equals any name of the real tree,
of the kernel's ``Module.symvers`` or of another copy (6.1.0-56 has 8 such rotations: at most
9 copies). A module name gets a new first character chosen per name, the first one (from the
copy's rotation on) that no module of the tree, built-in module or other copy has: many
names differ only there (ehci/ohci/uhci), so no single rotation keeps 5 copies apart. The
result is checked by reading the rewritten strings back (a kernel import sharing bytes with
a renamed name stops the run), and by the exported names of all copies being disjoint.
Module signatures are left as they were (now invalid: depmod ignores them, kmodlint only
notes that one is there). Trees are kept in ``--work`` (default /tmp/kmodlint-scale, ~400 MB
per copy) and reused by later runs.

**The source side** (``--source-copies``, default 1 2 4 8 16; none to skip): k copies of one
driver folder (default Linux 6.1's ``drivers/net/ethernet/intel/e1000e``), each with its
Makefile's module renamed (``e1000e_cK``), read by ``kmodlint symbols DIR -j 2`` once with an
empty cache and ``--runs`` times warm: time and main-process peak RSS per copy added.

Standard library only; needs ``depmod`` (kmod) and kmodlint importable by ``--python``
(default: the repository's .venv). ``--source DIR`` imports kmodlint from DIR instead (e.g.
``git archive HEAD kmodlint rules | tar -x -C DIR``), so edits in a shared checkout during the
run do not change what is measured (nor invalidate the warm cache: its key holds a
fingerprint of kmodlint's files).

Example (about 7 minutes on 2 cores once the trees exist, half of it the source side; writing
the trees takes under a minute)::

    python3 benchmarks/scale.py --sizes 1 2.5 5 --runs 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import shutil
import statistics
import string
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TREE = Path("/work/cache/image/x/lib/modules/6.1.0-56-amd64")
DEFAULT_HEADERS = Path("/usr/src/linux-headers-6.1.0-56-amd64")
DEFAULT_WORK = Path("/tmp/kmodlint-scale")
DEFAULT_SOURCE = Path(
    "/work/cache/linux-source/x/usr/src/linux-source-6.1/drivers/net/ethernet/intel/e1000e"
)
# A stamp in the work folder says a generated copy or tree is complete; its format version:
STAMP_VERSION = 2
# What a symbol table calls a symbol's export records (kmodlint/frontends/elf.py reads them).
EXPORT_PREFIXES = (
    b"__ksymtab_",
    b"__kstrtab_",
    b"__kstrtabns_",
    b"__crc_",
    b"__kcrctab_",
    b"__export_symbol_",
)
SYMBOL_CHARS = (string.ascii_letters + "_").encode()
DIGITS = string.digits.encode()
SHT_SYMTAB = 2
SHN_UNDEF = 0
SYM_SIZE = 24  # Elf64_Sym
VERSION_SIZE = 64  # struct modversion_info on 64-bit: unsigned long crc; char name[56]
THIS_MODULE_NAME = 24  # offsetof(struct module, name) on x86_64 (state + list_head)
MODULE_NAME_LEN = 56
POOL_MIN_FILES = 64  # kmodlint reads fewer files than this in-process (README: -j)


class BenchError(Exception):
    """A fatal problem (missing tool, a rewrite that cannot be done in place): exit 2."""


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def modname(path: str) -> str:
    """Module name as kmod derives it: basename up to the first '.', '-' -> '_'."""
    return os.path.basename(path).split(".", 1)[0].replace("-", "_")


# --------------------------------------------------------------------------- ELF, raw bytes


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    offset: int
    size: int
    link: int


def sections(data: bytes | bytearray) -> list[Section]:
    """Section headers of an ELF64 little-endian file (the generator's only input kind)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise BenchError("only ELF64 little-endian modules can be re-labelled")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = [struct.unpack_from("<IIQQQQII", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = raw[shstrndx][4]
    return [
        Section(i, cstr(data, names_at + r[0]).decode(), r[1], r[4], r[5], r[6])
        for i, r in enumerate(raw)
    ]


def cstr(data: bytes | bytearray, offset: int) -> bytes:
    return bytes(data[offset : data.index(0, offset)])


def symbols(data: bytes | bytearray, secs: list[Section]) -> Iterator[tuple[int, int, int]]:
    """(absolute offset of the name, st_shndx, st_value) of every named symbol."""
    for sec in secs:
        if sec.type != SHT_SYMTAB:
            continue
        strings = secs[sec.link].offset
        for pos in range(sec.offset + SYM_SIZE, sec.offset + sec.size, SYM_SIZE):
            st_name, _, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", data, pos)
            if st_name:
                yield strings + st_name, shndx, value


def string_list(data: bytes | bytearray, sec: Section) -> Iterator[tuple[int, bytes]]:
    """(absolute offset, bytes) of each NUL-terminated string of a string section."""
    pos, end = sec.offset, sec.offset + sec.size
    while pos < end:
        stop = data.find(0, pos, end)
        if stop < 0:
            stop = end
        if stop > pos:
            yield pos, bytes(data[pos:stop])
        pos = stop + 1


def version_names(data: bytes | bytearray, secs: list[Section]) -> Iterator[tuple[int, bytes]]:
    for sec in secs:
        if sec.name == "__versions":
            for pos in range(sec.offset, sec.offset + sec.size - VERSION_SIZE + 1, VERSION_SIZE):
                raw = bytes(data[pos + 8 : pos + VERSION_SIZE])
                yield pos + 8, raw.split(b"\0", 1)[0]


def module_files(tree: Path) -> list[str]:
    """Module paths relative to the tree, in modules.order's order, then the others sorted."""
    found = sorted(
        str(p.relative_to(tree)) for p in tree.rglob("*.ko") if p.is_file() and not p.is_symlink()
    )
    order_file = tree / "modules.order"
    order = order_file.read_text().split() if order_file.exists() else []
    present = set(found)
    ordered = [p for p in dict.fromkeys(order) if p in present]
    listed = set(ordered)
    return ordered + [p for p in found if p not in listed]


# --------------------------------------------------------------------------- the renaming


@dataclass
class TreeNames:
    """What the real tree's modules are called and export, and every name a rename must avoid."""

    exported: frozenset[bytes]
    modules: frozenset[bytes]
    taken_symbols: frozenset[bytes]  # every symbol name of the tree and of the kernel
    taken_modules: frozenset[bytes]  # every module name of the tree and the built-in ones


def rotation(shift: int) -> bytes:
    """The per-copy character map: a rotation of [A-Za-z_], and of the digits among digits."""
    table = bytearray(range(256))
    for alphabet in (SYMBOL_CHARS, DIGITS):
        for i, ch in enumerate(alphabet):
            table[ch] = alphabet[(i + shift) % len(alphabet)]
    return bytes(table)


class Renamer:
    """One copy's renaming. Exported names: a bijective character map (a rotation) applied at
    chosen positions of a name, the same map for every name, because tail-shared strings must
    get the same bytes. Module names: the first character, chosen per name (`modules`: old
    name -> new, as kmod spells them, '_' for '-'), since many module names differ only in
    their first character (ehci/ohci/uhci) and no one rotation keeps them apart in 5 copies."""

    def __init__(self, shift: int, exported: frozenset[bytes], modules: dict[bytes, bytes]):
        self.shift = shift
        self.table = rotation(shift)
        self.exported = exported
        self.modules = modules
        self._memo: dict[bytes, bytes] = {}

    def export_name(self, name: bytes) -> bytes:
        """An exported name, renamed at its start and at the start of each suffix that is
        itself exported (so a name stored as the tail of another gets the same bytes)."""
        done = self._memo.get(name)
        if done is None:
            out = bytearray(name)
            for i in range(len(name)):
                if name[i:] in self.exported:
                    out[i] = self.table[name[i]]
            done = self._memo[name] = bytes(out)
        return done

    def symbol(self, name: bytes) -> bytes | None:
        """A symbol-table name's new bytes if it names an export (the name itself or one of
        its export records, __ksymtab_NAME...), else None."""
        if name in self.exported:
            return self.export_name(name)
        for prefix in EXPORT_PREFIXES:
            if name.startswith(prefix) and name[len(prefix) :] in self.exported:
                return prefix + self.export_name(name[len(prefix) :])
        return None

    def module(self, name: bytes) -> bytes:
        """A module name of the tree, renamed; `depends=` spells it with the file's dashes."""
        new = self.modules.get(name.replace(b"-", b"_"))
        return name if new is None else new[:1] + name[1:]

    def path(self, rel: str, copy: int) -> str:
        """kernel/a/b-c.ko -> kernel/copyK/a/B-c.ko (the file name's first character as the
        module name's)."""
        head, base = os.path.split(rel)
        parts = [p for p in head.split("/") if p]
        if parts[0] == "kernel":
            parts.insert(1, f"copy{copy}")
        else:
            parts.insert(0, f"kernel/copy{copy}")
        new = self.modules.get(modname(base).encode(), base.encode())
        return "/".join([*parts, new[:1].decode() + base[1:]])


def choose_plan(names: TreeNames, copies: int) -> list[tuple[int, dict[bytes, bytes]]]:
    """Each copy's rotation of exported names and its module names (copy 0: the real ones).
    A rotation is the first unused one whose renamed exports are all new: no name of the tree,
    of the kernel's Module.symvers or of an earlier copy. A module name gets the first
    character, from the copy's rotation on, that makes it new in the same sense."""
    plan: list[tuple[int, dict[bytes, bytes]]] = [(0, {m: m for m in names.modules})]
    used_symbols: set[bytes] = set()
    used_modules: set[bytes] = set(names.taken_modules)
    starts = SYMBOL_CHARS + DIGITS
    for _ in range(1, copies):
        shifts = {shift for shift, _ in plan}
        for shift in range(1, len(SYMBOL_CHARS)):
            if shift in shifts:
                continue
            renamer = Renamer(shift, names.exported, {})
            new_symbols = {renamer.export_name(n) for n in names.exported}
            if (
                len(new_symbols) == len(names.exported)
                and new_symbols.isdisjoint(names.taken_symbols)
                and new_symbols.isdisjoint(used_symbols)
            ):
                used_symbols |= new_symbols
                break
        else:
            raise BenchError(f"no collision-free rotation left for copy {len(plan)}")
        modules: dict[bytes, bytes] = {}
        for name in sorted(names.modules):
            for i in range(len(starts)):
                new = starts[(shift + i) % len(starts) : (shift + i) % len(starts) + 1] + name[1:]
                if new not in used_modules:
                    modules[name] = new
                    used_modules.add(new)
                    break
            else:
                raise BenchError(f"no new name for module {name.decode()} in copy {len(plan)}")
        plan.append((shift, modules))
    return plan


def scan_tree(tree: Path, files: list[str], symvers: Path | None) -> TreeNames:
    """Every name the generator needs: exports, module names, and all names already taken."""
    exported: set[bytes] = set()
    taken: set[bytes] = set()
    for rel in files:
        data = (tree / rel).read_bytes()
        secs = sections(data)
        for offset, _, _ in symbols(data, secs):
            name = cstr(data, offset)
            taken.add(name)
            if name.startswith(b"__ksymtab_"):
                exported.add(name[len(b"__ksymtab_") :])
        taken.update(name for _, name in version_names(data, secs))
    if symvers is not None and symvers.is_file():
        for line in symvers.read_bytes().splitlines():
            fields = line.split(b"\t")
            if len(fields) > 1:
                taken.add(fields[1])
    modules = {modname(rel).encode() for rel in files}
    builtin: set[bytes] = set()
    if (tree / "modules.builtin").exists():
        builtin = {modname(p).encode() for p in (tree / "modules.builtin").read_text().split()}
    return TreeNames(
        frozenset(exported), frozenset(modules), frozenset(taken), frozenset(modules | builtin)
    )


class Edits:
    """Length-preserving byte edits of one file, checked against the strings that share the
    edited bytes (a string table stores a name ending another as that one's tail)."""

    def __init__(self, data: bytearray) -> None:
        self.data = data
        self.want: dict[int, int] = {}
        self.musts: list[tuple[int, bytes]] = []
        self.locked: list[tuple[int, bytes]] = []

    def must(self, offset: int, new: bytes) -> None:
        old = self.data[offset : offset + len(new)]
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b and self.want.setdefault(offset + i, b) != b:
                raise BenchError(f"two renames disagree on byte {offset + i:#x}")
        self.musts.append((offset, new))

    def lock(self, offset: int, old: bytes) -> None:
        """A string that must keep its bytes (a kernel symbol, a namespace)."""
        self.locked.append((offset, old))

    def apply(self) -> None:
        for offset, old in self.locked:
            hit = [o for o in range(offset, offset + len(old)) if o in self.want]
            if hit:
                raise BenchError(
                    f"{old.decode(errors='replace')!r} shares bytes with a renamed name"
                )
        for offset, byte in self.want.items():
            self.data[offset] = byte
        for offset, new in self.musts:
            if self.data[offset : offset + len(new)] != new:
                raise BenchError(f"rename to {new.decode(errors='replace')!r} did not read back")


def rewrite_module(data: bytes, rel: str, renamer: Renamer) -> tuple[bytearray, set[bytes]]:
    """The module re-labelled in place, and the names it exports afterwards."""
    out = bytearray(data)
    secs = sections(out)
    by_name = {s.name: s for s in secs}
    edits = Edits(out)
    strings_sec = by_name.get("__ksymtab_strings")
    for offset, shndx, value in symbols(out, secs):
        name = cstr(out, offset)
        new = renamer.symbol(name)
        if new is not None and (shndx != SHN_UNDEF or name in renamer.exported):
            edits.must(offset, new)
        elif shndx == SHN_UNDEF:
            edits.lock(offset, name)  # a kernel symbol: never renamed
        if strings_sec is not None and shndx == strings_sec.index:
            # __kstrtab_NAME / __kstrtabns_NAME: the string the export table points at
            text = cstr(out, strings_sec.offset + value)
            target = strings_sec.offset + value
            if text in renamer.exported:
                edits.must(target, renamer.export_name(text))
            else:
                edits.lock(target, text)
    if strings_sec is not None:
        for offset, text in string_list(out, strings_sec):
            if text in renamer.exported:
                edits.must(offset, renamer.export_name(text))
            else:
                edits.lock(offset, text)  # a namespace
    for offset, name in version_names(out, secs):
        if name in renamer.exported:
            edits.must(offset, renamer.export_name(name))
    own = modname(rel).encode()
    info = by_name.get(".modinfo")
    if info is not None:
        for offset, entry in string_list(out, info):
            key, _, setting = entry.partition(b"=")
            if key == b"name":
                edits.must(offset + len(key) + 1, renamer.module(setting))
            elif key == b"depends" and setting:
                renamed = b",".join(renamer.module(v) for v in setting.split(b","))
                edits.must(offset + len(key) + 1, renamed)
    this = by_name[".gnu.linkonce.this_module"]
    at = this.offset + THIS_MODULE_NAME
    if out[at : at + len(own) + 1] != own + b"\0" or len(own) >= MODULE_NAME_LEN:
        raise BenchError(f"{rel}: no module name at .gnu.linkonce.this_module+{THIS_MODULE_NAME}")
    edits.must(at, renamer.module(own))
    edits.apply()
    exports = {
        cstr(out, o)[len(b"__ksymtab_") :]
        for o, _, _ in symbols(out, secs)
        if out[o : o + 10] == b"__ksymtab_"
    }
    return out, exports


# --------------------------------------------------------------------------- copies and trees


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        stamp: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stamp if stamp.get("version") == STAMP_VERSION else None


def write_stamp(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": STAMP_VERSION, **doc}))
    tmp.replace(path)


@dataclass
class Copy:
    index: int
    shift: int
    folder: Path  # holds the copy's files at their tree-relative paths
    paths: dict[str, str]  # original relative path -> the copy's
    exports: set[str]
    generated: int  # when its files were written: a tree linked to older files is relinked


class Generator:
    def __init__(self, tree: Path, work: Path, symvers: Path | None) -> None:
        self.tree = tree
        self.work = work
        self.symvers = symvers
        self.files = module_files(tree)
        self._names: TreeNames | None = None

    def names(self) -> TreeNames:
        if self._names is None:
            log(f"reading the names of {len(self.files)} modules in {self.tree}")
            self._names = scan_tree(self.tree, self.files, self.symvers)
        return self._names

    def plan(self, copies: int) -> list[tuple[int, dict[str, str]]]:
        """Each copy's rotation and module names, kept in the work folder."""
        plan_file = self.work / "plan.json"
        stamp = read_stamp(plan_file)
        if stamp and stamp["tree"] == str(self.tree) and len(stamp["plan"]) >= copies:
            return [(shift, modules) for shift, modules in stamp["plan"]]
        plan = [
            (shift, {k.decode(): v.decode() for k, v in modules.items()})
            for shift, modules in choose_plan(self.names(), copies)
        ]
        write_stamp(plan_file, {"tree": str(self.tree), "plan": plan})
        return plan

    def copy(self, index: int, shift: int, modules: dict[str, str]) -> Copy:
        folder = self.work / "copies" / f"c{index}"
        stamp_file = folder / "stamp.json"
        stamp = read_stamp(stamp_file)
        want = {"tree": str(self.tree), "shift": shift, "modules": modules}
        if stamp and all(stamp.get(k) == v for k, v in want.items()):
            return Copy(
                index, shift, folder, stamp["paths"], set(stamp["exports"]), stamp["generated"]
            )
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        names = self.names()
        if index == 0:  # the real tree itself
            paths = {rel: rel for rel in self.files}
            exports = {n.decode() for n in names.exported}
            for rel in self.files:
                link_or_copy(self.tree / rel, folder / rel)
        else:
            log(f"writing copy {index} (rotation {shift}) of {len(self.files)} modules")
            module_map = {k.encode(): v.encode() for k, v in modules.items()}
            renamer = Renamer(shift, names.exported, module_map)
            paths, exports = {}, set()
            for rel in self.files:
                new_rel = renamer.path(rel, index)
                try:
                    data, exported = rewrite_module((self.tree / rel).read_bytes(), rel, renamer)
                except BenchError as exc:
                    raise BenchError(f"{rel}: {exc}") from None
                target = folder / new_rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                paths[rel] = new_rel
                exports.update(n.decode() for n in exported)
        generated = time.time_ns()
        write_stamp(
            stamp_file,
            {
                **want,
                "paths": paths,
                "exports": sorted(exports),
                "generated": generated,
            },
        )
        return Copy(index, shift, folder, paths, exports, generated)


def check_disjoint(copies: list[Copy]) -> int:
    """The copies' exported names are pairwise disjoint (so no copy resolves against another);
    returns the number of names checked."""
    seen: dict[str, int] = {}
    for copy in copies:
        for name in copy.exports:
            other = seen.setdefault(name, copy.index)
            if other != copy.index:
                raise BenchError(f"copies {other} and {copy.index} both export {name}")
    return len(seen)


def dep_lines(text: bytes) -> list[bytes]:
    """modules.dep out of `depmod -n`'s output (it stops at the first '#' line)."""
    lines = []
    for line in text.split(b"\n"):
        if line.startswith(b"#"):
            break
        if line:
            lines.append(line)
    return lines


def closure_subset(order: list[str], deps: dict[str, list[str]], target: int) -> list[str]:
    """The first modules of modules.order with everything they depend on, at least `target`
    of them, in modules.order's order (a partial copy that still resolves by itself)."""
    chosen: set[str] = set()
    for path in order:
        if len(chosen) >= target:
            break
        chosen.add(path)
        chosen.update(deps.get(path, []))
    return [p for p in order if p in chosen]


@dataclass
class SizedTree:
    label: str
    factor: float
    root: Path  # depmod's base folder
    moddir: Path  # root/lib/modules/VER: what kmodlint reads
    modules: int
    copy_of: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (copy, original)


def build_tree(
    gen: Generator, ver: str, factor: float, copies: list[Copy], base_deps: dict[str, list[str]]
) -> SizedTree:
    label = f"x{factor:g}"
    root = gen.work / "trees" / label
    moddir = root / "lib" / "modules" / ver
    full = math.floor(factor)
    partial = round((factor - full) * len(gen.files))
    members: list[tuple[Copy, list[str]]] = [(copies[k], gen.files) for k in range(full)]
    if partial:
        subset = closure_subset(gen.files, base_deps, partial)
        members.append((copies[full], subset))
    copy_of = {c.paths[rel]: (c.index, rel) for c, rels in members for rel in rels}
    stamp_file = root / "stamp.json"
    stamp = read_stamp(stamp_file)
    want = {"copies": [c.generated for c, _ in members], "files": len(copy_of)}
    if not (stamp and stamp["want"] == want):
        log(f"linking tree {label}: {len(copy_of)} modules")
        shutil.rmtree(root, ignore_errors=True)
        moddir.mkdir(parents=True)
        for copy, rels in members:
            for rel in rels:
                link_or_copy(copy.folder / copy.paths[rel], moddir / copy.paths[rel])
        (moddir / "modules.order").write_text("".join(f"{p}\n" for p in copy_of))
        for extra in ("modules.builtin", "modules.builtin.modinfo"):
            if (gen.tree / extra).exists():
                shutil.copy2(gen.tree / extra, moddir / extra)
        write_stamp(stamp_file, {"want": want})
    return SizedTree(label, factor, root, moddir, len(copy_of), copy_of)


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    rc: int
    wall: float
    cpu: float  # user + system of the process and every descendant it waited for
    tree_rss_kb: int  # largest single process of the tree (wait4)
    main_rss_kb: int | None  # kmodlint's main process (its own getrusage at exit)
    worker_rss_kb: int | None  # kmodlint's largest worker
    stdout: bytes
    stderr: str


# wait4's ru_maxrss of a forked child starts at its parent's RSS, and this process grows when
# it reads thousands of modules: a small launcher forks the measured command instead.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {wall} "
              f"{usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""

# kmodlint run in a process that reports its own peak RSS and its workers' at exit. The hook
# is registered before kmodlint (and multiprocessing) is imported, so it runs last, once the
# pool's workers have been waited for.
_KMODLINT = """
import atexit, resource, sys
def report(path=sys.argv[1]):
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(path, "w") as out:
        out.write(f"{me} {kids}")
atexit.register(report)
sys.argv = ["kmodlint", *sys.argv[2:]]
from kmodlint.cli import main
sys.exit(main())
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None, kmodlint: bool = False) -> Run:
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as res,
        tempfile.NamedTemporaryFile("r") as own,
    ):
        if kmodlint:
            cmd = [cmd[0], "-c", _KMODLINT, own.name, *cmd[1:]]
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, res.name, *cmd]
        proc = subprocess.run(launcher, stdout=out, stderr=err, env=env, check=False)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        fields = res.read().split()
        if proc.returncode != 0 or len(fields) != 4:
            raise BenchError(f"cannot run {shlex.join(cmd)}:\n{stderr.strip()[-2000:]}")
        mine = own.read().split()
        return Run(
            int(fields[0]),
            float(fields[1]),
            float(fields[2]),
            int(fields[3]),
            int(mine[0]) if len(mine) == 2 else None,
            int(mine[1]) if len(mine) == 2 else None,
            out.read(),
            stderr,
        )


@dataclass
class Case:
    name: str
    what: str
    cmd: list[str]
    kmodlint: bool
    runs: list[Run] = field(default_factory=list)

    def median(self, pick: str) -> float:
        return float(statistics.median(getattr(r, pick) for r in self.runs))

    def peak(self, pick: str) -> float | None:
        values = [getattr(r, pick) for r in self.runs if getattr(r, pick) is not None]
        return max(values) / 1024 if values else None


def measure(
    tree: SizedTree,
    ver: str,
    depmod: str,
    kml: list[str],
    env: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    cache = Path(args.work) / "cache" / tree.label
    jobs = ["-j", str(args.jobs)]
    deps = [*kml, "deps", str(tree.moddir), "--format", "modules.dep", *jobs]
    check = [*kml, "check", str(tree.moddir), "--kernel", str(args.headers), *jobs]
    check += ["--format", "json", "--fail-on", "never", "--cache-dir", str(cache)]
    warm = [*deps, "--cache-dir", str(cache)]
    # In this order in every round: the cache is emptied before "first", which fills it for
    # the others; check shares it, so its first run re-reads no module (it adds the rules and
    # the kernel table).
    cases = {
        "depmod": Case("depmod", "depmod -n", [depmod, "-n", "-b", str(tree.root), ver], False),
        "cold": Case("cold", "deps --no-cache", [*deps, "--no-cache"], True),
        "first": Case("first", "deps first run (empty cache)", warm, True),
        "check-first": Case("check-first", "check first run", check, True),
        "warm": Case("warm", "deps warm", warm, True),
        "check": Case("check", "check warm", check, True),
    }

    def run(case: Case) -> Run:
        log(f"{tree.label}: {case.what} ({len(case.runs) + 1})")
        result = run_measured(case.cmd, env, case.kmodlint)
        if result.rc not in (0, 1):
            raise BenchError(f"{shlex.join(case.cmd)} failed:\n{result.stderr[-2000:]}")
        case.runs.append(result)
        return result

    for _ in range(args.runs):
        for case in cases.values():
            if case.name == "first":
                shutil.rmtree(cache, ignore_errors=True)
            run(case)
    reference = dep_lines(cases["depmod"].runs[0].stdout)
    expected = b"".join(line + b"\n" for line in reference)
    outputs = [r.stdout for c in ("cold", "first", "warm") for r in cases[c].runs]
    findings = json.loads(cases["check"].runs[0].stdout or b"{}").get("findings", [])
    # A copy repeats copy 0's findings, no more (a kernel import renamed by mistake would be
    # unresolved), no fewer; a partial copy has fewer.
    per_copy: dict[int, int] = {}
    for finding in findings:
        found = re.search(r"(?:^|/)kernel/copy(\d+)/", str(finding.get("path", "")))
        copy = int(found.group(1)) if found else 0
        per_copy[copy] = per_copy.get(copy, 0) + 1
    result: dict[str, Any] = {
        "label": tree.label,
        "factor": tree.factor,
        "modules": tree.modules,
        "depmod_lines": len(reference),
        "lines_match_modules": len(reference) == tree.modules,
        "byte_identical": all(o == expected for o in outputs),
        "copies": check_copies(reference, tree),
        "check_findings": len(findings),
        "check_findings_per_copy": [
            per_copy.get(k, 0) for k in range(max(per_copy, default=0) + 1)
        ],
        "cases": {},
    }
    if not result["byte_identical"]:
        result["difference"] = first_difference(expected, outputs)
    for case in cases.values():
        result["cases"][case.name] = {
            "what": case.what,
            "wall_s": round(case.median("wall"), 3),
            "cpu_s": round(case.median("cpu"), 3),
            "walls": [round(r.wall, 3) for r in case.runs],
            "tree_rss_mb": case.peak("tree_rss_kb"),
            "main_rss_mb": case.peak("main_rss_kb"),
            "worker_rss_mb": case.peak("worker_rss_kb"),
        }
    return result


def first_difference(expected: bytes, outputs: list[bytes]) -> str:
    for out in outputs:
        if out != expected:
            want, got = expected.split(b"\n"), out.split(b"\n")
            for i, (a, b) in enumerate(zip(want, got, strict=False)):
                if a != b:
                    return f"line {i + 1}: depmod {a[:200]!r} kmodlint {b[:200]!r}"
            return f"depmod {len(want)} lines, kmodlint {len(got)}"
    return ""


def check_copies(reference: list[bytes], tree: SizedTree) -> dict[str, Any]:
    """Every line's dependencies stay in its module's copy, and each copy's lines are copy
    0's lines renamed: the re-labelling kept the graph and the copies stay apart."""
    by_copy: dict[int, dict[str, tuple[str, ...]]] = {}
    crossing = 0
    for line in reference:
        head, _, rest = line.decode().partition(":")
        copy, original = tree.copy_of[head]
        deps = []
        for dep in rest.split():
            dep_copy, dep_original = tree.copy_of[dep]
            crossing += dep_copy != copy
            deps.append(dep_original)
        by_copy.setdefault(copy, {})[original] = tuple(sorted(deps))
    base = by_copy.get(0, {})
    same = all(base.get(path) == deps for lines in by_copy.values() for path, deps in lines.items())
    return {"crossing_deps": crossing, "graphs_equal_copy0": same, "copies": len(by_copy)}


# --------------------------------------------------------------------------- the source side


def renamed_makefile(text: str, suffix: str) -> str:
    """A driver folder's Makefile for one copy: each module it builds (`obj-... += NAME.o`)
    becomes NAME<suffix>, and `obj-$(CONFIG_X)` becomes `obj-m` (built whatever the .config)."""
    names = {
        name
        for line in text.splitlines()
        if line.startswith("obj-")
        for name in re.findall(r"([\w-]+)\.o\b", line)
    }
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("obj-"):
            line = re.sub(r"^obj-\$\([^)]*\)", "obj-m", line)
            for name in names:
                line = re.sub(rf"(?<![\w-]){re.escape(name)}\.o\b", f"{name}{suffix}.o", line)
        else:
            for name in names:
                line = re.sub(rf"^{re.escape(name)}-(objs|y)\b", rf"{name}{suffix}-\1", line)
        out.append(line)
    return "".join(out)


def build_sources(work: Path, folder: Path, copies: int) -> Path:
    """`copies` copies of one driver folder, each its own modules (NAME_cK)."""
    root = work / "sources" / f"k{copies}"
    stamp = root / "stamp.json"
    want = {"folder": str(folder), "copies": copies}
    found = read_stamp(stamp)
    if found and found.get("want") == want:
        return root
    shutil.rmtree(root, ignore_errors=True)
    for k in range(copies):
        target = root / f"{folder.name}_c{k}"
        shutil.copytree(folder, target)
        for name in ("Makefile", "Kbuild"):
            if (target / name).exists():
                text = (target / name).read_text()
                (target / name).write_text(renamed_makefile(text, f"_c{k}"))
    write_stamp(stamp, {"want": want})
    return root


def measure_sources(
    args: argparse.Namespace, kml: list[str], env: dict[str, str]
) -> list[dict[str, Any]]:
    """`kmodlint symbols` on k copies of a driver folder: one cold run (an empty cache, as a
    first run) and `--runs` warm ones, each a whole process."""
    results = []
    for copies in sorted(set(args.source_copies)):
        root = build_sources(args.work, args.source_folder, copies)
        cache = args.work / "cache" / f"sources-k{copies}"
        shutil.rmtree(cache, ignore_errors=True)
        cmd = [*kml, "symbols", str(root), "-j", str(args.jobs), "--format", "json"]
        cmd += ["--kernel", str(args.headers), "--cache-dir", str(cache)]
        runs = []
        for i in range(1 + args.runs):
            log(f"sources k={copies}: symbols {'cold' if i == 0 else 'warm'} ({i + 1})")
            run = run_measured(cmd, env, kmodlint=True)
            if run.rc not in (0, 1):
                raise BenchError(f"{shlex.join(cmd)} failed:\n{run.stderr[-2000:]}")
            runs.append(run)
        doc = json.loads(runs[0].stdout or b"{}")
        modules = doc.get("modules", []) if isinstance(doc, dict) else doc
        warm = runs[1:]
        results.append(
            {
                "copies": copies,
                "modules": len(modules),
                "files": sum(1 for _ in root.rglob("*.c")),
                "cold_wall_s": round(runs[0].wall, 3),
                "cold_cpu_s": round(runs[0].cpu, 3),
                "cold_main_rss_mb": (runs[0].main_rss_kb or 0) / 1024,
                "cold_worker_rss_mb": (runs[0].worker_rss_kb or 0) / 1024,
                "warm_wall_s": round(statistics.median(r.wall for r in warm), 3),
                "warm_cpu_s": round(statistics.median(r.cpu for r in warm), 3),
                "warm_main_rss_mb": max(r.main_rss_kb or 0 for r in warm) / 1024,
                "same_output": all(r.stdout == runs[0].stdout for r in warm),
            }
        )
    return results


def report_sources(results: list[dict[str, Any]], folder: Path) -> str:
    out = [
        f"\n== sources: kmodlint symbols on k copies of {folder.name} "
        "(wall / CPU seconds; peak RSS MB: main process / largest child, cpp or worker)"
    ]
    out.append(
        f"  {'k':>3} {'modules':>7} {'.c':>5} {'cold':>14} {'cold RSS':>12} "
        f"{'warm':>14} {'warm RSS':>9} {'warm/copy vs k=1':>17} {'same output':>12}"
    )
    base = results[0]
    for r in results:
        per = (r["warm_cpu_s"] / r["copies"]) / (base["warm_cpu_s"] / base["copies"])
        out.append(
            f"  {r['copies']:>3} {r['modules']:>7} {r['files']:>5} "
            f"{r['cold_wall_s']:6.2f}/{r['cold_cpu_s']:6.2f}s "
            f"{r['cold_main_rss_mb']:5.0f} / {r['cold_worker_rss_mb']:4.0f} "
            f"{r['warm_wall_s']:6.2f}/{r['warm_cpu_s']:6.2f}s {r['warm_main_rss_mb']:9.0f} "
            f"{per:17.2f} {r['same_output']!s:>12}"
        )
    # kmodlint reads fewer than 64 files in its main process, not in the pool (README, -j):
    # the cold main-process figures of small k hold the analysis itself.
    small = [str(r["copies"]) for r in results if r["files"] < POOL_MIN_FILES]
    if small:
        out.append(
            f"  k = {', '.join(small)}: fewer than {POOL_MIN_FILES} files, read in kmodlint's "
            "main process (no pool), so their cold main-process RSS includes the analysis"
        )
    if len(results) > 1:
        last = results[-1]
        added = last["copies"] - base["copies"]
        for what, key in (("cold", "cold_cpu_s"), ("warm", "warm_cpu_s")):
            b = fitted_exponent([(r["copies"], r[key]) for r in results])
            out.append(f"  {what} CPU time: t ~ copies^{b:.2f}")
        per = (last["warm_main_rss_mb"] - base["warm_main_rss_mb"]) / added
        out.append(
            f"  warm main-process peak RSS: {per:+.1f} MB per copy added "
            f"(k={base['copies']} -> {last['copies']})"
        )
        # cold: only runs that used the pool compare (see above)
        pooled = [r for r in results if r["files"] >= POOL_MIN_FILES]
        if len(pooled) > 1:
            first, end = pooled[0], pooled[-1]
            span = end["copies"] - first["copies"]
            for what, key in (
                ("main process", "cold_main_rss_mb"),
                ("worker", "cold_worker_rss_mb"),
            ):
                per = (end[key] - first[key]) / span
                out.append(
                    f"  cold {what} peak RSS: {per:+.1f} MB per copy added "
                    f"(k={first['copies']} -> {end['copies']}, both with the pool)"
                )
        largest = max((f.stat().st_size, f.name) for f in folder.glob("*.[ch]"))
        out.append(f"  largest file of {folder.name}: {largest[1]}, {largest[0] / 1024:.0f} KB")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- report


def fitted_exponent(points: list[tuple[float, float]]) -> float:
    """b in t = a * n**b, least squares on log t against log n over every size (less
    sensitive to one noisy size than the two end points)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def report(results: list[dict[str, Any]], largest_file: tuple[str, int], cpus: int) -> str:
    out = []
    rows = [
        ("depmod", "depmod -n"),
        ("cold", "deps --no-cache"),
        ("first", "deps, empty cache"),
        ("warm", "deps warm"),
        ("check-first", "check, first run"),
        ("check", "check warm"),
    ]
    out.append(f"\n== time ({cpus} CPUs; wall / CPU seconds, medians; ratio: wall to depmod -n)")
    header = f"  {'what':20}" + "".join(
        f"{r['label'] + ' ' + str(r['modules']):>26}" for r in results
    )
    out.append(header)
    for key, what in rows:
        cells = []
        for r in results:
            case = r["cases"][key]
            ratio = case["wall_s"] / r["cases"]["depmod"]["wall_s"]
            cell = f"{case['wall_s']:.2f}/{case['cpu_s']:.2f}s"
            cell += f" {ratio:5.1f}x" if key != "depmod" else " " * 7
            cells.append(f"{cell:>26}")
        out.append(f"  {what:20}" + "".join(cells))
    out.append(
        "\n== time per module relative to the smallest tree (1.0 = linear; b: t ~ n^b fitted "
        "over all sizes)"
    )
    small, large = results[0], results[-1]
    verdicts = []
    for key, what in rows:
        cells = []
        for r in results:
            per = r["cases"][key]["wall_s"] / r["modules"]
            base = small["cases"][key]["wall_s"] / small["modules"]
            per_cpu = r["cases"][key]["cpu_s"] / r["modules"]
            base_cpu = small["cases"][key]["cpu_s"] / small["modules"]
            cells.append(f"{per / base:.2f} wall {per_cpu / base_cpu:.2f} CPU")
        line = f"  {what:20}" + "".join(f"{c:>26}" for c in cells)
        if large is not small:
            b_wall = fitted_exponent([(r["modules"], r["cases"][key]["wall_s"]) for r in results])
            b_cpu = fitted_exponent([(r["modules"], r["cases"][key]["cpu_s"]) for r in results])
            line += f"   b = {b_wall:.2f} wall, {b_cpu:.2f} CPU"
            if key != "depmod":
                verdicts.append((what, b_wall, b_cpu))
        out.append(line)
    out.append("\n== peak RSS, MB (main process / largest worker)")
    out.append(
        f"  {'what':20}" + "".join(f"{r['label'] + ' ' + str(r['modules']):>26}" for r in results)
    )
    for key, what in rows:
        cells = []
        for r in results:
            case = r["cases"][key]
            if case["main_rss_mb"] is None:
                cell = f"{case['tree_rss_mb']:.0f}"
            else:  # no worker: the run read nothing (warm) or read in-process
                worker = case["worker_rss_mb"]
                cell = f"{case['main_rss_mb']:.0f} / {f'{worker:.0f}' if worker else '-'}"
            cells.append(f"{cell:>26}")
        out.append(f"  {what:20}" + "".join(cells))
    name, size = largest_file
    out.append(f"\n  largest single module file: {name}, {size / 2**20:.1f} MB")
    if large is not small:
        added = (large["modules"] - small["modules"]) / 1000
        out.append(
            f"  memory added per 1,000 modules ({small['label']} -> {large['label']}, "
            f"{small['modules']} -> {large['modules']} modules):"
        )
        for key, what in rows:
            a, b = small["cases"][key], large["cases"][key]
            pick = "tree_rss_mb" if a["main_rss_mb"] is None else "main_rss_mb"
            per = (b[pick] - a[pick]) / added
            line = f"    {what:20} {per:6.1f} MB (main process)"
            if a["worker_rss_mb"] and b["worker_rss_mb"]:
                worker = (b["worker_rss_mb"] - a["worker_rss_mb"]) / added
                line += f", {worker:6.1f} MB (largest worker)"
            out.append(line)
        depmod_per = (
            large["cases"]["depmod"]["tree_rss_mb"] - small["cases"]["depmod"]["tree_rss_mb"]
        ) / added
        cold_per = (
            large["cases"]["cold"]["main_rss_mb"] - small["cases"]["cold"]["main_rss_mb"]
        ) / added
        per_module_kb = cold_per * 1024 / 1000
        out.append(
            f"  deps --no-cache keeps {per_module_kb:.0f} KB per module in its main process, "
            f"{cold_per / depmod_per:.1f}x depmod's growth"
        )
    out.append("\n== correctness (modules.dep of every kmodlint deps run against depmod -n's)")
    for r in results:
        c = r["copies"]
        out.append(
            f"  {r['label']:6} {r['modules']:6} modules: byte-identical {r['byte_identical']}, "
            f"depmod lines {r['depmod_lines']} (= modules: {r['lines_match_modules']}), "
            f"{c['copies']} copies, dependencies crossing copies {c['crossing_deps']}, "
            f"every copy's graph = copy 0's: {c['graphs_equal_copy0']}; "
            f"check findings {r['check_findings']} (per copy: "
            f"{', '.join(map(str, r['check_findings_per_copy']))})"
        )
        if "difference" in r:
            out.append(f"    first difference: {r['difference']}")
    if verdicts:
        # CPU seconds decide: the machine is shared, and wall time moves with its load.
        out.append("\n== verdict (growth exponent b of CPU time; wall in brackets)")
        for what, b_wall, b_cpu in verdicts:
            kind = (
                "better than linear"
                if b_cpu < 0.9
                else "linear"
                if b_cpu <= 1.1
                else "WORSE than linear"
            )
            out.append(f"  {what:20} {kind}: b = {b_cpu:.2f} (wall {b_wall:.2f})")
        added = (large["modules"] - small["modules"]) / 1000
        for key, what in rows[1:]:
            a, b = small["cases"][key], large["cases"][key]
            per = (b["main_rss_mb"] - a["main_rss_mb"]) / added
            out.append(
                f"  {what:20} memory grows with the tree: main process +{per:.1f} MB per 1,000 "
                f"modules, {b['main_rss_mb']:.0f} MB at {large['modules']} modules = "
                f"{b['main_rss_mb'] / (size / 2**20):.0f}x the largest file "
                f"({size / 2**20:.1f} MB): "
                + ("NOT bounded by the largest file" if per * added > size / 2**20 else "bounded")
            )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def need_tool(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise BenchError(f"{name} not found (package kmod)")
    return found


def kmodlint_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if args.source:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (args.source, env.get("PYTHONPATH", "")) if p
        )
    return env


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", type=Path, default=DEFAULT_TREE, help="a real /lib/modules/VER tree"
    )
    parser.add_argument("--headers", type=Path, default=DEFAULT_HEADERS, help="--kernel for check")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="generated trees, caches")
    parser.add_argument(
        "--sizes", type=float, nargs="+", default=[1, 2.5, 5], help="multiples of the real tree"
    )
    parser.add_argument("--runs", type=int, default=3, help="rounds of every case per size")
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2), help="kmodlint -j")
    venv = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python", default=str(venv) if venv.exists() else sys.executable, help="runs kmodlint"
    )
    parser.add_argument("--source", help="import kmodlint from this folder (e.g. a git archive)")
    parser.add_argument("--generate-only", action="store_true", help="build the trees and stop")
    parser.add_argument(
        "--source-folder", type=Path, default=DEFAULT_SOURCE, help="a driver folder to copy"
    )
    parser.add_argument(
        "--source-copies",
        type=int,
        nargs="*",
        default=[1, 2, 4, 8, 16],
        help="copies of --source-folder to measure (none: skip the source side)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        depmod = need_tool("depmod")
        tree = args.tree.resolve()
        ver = tree.name
        args.work.mkdir(parents=True, exist_ok=True)
        gen = Generator(tree, args.work, args.headers / "Module.symvers")
        sizes = sorted(set(args.sizes))
        if sizes[0] <= 0:
            raise BenchError("sizes are positive multiples of the real tree")
        count = math.ceil(sizes[-1])
        started = time.perf_counter()
        plan = gen.plan(count)[:count]
        shifts = [shift for shift, _ in plan]
        copies = [gen.copy(i, shift, modules) for i, (shift, modules) in enumerate(plan)]
        names_checked = check_disjoint(copies)
        log(
            f"{len(copies)} copies ready ({time.perf_counter() - started:.0f} s), rotations "
            f"{shifts}; {names_checked} exported names, disjoint across copies"
        )
        base = build_tree(gen, ver, 1, copies, {})
        base_run = run_measured([depmod, "-n", "-b", str(base.root), ver])
        base_deps = {}
        for line in dep_lines(base_run.stdout):
            head, _, rest = line.decode().partition(":")
            base_deps[head] = rest.split()
        trees = [build_tree(gen, ver, f, copies, base_deps) for f in sizes]
        if args.generate_only:
            for t in trees:
                print(f"{t.label}: {t.modules} modules in {t.moddir}")
            return 0
        env = kmodlint_env(args)
        kml = [args.python]
        results = [measure(t, ver, depmod, kml, env, args) for t in trees]
        sources = measure_sources(args, kml, env) if args.source_copies else []
    except BenchError as exc:
        print(f"scale.py: {exc}", file=sys.stderr)
        return 2
    sizes_on_disk = [(rel, (tree / rel).stat().st_size) for rel in gen.files]
    largest = max(sizes_on_disk, key=lambda item: item[1])
    text = report(results, largest, os.cpu_count() or 1)
    print(
        f"kmodlint scale benchmark: {tree} x {', '.join(f'{s:g}' for s in sizes)}; "
        f"{len(copies)} copies, rotations {shifts}, exported names disjoint across copies "
        f"({names_checked} names)"
    )
    print(text, end="")
    if sources:
        print(report_sources(sources, args.source_folder), end="")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tree": str(tree),
                    "shifts": shifts,
                    "largest_file": largest,
                    "results": results,
                    "sources": sources,
                },
                indent=1,
            )
        )
    ok = all(
        r["byte_identical"]
        and r["lines_match_modules"]
        and r["copies"]["crossing_deps"] == 0
        and r["copies"]["graphs_equal_copy0"]
        for r in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
