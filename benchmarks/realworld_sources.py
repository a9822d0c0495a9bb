#!/usr/bin/env python3
"""Check kmodlint's C front end on Debian's linux-source-6.1 against the kernel built from it.

Reads the sources of ``drivers``, ``sound``, ``net`` and ``fs`` (``--dirs``), one kmodlint run
per directory (``kmodlint symbols DIR --config CONFIG --kernel none --format json --no-cache``,
cwd = the source root, a fresh ``KMODLINT_CACHE_DIR``, so every run is cold), and compares the
result with what the real build produced:

1. AST coverage: ``files.with_ast / files.c_files`` and the files left unparsed (KM901); not
   measured with ``--no-ast`` (token path alone);
2. exports of every module kmodlint found that ``modules.order`` lists, against the
   ``Module.symvers`` rows whose module lies under the directory: recall and precision on
   (symbol, module), then with the kind (EXPORT_SYMBOL vs EXPORT_SYMBOL_GPL), then with the
   namespace; every miss and every invented export is sorted into a family (module not found,
   literal ``EXPORT_*(sym)`` in the module's files missed, macro-generated, wrong module,
   wrong kind, wrong namespace, not exported by the build, ...) with examples and file:line;
3. ``MODULE_LICENSE`` per built module against the ``license=`` tags of the built ``.ko``
   (``.modinfo`` read by a small ELF reader here, nothing from kmodlint), compared as sets;
4. wall time, ``.c`` files per second, modules found, built, missing, not built.

Ground truth comes from three Debian packages, fetched (``apt-get download``, ``dpkg-deb -x``,
the source tarball unpacked with ``tar``) into ``--cache`` when the paths are not given:
``linux-source-6.1`` (6.1.192-2), ``linux-headers-6.1.0-56-amd64`` (its ``Module.symvers``) and
``linux-image-6.1.0-56-amd64-unsigned`` (``/boot/config-6.1.0-56-amd64`` and the ``.ko`` files
with ``modules.order``). Already-extracted copies are used when found (``--source-tree``,
``--config``, ``--symvers``, ``--modules-dir``, or the ``KNOWN_*`` locations below).

Targets (from the issue): >= 98% of the files with a full tree, >= 99.5% recall, >= 99.9%
precision, >= 99.5% of the licences identical. kmodlint's stderr goes to ``--log``.

Example::

    python3 benchmarks/realworld_sources.py --no-ast --json /tmp/src-noast.json
    python3 benchmarks/realworld_sources.py --dirs fs --json /tmp/src-fs-ast.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realworld_binaries import BenchError, Packages, load_module, log

REPO = Path(__file__).resolve().parent.parent
ABI = "6.1.0-56-amd64"
SOURCE_PKG = "linux-source-6.1"
SOURCE_VERSION = "6.1.192-2"
HEADERS_PKG = f"linux-headers-{ABI}"
IMAGE_PKG = f"linux-image-{ABI}-unsigned"
DEFAULT_DIRS = ["drivers", "sound", "net", "fs"]
DEFAULT_CACHE = "/work/cache/debian"
# Copies already extracted on the development machine, used before anything is fetched.
KNOWN_SOURCE_TREES = ["/work/cache/linux-source/x/usr/src/linux-source-6.1"]
KNOWN_SYMVERS = [f"/usr/src/linux-headers-{ABI}/Module.symvers"]
TARGETS = {"ast": 0.98, "recall": 0.995, "precision": 0.999, "licenses": 0.995}
EXAMPLES = 10
LEVELS = ("symbol+module", "+kind", "+namespace")

# EXPORT_SYMBOL(sym), EXPORT_SYMBOL_NS_GPL(sym, NS), EXPORT_TRACEPOINT_SYMBOL_GPL(tp),
# IWL_EXPORT_SYMBOL(sym), ...: any macro with EXPORT_ in its name
EXPORT_CALL = re.compile(r"\b(\w*EXPORT_\w*)\s*\(\s*(\w+)")
PLAIN_EXPORTS = {
    "EXPORT_SYMBOL",
    "EXPORT_SYMBOL_GPL",
    "EXPORT_SYMBOL_GPL_FUTURE",
    "EXPORT_SYMBOL_NS",
    "EXPORT_SYMBOL_NS_GPL",
}
DEFINE = re.compile(r"\s*#\s*define\b")
RENAME = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([A-Za-z_]\w*)[ \t]*$", re.M)
INCLUDE_C = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+\.c)"', re.M)
CONDITIONAL = re.compile(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)")
PARSE_ERROR = re.compile(r"\w+: ([^:]+):(\d+):\d+: (.*)")
LICENSE_CALL = re.compile(r"\bMODULE_LICENSE\s*\(([^)]*)\)")
TRACEPOINT_PREFIXES = ("__tracepoint_", "__traceiter_", "__SCK__tp_func_", "__SCT__tp_func_")


# --------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    tree: Path
    config: Path
    symvers: Path
    modules_dir: Path
    notes: list[str] = field(default_factory=list)


def first_existing(candidates: list[str]) -> Path | None:
    return next((Path(c) for c in candidates if Path(c).exists()), None)


def source_tree(pkgs: Packages) -> Path:
    """linux-source-6.1 from the cache: the .deb extracted, then its tarball unpacked."""
    root = pkgs.extract(SOURCE_PKG)
    src = root / "usr" / "src"
    tree = src / SOURCE_PKG
    stamp = src / f".unpacked-{SOURCE_PKG}"
    if tree.is_dir() and stamp.exists():
        return tree
    tarballs = sorted(src.glob(f"{SOURCE_PKG}.tar*"))
    if not tarballs:
        raise BenchError(f"{SOURCE_PKG} has no usr/src/{SOURCE_PKG}.tar.*")
    shutil.rmtree(tree, ignore_errors=True)
    log(f"unpacking {tarballs[0].name} (a minute or two)")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(src, filter="data")
    stamp.touch()
    return tree


def resolve_inputs(args: argparse.Namespace) -> Inputs:
    pkgs = Packages(Path(args.cache).expanduser(), args.refresh)
    notes = []
    tree = Path(args.source_tree) if args.source_tree else first_existing(KNOWN_SOURCE_TREES)
    if tree is None:
        tree = source_tree(pkgs)
        deb = pkgs.deb(SOURCE_PKG)
        if SOURCE_VERSION not in deb.name:
            notes.append(f"{deb.name} is not {SOURCE_VERSION}: sources may differ from the build")
    image = None
    if args.config:
        config = Path(args.config)
    else:
        image = pkgs.extract(IMAGE_PKG)
        config = image / "boot" / f"config-{ABI}"
    if args.modules_dir:
        moddir = Path(args.modules_dir)
    else:
        moddir = (image or pkgs.extract(IMAGE_PKG)) / "lib" / "modules" / ABI
    symvers = Path(args.symvers) if args.symvers else first_existing(KNOWN_SYMVERS)
    if symvers is None:
        symvers = pkgs.symvers(ABI)
    for what, path in (("source tree", tree), ("config", config), ("modules dir", moddir)):
        if not path.exists():
            raise BenchError(f"{what} {path} does not exist")
    if not (moddir / "modules.order").is_file():
        raise BenchError(f"{moddir} has no modules.order")
    return Inputs(tree.resolve(), config.resolve(), symvers.resolve(), moddir.resolve(), notes)


@dataclass(frozen=True)
class SymversRow:
    symbol: str
    module: str  # e.g. drivers/net/ethernet/intel/e1000e/e1000e
    kind: str
    namespace: str | None


def read_symvers(path: Path) -> list[SymversRow]:
    rows = []
    for line in path.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 4 and cols[0].startswith("0x"):
            ns = cols[4] if len(cols) > 4 and cols[4] else None
            rows.append(SymversRow(cols[1], cols[2], cols[3], ns))
    return rows


def read_order(moddir: Path) -> list[str]:
    """Module paths (kernel/ and .ko stripped) in modules.order."""
    out = []
    for line in (moddir / "modules.order").read_text().splitlines():
        rel = line.strip().removeprefix("kernel/")
        for ext in (".ko.xz", ".ko.gz", ".ko.zst", ".ko"):
            if rel.endswith(ext):
                out.append(rel[: -len(ext)])
                break
    return out


def modinfo_licenses(path: Path) -> list[str] | None:
    """license= tags of a .ko's .modinfo (own ELF reader); None when unreadable."""
    try:
        data = load_module(path)
    except (OSError, subprocess.CalledProcessError, BenchError):
        return None
    if data[:4] != b"\x7fELF":
        return None
    e = "<" if data[5] == 1 else ">"
    if data[4] == 2:
        (shoff,) = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3A)
        shfmt = e + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x2E)
        shfmt = e + "IIIIIIIIII"
    secs = [struct.unpack_from(shfmt, data, shoff + i * shentsize) for i in range(shnum)]
    names_at = secs[shstrndx][4]
    for sec in secs:
        start = names_at + sec[0]
        if data[start : data.index(b"\0", start)] == b".modinfo":
            blob = data[sec[4] : sec[4] + sec[5]]
            return [
                raw[8:].decode("utf-8", "replace")
                for raw in blob.split(b"\0")
                if raw.startswith(b"license=")
            ]
    return []


