#!/usr/bin/env python3
"""Measure kmodlint against depmod and the kernels' own export tables on real Debian kernels.

Fetches the Debian packages itself (``apt-get download`` into a cache directory, ``apt-get
update`` first when a package cannot be found), extracts them with ``dpkg-deb -x`` and measures,
for every kernel:

1. deps agreement: ``depmod -b ROOT VER`` (on a hard-linked copy of the tree, wall time median
   of ``--runs``) against ``kmodlint deps TREE --format modules.dep``: per-module dependency
   sets, then byte identity, line order and per-line dependency order;
2. ``kmodlint check TREE --kernel Module.symvers`` against the kernel's own table: findings by
   rule and severity; every error is printed (an error there is a false positive);
3. cross-ABI (``--cross MODS:SYMVERS``): the modules of one kernel checked against another
   kernel's Module.symvers, scored against a ground truth computed here from the modules'
   ``__versions``, ``.symtab`` and ``__crc_*`` symbols (own ELF reader, nothing from kmodlint);
4. wall time and peak RSS of every kmodlint run beside depmod's (each run forked by a
   small launcher, so a peak RSS is never below its ~11 MB);
5. foreign-architecture trees (``--arch-trees``, on by default): Debian's arm64, s390x (64-bit
   big-endian) and i386 (32-bit) modules, measured like 1. and 2. with ``--kernel`` set to the
   arch's headers folder (Module.symvers, include/generated/utsrelease.h and
   include/config/auto.conf, so vermagic is checked too), plus an ELF census (class, byte
   order, machine) and the own reader's count of ``__versions`` entries against that
   Module.symvers, scored against kmodlint's crc-mismatch and unresolved-symbol findings.

Only the standard library plus ``apt-get``, ``dpkg-deb`` and ``depmod`` (package ``kmod``).
Module.symvers is taken from ``linux-headers-<ver>`` (``usr/src/linux-headers-<ver>/``); the
``-common`` headers package is not needed for it (the arch trees' headers folders get it all
the same, extracted into one root, as a complete headers install).

Foreign packages are fetched as ``apt-get download PKG:ARCH``, which needs ARCH among dpkg's
architectures: when it is missing the script (as root) runs ``dpkg --add-architecture ARCH``
and ``apt-get update`` and says so. If ``apt-get update`` then fails (a broken index for that
architecture on the mirror), ARCH is removed again once the downloads are done and
``apt-get update`` is rerun, so apt is left as it was found.

Example::

    python3 benchmarks/realworld_binaries.py --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import os
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_KERNELS = ["6.1.0-55-amd64", "6.1.0-56-amd64", "6.12.117+deb12-amd64"]
# 55 vs 56 is the requested pair; their Module.symvers are byte-identical (both 6.1.192), so
# that pair can only show false positives. 55 vs 47 is a real ABI change and scores recall.
DEFAULT_CROSS = ["6.1.0-55-amd64:6.1.0-56-amd64", "6.1.0-55-amd64:6.1.0-47-amd64"]
KO_EXTS = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")
DEPMOD_OUTPUTS_KEEP = {"modules.order", "modules.builtin", "modules.builtin.modinfo"}
CRC_RULES = {"crc-mismatch", "KM402"}
UNRESOLVED_RULES = {"unresolved-symbol", "KM301"}
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ArchTree:
    """A foreign-architecture Debian kernel: image and headers packages as PKG[:ARCH]."""

    arch: str  # dpkg architecture
    ver: str  # uname -r
    image: str
    headers: tuple[str, ...]  # extracted into one root; the first is the flavour's


ARCH_TREES = [
    ArchTree(
        "arm64",
        "6.1.0-56-arm64",
        "linux-image-6.1.0-56-arm64-unsigned:arm64",
        ("linux-headers-6.1.0-56-arm64:arm64", "linux-headers-6.1.0-56-common"),
    ),
    ArchTree(  # s390x has no -unsigned image package (no Secure Boot signing there)
        "s390x",
        "6.1.0-50-s390x",
        "linux-image-6.1.0-50-s390x:s390x",
        ("linux-headers-6.1.0-50-s390x:s390x", "linux-headers-6.1.0-50-common"),
    ),
    ArchTree(
        "i386",
        "6.1.0-50-686-pae",
        "linux-image-6.1.0-50-686-pae-unsigned:i386",
        ("linux-headers-6.1.0-50-686-pae:i386", "linux-headers-6.1.0-50-common"),
    ),
]
ELF_MACHINES = {3: "i386", 22: "s390", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv"}


class BenchError(Exception):
    """A fatal problem (missing tool, failed download): printed, exit status 2."""


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def modname(path: str) -> str:
    """Module name as kmod derives it: basename up to the first '.', '-' -> '_'."""
    return os.path.basename(path).split(".", 1)[0].replace("-", "_")


@dataclass
class Run:
    rc: int
    wall: float
    maxrss_kb: int
    stdout: bytes
    stderr: str


# ru_maxrss from wait4 counts what a child inherited at fork: every child of this process
# (large once it has parsed a few thousand modules or a big JSON report) would report at least
# this process's own RSS. So a small launcher forks the measured command and reports its usage;
# its own ~11 MB is then the floor of what can be reported.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {wall} {usage.ru_maxrss}")
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run cmd; wall clock and peak RSS (largest single process of its tree, via wait4)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as res,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, res.name, *cmd]
        proc = subprocess.run(launcher, stdout=out, stderr=err, env=env, check=False)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        fields = res.read().split()
        if proc.returncode != 0 or len(fields) != 3:
            raise BenchError(f"cannot run {shlex.join(cmd)}:\n{stderr.strip()[-2000:]}")
        return Run(int(fields[0]), float(fields[1]), int(fields[2]), out.read(), stderr)


def timing_summary(runs: list[Run]) -> dict[str, Any]:
    walls = [r.wall for r in runs]
    return {
        "runs": len(runs),
        "wall_s": [round(w, 3) for w in walls],
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "peak_rss_mb": round(max(r.maxrss_kb for r in runs) / 1024, 1),
    }


# --------------------------------------------------------------------------- packages


def need_tool(name: str, hint: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise BenchError(f"`{name}` not found. {hint}")
    return found


class Packages:
    def __init__(self, cache: Path, refresh: bool) -> None:
        self.debs = cache / "debs"
        self.extracted = cache / "x"
        self.debs.mkdir(parents=True, exist_ok=True)
        self.extracted.mkdir(parents=True, exist_ok=True)
        self.refresh = refresh
        self.updated = False
        self.remove_after: list[str] = []  # architectures to drop again (update broke)
        self.notes: list[str] = []  # what was done to apt/dpkg, for the report

    def note(self, msg: str) -> None:
        log(msg)
        self.notes.append(msg)

    def _apt_update(self) -> tuple[bool, str]:
        """apt-get update; (True, "") when it worked, else (False, its error lines)."""
        proc = subprocess.run(["apt-get", "update"], capture_output=True, text=True)
        problems = [
            line
            for line in (proc.stdout + proc.stderr).splitlines()
            if line.startswith("E:") or "Failed to fetch" in line or "Hash Sum mismatch" in line
        ]
        if proc.returncode == 0 and not problems:
            return True, ""
        return False, "\n".join(problems[-6:]) or f"exit status {proc.returncode}"

    def _update(self) -> None:
        if self.updated:
            return
        self.updated = True
        if os.geteuid() != 0:
            raise BenchError("apt-get could not find a package; run `sudo apt-get update` first")
        log("apt-get update")
        self._apt_update()

    def ensure_arch(self, arch: str) -> None:
        """Make `apt-get download PKG:arch` possible: add arch to dpkg when it is missing."""
        native = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True
        ).stdout.split()
        foreign = subprocess.run(
            ["dpkg", "--print-foreign-architectures"], capture_output=True, text=True
        ).stdout.split()
        if arch in native + foreign:
            return
        if os.geteuid() != 0:
            raise BenchError(
                f"dpkg architecture {arch} is not enabled, so {arch} packages cannot be "
                f"downloaded; run `sudo dpkg --add-architecture {arch} && sudo apt-get update`"
                " (or run this script as root)"
            )
        self.note(f"dpkg --add-architecture {arch} (needed for apt-get download PKG:{arch})")
        subprocess.run(["dpkg", "--add-architecture", arch], check=True)
        self.note("apt-get update (new architecture)")
        ok, problems = self._apt_update()
        self.updated = True
        if ok:
            self.note(f"apt-get update works with {arch}; {arch} stays enabled")
        else:
            self.remove_after.append(arch)
            self.note(
                f"apt-get update fails with {arch} enabled; {arch} will be removed again "
                f"after downloading:\n{problems}"
            )

    def restore_apt(self) -> None:
        """Undo an --add-architecture that broke apt-get update (after the downloads)."""
        while self.remove_after:
            arch = self.remove_after.pop()
            proc = subprocess.run(
                ["dpkg", "--remove-architecture", arch], capture_output=True, text=True
            )
            if proc.returncode != 0:
                self.note(f"dpkg --remove-architecture {arch} failed: {proc.stderr.strip()}")
                continue
            self.note(f"dpkg --remove-architecture {arch}; apt-get update")
            ok, problems = self._apt_update()
            self.note(
                "apt-get update works again"
                if ok
                else f"apt-get update still fails without {arch}:\n{problems}"
            )

    def deb(self, package: str) -> Path:
        """PACKAGE or PACKAGE:ARCH, from the cache or `apt-get download`."""
        name, _, arch = package.partition(":")
        pattern = f"{name}_*_{arch}.deb" if arch else f"{name}_*.deb"
        existing = sorted(self.debs.glob(pattern))
        if existing and not self.refresh:
            return existing[-1]
        if arch:
            self.ensure_arch(arch)
        for attempt in (1, 2):
            log(f"apt-get download {package}")
            proc = subprocess.run(
                ["apt-get", "download", package], cwd=self.debs, capture_output=True, text=True
            )
            existing = sorted(self.debs.glob(pattern))
            if proc.returncode == 0 and existing:
                return existing[-1]
            if attempt == 1:
                self._update()
        raise BenchError(f"apt-get download {package} failed:\n{proc.stderr.strip()}")

    def extract(self, package: str) -> Path:
        deb = self.deb(package)
        target = self.extracted / package.partition(":")[0]
        stamp = target / f".extracted-{deb.name}"
        if not stamp.exists():
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            log(f"dpkg-deb -x {deb.name}")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
            stamp.touch()
        return target

    def kernel_tree(self, ver: str) -> Path:
        problems = []
        for package in (f"linux-image-{ver}-unsigned", f"linux-image-{ver}"):
            try:
                root = self.extract(package)
            except BenchError as exc:
                problems.append(str(exc))
                continue
            moddir = root / "lib" / "modules" / ver
            if moddir.is_dir():
                return moddir
            problems.append(f"{package} has no lib/modules/{ver}")
        raise BenchError(f"no usable linux-image package for {ver}:\n" + "\n".join(problems))

    def extract_into(self, packages: tuple[str, ...], name: str) -> Path:
        """Several packages extracted into one root (as installed together)."""
        debs = [self.deb(p) for p in packages]
        target = self.extracted / name
        stamps = {f".extracted-{d.name}" for d in debs}
        if not target.is_dir() or {p.name for p in target.glob(".extracted-*")} != stamps:
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for deb in debs:
                log(f"dpkg-deb -x {deb.name} -> {name}")
                subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
            for stamp in stamps:
                (target / stamp).touch()
        return target

    def arch_tree(self, tree: ArchTree) -> tuple[Path, Path]:
        """(lib/modules/VER, headers folder) of a foreign-architecture kernel."""
        moddir = self.extract(tree.image) / "lib" / "modules" / tree.ver
        if not moddir.is_dir():
            raise BenchError(f"{tree.image} has no lib/modules/{tree.ver}")
        root = self.extract_into(tree.headers, f"headers-{tree.ver}")
        headers = root / "usr" / "src" / f"linux-headers-{tree.ver}"
        for rel in ("Module.symvers", "include/generated/utsrelease.h", "include/config/auto.conf"):
            if not (headers / rel).is_file():
                raise BenchError(f"{tree.headers[0]} has no {headers.relative_to(root) / rel}")
        return moddir, headers

    def symvers(self, ver: str) -> Path:
        root = self.extract(f"linux-headers-{ver}")
        path = root / "usr" / "src" / f"linux-headers-{ver}" / "Module.symvers"
        if not path.is_file():
            raise BenchError(f"linux-headers-{ver} has no {path.relative_to(root)}")
        return path


# --------------------------------------------------------------------------- ELF (own reader)


def load_module(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        zstd = shutil.which("zstd")
        if not zstd:
            raise BenchError("`zstd` is needed for .ko.zst modules: apt-get install zstd")
        return subprocess.run([zstd, "-dc"], input=data, capture_output=True, check=True).stdout
    return data


@dataclass
class ElfFacts:
    exports: dict[str, int | None] = field(default_factory=dict)  # name -> CRC (None: no CRC)
    undefs: list[tuple[str, bool]] = field(default_factory=list)  # (name, weak), symtab order
    versions: list[tuple[str, int]] = field(default_factory=list)  # __versions (name, crc)
    vermagic: str | None = None  # .modinfo vermagic=


def parse_elf(data: bytes) -> ElfFacts:
    """Section headers, .symtab, __versions and __crc_* values, read with struct."""
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    is64 = data[4] == 2
    e = "<" if data[5] == 1 else ">"
    if is64:
        (shoff,) = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3A)
        shfmt, symfmt, symsz, crclen = e + "IIQQQQIIQQ", e + "IBBHQQ", 24, 8
    else:
        (shoff,) = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x2E)
        shfmt, symfmt, symsz, crclen = e + "IIIIIIIIII", e + "IIIBBH", 16, 4
    secs = []  # (name offset, offset, size, link)
    for i in range(shnum):
        f = struct.unpack_from(shfmt, data, shoff + i * shentsize)
        secs.append((f[0], f[4], f[5], f[6]))
    shstr = secs[shstrndx][1]

    def cstr(off: int) -> str:
        return data[off : data.index(b"\0", off)].decode("latin-1")

    byname: dict[str, tuple[int, int, int, int]] = {}
    for sec in secs[1:]:
        byname.setdefault(cstr(shstr + sec[0]), sec)
    facts = ElfFacts()
    if ".modinfo" in byname:
        _, off, size, _ = byname[".modinfo"]
        for raw in data[off : off + size].split(b"\0"):
            if raw.startswith(b"vermagic="):
                facts.vermagic = raw[9:].decode("latin-1")
    if "__versions" in byname:  # struct modversion_info: 64-byte entries
        _, off, size, _ = byname["__versions"]
        order = "little" if e == "<" else "big"
        for o in range(off, off + size - size % 64, 64):
            facts.versions.append((cstr(o + crclen), int.from_bytes(data[o : o + crclen], order)))
    if ".symtab" in byname:
        _, off, size, link = byname[".symtab"]
        strtab = secs[link][1]
        for o in range(off + symsz, off + size, symsz):
            f = struct.unpack_from(symfmt, data, o)
            if is64:
                st_name, info, _, shndx, value, _ = f
            else:
                st_name, value, _, info, _, shndx = f
            name = cstr(strtab + st_name)
            if shndx == 0:  # SHN_UNDEF
                if name:
                    facts.undefs.append((name, info >> 4 == 2))  # STB_WEAK
            elif name.startswith("__crc_"):
                if shndx != 0xFFF1 and shndx < len(secs):  # 5.19+: offset into __kcrctab*
                    (value,) = struct.unpack_from(e + "I", data, secs[shndx][1] + value)
                facts.exports[name[6:]] = value
    if not facts.exports and "__ksymtab_strings" in byname:  # depmod's fallback, no CRC
        _, off, size, _ = byname["__ksymtab_strings"]
        for raw in data[off : off + size].split(b"\0"):
            if raw:
                facts.exports[raw.decode("latin-1")] = None
    return facts


def elf_kind(data: bytes) -> str:
    """'ELF64 MSB s390' and the like, from the ELF identification and e_machine."""
    if data[:4] != b"\x7fELF":
        return "not ELF"
    (machine,) = struct.unpack_from("<H" if data[5] == 1 else ">H", data, 18)
    return (
        f"ELF{64 if data[4] == 2 else 32} {'LSB' if data[5] == 1 else 'MSB'} "
        f"{ELF_MACHINES.get(machine, f'e_machine {machine}')}"
    )


def module_files(tree: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in ("build", "source"))
        found += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(KO_EXTS)]
    return found


def read_symvers(path: Path) -> dict[str, int]:
    table = {}
    for line in path.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 4 and cols[0].startswith("0x"):
            table[cols[1]] = int(cols[0], 16)
    return table


@dataclass
class CrossTruth:
    crc_pairs: set[tuple[str, str]]  # (module, symbol) whose __versions CRC differs
    unresolved_pairs: set[tuple[str, str]]  # (module, symbol) exported by nobody
    modules: int
    elf_kinds: Counter[str] = field(default_factory=Counter)  # elf_kind() -> modules
    vermagics: Counter[str] = field(default_factory=Counter)  # .modinfo vermagic -> modules
    versions_entries: int = 0  # __versions entries in all modules
    versions_modules: int = 0  # modules with a __versions section
    versions_vs_symvers: int = 0  # entries compared with the target's Module.symvers
    versions_vs_modules: int = 0  # entries compared with a module's own __crc_ value
    undefined_symbols: int = 0  # undefined .symtab entries
    module_exports: int = 0  # __crc_ / __ksymtab_strings exports of the modules


def cross_truth(tree: Path, symvers: Path) -> CrossTruth:
    """Ground truth for checking `tree`'s modules against another kernel's Module.symvers.

    A symbol exported by a module of the tree resolves to that module (its own __crc_ value),
    whatever the target table says; only the rest is looked up in the target's Module.symvers.
    """
    target = read_symvers(symvers)
    kinds: Counter[str] = Counter()
    facts = {}
    for path in module_files(tree):
        data = load_module(path)
        kinds[elf_kind(data)] += 1
        facts[modname(str(path))] = parse_elf(data)
    own: dict[str, int | None] = {}
    for f in facts.values():
        own.update(f.exports)
    truth = CrossTruth(set(), set(), len(facts), kinds)
    for name, f in facts.items():
        truth.vermagics[repr(f.vermagic)] += 1
        truth.versions_entries += len(f.versions)
        truth.versions_modules += bool(f.versions)
        truth.undefined_symbols += len(f.undefs)
        truth.module_exports += len(f.exports)
        for sym, crc in f.versions:
            ref = own[sym] if sym in own else target.get(sym)
            if sym in own:
                truth.versions_vs_modules += ref is not None
            elif ref is not None:
                truth.versions_vs_symvers += 1
            if ref is not None and ref != crc:
                truth.crc_pairs.add((name, sym))
        imports = [(s, w) for s, w in f.undefs] + [(s, False) for s, _ in f.versions]
        for sym, weak in imports:
            if not weak and sym not in own and sym not in target:
                truth.unresolved_pairs.add((name, sym))
    return truth


# --------------------------------------------------------------------------- modules.dep


def parse_dep(text: str, prefix: str = "") -> list[tuple[str, list[str]]]:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        head, _, rest = line.partition(":")
        lines.append((prefix + head.strip(), [prefix + d for d in rest.split()]))
    return lines


def compare_deps(reference: bytes, candidate: bytes, prefix: str) -> dict[str, Any]:
    ref = parse_dep(reference.decode())
    cand = parse_dep(candidate.decode(), prefix)
    ref_map, cand_map = dict(ref), dict(cand)
    mismatches = []
    for path, deps in ref:
        if path in cand_map and set(deps) != set(cand_map[path]):
            mine = set(cand_map[path])
            mismatches.append(
                {
                    "module": path,
                    "missing": sorted(set(deps) - mine),
                    "extra": sorted(mine - set(deps)),
                }
            )
    common = [p for p, _ in ref if p in cand_map]
    order_diff = [
        p for p in common if ref_map[p] != cand_map[p] and set(ref_map[p]) == set(cand_map[p])
    ]
    cand_common = [p for p, _ in cand if p in ref_map]
    return {
        "depmod_lines": len(ref),
        "kmodlint_lines": len(cand),
        "only_in_depmod": sorted(set(ref_map) - set(cand_map))[:10],
        "only_in_depmod_count": len(set(ref_map) - set(cand_map)),
        "only_in_kmodlint": sorted(set(cand_map) - set(ref_map))[:10],
        "only_in_kmodlint_count": len(set(cand_map) - set(ref_map)),
        "set_mismatch_count": len(mismatches),
        "set_mismatches": mismatches[:10],
        "byte_identical": prefix == "" and reference == candidate,
        "line_order_identical": common == cand_common and len(ref) == len(cand),
        "dep_order_differs_count": len(order_diff),
        "dep_order_differs": order_diff[:10],
        "dep_order_identical": not order_diff,
    }


# --------------------------------------------------------------------------- kmodlint


class Kmodlint:
    def __init__(self, command: str | None, cache_root: Path, warm: bool) -> None:
        self.env = dict(os.environ)
        if command:
            self.cmd = shlex.split(command)
        elif shutil.which("kmodlint"):
            self.cmd = ["kmodlint"]
        else:
            self.cmd = [sys.executable, "-m", "kmodlint"]
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p
            )
        self.cache_root = cache_root
        self.warm = warm

    def runs(self, args: list[str], n: int, tag: str) -> list[Run]:
        """First run with an empty kmodlint cache (cold), the others reuse it (warm)."""
        env = dict(self.env)
        if not self.warm:
            cache = self.cache_root / tag
            shutil.rmtree(cache, ignore_errors=True)
            env["KMODLINT_CACHE_DIR"] = str(cache)
        results = []
        for i in range(n):
            log(f"kmodlint {' '.join(args[:1])} {tag} run {i + 1}/{n}")
            results.append(run_measured([*self.cmd, *args], env))
            if results[-1].rc not in (0, 1):
                break
        return results


def kmodlint_timing(runs: list[Run]) -> dict[str, Any]:
    info = timing_summary(runs)
    info["cold_s"] = round(runs[0].wall, 3)
    if len(runs) > 1:
        info["warm_median_s"] = round(statistics.median(r.wall for r in runs[1:]), 3)
    info["rc"] = runs[-1].rc
    return info


def load_findings(run: Run) -> list[dict[str, Any]] | None:
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        return None
    findings = doc.get("findings") if isinstance(doc, dict) else doc
    return findings if isinstance(findings, list) else None


def finding_module(f: dict[str, Any]) -> str:
    return modname(str(f.get("path") or f.get("module") or ""))


def score(expected: set[Any], found: set[Any]) -> dict[str, Any]:
    tp = len(expected & found)
    return {
        "expected": len(expected),
        "found": len(found),
        "true_positives": tp,
        "precision": round(tp / len(found), 4) if found else None,
        "recall": round(tp / len(expected), 4) if expected else None,
        "missed": sorted(map(str, expected - found))[:10],
        "spurious": sorted(map(str, found - expected))[:10],
    }


# --------------------------------------------------------------------------- measurements


def depmod_copy(moddir: Path, cache: Path, ver: str) -> Path:
    """Hard-linked copy ROOT/lib/modules/VER of the extracted tree; returns ROOT."""
    root = cache / "depmod-root" / ver
    target = root / "lib" / "modules" / ver
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)

        def link(src: str, dst: str) -> None:
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        shutil.copytree(moddir, target, copy_function=link, symlinks=True)
    for entry in target.iterdir():
        if entry.name.startswith("modules.") and entry.name not in DEPMOD_OUTPUTS_KEEP:
            entry.unlink()
    return root


def measure_kernel(
    ver: str, pkgs: Packages, depmod: str, kml: Kmodlint, args: argparse.Namespace
) -> dict[str, Any]:
    moddir = pkgs.kernel_tree(ver)
    symvers = pkgs.symvers(ver)
    result, _ = measure_tree(ver, moddir, symvers, depmod, kml, args)
    return result


def measure_arch(
    arch: ArchTree, pkgs: Packages, depmod: str, kml: Kmodlint, args: argparse.Namespace
) -> dict[str, Any]:
    moddir, headers = pkgs.arch_tree(arch)
    result, findings = measure_tree(arch.ver, moddir, headers, depmod, kml, args)
    result = {"arch": arch.arch, "ver": arch.ver, "packages": [arch.image, *arch.headers]} | result
    log(f"own ELF reader: {arch.ver} against its Module.symvers")
    start = time.perf_counter()
    truth = cross_truth(moddir, headers / "Module.symvers")
    result["own_reader"] = {
        "seconds": round(time.perf_counter() - start, 2),
        "elf_kinds": dict(truth.elf_kinds.most_common()),
        "vermagics": dict(truth.vermagics.most_common()),
        "modules": truth.modules,
        "versions_modules": truth.versions_modules,
        "versions_entries": truth.versions_entries,
        "versions_vs_symvers": truth.versions_vs_symvers,
        "versions_vs_modules": truth.versions_vs_modules,
        "undefined_symbols": truth.undefined_symbols,
        "module_exports": truth.module_exports,
        "crc_pairs": len(truth.crc_pairs),
        "unresolved_pairs": len(truth.unresolved_pairs),
    }
    if findings is not None:
        crc = {
            (finding_module(f), str(f.get("symbol")))
            for f in findings
            if f.get("rule") in CRC_RULES or f.get("code") in CRC_RULES
        }
        unres = {
            (finding_module(f), str(f.get("symbol")))
            for f in findings
            if f.get("rule") in UNRESOLVED_RULES or f.get("code") in UNRESOLVED_RULES
        }
        result["own_reader"]["crc_pairs_score"] = score(truth.crc_pairs, crc)
        result["own_reader"]["unresolved_pairs_score"] = score(truth.unresolved_pairs, unres)
    return result


def measure_tree(
    ver: str, moddir: Path, kernel: Path, depmod: str, kml: Kmodlint, args: argparse.Namespace
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """depmod against `kmodlint deps`, then `kmodlint check --kernel KERNEL`; and the findings."""
    tree = moddir / "kernel" if args.tree_level == "kernel" else moddir
    prefix = "kernel/" if args.tree_level == "kernel" else ""
    result: dict[str, Any] = {
        "tree": str(tree),
        "kernel_arg": str(kernel),
        "symvers": str(kernel / "Module.symvers" if kernel.is_dir() else kernel),
        "modules": len(module_files(moddir)),
    }

    root = depmod_copy(moddir, Path(args.cache), ver)
    dep_runs = []
    for i in range(args.runs):
        log(f"depmod {ver} run {i + 1}/{args.runs}")
        dep_runs.append(run_measured([depmod, "-b", str(root), ver]))
        if dep_runs[-1].rc != 0:
            raise BenchError(f"depmod failed on {ver}:\n{dep_runs[-1].stderr}")
    reference = (root / "lib" / "modules" / ver / "modules.dep").read_bytes()
    result["depmod"] = timing_summary(dep_runs)
    result["depmod"]["stderr_lines"] = len(dep_runs[-1].stderr.splitlines())

    runs = kml.runs(["deps", str(tree), "--format", "modules.dep"], args.runs, f"{ver}-deps")
    result["kmodlint_deps"] = kmodlint_timing(runs)
    if runs[-1].rc == 0:
        result["deps"] = compare_deps(reference, runs[-1].stdout, prefix)
    else:
        result["deps"] = {"error": runs[-1].stderr.strip()[-2000:]}

    check_args = ["check", str(tree), "--kernel", str(kernel), "--format", "json"]
    runs = kml.runs([*check_args, "--fail-on", "never"], args.runs, f"{ver}-check")
    result["kmodlint_check"] = kmodlint_timing(runs)
    findings = load_findings(runs[-1])
    if findings is None:
        result["check"] = {"error": (runs[-1].stderr or runs[-1].stdout.decode()).strip()[-2000:]}
    else:
        errors = [f for f in findings if f.get("severity") == "error"]
        result["check"] = {
            "findings": len(findings),
            "by_rule_severity": dict(
                sorted(Counter(f"{f.get('rule')} ({f.get('severity')})" for f in findings).items())
            ),
            "errors": len(errors),
            "first_errors": errors[:30],
        }
    return result, findings


def measure_cross(
    pair: str, pkgs: Packages, kml: Kmodlint, args: argparse.Namespace
) -> dict[str, Any]:
    mods_ver, _, target_ver = pair.partition(":")
    if not target_ver:
        raise BenchError(f"--cross expects MODULES_VER:SYMVERS_VER, got {pair!r}")
    moddir = pkgs.kernel_tree(mods_ver)
    symvers = pkgs.symvers(target_ver)
    tree = moddir / "kernel" if args.tree_level == "kernel" else moddir
    log(f"ground truth {mods_ver} vs {target_ver}")
    truth = cross_truth(moddir, symvers)
    result: dict[str, Any] = {"modules_of": mods_ver, "symvers_of": target_ver}
    result["truth"] = {
        "modules": truth.modules,
        "crc_modules": len({m for m, _ in truth.crc_pairs}),
        "crc_pairs": len(truth.crc_pairs),
        "crc_pairs_without_module_layout": sum(
            1 for _, s in truth.crc_pairs if s != "module_layout"
        ),
        "unresolved_symbols": len({s for _, s in truth.unresolved_pairs}),
        "unresolved_pairs": len(truth.unresolved_pairs),
    }
    check_args = ["check", str(tree), "--kernel", str(symvers), "--format", "json"]
    runs = kml.runs([*check_args, "--fail-on", "never"], args.runs, f"{mods_ver}-vs-{target_ver}")
    result["kmodlint_check"] = kmodlint_timing(runs)
    findings = load_findings(runs[-1])
    if findings is None:
        result["error"] = (runs[-1].stderr or runs[-1].stdout.decode()).strip()[-2000:]
        return result
    crc = [f for f in findings if f.get("rule") in CRC_RULES or f.get("code") in CRC_RULES]
    unres = [
        f
        for f in findings
        if f.get("rule") in UNRESOLVED_RULES or f.get("code") in UNRESOLVED_RULES
    ]
    crc_found = {(finding_module(f), str(f.get("symbol"))) for f in crc}
    unres_found = {(finding_module(f), str(f.get("symbol"))) for f in unres}
    result["crc_modules"] = score({m for m, _ in truth.crc_pairs}, {finding_module(f) for f in crc})
    result["crc_pairs"] = score(truth.crc_pairs, crc_found)
    result["unresolved_pairs"] = score(truth.unresolved_pairs, unres_found)
    result["by_rule"] = dict(sorted(Counter(str(f.get("rule")) for f in findings).items()))
    return result


# --------------------------------------------------------------------------- speed (issue 13)

# (what, kmodlint case, anchor case, target ratio): the figures issue 13 item 3 sets.
SPEED_ROWS = [
    ("deps, no cache", "deps-nocache", "depmod", 3.0),
    ("deps, warm cache", "deps-warm", "depmod", 1.0),
    ("deps, first run (empty cache)", "deps-first", "deps-nocache", 1.2),
    ("check, no cache", "check-nocache", "depmod", 3.0),
    ("check, warm cache", "check-warm", "depmod", 1.0),
    ("check, first run (empty cache)", "check-first", "check-nocache", 1.2),
]
# compressed trees (6.12's .ko.xz): the cold figure only
SPEED_ROWS_COMPRESSED = [("deps, no cache", "deps-nocache", "depmod", 1.5)]


def measure_speed(
    ver: str,
    moddir: Path,
    kernel_arg: str,
    depmod: str,
    kml: Kmodlint,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Wall time of `depmod -n` (the anchor: it reads every module and prints what depmod
    would write) beside `kmodlint deps --format modules.dep` and `kmodlint check`, with
    no cache, with an empty cache (the first run) and warm, each round running every case
    once, in turn, so a change of the machine's load falls on all of them alike; the
    1-minute load average is recorded before each run. Medians over the rounds."""
    root = depmod_copy(moddir, Path(args.cache), ver)
    reference_run = run_measured([depmod, "-b", str(root), ver])
    if reference_run.rc != 0:
        raise BenchError(f"depmod failed on {ver}:\n{reference_run.stderr}")
    reference = (root / "lib" / "modules" / ver / "modules.dep").read_bytes()
    depmod_copy(moddir, Path(args.cache), ver)  # its outputs removed again
    cache = Path(args.cache) / "kmodlint-speed-cache" / ver
    deps = [*kml.cmd, "deps", str(moddir), "--format", "modules.dep"]
    check = [*kml.cmd, "check", str(moddir), "--kernel", kernel_arg, "--format", "json"]
    check += ["--fail-on", "never"]
    compressed = any(p.name.endswith((".xz", ".zst", ".gz")) for p in module_files(moddir))
    cases: dict[str, list[str] | None] = {
        "depmod": [depmod, "-n", "-b", str(root), ver],
        "deps-nocache": [*deps, "--no-cache"],
        "deps-first": None,  # emptied cache, then deps-warm on it
        "deps-warm": [*deps, "--cache-dir", str(cache / "deps")],
    }
    if not compressed:
        cases |= {
            "check-nocache": [*check, "--no-cache"],
            "check-first": None,
            "check-warm": [*check, "--cache-dir", str(cache / "check")],
        }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    identical: list[bool] = []
    for round_number in range(args.runs):
        for name, command in cases.items():
            if command is None:  # a first run: the warm case's command on an empty cache
                command = cases[name.replace("-first", "-warm")]
                assert command is not None
                shutil.rmtree(cache / name.split("-")[0], ignore_errors=True)
            log(f"speed {ver} round {round_number + 1}/{args.runs}: {name}")
            load = os.getloadavg()[0]
            run = run_measured(command, kml.env)
            if run.rc not in (0, 1):
                raise BenchError(f"{shlex.join(command)} failed:\n{run.stderr[-2000:]}")
            samples[name].append((run.wall, load))
            if name.startswith("deps"):
                identical.append(run.stdout == reference)
    result: dict[str, Any] = {
        "modules": len(module_files(moddir)),
        "compressed": compressed,
        "modules_dep_byte_identical": all(identical),
        "cases": {
            name: {
                "wall_s": [round(w, 3) for w, _ in runs],
                "median_s": round(statistics.median(w for w, _ in runs), 3),
                "load": [round(load, 2) for _, load in runs],
            }
            for name, runs in samples.items()
        },
    }
    rows = SPEED_ROWS_COMPRESSED if compressed else SPEED_ROWS
    result["rows"] = []
    for what, case, anchor, target in rows:
        mine = result["cases"][case]["median_s"]
        base = result["cases"][anchor]["median_s"]
        loads = [load for _, load in samples[case] + samples[anchor]]
        result["rows"].append(
            {
                "what": what,
                "kmodlint_s": mine,
                "anchor": "depmod -n" if anchor == "depmod" else f"kmodlint {anchor}",
                "anchor_s": base,
                "ratio": round(mine / base, 2),
                "target": target,
                "met": mine / base <= target,
                "load": round(statistics.median(loads), 2),
            }
        )
    return result


