#!/usr/bin/env python3
"""Compare kmodlint's Kbuild grouping with the modules a real kernel build produced.

Groups the given top-level directories of a kernel source tree with the kernel's ``.config``
(``kmodlint.cfront.kbuild.group_sources``) and compares the modules found with the
``modules.order`` of the matching binary package: module names, and names with their
directory (``kernel/<dir>/<name>.ko``). A module declared as ``obj-m += sub/foo.o`` is built in
``<dir>/sub/``; the grouping API reports the directory of the Kbuild file, so such a module
counts as a path match when the ``.ko`` directory lies under it (counted apart).

Not part of the test suite (the tree is large). Example::

    python3 benchmarks/kbuild_grouping.py  # the defaults below: Linux 6.1 + Debian's amd64
    python3 benchmarks/kbuild_grouping.py --tree SRC --config .config --order modules.order \\
        --tops drivers sound net fs
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kmodlint.cfront.kbuild.grouping import KbuildModule, group_sources

CACHE = "/work/cache"
TREE = f"{CACHE}/linux-source/x/usr/src/linux-source-6.1"
PKG = f"{CACHE}/debian/x/linux-image-6.1.0-56-amd64-unsigned"
CONFIG = f"{PKG}/boot/config-6.1.0-56-amd64"
ORDER = f"{PKG}/lib/modules/6.1.0-56-amd64/modules.order"

# Composite modules whose source list is checked against the tree's Makefile, by hand-read
# truth: (directory, module name, the .c files in Kbuild order, with the Debian config).
SOURCE_CHECKS = [
    (
        "drivers/net/ethernet/intel/e1000e",
        "e1000e",
        "82571 ich8lan 80003es2lan mac manage nvm phy param ethtool netdev ptp",
    ),
    (
        "sound/pci/hda",
        "snd-hda-codec",
        "hda_bind hda_codec hda_jack hda_auto_parser hda_sysfs hda_controller hda_proc "
        "hda_hwdep hda_beep",
    ),
    ("sound/pci/hda", "snd-hda-codec-realtek", "patch_realtek"),
    ("sound/pci/hda", "snd-hda-codec-hdmi", "patch_hdmi hda_eld"),
    ("sound/pci/hda", "snd-hda-codec-cs8409", "patch_cs8409 patch_cs8409-tables"),
    ("sound/pci/hda", "snd-hda-intel", "hda_intel"),
]


def load_config(path: str) -> dict[str, str]:
    config: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("CONFIG_") and "=" in line:
                key, _, value = line.partition("=")
                config[key] = value
    return config


def load_order(path: str, tops: list[str]) -> set[tuple[str, str]]:
    """(directory relative to the tree, module name) of every built module under *tops*."""
    out: set[tuple[str, str]] = set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            rel = line.strip().removeprefix("kernel/")
            if not rel.endswith(".ko"):
                continue
            if any(rel.startswith(top.rstrip("/") + "/") for top in tops):
                out.add((os.path.dirname(rel), os.path.basename(rel)[: -len(".ko")]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=TREE)
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--order", default=ORDER)
    parser.add_argument("--tops", nargs="+", default=["drivers", "sound", "net", "fs"])
    parser.add_argument("--show", type=int, default=30, help="mismatches to list per kind")
    args = parser.parse_args()

    config = load_config(args.config)
    truth = load_order(args.order, args.tops)
    started = time.perf_counter()
    results = {}
    for top in args.tops:
        t0 = time.perf_counter()
        results[top] = group_sources([os.path.join(args.tree, top)], config)
        print(
            f"{top:10s} {len(results[top].modules):5d} modules "
            f"{len(results[top].builtin_sources):5d} built-in .c "
            f"{results[top].skipped_by_config:5d} skipped by config "
            f"{len(results[top].orphan_sources):4d} orphans "
            f"{len(results[top].problems):3d} problems  {time.perf_counter() - t0:.2f} s"
        )
    elapsed = time.perf_counter() - started

    found: dict[tuple[str, str], KbuildModule] = {}
    for result in results.values():
        for module in result.modules:
            rel = os.path.relpath(module.directory, args.tree)
            found[(rel, module.name)] = module

    truth_names = collections.Counter(name for _, name in truth)
    found_names = collections.Counter(name for _, name in found)
    name_hits = sum((truth_names & found_names).values())

    exact = {k for k in found if k in truth}
    under: set[tuple[str, str]] = set()
    matched_truth = set(exact)
    for rel, name in set(found) - exact:
        for tdir, tname in truth - matched_truth:
            if tname == name and tdir.startswith(rel + "/"):
                under.add((rel, name))
                matched_truth.add((tdir, tname))
                break
    path_hits = len(exact) + len(under)
    print(f"\nbuilt modules under {' '.join(args.tops)}: {len(truth)}; found: {len(found)}")
    print(
        f"names:        recall {name_hits / len(truth):.4f}  "
        f"precision {name_hits / max(1, len(found)):.4f}"
    )
    print(
        f"names+paths:  recall {path_hits / len(truth):.4f}  "
        f"precision {path_hits / max(1, len(found)):.4f}  "
        f"({len(exact)} same directory, {len(under)} in a subdirectory of the Kbuild's)"
    )
    print(f"time: {elapsed:.2f} s")
    empty = sorted(k for k, m in found.items() if not m.sources)
    print(f"modules without any C source: {len(empty)} {empty[: args.show]}")

    missing = sorted(truth - matched_truth)
    extra = sorted(set(found) - exact - under)
    print(f"\nbuilt but not found ({len(missing)}):")
    for rel, name in missing[: args.show]:
        print(f"  {rel}/{name}.ko")
    print(f"found but not built ({len(extra)}):")
    for rel, name in extra[: args.show]:
        module = found[(rel, name)]
        print(f"  {rel}/{name}  ({module.kbuild_path}:{module.line})")

    print("\nsource lists of composite modules:")
    bad = 0
    for rel, name, expected in SOURCE_CHECKS:
        module = found.get((rel, name))
        got = [os.path.basename(s)[:-2] for s in module.sources] if module else None
        ok = got == expected.split()
        bad += not ok
        print(f"  {'ok ' if ok else 'BAD'} {rel}/{name}: {' '.join(got or ['(missing)'])}")
    problems = [p for r in results.values() for p in r.problems]
    print(f"\nproblems ({len(problems)}):")
    for path, line, message in problems[: args.show]:
        print(f"  {os.path.relpath(path, args.tree)}:{line}: {message}")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