def ko_path(moddir: Path, module: str) -> Path | None:
    for ext in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        path = moddir / "kernel" / (module + ext)
        if path.exists():
            return path
    return None


class SourceIndex:
    """Plain-regex facts of the .c/.h files under a directory, to sort mismatches into families:
    every ``...EXPORT_...(sym`` call (any macro with EXPORT_ in its name), the ``#define``s that
    mention EXPORT_, object-like ``#define A B`` renames, ``#include "x.c"`` and the arguments of
    ``MODULE_LICENSE``. Nothing here comes from kmodlint."""

    def __init__(self, tree: Path, top: str) -> None:
        self.tree = tree
        self.by_symbol: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        self.export_macros: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.renamed_to: dict[str, list[tuple[str, str, int]]] = defaultdict(list)  # B -> A
        self.includes: dict[str, list[str]] = defaultdict(list)  # file -> #include'd .c
        self.licenses: dict[str, list[tuple[int, str]]] = defaultdict(list)  # MODULE_LICENSE(x)
        for dirpath, dirnames, filenames in os.walk(tree / top):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    self._scan(os.path.join(dirpath, name))

    def _scan(self, full: str) -> None:
        rel = os.path.relpath(full, self.tree)
        with open(full, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        for m in INCLUDE_C.finditer(text):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
            self.includes[rel].append(target)
        for m in LICENSE_CALL.finditer(text):
            self.licenses[rel].append((text.count("\n", 0, m.start()) + 1, m.group(1).strip()))
        for m in RENAME.finditer(text):
            if m.group(1) != m.group(2):
                self.renamed_to[m.group(2)].append(
                    (m.group(1), rel, text.count("\n", 0, m.start()) + 1)
                )
        if "EXPORT_" not in text:
            return
        for lineno, line in enumerate(text.splitlines(), 1):
            if "EXPORT_" not in line:
                continue
            if DEFINE.match(line):
                self.export_macros[rel].append((lineno, line.strip()[:100]))
                continue
            for m in EXPORT_CALL.finditer(line):
                self.by_symbol[m.group(2)].append((rel, lineno, m.group(1)))

    def included(self, files: set[str]) -> set[str]:
        """The .c files #include'd, directly or not, by files (files themselves left out)."""
        seen: set[str] = set()
        todo = [inc for f in files for inc in self.includes.get(f, [])]
        while todo:
            f = todo.pop()
            if f not in seen and f not in files:
                seen.add(f)
                todo += self.includes.get(f, [])
        return seen


# --------------------------------------------------------------------------- kmodlint


class Kmodlint:
    def __init__(self, command: str | None) -> None:
        self.env = dict(os.environ)
        if command:
            self.cmd = shlex.split(command)
        else:
            self.cmd = [sys.executable, "-m", "kmodlint"]
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p
            )
        self.peak_rss_mb = 0  # of the last run

    def symbols(
        self, paths: list[str], cwd: Path, extra: list[str], log_file: Path, tag: str
    ) -> tuple[dict[str, Any], float, list[str]]:
        """(parsed JSON, wall seconds, command) of one cold `kmodlint symbols` run."""
        cmd = [*self.cmd, "symbols", *paths, "--kernel", "none", "--format", "json", *extra]
        with tempfile.TemporaryDirectory(prefix="kmodlint-cache-") as cache:
            env = dict(self.env, KMODLINT_CACHE_DIR=cache)
            with open(log_file, "a", encoding="utf-8") as err, tempfile.TemporaryFile() as out:
                err.write(f"\n===== {tag}: (cd {cwd} && {shlex.join(cmd)})\n")
                err.flush()
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
                # wait4: this run's own peak, the largest of kmodlint and its workers
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                wall = time.perf_counter() - start
                self.peak_rss_mb = usage.ru_maxrss // 1024
                err.write(
                    f"===== {tag}: exit {proc.returncode}, {wall:.1f}s, "
                    f"peak RSS {self.peak_rss_mb} MB\n"
                )
                out.seek(0)
                raw = out.read()
        if proc.returncode not in (0, 1):
            raise BenchError(f"{shlex.join(cmd)} failed (exit {proc.returncode}); see {log_file}")
        try:
            return json.loads(raw), wall, cmd
        except ValueError as exc:
            raise BenchError(
                f"{shlex.join(cmd)}: output is not JSON ({exc}); see {log_file}"
            ) from exc