def report_speed(doc: dict[str, Any]) -> str:
    out = []
    for ver, r in doc["speed"].items():
        out.append(
            f"\n== speed {ver}: {r['modules']} modules, {doc['environment']['cpus']} CPUs, "
            f"medians of {doc['environment']['runs']} rounds; modules.dep byte-identical to "
            f"depmod's: {r['modules_dep_byte_identical']}"
        )
        out.append(
            f"  {'what':32} {'kmodlint':>9} {'anchor':>22} {'ratio':>6} {'target':>7} "
            f"{'':6} {'load':>5}"
        )
        for row in r["rows"]:
            anchor = f"{row['anchor']} {row['anchor_s']:.2f}s"
            out.append(
                f"  {row['what']:32} {row['kmodlint_s']:8.2f}s {anchor:>22} "
                f"{row['ratio']:5.2f}x {row['target']:6.1f}x {'ok' if row['met'] else 'MISSED':6} "
                f"{row['load']:5.2f}"
            )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- report


def fmt_time(info: dict[str, Any]) -> str:
    text = f"median {info['median_s']:.2f}s (n={info['runs']}), peak RSS {info['peak_rss_mb']} MB"
    if "cold_s" in info:
        text += f", cold {info['cold_s']:.2f}s"
        if "warm_median_s" in info:
            text += f", warm {info['warm_median_s']:.2f}s"
        if info.get("rc") not in (0, None):
            text += f", exit {info['rc']}"
    return text


