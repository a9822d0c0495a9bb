#!/usr/bin/env python3
"""What kmodlint reports on a real kernel tree, from its sources and from its built modules.

Runs ``kmodlint check`` (plus ``symbols`` and ``deps``) on Debian's ``linux-source-6.1`` with
Debian's ``.config`` and ``--kernel`` the matching headers folder (cwd = the source root,
``--dirs``, default drivers sound net fs crypto lib block security virt arch/x86, all in one run)
and the same commands on the built ``.ko`` tree of that kernel (``lib/modules/6.1.0-56-amd64``),
then prints:

1. per side, the errors per rule (target: 0, every module there builds and loads) with every
   error listed (file:line, message, the source line), grouped into families (the message with
   quoted names and numbers blanked);
2. per rule, the warning count and ``--samples`` warnings drawn with a seeded random generator,
   each with the text of its source line, for a human to judge;
3. source-vs-binary agreement on the modules found on both sides (a source module is matched to
   ``dirname(Kbuild)/name`` in ``modules.order``, as realworld_sources.py does): licences and
   exports (symbol, kind, namespace) and namespace imports (``import_ns``) from ``symbols``;
   imports from other matched modules and the dependency edges and cycles between them from
   ``deps`` (a source module's resolved imports are in no other output: ``symbols`` lists only
   its extern-declared references as ``undefined``); GPL-only imports of the modules that are
   not GPL-compatible; the findings of the rules both sides check (licence, GPL-only,
   unresolved, namespaces, cycles, exports: imports of vmlinux and of modules outside the
   dirs are compared through these); every disagreement sorted into families with counts and
   examples (all of them in the JSON);
4. wall time (``check`` cold: a fresh ``KMODLINT_CACHE_DIR`` per side; ``symbols`` and
   ``deps`` then reuse that cache, they are not the measured runs) and files per side.

Inputs are taken from ``--source-tree``, ``--config``, ``--headers`` and ``--modules-dir`` or
the already-extracted copies listed below; otherwise the Debian packages are fetched and
extracted with the helpers of realworld_sources.py / realworld_binaries.py into ``--cache``.
``--rev REV`` runs kmodlint as committed at REV (``git archive`` into ``--out-dir``), not the
working tree. kmodlint's stderr goes to ``--log``; its notes are kept in the report. Raw
outputs are saved in ``--out-dir``; ``--reuse`` scores saved outputs without running kmodlint.

Example::

    .venv/bin/python benchmarks/realworld_findings.py --side binary -j 2 \\
        --out-dir /work/cache/findings/bin --json /work/cache/findings/bin.json
    .venv/bin/python benchmarks/realworld_findings.py --dirs sound fs net drivers/net -j 2 \\
        --out-dir /work/cache/findings/run --json /work/cache/findings/run.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realworld_binaries import BenchError, Packages, log
from realworld_sources import (
    ABI,
    HEADERS_PKG,
    IMAGE_PKG,
    SOURCE_PKG,
    SOURCE_VERSION,
    first_existing,
    git_state,
    read_order,
    resolve_modules,
    source_tree,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [
    "drivers",
    "sound",
    "net",
    "fs",
    "crypto",
    "lib",
    "block",
    "security",
    "virt",
    "arch/x86",
]
DEFAULT_CACHE = "/work/cache/debian"
DEFAULT_OUT = "/work/cache/findings"
# Copies already extracted on the development machine, used before anything is fetched.
KNOWN_SOURCE_TREES = [f"/work/cache/linux-source/x/usr/src/{SOURCE_PKG}"]
KNOWN_CONFIGS = [f"/work/cache/image/x/boot/config-{ABI}", f"/boot/config-{ABI}"]
KNOWN_MODULES = [f"/work/cache/image/x/lib/modules/{ABI}", f"/lib/modules/{ABI}"]
KNOWN_HEADERS = [f"/usr/src/linux-headers-{ABI}"]
HEADER_FILES = ("Module.symvers", "include/generated/utsrelease.h", "include/config/auto.conf")
SIDES = ("source", "binary")
EXAMPLES = 10
NOTE_LINES = 20
TRACEPOINT_PREFIXES = ("__tracepoint_", "__traceiter_", "__SCK__tp_func_", "__SCT__tp_func_")
# Symbols the compiler or the build adds to an object: never named in the C source.
COMPILER_SYMBOLS = re.compile(
    r"^(__fentry__|__x86_indirect_thunk_\w+|__x86_return_thunk|__x86_indirect_call_thunk_\w+"
    r"|__stack_chk_fail|__stack_chk_guard|__ubsan_\w+|__asan_\w+|__kasan_\w+|__tsan_\w+"
    r"|__sanitizer_\w+|__fortify_panic|fortify_panic|memcpy|memset|memmove|memcmp|strlen"
    r"|__memcpy|__memset|__udivdi3|__divdi3|__umoddi3|__moddi3|__put_user_\w+|__get_user_\w+"
    r"|__x86_\w+|__static_call_return0|__cfi_\w+|__this_module"
    r"|__per_cpu_offset|this_cpu_off|__preempt_count|pcpu_hot|current_task|__ref_stack_chk_guard)$"
)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
NUMBER = re.compile(r"\b\d+\b")


# --------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    tree: Path
    config: Path
    headers: Path
    modules_dir: Path
    notes: list[str] = field(default_factory=list)


def headers_dir(pkgs: Packages) -> Path:
    """The flavour's headers folder (Module.symvers, utsrelease.h, auto.conf) from the cache."""
    root = pkgs.extract(HEADERS_PKG)
    return root / "usr" / "src" / HEADERS_PKG