def slim(doc: dict[str, Any]) -> dict[str, Any]:
    """What this script uses of a symbols document (the raw one is large)."""
    keep = ("name", "path", "origin", "licenses", "exports", "source")
    return {
        "files": doc.get("files", {}),
        "modules": [{k: m.get(k) for k in keep} for m in doc.get("modules", [])],
    }


def run_dir(
    kml: Kmodlint, inputs: Inputs, top: str, args: argparse.Namespace, log_file: Path
) -> dict[str, Any]:
    """kmodlint's result for one top directory (or the saved one with --reuse-raw)."""
    saved = (
        Path(args.raw_dir or ".") / f"{top.replace('/', '_')}{'-noast' if args.no_ast else ''}.json"
    )
    if args.raw_dir and args.reuse_raw and saved.is_file():
        log(f"{top}: reusing {saved}")
        return json.loads(saved.read_text()) | {"reused": str(saved)}
    extra = ["--config", str(inputs.config), "--no-cache", "-j", str(args.jobs)]
    if args.no_ast:
        extra.append("--no-ast")
    log(f"{top}: kmodlint symbols ({'token path only' if args.no_ast else 'with the AST'})")
    doc, wall, cmd = kml.symbols([top], inputs.tree, extra, log_file, top)
    result = slim(doc) | {
        "wall_s": round(wall, 2),
        "peak_rss_mb": kml.peak_rss_mb,
        "command": shlex.join(cmd),
    }
    log(f"{top}: {len(result['modules'])} modules in {wall:.1f}s")
    if args.raw_dir:
        Path(args.raw_dir).mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(result))
    return result