def fmt_score(name: str, s: dict[str, Any]) -> list[str]:
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v * 100:.2f}%"

    lines = [
        f"    {name}: expected {s['expected']}, found {s['found']}, "
        f"TP {s['true_positives']}, precision {pct(s['precision'])}, recall {pct(s['recall'])}"
    ]
    if s["missed"]:
        lines.append(f"      missed (first 10): {', '.join(s['missed'])}")
    if s["spurious"]:
        lines.append(f"      spurious (first 10): {', '.join(s['spurious'])}")
    return lines


def report_tree(out: list[str], r: dict[str, Any]) -> None:
    """depmod/deps/check lines of one tree (measure_tree's result)."""
    out.append(f"  depmod            {fmt_time(r['depmod'])}")
    out.append(f"  kmodlint deps     {fmt_time(r['kmodlint_deps'])}")
    out.append(f"  kmodlint check    {fmt_time(r['kmodlint_check'])}")
    d = r["deps"]
    if "error" in d:
        out.append(f"  deps: kmodlint failed: {d['error'].splitlines()[-1:]}")
    else:
        out.append(
            f"  deps: {d['depmod_lines']} depmod lines, {d['kmodlint_lines']} kmodlint lines;"
            f" only-depmod {d['only_in_depmod_count']}, only-kmodlint "
            f"{d['only_in_kmodlint_count']}; dep-set mismatches {d['set_mismatch_count']}"
        )
        out.append(
            f"  deps: byte-identical {d['byte_identical']}, line order identical "
            f"{d['line_order_identical']}, per-line dep order identical "
            f"{d['dep_order_identical']} ({d['dep_order_differs_count']} lines differ)"
        )
        for m in d["set_mismatches"]:
            out.append(f"    {m['module']}: missing {m['missing']} extra {m['extra']}")
        for p in d["only_in_depmod"]:
            out.append(f"    only in depmod: {p}")
        for p in d["only_in_kmodlint"]:
            out.append(f"    only in kmodlint: {p}")
        for p in d["dep_order_differs"]:
            out.append(f"    dep order differs: {p}")
    c = r["check"]
    own = "headers folder" if r.get("kernel_arg") != r.get("symvers") else "Module.symvers"
    if "error" in c:
        out.append(f"  check: kmodlint failed: {c['error'].splitlines()[-1:]}")
    else:
        out.append(f"  check vs own {own}: {c['findings']} findings, {c['errors']} errors")
        for key, n in c["by_rule_severity"].items():
            out.append(f"    {n:7d}  {key}")
        for f in c["first_errors"]:
            out.append(
                f"    ERROR {f.get('path')}: [{f.get('code')} {f.get('rule')}] {f.get('message')}"
            )


