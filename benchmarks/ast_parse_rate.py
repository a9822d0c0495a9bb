"""How many real kernel sources the AST path (cpp + stub kernel + pycparser) parses.

Runs :func:`kmodlint.cfront.ast.analyse.analyse_ast` on a deterministic sample of ``.c`` files of
a kernel source tree (default: drivers/, sound/, net/, fs/), in parallel, with defines from a
kernel ``.config``, and prints the share parsed, the time per file and the failure families.

    python benchmarks/ast_parse_rate.py \
        --tree /work/cache/linux-source/x/usr/src/linux-source-6.1 \
        --config /work/cache/debian/x/linux-image-6.1.0-56-amd64-unsigned/boot/\
config-6.1.0-56-amd64 --dirs drivers --sample 2000 --jobs 2

``--sample 0`` runs every file. Extra include directories are taken from the ``-I`` flags of
the Makefile/Kbuild next to each file (``$(srctree)``, ``$(src)`` and ``$(obj)`` substituted),
as a Kbuild-aware caller would.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import sys
import time
from collections import Counter
from multiprocessing import Pool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kmodlint.cfront.ast.analyse import analyse_ast
from kmodlint.cfront.preprocess.cpp import stub_env_dir

DEFAULT_TREE = "/work/cache/linux-source/x/usr/src/linux-source-6.1"
DEFAULT_CONFIG = (
    "/work/cache/debian/x/linux-image-6.1.0-56-amd64-unsigned/boot/config-6.1.0-56-amd64"
)


def config_defines(path: str | None) -> dict[str, str]:
    defines: dict[str, str] = {}
    if not path:
        return defines
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = re.match(r"(CONFIG_\w+)=(.*)$", line.strip())
            if not m:
                continue
            name, val = m.groups()
            if val == "y":
                defines[name] = "1"
            elif val == "m":
                defines[name + "_MODULE"] = "1"
            elif val != "n":
                defines[name] = val
    return defines


_MAKE_I = re.compile(r"-I\s*((?:\$[({][^)}]*[)}]|[^\s$])+)")


def makefile_includes(tree: str, directory: str) -> list[str]:
    dirs: list[str] = []
    for name in ("Kbuild", "Makefile"):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for raw in _MAKE_I.findall(text):
            d = raw
            for var in ("$(srctree)/$(src)", "${srctree}/${src}", "$(srctree)/$(obj)"):
                d = d.replace(var, directory)
            for var in ("$(srctree)", "${srctree}"):
                d = d.replace(var, tree)
            for var in ("$(src)", "$(obj)", "${src}", "${obj}"):
                d = d.replace(var, directory)
            if "$" in d or not d:
                continue
            if not os.path.isabs(d):
                d = os.path.join(tree, d)
            d = os.path.normpath(d)
            if (
                os.path.isdir(d)
                and d not in dirs
                and not d.startswith(os.path.join(tree, "include"))
            ):
                dirs.append(d)
    return dirs


def sample_files(tree: str, dirs: list[str], sample: int) -> list[str]:
    files = []
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(os.path.join(tree, top)):
            dirnames.sort()
            files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".c")]
    if sample and sample < len(files):
        files.sort(key=lambda p: hashlib.sha1(os.path.relpath(p, tree).encode()).hexdigest())
        files = sorted(files[:sample])
    return files


_STATE: dict[str, object] = {}


def _init(tree: str, defines: dict[str, str], stub_env: str | None = None) -> None:
    _STATE["tree"] = tree
    _STATE["defines"] = defines
    _STATE["stub_env"] = stub_env


def _run(path: str) -> tuple[str, bool, str | None, float]:
    tree = str(_STATE["tree"])
    defines = dict(_STATE["defines"])  # type: ignore[arg-type]
    stem = os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    defines["KBUILD_MODNAME"] = f'"{stem}"'
    include_dirs = makefile_includes(tree, os.path.dirname(path))
    t0 = time.perf_counter()
    stub_env = _STATE.get("stub_env")
    res = analyse_ast(
        path,
        defines=defines,
        include_dirs=include_dirs,
        stub_env=str(stub_env) if stub_env else None,
    )
    return path, res.ok, res.error, time.perf_counter() - t0


def family(error: str) -> str:
    """A failure's family: its message without paths, positions and identifiers' digits."""
    e = error
    m = re.match(r"cpp: .*?fatal error: (\S+): No such file", e)
    if m:
        return "cpp: missing include " + ("<sys>" if "/" not in m.group(1) else m.group(1))
    if e.startswith("cpp:"):
        e = re.sub(r"\S+:\d+:\d+:", "", e)
        return re.sub(r"\d+", "N", e)[:90]
    m = re.match(r"pycparser: \S+?: (?:\d+:\d+: )?(.*)$", e)
    if m:
        return "pycparser: " + m.group(1)[:70]
    return e[:90]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default=DEFAULT_TREE)
    ap.add_argument("--config", default=DEFAULT_CONFIG)
    ap.add_argument("--dirs", nargs="+", default=["drivers", "sound", "net", "fs"])
    ap.add_argument("--sample", type=int, default=2000, help="files to sample (0: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--failures", help="write every failure (path<TAB>error) here")
    ap.add_argument("--stub-env", help="a stub environment directory (default: the shipped one)")
    args = ap.parse_args(argv)

    stub_env_dir(args.stub_env)  # materialise once before the workers start
    files = sample_files(args.tree, args.dirs, args.sample)
    defines = config_defines(args.config)
    t0 = time.perf_counter()
    results = []
    with Pool(args.jobs, initializer=_init, initargs=(args.tree, defines, args.stub_env)) as pool:
        for r in pool.imap_unordered(_run, files, chunksize=4):
            results.append(r)
    wall = time.perf_counter() - t0
    ok = [r for r in results if r[1]]
    times = [r[3] for r in results]
    print(f"files: {len(results)}  parsed: {len(ok)}  share: {100 * len(ok) / len(results):.2f}%")
    print(
        f"time per file: median {statistics.median(times):.3f}s  mean "
        f"{statistics.mean(times):.3f}s  max {max(times):.2f}s  wall {wall:.0f}s "
        f"({args.jobs} jobs)"
    )
    by_top: dict[str, list[bool]] = {}
    for path, good, _, _ in results:
        top = os.path.relpath(path, args.tree).split(os.sep)[0]
        by_top.setdefault(top, []).append(good)
    for top, oks in sorted(by_top.items()):
        print(f"  {top:10s} {sum(oks):6d}/{len(oks):<6d} {100 * sum(oks) / len(oks):.2f}%")
    fails = sorted((r for r in results if not r[1]), key=lambda r: r[0])
    fam = Counter(family(r[2] or "") for r in fails)
    example: dict[str, str] = {}
    for r in fails:
        example.setdefault(family(r[2] or ""), os.path.relpath(r[0], args.tree))
    print(f"failure families (top {args.top}):")
    for name, count in fam.most_common(args.top):
        print(f"  {count:5d}  {name}   e.g. {example[name]}")
    if args.failures:
        with open(args.failures, "w", encoding="utf-8") as fh:
            for path, _, err, _ in fails:
                fh.write(f"{os.path.relpath(path, args.tree)}\t{err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