# --------------------------------------------------------------------------- scoring


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def resolve_modules(
    modules: list[dict[str, Any]], order: set[str], by_stem: dict[str, list[str]]
) -> dict[str, Any]:
    """Map kmodlint's modules to modules.order paths (dirname(Kbuild)/name, else a unique
    .ko of that name below the Kbuild directory: obj-m += sub/foo.o)."""
    built: dict[str, dict[str, Any]] = {}
    below, not_built, duplicates = [], [], []
    for m in modules:
        kdir = os.path.dirname(m["path"])
        path = f"{kdir}/{m['name']}" if kdir else m["name"]
        if path not in order:
            under = [p for p in by_stem.get(m["name"], []) if p.startswith(kdir + "/")]
            if len(under) == 1:
                below.append(f"{m['source']['location']}: {m['name']} -> {under[0]}")
                path = under[0]
            else:
                not_built.append(f"{m['source']['location']}: {m['name']}")
                continue
        if path in built:
            duplicates.append(
                f"{path} ({built[path]['source']['location']}, {m['source']['location']})"
            )
            continue
        built[path] = m
    return {"built": built, "below": below, "not_built": not_built, "duplicates": duplicates}


def export_key(symbol: str, module: str, kind: str, ns: str | None, level: int) -> tuple:
    return (symbol, module, kind, ns)[: level + 2]


def where(e: dict[str, Any]) -> str:
    return f"{e.get('file')}:{e.get('line')}"


def score_exports(
    top: str,
    built: dict[str, dict[str, Any]],
    rows: list[SymversRow],
    all_rows: dict[str, SymversRow],
    index: SourceIndex,
) -> dict[str, Any]:
    expected = [r for r in rows if r.module.startswith(top + "/")]
    found: list[tuple[str, dict[str, Any]]] = [
        (path, e) for path, m in built.items() for e in m.get("exports") or []
    ]
    levels = {}
    for level, name in enumerate(LEVELS):
        exp = {export_key(r.symbol, r.module, r.kind, r.namespace, level) for r in expected}
        got = {export_key(e["symbol"], p, e["kind"], e.get("namespace"), level) for p, e in found}
        tp = len(exp & got)
        levels[name] = {
            "expected": len(exp),
            "found": len(got),
            "matched": tp,
            "recall": ratio(tp, len(exp)),
            "precision": ratio(tp, len(got)),
        }

    families: dict[str, list[str]] = defaultdict(list)
    # kmodlint's exports by (symbol, module) and by symbol
    ours: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    ours_by_symbol: dict[str, list[str]] = defaultdict(list)
    for path, e in found:
        ours[(e["symbol"], path)].append(e)
        ours_by_symbol[e["symbol"]].append(path)
    for (sym, path), entries in ours.items():
        if len(entries) > 1:
            families["duplicate: exported more than once by one module (kmodlint)"].append(
                f"{sym} in {path}: " + ", ".join(f"{x['kind']} at {where(x)}" for x in entries)
            )

    for r in expected:
        mine = ours.get((r.symbol, r.module))
        if mine:
            if not any(x["kind"] == r.kind for x in mine):
                families[f"wrong kind: {r.kind} in the build, kmodlint says otherwise"].append(
                    f"{r.symbol} ({r.module}): kmodlint "
                    + ", ".join(f"{x['kind']} at {where(x)}" for x in mine)
                )
            elif not any(x["kind"] == r.kind and x.get("namespace") == r.namespace for x in mine):
                fam = (
                    "wrong namespace: namespace missed"
                    if r.namespace and not any(x.get("namespace") for x in mine)
                    else "wrong namespace: namespace invented"
                    if not r.namespace
                    else "wrong namespace: a different namespace"
                )
                families[fam].append(
                    f"{r.symbol} ({r.module}): build {r.namespace!r}, kmodlint "
                    + ", ".join(f"{x.get('namespace')!r} at {where(x)}" for x in mine)
                )
            continue
        fam, example = classify_missing(r, built, ours_by_symbol, index)
        families[fam].append(example)

    expected_pairs = {(r.symbol, r.module) for r in expected}
    for (sym, path), entries in ours.items():
        if (sym, path) in expected_pairs:
            continue
        loc = ", ".join(f"{x['kind']} at {where(x)}" for x in entries)
        first = entries[0]
        cond = (
            enclosing_condition(index.tree / first["file"], first["line"])
            if first.get("file") and isinstance(first.get("line"), int)
            else None
        )
        if cond:
            loc += f" under `{cond}`"
        fam, example = classify_invented(sym, path, loc, all_rows, index)
        families[fam].append(example)

    return {
        "symvers_rows": len(expected),
        "kmodlint_exports": len(found),
        "levels": levels,
        "families": {
            k: {"count": len(v), "examples": v[:EXAMPLES]}
            for k, v in sorted(families.items(), key=lambda kv: -len(kv[1]))
        },
    }


def sites_text(sites: list[tuple[str, int, str]], tree: Path | None = None) -> str:
    """`MACRO at file:line`, with the innermost #if around it when tree is given."""
    out = []
    for file, line, macro in sites[:2]:
        text = f"{macro} at {file}:{line}"
        cond = enclosing_condition(tree / file, line) if tree else None
        out.append(text + (f" under `{cond}`" if cond else ""))
    return ", ".join(out)