def report(doc: dict[str, Any]) -> str:
    out = [f"kmodlint real-world benchmark ({doc['environment']['depmod_version']})"]
    for note in doc["environment"].get("apt_notes", []):
        out.append(f"  apt: {note}")
    for ver, r in doc["kernels"].items():
        out.append(f"\n== {ver}: {r['modules']} modules  tree={r['tree']}")
        report_tree(out, r)
    for arch, r in doc.get("arch_trees", {}).items():
        if "error" in r:
            out.append(f"\n== {arch}: not measured: {r['error']}")
            continue
        out.append(f"\n== {arch} {r['ver']}: {r['modules']} modules  tree={r['tree']}")
        out.append(f"  packages: {', '.join(r['packages'])}")
        out.append(f"  --kernel {r['kernel_arg']}")
        report_tree(out, r)
        o = r["own_reader"]
        kinds = ", ".join(f"{n} {kind}" for kind, n in o["elf_kinds"].items())
        out.append(
            f"  own ELF reader ({o['seconds']:.1f}s): {kinds}; {o['module_exports']} exports, "
            f"{o['undefined_symbols']} undefined symbols"
        )
        out.append(
            f"    __versions: {o['versions_entries']} entries in {o['versions_modules']} modules,"
            f" {o['versions_vs_symvers']} compared with Module.symvers and "
            f"{o['versions_vs_modules']} with modules' own __crc_; {o['crc_pairs']} differ; "
            f"{o['unresolved_pairs']} unresolved (module, symbol) pairs"
        )
        for magic, n in o["vermagics"].items():
            out.append(f"    vermagic {magic}: {n} modules")
        if "crc_pairs_score" in o:
            out += fmt_score("crc-mismatch (module, symbol)", o["crc_pairs_score"])
            out += fmt_score("unresolved-symbol (module, symbol)", o["unresolved_pairs_score"])
    for r in doc["cross"]:
        t = r["truth"]
        out.append(
            f"\n== cross-ABI: modules of {r['modules_of']} vs {r['symvers_of']}'s Module.symvers"
        )
        out.append(
            f"  truth: {t['crc_modules']}/{t['modules']} modules with a differing CRC "
            f"({t['crc_pairs']} module-symbol pairs, {t['crc_pairs_without_module_layout']} "
            f"without module_layout); {t['unresolved_symbols']} vanished symbols "
            f"({t['unresolved_pairs']} module-symbol pairs)"
        )
        out.append(f"  kmodlint check    {fmt_time(r['kmodlint_check'])}")
        if "error" in r:
            out.append(f"  kmodlint failed: {r['error'].splitlines()[-1:]}")
            continue
        out += fmt_score("crc-mismatch modules", r["crc_modules"])
        out += fmt_score("crc-mismatch (module, symbol)", r["crc_pairs"])
        out += fmt_score("unresolved-symbol (module, symbol)", r["unresolved_pairs"])
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache",
        default=os.path.join(os.path.expanduser("~"), ".cache", "kmodlint-bench"),
        help="download/extract directory (default ~/.cache/kmodlint-bench)",
    )
    parser.add_argument(
        "--kernel",
        action="append",
        dest="kernels",
        metavar="VER",
        help=f"kernel release (uname -r form), repeatable; default {' '.join(DEFAULT_KERNELS)}",
    )
    parser.add_argument(
        "--cross",
        action="append",
        metavar="MODS_VER:SYMVERS_VER",
        help=f"cross-ABI pair, repeatable; default {' '.join(DEFAULT_CROSS)}",
    )
    parser.add_argument("--no-cross", action="store_true", help="skip the cross-ABI checks")
    parser.add_argument(
        "--arch-trees",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the foreign-architecture trees ("
        + ", ".join(f"{a.arch} {a.ver}" for a in ARCH_TREES)
        + "); default on",
    )
    parser.add_argument(
        "--tree-level",
        choices=["modules", "kernel"],
        default="modules",
        help="TREE given to kmodlint: lib/modules/VER (default) or its kernel/ folder",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (default 3)")
    parser.add_argument(
        "--kmodlint", help="kmodlint command (default: `kmodlint`, else python -m kmodlint)"
    )
    parser.add_argument(
        "--warm", action="store_true", help="use the user's kmodlint cache (default: fresh one)"
    )
    parser.add_argument("--refresh", action="store_true", help="download packages again")
    parser.add_argument(
        "--speed",
        action="store_true",
        help="only the timings of issue 13 (depmod -n beside kmodlint deps/check with no "
        "cache, an empty cache and a warm one), on --kernel VER trees or --speed-tree ones",
    )
    parser.add_argument(
        "--speed-tree",
        action="append",
        default=[],
        metavar="MODDIR[:KERNEL]",
        help="with --speed: an extracted lib/modules/VER folder (no download), and what "
        "`check` gets as --kernel (default none); repeatable",
    )
    parser.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    args = parser.parse_args(argv)
    kernels = args.kernels or DEFAULT_KERNELS
    crosses = [] if args.no_cross else (args.cross or DEFAULT_CROSS)
    try:
        depmod = need_tool("depmod", "Install it with: sudo apt-get install kmod")
        for tool in ("apt-get", "dpkg-deb"):
            need_tool(tool, "This benchmark needs a Debian-based system.")
        cache = Path(args.cache).expanduser()
        args.cache = str(cache)
        pkgs = Packages(cache, args.refresh)
        kml = Kmodlint(args.kmodlint, cache / "kmodlint-cache", args.warm)
        version = subprocess.run([depmod, "--version"], capture_output=True, text=True).stdout
        doc: dict[str, Any] = {
            "environment": {
                "depmod_version": version.splitlines()[0] if version else "depmod",
                "kmodlint_command": kml.cmd,
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "runs": args.runs,
                "tree_level": args.tree_level,
            },
            "kernels": {},
            "cross": [],
            "arch_trees": {},
        }
        if args.speed:
            doc["speed"] = {}
            trees = [
                (Path(spec.partition(":")[0]), spec.partition(":")[2] or "none")
                for spec in args.speed_tree
            ]
            if not trees:
                for ver in args.kernels or DEFAULT_KERNELS:
                    trees.append((pkgs.kernel_tree(ver), str(pkgs.symvers(ver))))
            for moddir, kernel_arg in trees:
                ver = moddir.resolve().name
                doc["speed"][ver] = measure_speed(ver, moddir, kernel_arg, depmod, kml, args)
            sys.stdout.write(report_speed(doc))
            if args.json:
                Path(args.json).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
            return 0 if all(r["met"] for t in doc["speed"].values() for r in t["rows"]) else 1
        failed = False
        if args.arch_trees:
            # Download everything first, so an architecture added only for the download (and
            # breaking apt-get update) is removed again before the long measurements.
            try:
                for arch in ARCH_TREES:
                    try:
                        for package in (arch.image, *arch.headers):
                            pkgs.deb(package)
                    except BenchError as exc:
                        doc["arch_trees"][arch.arch] = {"error": str(exc)}
            finally:
                pkgs.restore_apt()
        for ver in kernels:
            doc["kernels"][ver] = measure_kernel(ver, pkgs, depmod, kml, args)
        for pair in crosses:
            doc["cross"].append(measure_cross(pair, pkgs, kml, args))
        for arch in ARCH_TREES if args.arch_trees else []:
            if arch.arch in doc["arch_trees"]:
                failed = True
                continue
            try:
                doc["arch_trees"][arch.arch] = measure_arch(arch, pkgs, depmod, kml, args)
            except BenchError as exc:
                failed = True
                doc["arch_trees"][arch.arch] = {"error": str(exc)}
        doc["environment"]["apt_notes"] = pkgs.notes
    except BenchError as exc:
        print(f"realworld_binaries: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report(doc))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