def resolve_inputs(args: argparse.Namespace, sides: tuple[str, ...]) -> Inputs:
    pkgs = Packages(Path(args.cache).expanduser(), args.refresh)
    notes: list[str] = []
    tree = Path(args.source_tree) if args.source_tree else first_existing(KNOWN_SOURCE_TREES)
    if tree is None and "source" in sides:
        tree = source_tree(pkgs)
        deb = pkgs.deb(SOURCE_PKG)
        if SOURCE_VERSION not in deb.name:
            notes.append(f"{deb.name} is not {SOURCE_VERSION}: sources may differ from the build")
    config = Path(args.config) if args.config else first_existing(KNOWN_CONFIGS)
    moddir = Path(args.modules_dir) if args.modules_dir else first_existing(KNOWN_MODULES)
    if config is None or moddir is None:
        image = pkgs.extract(IMAGE_PKG)
        config = config or image / "boot" / f"config-{ABI}"
        moddir = moddir or image / "lib" / "modules" / ABI
    headers = Path(args.headers) if args.headers else first_existing(KNOWN_HEADERS)
    if headers is None:
        headers = headers_dir(pkgs)
    checks = [("config", config), ("modules dir", moddir), ("headers", headers)]
    if "source" in sides:
        checks.append(("source tree", tree or Path("?")))
    for what, path in checks:
        if not path.exists():
            raise BenchError(f"{what} {path} does not exist")
    for rel in HEADER_FILES:
        if not (headers / rel).is_file():
            raise BenchError(f"headers folder {headers} has no {rel}")
    if not (moddir / "modules.order").is_file():
        raise BenchError(f"{moddir} has no modules.order")
    return Inputs(
        (tree or Path("/nonexistent")).resolve(),
        config.resolve(),
        headers.resolve(),
        moddir.resolve(),
        notes + pkgs.notes,
    )


@dataclass(frozen=True)
class Export:
    module: str  # modules.order path (kernel/ and .ko stripped) or "vmlinux"
    kind: str
    namespace: str | None


def read_symvers(path: Path) -> dict[str, Export]:
    table = {}
    for line in path.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 4 and cols[0].startswith("0x"):
            ns = cols[4] if len(cols) > 4 and cols[4] else None
            table[cols[1]] = Export(cols[2], cols[3], ns)
    return table


# --------------------------------------------------------------------------- kmodlint


def export_rev(rev: str, cache: Path) -> tuple[Path, str]:
    """kmodlint as committed at rev, unpacked into cache (rules/ placed as kmodlint/rules, as
    the package installs it); (folder for PYTHONPATH, full commit hash)."""
    full = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = cache / f"kmodlint-{full[:12]}"
    stamp = target / ".exported"
    if not stamp.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        data = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", full, "kmodlint", "rules"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(target, filter="data")
        if (target / "rules").is_dir() and not (target / "kmodlint" / "rules").exists():
            shutil.move(str(target / "rules"), str(target / "kmodlint" / "rules"))
        stamp.touch()
    return target, full


@dataclass
class RunResult:
    command: str
    cwd: str
    rc: int
    wall_s: float
    peak_rss_mb: int
    notes: list[str]
    output: Path


class Kmodlint:
    def __init__(self, command: str | None, rev: str | None, cache: Path) -> None:
        self.env = dict(os.environ)
        self.commit: str | None = None
        if command:
            self.cmd = shlex.split(command)
            self.commit = "(own command)"
        else:
            # -P: the cwd (a kernel tree) never shadows a module
            self.cmd = [sys.executable, "-P", "-m", "kmodlint"]
            if rev:
                root, self.commit = export_rev(rev, cache)
            else:
                root, self.commit = REPO, f"working tree {git_state()}"
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(root), self.env.get("PYTHONPATH", "")) if p
            )
            self.env.pop("KMODLINT_CACHE_DIR", None)

    def run(
        self,
        args: list[str],
        cwd: Path,
        out: Path,
        log_file: Path,
        tag: str,
        cache_dir: str | None,
    ) -> RunResult:
        cmd = [*self.cmd, *args]
        env = dict(self.env)
        if cache_dir:
            env["KMODLINT_CACHE_DIR"] = cache_dir
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as stdout, tempfile.TemporaryFile("w+") as err:
            log(f"{tag}: (cd {cwd} && {shlex.join(cmd)})")
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            rc = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - start
            err.seek(0)
            text = err.read()
        with open(log_file, "a", encoding="utf-8") as handle:
            handle.write(f"\n===== {tag}: (cd {cwd} && {shlex.join(cmd)})\n")
            if cache_dir:
                handle.write(f"===== KMODLINT_CACHE_DIR={cache_dir}\n")
            handle.write(text)
            handle.write(
                f"===== {tag}: exit {rc}, {wall:.1f}s, peak RSS {usage.ru_maxrss // 1024} MB\n"
            )
        log(f"{tag}: exit {rc} in {wall:.1f}s")
        if rc not in (0, 1):
            raise BenchError(f"{shlex.join(cmd)} failed (exit {rc}); see {log_file}")
        notes = [line for line in text.splitlines() if line.strip()][:NOTE_LINES]
        return RunResult(
            shlex.join(cmd), str(cwd), rc, round(wall, 2), usage.ru_maxrss // 1024, notes, out
        )


def load_json(path: Path) -> Any:
    text = path.read_text(encoding="utf-8", errors="replace")
    start = text.find("{")
    if start < 0:
        raise BenchError(f"{path}: no JSON in kmodlint's output")
    try:
        return json.loads(text[start:])
    except ValueError as exc:
        raise BenchError(f"{path}: output is not JSON ({exc})") from exc