def enclosing_condition(path: Path, line: int) -> str | None:
    """The innermost preprocessor conditional open at line (`#else` shown with its #if)."""
    stack: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for lineno, text in enumerate(lines[: line - 1], 1):
        m = CONDITIONAL.match(text)
        if not m:
            continue
        what, rest = m.group(1), m.group(2).split("/*")[0].strip()
        if what.startswith("if"):
            stack.append(f"#{what} {rest} (line {lineno})")
        elif what == "endif":
            if stack:
                stack.pop()
        elif stack:
            stack[-1] = f"#{what} {rest}".strip() + f" (line {lineno}) of {stack[-1]}"
    return stack[-1] if stack else None


def classify_missing(
    r: SymversRow,
    built: dict[str, dict[str, Any]],
    ours_by_symbol: dict[str, list[str]],
    index: SourceIndex,
) -> tuple[str, str]:
    """Family and example line of a Module.symvers row kmodlint did not find in its module."""
    module = built.get(r.module)
    head = f"{r.symbol} ({r.module}, {r.kind}{', ' + r.namespace if r.namespace else ''})"
    if module is None:
        return "missed: module not found by kmodlint", head
    if r.symbol in ours_by_symbol:
        return (
            "missed: kmodlint exports it from another module",
            f"{head}: kmodlint {', '.join(ours_by_symbol[r.symbol])}",
        )
    files = set(module["source"].get("files") or [])
    included = index.included(files)
    name = r.symbol
    for prefix in TRACEPOINT_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            sites = [s for s in index.by_symbol.get(name, []) if "TRACEPOINT" in s[2]]
            where_ = "" if any(s[0] in files for s in sites) else " (not in the module's files)"
            return (
                "missed: EXPORT_TRACEPOINT_SYMBOL*(tp) -> __tracepoint_/__traceiter_/"
                "__SCK__tp_func_/__SCT__tp_func_ tp" + where_,
                f"{head}: {sites_text(sites) or 'no EXPORT_TRACEPOINT_SYMBOL site found'}",
            )
    sites = index.by_symbol.get(r.symbol, [])
    inside = [s for s in sites if s[0] in files]
    if inside:
        macro = inside[0][2]
        fam = (
            "missed: plain EXPORT_SYMBOL*(sym) in one of the module's files"
            if macro in PLAIN_EXPORTS
            else f"missed: wrapper macro {macro}(sym) in one of the module's files"
        )
        return fam, f"{head}: {sites_text(inside, index.tree)}"
    via_include = [s for s in sites if s[0] in included]
    if via_include:
        return (
            "missed: EXPORT_*(sym) in a .c file #include'd by the module's files",
            f"{head}: {sites_text(via_include, index.tree)}",
        )
    if sites:
        return (
            "missed: EXPORT_*(sym) only in a file not among the module's sources",
            f"{head}: {sites_text(sites)}",
        )
    for alias, file, line in index.renamed_to.get(r.symbol, []):
        alias_sites = [s for s in index.by_symbol.get(alias, []) if s[0] in files | included]
        if alias_sites:
            return (
                "missed: EXPORT_*(A) with an object-like `#define A sym` renaming it",
                f"{head}: {sites_text(alias_sites)}, #define {alias} at {file}:{line}",
            )
    hints = [
        f"{f}:{ln} {text}"
        for f in sorted(files | included)
        for ln, text in index.export_macros.get(f, [])
    ]
    return (
        "missed: no EXPORT_*(sym) call under the directory (name built by a macro)",
        head + (f"; export #define in the module: {hints[0]}" if hints else ""),
    )


def classify_invented(
    sym: str, path: str, loc: str, all_rows: dict[str, SymversRow], index: SourceIndex
) -> tuple[str, str]:
    """Family and example line of an export kmodlint found that the build's module lacks."""
    renames = [
        (target, file, line)
        for target, entries in index.renamed_to.items()
        for alias, file, line in entries
        if alias == sym and target in all_rows
    ]
    if renames:
        target, file, line = renames[0]
        return (
            "invented: the name before an object-like `#define sym real` (build exports real)",
            f"{sym} ({path}): {loc}; #define {sym} {target} at {file}:{line}, build "
            f"exports {target} from {all_rows[target].module}",
        )
    real = all_rows.get(sym)
    if real is not None and real.module == "vmlinux":
        return "invented: the build exports it from vmlinux (built-in)", f"{sym} ({path}): {loc}"
    if real is not None:
        return (
            "invented: the build exports it from another module",
            f"{sym}: kmodlint {path} ({loc}), build {real.module}",
        )
    return (
        "invented: symbol not exported by the build at all (#if/config/not compiled?)",
        f"{sym} ({path}): {loc}",
    )


def classify_license(
    m: dict[str, Any], mine: list[str], truth: list[str], index: SourceIndex
) -> str:
    files = set(m["source"].get("files") or [])
    calls = [(f, ln, arg) for f in sorted(files) for ln, arg in index.licenses.get(f, [])]
    if any(not arg.startswith('"') for _, _, arg in calls):
        return "MODULE_LICENSE(MACRO): a macro argument, not expanded"
    included = index.included(files)
    if any(index.licenses.get(f) for f in included):
        return "MODULE_LICENSE in a .c file #include'd by the module's files"
    if set(mine) > set(truth):
        return "kmodlint has a licence the .ko lacks"
    return "other"


def score_licenses(
    built: dict[str, dict[str, Any]], moddir: Path, index: SourceIndex
) -> dict[str, Any]:
    same, compared, unreadable = 0, 0, []
    differ: dict[str, list[str]] = defaultdict(list)
    for path, m in sorted(built.items()):
        ko = ko_path(moddir, path)
        truth = modinfo_licenses(ko) if ko else None
        if truth is None:
            unreadable.append(path)
            continue
        compared += 1
        mine = m.get("licenses") or []
        if set(mine) == set(truth):
            same += 1
        else:
            differ[classify_license(m, mine, truth, index)].append(
                f"{path} ({m['source']['location']}): kmodlint {mine}, .ko {truth}"
            )
    return {
        "compared": compared,
        "identical": same,
        "share": ratio(same, compared),
        "different": sum(map(len, differ.values())),
        "families": {
            k: {"count": len(v), "examples": v[:EXAMPLES]}
            for k, v in sorted(differ.items(), key=lambda kv: -len(kv[1]))
        },
        "unreadable_ko": unreadable[:EXAMPLES],
    }