def run_side(
    side: str,
    kml: Kmodlint,
    inputs: Inputs,
    args: argparse.Namespace,
    log_file: Path,
    raw: Path,
) -> dict[str, Any]:
    """check (timed, cold), symbols and deps of one side; the raw outputs saved in raw/."""
    meta_file = raw / f"{side}-runs.json"
    if args.reuse is not None and (not args.reuse or side in args.reuse):
        if not meta_file.is_file():
            raise BenchError(f"--reuse: {meta_file} is missing")
        log(f"{side}: reusing the outputs saved in {raw}")
        meta = json.loads(meta_file.read_text())
        meta["reused"] = str(raw)
        return meta
    if side == "source":
        cwd, paths = inputs.tree, list(args.dirs)
        common = ["--config", str(inputs.config)]
    else:
        cwd, paths = inputs.modules_dir, [str(inputs.modules_dir)]
        common = []
    common += ["--kernel", str(inputs.headers), "-j", str(args.jobs)]
    if args.no_cache:
        common.append("--no-cache")
    if args.no_ast:
        common.append("--no-ast")
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"kmodlint-cache-{side}-") as fresh:
        cache_dir = None if args.no_cache else (args.kmodlint_cache or fresh)
        for sub, extra in (
            ("check", ["--format", "json", "--fail-on", "never"]),
            ("symbols", ["--format", "json"]),
            ("deps", ["--format", "json"]),
        ):
            if sub != "check" and args.no_compare:
                continue
            result = kml.run(
                [sub, *paths, *common, *extra],
                cwd,
                raw / f"{side}-{sub}.json",
                log_file,
                f"{side} {sub}",
                cache_dir,
            )
            runs[sub] = {
                "command": result.command,
                "cwd": result.cwd,
                "exit": result.rc,
                "wall_s": result.wall_s,
                "peak_rss_mb": result.peak_rss_mb,
                "notes": result.notes,
                "output": str(result.output),
                "cache": "--no-cache"
                if args.no_cache
                else ("given cache dir" if args.kmodlint_cache else "fresh")
                if sub == "check"
                else "warm (after check)",
            }
    meta = {
        "side": side,
        "paths": paths,
        "cwd": str(cwd),
        "kmodlint_commit": kml.commit,
        "runs": runs,
    }
    meta_file.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


# --------------------------------------------------------------------------- findings