def unparsed_families(unparsed: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Unparsed files grouped by the file the parser stopped in (a header for many) and the
    message: one broken header shows up once, with its count."""
    groups: dict[str, list[str]] = defaultdict(list)
    for file, why in sorted(unparsed.items()):
        m = PARSE_ERROR.match(why)
        if m:
            where_ = "(the file itself)" if m.group(1) == file else os.path.normpath(m.group(1))
            key = f"{where_}: {m.group(3)}" + (f" (line {m.group(2)})" if where_[0] != "(" else "")
        else:
            key = why[:80]
        groups[key].append(f"{file}: {why}")
    return {
        k: {"count": len(v), "examples": v[:3]}
        for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    }


def measure(
    top: str,
    result: dict[str, Any],
    inputs: Inputs,
    rows: list[SymversRow],
    all_rows: dict[str, SymversRow],
    order: list[str],
    no_ast: bool,
) -> dict[str, Any]:
    order_here = [p for p in order if p.startswith(top + "/")]
    by_stem: dict[str, list[str]] = defaultdict(list)
    for p in order_here:
        by_stem[os.path.basename(p)].append(p)
    res = resolve_modules(result["modules"], set(order_here), by_stem)
    built = res["built"]
    files = result["files"]
    unparsed = {f: why for m in result["modules"] for f, why in m["source"]["unparsed"].items()}
    start = time.perf_counter()
    index = SourceIndex(inputs.tree, top)
    log(f"{top}: source index (regex) in {time.perf_counter() - start:.1f}s")
    missing = sorted(set(order_here) - set(built))
    out = {
        "command": result.get("command"),
        "reused": result.get("reused"),
        "wall_s": result["wall_s"],
        "peak_rss_mb": result.get("peak_rss_mb"),
        "c_files": files.get("c_files", 0),
        "with_ast": None if no_ast else files.get("with_ast", 0),
        "skipped_by_config": files.get("skipped_by_config"),
        "ast_share": None if no_ast else ratio(files.get("with_ast", 0), files.get("c_files", 0)),
        "unparsed": len(unparsed),
        "unparsed_by_error": unparsed_families(unparsed),
        "unparsed_examples": [f"{f}: {why}" for f, why in sorted(unparsed.items())[:EXAMPLES]],
        "files_per_s": round(files.get("c_files", 0) / result["wall_s"], 1)
        if result["wall_s"]
        else None,
        "modules": {
            "kmodlint": len(result["modules"]),
            "built_in_modules_order": len(order_here),
            "matched": len(built),
            "matched_below_kbuild_dir": len(res["below"]),
            "kmodlint_not_in_modules_order": len(res["not_built"]),
            "of_which_stray_c_files": sum(".c:" in x.split(": ")[0] for x in res["not_built"]),
            "modules_order_not_found": len(missing),
            "duplicates": res["duplicates"][:EXAMPLES],
            "examples_not_in_modules_order": res["not_built"][:EXAMPLES],
            "examples_not_found": missing[:EXAMPLES],
        },
        "exports": score_exports(top, built, rows, all_rows, index),
        "licenses": score_licenses(built, inputs.modules_dir, index),
    }
    return out


def total(per_dir: dict[str, dict[str, Any]], no_ast: bool) -> dict[str, Any]:
    """Sums over the directories (the shares recomputed from the sums)."""
    s = Counter()
    fams: dict[str, dict[str, Any]] = {}
    lic_fams: dict[str, dict[str, Any]] = {}
    for r in per_dir.values():
        s["wall_s"] += r["wall_s"]
        s["c_files"] += r["c_files"]
        s["with_ast"] += r["with_ast"] or 0
        s["unparsed"] += r["unparsed"]
        for k in ("kmodlint", "built_in_modules_order", "matched", "modules_order_not_found"):
            s[f"modules.{k}"] += r["modules"][k]
        for k in ("kmodlint_not_in_modules_order", "of_which_stray_c_files"):
            s[f"modules.{k}"] += r["modules"][k]
        for level in LEVELS:
            for k in ("expected", "found", "matched"):
                s[f"{level}.{k}"] += r["exports"]["levels"][level][k]
        for k in ("compared", "identical"):
            s[f"lic.{k}"] += r["licenses"][k]
        for into, src in ((fams, r["exports"]), (lic_fams, r["licenses"])):
            for name, fam in src["families"].items():
                f = into.setdefault(name, {"count": 0, "examples": []})
                f["count"] += fam["count"]
                f["examples"] = (f["examples"] + fam["examples"])[:EXAMPLES]
    return {
        "wall_s": round(s["wall_s"], 2),
        "peak_rss_mb": max((r.get("peak_rss_mb") or 0 for r in per_dir.values()), default=0)
        or None,
        "c_files": s["c_files"],
        "with_ast": None if no_ast else s["with_ast"],
        "ast_share": None if no_ast else ratio(s["with_ast"], s["c_files"]),
        "unparsed": s["unparsed"],
        "files_per_s": round(s["c_files"] / s["wall_s"], 1) if s["wall_s"] else None,
        "modules": {k.split(".", 1)[1]: v for k, v in s.items() if k.startswith("modules.")},
        "exports": {
            "levels": {
                level: {
                    "expected": s[f"{level}.expected"],
                    "found": s[f"{level}.found"],
                    "matched": s[f"{level}.matched"],
                    "recall": ratio(s[f"{level}.matched"], s[f"{level}.expected"]),
                    "precision": ratio(s[f"{level}.matched"], s[f"{level}.found"]),
                }
                for level in LEVELS
            },
            "families": dict(sorted(fams.items(), key=lambda kv: -kv[1]["count"])),
        },
        "licenses": {
            "compared": s["lic.compared"],
            "identical": s["lic.identical"],
            "share": ratio(s["lic.identical"], s["lic.compared"]),
            "families": dict(sorted(lic_fams.items(), key=lambda kv: -kv[1]["count"])),
        },
    }


# --------------------------------------------------------------------------- report


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.2f}%"


def verdict(v: float | None, target: float) -> str:
    if v is None:
        return f"(target >= {target * 100:g}%)"
    return f"(target >= {target * 100:g}%: {'met' if v >= target else 'NOT met'})"


def report_dir(out: list[str], name: str, r: dict[str, Any], detail: bool) -> None:
    m = r["modules"]
    out.append(f"\n== {name}")
    if r.get("reused"):
        out.append(f"  (kmodlint's result and time from the saved run {r['reused']})")
    out.append(
        f"  time: {r['wall_s']:.1f}s cold for {r['c_files']} .c files"
        f" ({r['files_per_s']} files/s)"
        + (f", peak RSS {r['peak_rss_mb']} MB per process" if r.get("peak_rss_mb") else "")
        + (
            f"; {r['skipped_by_config']} objects skipped by the config"
            if "skipped_by_config" in r
            else ""
        )
    )
    if r["with_ast"] is None:
        out.append("  full AST: not measured (--no-ast)")
    else:
        out.append(
            f"  full AST: {r['with_ast']}/{r['c_files']} = {pct(r['ast_share'])} "
            f"{verdict(r['ast_share'], TARGETS['ast'])}; unparsed (KM901): {r['unparsed']}"
        )
    out.append(
        f"  modules: kmodlint {m['kmodlint']}, modules.order {m['built_in_modules_order']}, "
        f"matched {m['matched']}, kmodlint-only (not built as a module) "
        f"{m['kmodlint_not_in_modules_order']}"
        + (
            f" ({m['of_which_stray_c_files']} of them .c files no Kbuild names)"
            if m.get("of_which_stray_c_files")
            else ""
        )
        + f", built but not found {m['modules_order_not_found']}"
    )
    for level, s in r["exports"]["levels"].items():
        out.append(
            f"  exports {level:14s}: symvers {s['expected']}, kmodlint {s['found']}, "
            f"matched {s['matched']}; recall {pct(s['recall'])} "
            f"{verdict(s['recall'], TARGETS['recall'])}, precision {pct(s['precision'])} "
            f"{verdict(s['precision'], TARGETS['precision'])}"
        )
    lic = r["licenses"]
    out.append(
        f"  licences identical: {lic['identical']}/{lic['compared']} = {pct(lic['share'])} "
        f"{verdict(lic['share'], TARGETS['licenses'])}"
    )
    if not detail:
        return
    for key in ("examples_not_found", "examples_not_in_modules_order", "duplicates"):
        for ex in m.get(key, []):
            out.append(f"    {key.removeprefix('examples_')}: {ex}")
    for key, f in list(r.get("unparsed_by_error", {}).items())[:EXAMPLES]:
        out.append(f"  [{f['count']}] unparsed, stops at {key}; e.g. {f['examples'][0]}")
    for fam, f in lic.get("families", {}).items():
        out.append(f"  [{f['count']}] licence differs: {fam}")
        for ex in f["examples"]:
            out.append(f"      {ex}")
    for fam, f in r["exports"]["families"].items():
        out.append(f"  [{f['count']}] {fam}")
        for ex in f["examples"]:
            out.append(f"      {ex}")


def report(doc: dict[str, Any]) -> str:
    env = doc["environment"]
    out = [
        f"kmodlint C front end on {env['source_tree']} "
        f"({'token path only, --no-ast' if env['no_ast'] else 'with the AST'}, -j {env['jobs']})",
        f"  config {env['config']}",
        f"  Module.symvers {env['symvers']}",
        f"  modules {env['modules_dir']}",
        f"  kmodlint stderr: {env['log']}",
        f"  kmodlint checkout {env['kmodlint_commit']}, python {env['python']}, "
        f"{env['cpus']} CPUs, load average before {env['load_average_before']} "
        f"after {env.get('load_average_after')}",
    ]
    out += [f"  note: {n}" for n in env.get("notes", [])]
    for top, r in doc["dirs"].items():
        out.append(f"  command ({top}): (cd {env['source_tree']} && {r['command']})")
    for top, r in doc["dirs"].items():
        report_dir(out, top, r, detail=True)
    if len(doc["dirs"]) > 1:
        report_dir(out, "total (" + " + ".join(doc["dirs"]) + ")", doc["total"], detail=False)
        out.append("\n== total mismatch families (all directories)")
        for fam, f in doc["total"]["exports"]["families"].items():
            out.append(f"  [{f['count']}] {fam}")
        if not doc["total"]["exports"]["families"]:
            out.append("  (none)")
        for fam, f in doc["total"]["licenses"]["families"].items():
            out.append(f"  [{f['count']}] licence differs: {fam}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def git_state() -> str | None:
    """The checkout's commit, `-dirty` when its working tree has changes."""
    proc = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dirs",
        nargs="+",
        default=DEFAULT_DIRS,
        help=f"top directories ({' '.join(DEFAULT_DIRS)})",
    )
    parser.add_argument("--no-ast", action="store_true", help="token path only (kmodlint --no-ast)")
    parser.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1, help="kmodlint -j (all CPUs)"
    )
    parser.add_argument(
        "--cache",
        default=DEFAULT_CACHE if os.path.isdir(DEFAULT_CACHE) else "~/.cache/kmodlint-bench",
        help=f"download/extract directory (default {DEFAULT_CACHE} if present, else "
        "~/.cache/kmodlint-bench)",
    )
    parser.add_argument("--source-tree", help=f"extracted {SOURCE_PKG} (default: fetched)")
    parser.add_argument("--config", help=f"kernel .config (default: {IMAGE_PKG}'s)")
    parser.add_argument("--symvers", help=f"Module.symvers (default: {HEADERS_PKG}'s)")
    parser.add_argument("--modules-dir", help=f"lib/modules/{ABI} (default: {IMAGE_PKG}'s)")
    parser.add_argument("--refresh", action="store_true", help="download packages again")
    parser.add_argument(
        "--kmodlint", help="kmodlint command (default: python -m kmodlint from this checkout)"
    )
    parser.add_argument("--log", help="kmodlint's stderr (default: CACHE/realworld_sources.log)")
    parser.add_argument("--raw-dir", help="save kmodlint's (slimmed) results per directory here")
    parser.add_argument(
        "--reuse-raw",
        action="store_true",
        help="score the results saved in --raw-dir instead of running kmodlint again",
    )
    parser.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    args = parser.parse_args(argv)
    try:
        for tool in ("apt-get", "dpkg-deb"):
            if not shutil.which(tool):
                log(f"`{tool}` not found: only already-extracted inputs can be used")
        inputs = resolve_inputs(args)
        log_file = Path(args.log or Path(args.cache).expanduser() / "realworld_sources.log")
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log(f"kmodlint stderr -> {log_file}")
        kml = Kmodlint(args.kmodlint)
        rows = read_symvers(inputs.symvers)
        all_rows = {r.symbol: r for r in rows}
        order = read_order(inputs.modules_dir)
        doc: dict[str, Any] = {
            "environment": {
                "source_tree": str(inputs.tree),
                "config": str(inputs.config),
                "symvers": str(inputs.symvers),
                "modules_dir": str(inputs.modules_dir),
                "log": str(log_file),
                "no_ast": args.no_ast,
                "jobs": args.jobs,
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "kmodlint_command": shlex.join(kml.cmd),
                "kmodlint_commit": git_state(),
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
                "notes": inputs.notes,
                "targets": TARGETS,
            },
            "dirs": {},
        }
        for top in args.dirs:
            result = run_dir(kml, inputs, top, args, log_file)
            doc["dirs"][top] = measure(top, result, inputs, rows, all_rows, order, args.no_ast)
        doc["total"] = total(doc["dirs"], args.no_ast)
        doc["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = report(doc)
    sys.stdout.write(text)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