class SourceLines:
    """Lines of the analysed text files (never a .ko), read once each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[str] | None] = {}

    def text(self, path: str | None, line: object) -> str | None:
        if not path or not isinstance(line, int) or line < 1 or ".ko" in os.path.basename(path):
            return None
        if path not in self.files:
            full = Path(path) if os.path.isabs(path) else self.root / path
            try:
                self.files[path] = full.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self.files[path] = None
        lines = self.files[path]
        if lines is None or line > len(lines):
            return None
        return lines[line - 1].strip()[:200]


def shape(f: dict[str, Any]) -> str:
    """The message with quoted names and numbers blanked: one family per message shape."""
    text = str(f.get("message", ""))
    for name in (f.get("module"), f.get("symbol")):
        if name:
            text = re.sub(rf"(?<![\w-]){re.escape(str(name))}(?![\w-])", "…", text)
    if f.get("code") == "KM303":  # the C types differ per finding: keep the sentence only
        text = re.sub(r" as .* but (\S+) defines it as .*", r" as T1 but … defines it as T2", text)
    text = NUMBER.sub("N", QUOTED.sub("'…'", text))
    return f"{f.get('code')} {f.get('rule')}: {text[:110]}{'…' if len(text) > 110 else ''}"


DEFINE_SITE = r"^[ \t]*#[ \t]*define[ \t]+({names})(\()?"
TYPEDEF_SITE = r"\btypedef\b[^;{{}}]*?\b({names})\s*;"
FUNCTION_SITE = r"^(?![ \t#])[^;\n]*?\b({names})[ \t]*\([^;]*?$"
DECLARATION = re.compile(r"^\s*(static|extern)\b")
MACRO_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(")


class Causes:
    """A guess at what a finding's name really is in the tree (a plain-text scan, nothing
    from kmodlint), to sort the findings into families a human can judge at once:
    for KM301 whether the symbol is a macro, a typedef or a function of some .c file; for
    KM303 whether the declared type lost its struct tag; for KM102 tracepoint exports; for
    KM603 what the flagged line is."""

    def __init__(
        self,
        tree: Path,
        findings: list[dict[str, Any]],
        lines: SourceLines,
        module_files: dict[str, set[str]],
    ) -> None:
        self.tree = tree
        self.lines = lines
        self.module_files = module_files  # source module name -> its .c files
        self.sites: dict[str, tuple[str, str]] = {}  # symbol -> (kind, file:line)
        unresolved = [f for f in findings if f.get("code") == "KM301" and f.get("symbol")]
        if unresolved and tree.is_dir():
            self._scan(unresolved)

    def _scan(self, findings: list[dict[str, Any]]) -> None:
        names = sorted({str(f["symbol"]) for f in findings})
        alt = "|".join(map(re.escape, names))
        patterns = [
            ("function-like macro", re.compile(DEFINE_SITE.format(names=alt), re.M)),
            ("typedef name", re.compile(TYPEDEF_SITE.format(names=alt))),
            ("function defined in a .c file", re.compile(FUNCTION_SITE.format(names=alt), re.M)),
        ]
        roots = {"include", "arch/x86/include"}
        local = set()
        for f in findings:
            d = os.path.dirname(str(f.get("path")))
            local |= {d, os.path.dirname(d)}
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for top, recursive in [(r, True) for r in sorted(roots)] + [(d, False) for d in local]:
            base = self.tree / top
            walker = os.walk(base) if recursive else [(str(base), [], os.listdir(base))]
            for dirpath, _, filenames in walker:
                for name in filenames:
                    if not name.endswith((".c", ".h")):
                        continue
                    full = os.path.join(dirpath, name)
                    try:
                        text = Path(full).read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        continue
                    rel = os.path.relpath(full, self.tree)
                    for kind, pattern in patterns:
                        if kind.endswith(".c file") and not name.endswith(".c"):
                            continue
                        for m in pattern.finditer(text):
                            k = kind
                            if kind == "function-like macro" and not m.group(2):
                                k = "object-like macro"
                            line = text.count("\n", 0, m.start()) + 1
                            found[m.group(1)].setdefault(k, f"{rel}:{line}")
        order = [
            "function-like macro",
            "object-like macro",
            "typedef name",
            "function defined in a .c file",
        ]
        for sym, kinds in found.items():
            kind = next(k for k in order if k in kinds)
            self.sites[sym] = (kind, kinds[kind])

    def cause(self, f: dict[str, Any]) -> str | None:
        code, sym = f.get("code"), str(f.get("symbol") or f.get("key") or "")
        if code == "KM102":
            if sym.startswith(TRACEPOINT_PREFIXES):
                return "a tracepoint export (EXPORT_TRACEPOINT_SYMBOL*)"
            return None
        if code == "KM303":
            m = re.search(r"declared here as (.*) but \S+ defines it as", str(f.get("message")))
            if m and "struct *" in m.group(1):
                return "the declared type shows 'struct *': the struct tag was lost"
            return None
        if code == "KM301":
            if sym not in self.sites:
                return "no definition of the name found in include/ or beside the file"
            kind, site = self.sites[sym]
            if kind.endswith(".c file"):
                files = self.module_files.get(str(f.get("module")), set())
                if site.rsplit(":", 1)[0] in files:
                    return "the name is a function of the module's own .c file (there under a #if?)"
                return (
                    "the name is a function of a .c file that is not one of the module's files "
                    "(not built with this config, or #include'd under a #if)"
                )
            return f"the name is {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        if code == "KM603":
            text = self.lines.text(f.get("path"), f.get("line")) or ""
            m = MACRO_CALL.match(text)
            if m and m.group(1) == sym:
                return "a file-scope macro invocation NAME(...); read as a declaration"
            d = DECLARATION.match(text)
            if d:
                return f"{'an' if d.group(1) == 'extern' else 'a'} {d.group(1)} declaration"
            return "a prototype without extern"
        return None

    def site(self, f: dict[str, Any]) -> str | None:
        """Where the plain-text scan found the name defined (KM301 only)."""
        found = self.sites.get(str(f.get("symbol") or "")) if f.get("code") == "KM301" else None
        return f"{found[0]} at {found[1]}" if found else None


def family(f: dict[str, Any], causes: Causes | None) -> str:
    cause = causes.cause(f) if causes else None
    return shape(f) + (f" — {cause}" if cause else "")


def where(f: dict[str, Any], side: str, inputs: Inputs) -> str:
    path = str(f.get("path") or "?")
    if side == "binary" and os.path.isabs(path):
        with contextlib.suppress(ValueError):
            path = str(Path(path).relative_to(inputs.modules_dir))
    line = f.get("line")
    return f"{path}:{line}" if line else path


def describe(
    f: dict[str, Any], side: str, inputs: Inputs, lines: SourceLines, causes: Causes | None
) -> dict[str, Any]:
    return {
        "family": family(f, causes),
        "name_defined": causes.site(f) if causes else None,
        "where": where(f, side, inputs),
        "code": f.get("code"),
        "rule": f.get("rule"),
        "module": f.get("module"),
        "symbol": f.get("symbol"),
        "message": f.get("message"),
        "source_line": lines.text(f.get("path"), f.get("line")),
    }


def sort_key(f: dict[str, Any]) -> tuple[str, int, str, str]:
    line = f.get("line")
    return (
        str(f.get("path") or ""),
        line if isinstance(line, int) else 0,
        str(f.get("code")),
        str(f.get("message")),
    )


def summarize_findings(
    side: str,
    findings: list[dict[str, Any]],
    inputs: Inputs,
    args: argparse.Namespace,
    symbols: dict[str, Any] | None,
) -> dict[str, Any]:
    lines = SourceLines(inputs.tree if side == "source" else inputs.modules_dir)
    module_files = {
        m["name"]: set((m.get("source") or {}).get("files") or [])
        for m in (symbols or {}).get("modules") or []
    }
    causes = Causes(inputs.tree, findings, lines, module_files) if side == "source" else None
    by_sev: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        by_sev[str(f.get("severity"))][f"{f.get('code')} {f.get('rule')}"].append(f)
    out: dict[str, Any] = {
        "total": len(findings),
        "by_severity": {sev: sum(map(len, r.values())) for sev, r in sorted(by_sev.items())},
    }
    errors: dict[str, Any] = {}
    for rule, items in sorted(by_sev.get("error", {}).items(), key=lambda kv: -len(kv[1])):
        items.sort(key=sort_key)
        fams: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in items:
            fams[family(f, causes)].append(f)
        errors[rule] = {
            "count": len(items),
            "families": {
                k: {
                    "count": len(v),
                    "examples": [describe(f, side, inputs, lines, causes) for f in v[:3]],
                }
                for k, v in sorted(fams.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            },
            "all": [describe(f, side, inputs, lines, causes) for f in items],
        }
    out["errors"] = errors
    for sev in ("warning", "info"):
        per_rule: dict[str, Any] = {}
        for rule, items in sorted(by_sev.get(sev, {}).items(), key=lambda kv: -len(kv[1])):
            items.sort(key=sort_key)
            rng = random.Random(f"{args.seed}:{side}:{rule}")
            sample = sorted(rng.sample(items, min(args.samples, len(items))), key=sort_key)
            shapes = Counter(family(f, causes) for f in items)
            per_rule[rule] = {
                "count": len(items),
                "families": dict(shapes.most_common()),
                "sample": [describe(f, side, inputs, lines, causes) for f in sample],
            }
        out[f"{sev}s"] = per_rule
    return out


# --------------------------------------------------------------------------- agreement

GPL_COMPATIBLE = {
    "GPL",
    "GPL v2",
    "GPL and additional rights",
    "Dual BSD/GPL",
    "Dual MIT/GPL",
    "Dual MPL/GPL",
}
# Rules whose facts both a .c and a .ko carry (what the other rules need is on one side only).
SHARED_RULES = {
    "KM205",
    "KM601",
    "KM101",
    "KM102",
    "KM103",
    "KM201",
    "KM202",
    "KM203",
    "KM204",
    "KM301",
    "KM302",
    "KM501",
    "KM502",
}


def ko_module_path(path: str, moddir: Path) -> str:
    """kernel/fs/nfs/nfs.ko -> fs/nfs/nfs (as read_order spells modules.order)."""
    rel = os.path.relpath(os.path.abspath(path), moddir / "kernel")
    for ext in (".ko.xz", ".ko.gz", ".ko.zst", ".ko"):
        if rel.endswith(ext):
            return rel[: -len(ext)]
    return rel


def exports_of(m: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {e["symbol"]: (e.get("kind"), e.get("namespace")) for e in m.get("exports") or []}


class Families:
    def __init__(self) -> None:
        self.items: dict[str, list[str]] = defaultdict(list)

    def add(self, fam: str, example: str) -> None:
        self.items[fam].append(example)

    def doc(self) -> dict[str, Any]:
        return {
            k: {"count": len(v), "examples": v}
            for k, v in sorted(self.items.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        }


class ModuleText:
    """Whether a symbol is named (as a word) in a source module's own .c files."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.cache: dict[str, set[str]] = {}

    def words(self, files: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for f in files:
            if f not in self.cache:
                try:
                    text = (self.tree / f).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = ""
                self.cache[f] = set(re.findall(r"\b[A-Za-z_]\w*\b", text))
            out |= self.cache[f]
        return out


def import_family(sym: str, named: bool, only: str) -> str:
    if sym.startswith(TRACEPOINT_PREFIXES):
        prefix = next(p for p in TRACEPOINT_PREFIXES if sym.startswith(p))
        return f"imports: only in {only}: tracepoint internals ({prefix}…)"
    if COMPILER_SYMBOLS.match(sym):
        return f"imports: only in {only}: compiler/arch-generated symbol"
    if only == ".ko":
        how = (
            "named in the module's .c files (reference missed)"
            if named
            else "not named in the module's .c files (through a header's inline/macro)"
        )
    else:
        how = (
            "named in the module's .c files (compiled out, inlined or dead in the build)"
            if named
            else "not named in the module's .c files"
        )
    return f"imports: only in {only}: {how}"


def finding_paths(
    findings: list[dict[str, Any]],
    side: str,
    modules: dict[str, dict[str, Any]],
    moddir: Path,
) -> dict[str, list[dict[str, Any]]]:
    """Findings of the shared rules per matched module path."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path, m in modules.items():
        by_name[m["name"]].append(path)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f.get("code") not in SHARED_RULES:
            continue
        cands = by_name.get(str(f.get("module")), [])
        if side == "binary" and str(f.get("path") or "").endswith((".ko", ".ko.xz")):
            p = ko_module_path(str(f["path"]), moddir)
            cands = [p] if p in modules else cands
        if len(cands) > 1:
            fp = str(f.get("path"))
            cands = [
                c
                for c in cands
                if fp == modules[c]["path"]
                or fp in (modules[c].get("source") or {}).get("files", [])
            ] or cands[:1]
        if cands:
            out[cands[0]].append(f)
    return out


def finding_key(f: dict[str, Any]) -> tuple[str, str]:
    return (str(f.get("code")), str(f.get("symbol") or f.get("key") or ""))


def compare(
    inputs: Inputs,
    dirs: list[str],
    sym: dict[str, dict[str, Any]],
    deps: dict[str, dict[str, Any]],
    checks: dict[str, list[dict[str, Any]]],
    symvers: dict[str, Export],
) -> dict[str, Any]:
    order = read_order(inputs.modules_dir)
    order_here = [p for p in order if any(p.startswith(d.rstrip("/") + "/") for d in dirs)]
    by_stem: dict[str, list[str]] = defaultdict(list)
    for p in order:
        by_stem[os.path.basename(p)].append(p)
    res = resolve_modules(sym["source"]["modules"], set(order), by_stem)
    src: dict[str, dict[str, Any]] = res["built"]
    bins: dict[str, dict[str, Any]] = {}
    for m in sym["binary"]["modules"]:
        bins[ko_module_path(m["path"], inputs.modules_dir)] = m
    matched = sorted(set(src) & set(bins))
    fams = Families()
    text = ModuleText(inputs.tree)
    kind_of = {
        side: {s: e.kind for s, e in symvers.items()}
        | {e["symbol"]: e.get("kind") for m in sym[side]["modules"] for e in m.get("exports") or []}
        for side in SIDES
    }
    per_side_findings = {
        "source": finding_paths(checks["source"], "source", src, inputs.modules_dir),
        "binary": finding_paths(checks["binary"], "binary", bins, inputs.modules_dir),
    }
    # dependency edges and cycles between matched modules (kmodlint deps)
    name_to_path = {}
    for side, mods in (("source", src), ("binary", bins)):
        names: dict[str, list[str]] = defaultdict(list)
        for p, m in mods.items():
            names[m["name"]].append(p)
        name_to_path[side] = {n: ps[0] for n, ps in names.items() if len(ps) == 1}
    matched_set = set(matched)
    edges: dict[str, dict[tuple[str, str], list[str]]] = {}
    # importer -> {symbol -> exporter}: what kmodlint resolves to a module of the set
    imports: dict[str, dict[str, dict[str, str]]] = {side: defaultdict(dict) for side in SIDES}
    cycles: dict[str, set[frozenset[str]]] = {}
    for side in SIDES:
        n2p = name_to_path[side]
        edges[side] = {}
        for e in deps[side].get("edges") or []:
            a, b2 = n2p.get(e["from"]), n2p.get(e["to"])
            if a in matched_set and b2 in matched_set:
                edges[side][(a, b2)] = e.get("symbols") or []
                for name in e.get("symbols") or []:
                    imports[side][a][name] = b2
        cycles[side] = set()
        for c in deps[side].get("cycles") or []:
            members = c if isinstance(c, list) else c.get("modules", [])
            paths = [n2p.get(str(x)) for x in members]
            if paths and all(p in matched_set for p in paths):
                cycles[side].add(frozenset(p for p in paths if p))
    compared: Counter[str] = Counter()
    for path in matched:
        s, b = src[path], bins[path]
        loc = (s.get("source") or {}).get("location") or s.get("path")
        compared["modules"] += 1
        # licences
        ls, lb = sorted(set(s.get("licenses") or [])), sorted(set(b.get("licenses") or []))
        compared["licences"] += 1
        if ls != lb:
            fam = "licence: none seen in the sources" if not ls else "licence: differs"
            fams.add(fam, f"{path} ({loc}): source {ls}, .ko {lb}")
        # exports
        es, eb = exports_of(s), exports_of(b)
        compared["exports"] += len(set(es) | set(eb))
        for name in sorted(set(es) | set(eb)):
            if name not in es:
                kind = (
                    "tracepoint (__tracepoint_/__traceiter_/__SCK__/__SCT__)"
                    if name.startswith(TRACEPOINT_PREFIXES)
                    else "other"
                )
                fams.add(f"exports: only in .ko: {kind}", f"{path}: {name} {eb[name][0]}")
            elif name not in eb:
                fams.add("exports: only in source", f"{path}: {name} {es[name][0]} ({loc})")
            elif es[name][0] != eb[name][0]:
                fams.add(
                    "exports: kind differs",
                    f"{path}: {name} source {es[name][0]}, .ko {eb[name][0]}",
                )
            elif es[name][1] != eb[name][1]:
                fams.add(
                    "exports: namespace differs",
                    f"{path}: {name} source {es[name][1]!r}, .ko {eb[name][1]!r}",
                )
        # imports from other matched modules (deps edges: `symbols` shows a source module's
        # extern-declared references only, its resolved imports are in no other output)
        imp_s, imp_b = imports["source"].get(path, {}), imports["binary"].get(path, {})
        compared["imports_from_matched_modules"] += len(set(imp_s) | set(imp_b))
        words = text.words((s.get("source") or {}).get("files") or [])
        for name in sorted(set(imp_s) ^ set(imp_b)):
            only = ".ko" if name in imp_b else "source"
            exporter = imp_b.get(name) or imp_s.get(name)
            fams.add(
                import_family(name, name in words, only),
                f"{path}: {name} from {exporter} ({loc})",
            )
        for name in sorted(set(imp_s) & set(imp_b)):
            if imp_s[name] != imp_b[name]:
                fams.add(
                    "imports: resolved to another module",
                    f"{path}: {name} source {imp_s[name]}, .ko {imp_b[name]}",
                )
        # GPL-only imports of modules that are not GPL-compatible (where KM203 matters)
        if lb and not set(lb) <= GPL_COMPATIBLE:
            gs = {n for n in imp_s if str(kind_of["source"].get(n, "")).endswith("_GPL")}
            gb = {n for n in imp_b if str(kind_of["binary"].get(n, "")).endswith("_GPL")}
            # imports of vmlinux and of modules outside the dirs: seen through KM203 below
            compared["gpl_only_imports_of_non_gpl_modules"] += len(gs | gb)
            for name in sorted(gs ^ gb):
                only = ".ko" if name in gb else "source"
                fams.add(
                    f"GPL-only import of a non-GPL module: only in {only}",
                    f"{path} ({lb}): {name}",
                )
        # namespace imports
        ns_s, ns_b = set(s.get("import_ns") or []), set(b.get("import_ns") or [])
        compared["import_ns"] += len(ns_s | ns_b)
        for ns in sorted(ns_s ^ ns_b):
            fams.add(
                f"import_ns: only in {'.ko' if ns in ns_b else 'source'}", f"{path}: {ns} ({loc})"
            )
        # findings of the rules both sides check
        fs = {finding_key(f): f for f in per_side_findings["source"].get(path, [])}
        fb = {finding_key(f): f for f in per_side_findings["binary"].get(path, [])}
        compared["shared_rule_findings"] += len(set(fs) | set(fb))
        for key in sorted(set(fs) ^ set(fb)):
            f = fs.get(key) or fb[key]
            side = "source" if key in fs else ".ko"
            at = where(f, "source" if key in fs else "binary", inputs)
            why = ""
            macro = {"KM205": "MODULE_DESCRIPTION", "KM201": "MODULE_LICENSE"}.get(
                str(f.get("code"))
            )
            if macro and side == "source":
                why = (
                    f": {macro}(...) is in the module's .c files (argument built from macros?)"
                    if macro in words
                    else f": no {macro} in the module's .c files (in a header, an #include'd .c "
                    "or a wrapper macro?)"
                )
            fams.add(
                f"findings: {f.get('code')} {f.get('rule')} only on {side}{why}",
                f"{path}: {f.get('message')} ({at})",
            )
    compared["edges"] = len(set(edges["source"]) | set(edges["binary"]))
    for key in sorted(set(edges["source"]) ^ set(edges["binary"])):
        only = "source" if key in edges["source"] else ".ko"
        symbols = edges["source" if only == "source" else "binary"][key]
        fams.add(
            f"deps: edge only in {only}",
            f"{key[0]} -> {key[1]} via {', '.join(symbols[:5])}{' …' if len(symbols) > 5 else ''}",
        )
    compared["cycles"] = len(cycles["source"] | cycles["binary"])
    for c in sorted(cycles["source"] ^ cycles["binary"], key=sorted):
        fams.add(
            f"deps: cycle only in {'source' if c in cycles['source'] else '.ko'}",
            " <-> ".join(sorted(c)),
        )
    missing = sorted(set(order_here) - set(src))
    return {
        "modules": {
            "source_modules": len(sym["source"]["modules"]),
            "source_matched_to_modules_order": len(src),
            "source_not_in_modules_order": len(res["not_built"]),
            "source_duplicates": len(res["duplicates"]),
            "modules_order_under_dirs": len(order_here),
            "built_but_not_found_from_sources": len(missing),
            "ko_modules": len(bins),
            "compared": len(matched),
            "examples_not_built": res["not_built"][:EXAMPLES],
            "examples_not_found": missing[:EXAMPLES],
        },
        "compared": dict(compared),
        "families": fams.doc(),
    }


# --------------------------------------------------------------------------- report


def fmt_example(e: dict[str, Any]) -> str:
    line = f"{e['where']}: [{e['code']} {e['rule']}] {e['message']}"
    if e.get("name_defined"):
        line += f" [{e['name_defined']}]"
    if e.get("source_line"):
        line += f"\n          | {e['source_line']}"
    return line


def report(doc: dict[str, Any]) -> str:
    env = doc["environment"]
    out = [
        "kmodlint findings on a real kernel tree, from sources and from the built modules",
        f"  kmodlint {env['kmodlint_commit']} ({env['kmodlint_command']}), python "
        f"{env['python']}, {env['cpus']} CPUs, -j {env['jobs']}",
        f"  source tree {env['source_tree']} (dirs: {' '.join(env['dirs'])})",
        f"  config {env['config']}",
        f"  --kernel {env['headers']}",
        f"  modules {env['modules_dir']}",
        f"  kmodlint stderr: {env['log']}; raw outputs: {env['out_dir']}",
        f"  load average before {env['load_average_before']} after {env.get('load_average_after')}",
    ]
    out += [f"  note: {n}" for n in env.get("notes", [])]
    for side, s in doc["sides"].items():
        out.append(f"\n######## {side} side")
        for sub, r in s["runs"].items():
            out.append(
                f"  {sub}: (cd {r['cwd']} && {r['command']})\n"
                f"     exit {r['exit']}, {r['wall_s']:.1f}s, peak RSS {r['peak_rss_mb']} MB, "
                f"cache {r['cache']}" + (f" [reused from {s['reused']}]" if s.get("reused") else "")
            )
            for note in r["notes"]:
                out.append(f"     stderr| {note}")
        f = s["files"]
        out.append(
            "  (4) time/files: check "
            f"{s['runs']['check']['wall_s']:.1f}s cold; "
            + ", ".join(f"{k} {v}" for k, v in f.items())
        )
        fs = s["findings"]
        out.append(f"  findings: {fs['total']} ({fs['by_severity']})")
        n_err = sum(r["count"] for r in fs["errors"].values())
        out.append(f"\n  (1) {side}: {n_err} errors (target 0)")
        for rule, r in fs["errors"].items():
            out.append(f"    {rule}: {r['count']}")
        for rule, r in fs["errors"].items():
            out.append(f"\n    -- {rule}: {r['count']} errors, families:")
            for fam, v in r["families"].items():
                out.append(f"      [{v['count']}] {fam}")
                for e in v["examples"]:
                    out.append("          e.g. " + fmt_example(e).replace("\n", "\n    "))
            out.append(f"    -- {rule}: every error")
            for e in r["all"]:
                out.append("      " + fmt_example(e))
        for sev in ("warnings", "infos"):
            total = sum(r["count"] for r in fs[sev].values())
            out.append(f"\n  (2) {side}: {total} {sev[:-1]}s per rule")
            for rule, r in fs[sev].items():
                out.append(f"    {rule}: {r['count']}")
            if sev == "infos":
                continue
            for rule, r in fs[sev].items():
                out.append(f"\n    -- {rule}: {r['count']} warnings; message shapes:")
                for fam, n in list(r["families"].items())[:EXAMPLES]:
                    out.append(f"      [{n}] {fam}")
                out.append(f"    -- {rule}: {len(r['sample'])} sampled (seed {env['seed']})")
                for e in r["sample"]:
                    out.append("      " + fmt_example(e))
    agree = doc.get("agreement")
    if agree:
        m = agree["modules"]
        out.append("\n######## (3) source vs binary on the same modules")
        out.append(
            f"  source modules {m['source_modules']}, matched to modules.order "
            f"{m['source_matched_to_modules_order']}, not built "
            f"{m['source_not_in_modules_order']}; modules.order under the dirs "
            f"{m['modules_order_under_dirs']}, not found from sources "
            f"{m['built_but_not_found_from_sources']}; .ko {m['ko_modules']}; "
            f"compared {m['compared']}"
        )
        for ex in m["examples_not_found"]:
            out.append(f"    built, not found from sources: {ex}")
        for ex in m["examples_not_built"]:
            out.append(f"    found from sources, not built: {ex}")
        out.append(f"  compared: {agree['compared']}")
        total = sum(v["count"] for v in agree["families"].values())
        out.append(f"  disagreements: {total} in {len(agree['families'])} families")
        for fam, v in agree["families"].items():
            out.append(f"    [{v['count']}] {fam}")
        for fam, v in agree["families"].items():
            out.append(f"\n    -- [{v['count']}] {fam}")
            for ex in v["examples"][:EXAMPLES]:
                out.append(f"      {ex}")
            if v["count"] > EXAMPLES:
                out.append(f"      … {v['count'] - EXAMPLES} more in the JSON")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def side_files(side: str, sym: dict[str, Any] | None, inputs: Inputs) -> dict[str, Any]:
    if side == "source":
        files = dict((sym or {}).get("files") or {})
        files["modules"] = len((sym or {}).get("modules") or [])
        return files
    kos = sum(1 for _ in (inputs.modules_dir / "kernel").rglob("*.ko*"))
    return {"ko_files": kos, "modules": len((sym or {}).get("modules") or [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dirs", nargs="+", default=DEFAULT_DIRS, help=f"source dirs ({' '.join(DEFAULT_DIRS)})"
    )
    parser.add_argument("--side", choices=("both", *SIDES), default="both")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="kmodlint -j")
    parser.add_argument(
        "--cache",
        default=DEFAULT_CACHE if os.path.isdir(DEFAULT_CACHE) else "~/.cache/kmodlint-bench",
        help="download/extract directory for the Debian packages",
    )
    parser.add_argument("--source-tree", help=f"extracted {SOURCE_PKG}")
    parser.add_argument("--config", help=f"kernel .config (default: {IMAGE_PKG}'s)")
    parser.add_argument(
        "--headers", help=f"headers folder with Module.symvers (default: {HEADERS_PKG}'s)"
    )
    parser.add_argument("--modules-dir", help=f"lib/modules/{ABI} (default: {IMAGE_PKG}'s)")
    parser.add_argument("--refresh", action="store_true", help="download packages again")
    parser.add_argument("--kmodlint", help="kmodlint command (default: python -m kmodlint)")
    parser.add_argument(
        "--rev", help="run kmodlint as committed at REV (git archive), not the working tree"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="pass --no-cache (symbols/deps then cold too)"
    )
    parser.add_argument(
        "--kmodlint-cache", metavar="DIR", help="KMODLINT_CACHE_DIR to use (default: a fresh one)"
    )
    parser.add_argument("--no-ast", action="store_true", help="pass --no-ast")
    parser.add_argument(
        "--no-compare", action="store_true", help="only `check` (no symbols/deps, no agreement)"
    )
    parser.add_argument("--samples", type=int, default=10, help="warnings sampled per rule")
    parser.add_argument("--seed", type=int, default=0, help="seed of the warning samples")
    parser.add_argument("--out-dir", default=DEFAULT_OUT, help="raw outputs and report.txt")
    parser.add_argument(
        "--reuse",
        nargs="*",
        choices=SIDES,
        help="score the outputs saved in --out-dir for these sides (default: both) instead of "
        "running kmodlint",
    )
    parser.add_argument("--log", help="kmodlint's stderr (default: OUT_DIR/kmodlint.log)")
    parser.add_argument("--json", metavar="FILE", help="write everything as JSON")
    args = parser.parse_args(argv)
    sides = SIDES if args.side == "both" else (args.side,)
    out_dir = Path(args.out_dir).expanduser().resolve()
    raw = out_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    log_file = Path(args.log).resolve() if args.log else out_dir / "kmodlint.log"
    try:
        inputs = resolve_inputs(args, sides)
        kml = Kmodlint(args.kmodlint, args.rev, out_dir)
        log(f"kmodlint {kml.commit}; stderr -> {log_file}")
        doc: dict[str, Any] = {
            "environment": {
                "source_tree": str(inputs.tree),
                "dirs": args.dirs,
                "config": str(inputs.config),
                "headers": str(inputs.headers),
                "modules_dir": str(inputs.modules_dir),
                "log": str(log_file),
                "out_dir": str(out_dir),
                "jobs": args.jobs,
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "kmodlint_command": shlex.join(kml.cmd),
                "kmodlint_commit": kml.commit,
                "benchmark_commit": git_state(),
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
                "notes": inputs.notes,
            },
            "sides": {},
        }
        sym: dict[str, dict[str, Any]] = {}
        deps: dict[str, dict[str, Any]] = {}
        checks: dict[str, list[dict[str, Any]]] = {}
        for side in sides:
            meta = run_side(side, kml, inputs, args, log_file, raw)
            check = load_json(Path(meta["runs"]["check"]["output"]))
            checks[side] = check.get("findings") or []
            if "symbols" in meta["runs"]:
                sym[side] = load_json(Path(meta["runs"]["symbols"]["output"]))
                deps[side] = load_json(Path(meta["runs"]["deps"]["output"]))
            doc["sides"][side] = {
                "kmodlint_commit": meta.get("kmodlint_commit"),
                "runs": meta["runs"],
                "reused": meta.get("reused"),
                "files": side_files(side, sym.get(side), inputs),
                "findings": summarize_findings(side, checks[side], inputs, args, sym.get(side)),
            }
        commits = {s.get("kmodlint_commit") for s in doc["sides"].values()}
        doc["environment"]["kmodlint_commit"] = " + ".join(sorted(str(c) for c in commits))
        if len(sym) == 2:
            symvers = read_symvers(inputs.headers / "Module.symvers")
            doc["agreement"] = compare(inputs, args.dirs, sym, deps, checks, symvers)
        doc["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = report(doc)
    sys.stdout.write(text)
    (out_dir / "report.txt").write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
