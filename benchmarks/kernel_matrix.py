#!/usr/bin/env python3
"""The kernel matrix (issue 14) beside its anchor: the same kernels given as headers folders.

`kmodlint check MODULE --kernel 'debian-12/*-amd64'` reads kmodlint's shipped tables; the
anchor gives the same 13 kernels as folders holding each linux-headers .deb's
Module.symvers, utsrelease.h and auto.conf (what a user with every headers package
installed would pass), read by kmodlint's Module.symvers reader. Both must give the same
cells; the figures are wall times of whole processes (median of --runs) and the CPU time
of the last run, so they include the interpreter's start-up.

    python3 benchmarks/kernel_matrix.py --debs DIR [--module X.ko] [--runs 3]

DIR holds linux-headers-<release>-amd64_*.deb (kmodlint/kerneltables/build_shipped.py
--download-dir DIR fetches them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "corpus" / "km000-seeds-mod1-mod2" / "built"


def headers_folders(debs: Path, into: Path) -> list[str]:
    sys.path.insert(0, str(REPO))
    from kmodlint.kerneltables.deb import read_members
    from kmodlint.kerneltables.store import release_order

    wanted = ("/Module.symvers", "/include/generated/utsrelease.h", "/include/config/auto.conf")
    folders = []
    for deb in sorted(debs.glob("linux-headers-*-amd64_*_amd64.deb")):
        files, control = read_members(deb.read_bytes(), lambda n: n.endswith(wanted))
        release = control["Package"].removeprefix("linux-headers-")
        for name, data in files.items():
            target = into / release / name.split("/", 3)[3]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        folders.append(str(into / release))
    return sorted(folders, key=lambda f: release_order(os.path.basename(f)))


def run(args: list[str], runs: int) -> tuple[float, float, dict]:
    command = [sys.executable, "-m", "kmodlint", "check", *args, "--format", "json", "-q"]
    command += ["--isolated", "--fail-on", "never"]
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
        samples.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return statistics.median(samples), cpu, json.loads(done.stdout)["matrix"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--debs", type=Path, required=True)
    parser.add_argument("--module", default=str(SEEDS))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folders = headers_folders(args.debs, Path(scratch))
        names = [f"debian-12/{os.path.basename(f)}" for f in folders]
        tables = run([args.module, *(w for n in names for w in ("--kernel", n))], args.runs)
        anchor = run([args.module, *(w for f in folders for w in ("--kernel", f))], args.runs)
    same = [
        [cells[k] for k in tables[2]["kernels"]] for cells in tables[2]["modules"].values()
    ] == [[cells[k] for k in anchor[2]["kernels"]] for cells in anchor[2]["modules"].values()]
    print(f"{args.module}: {len(names)} kernels, same cells: {same}")
    print(f"  shipped tables:    {tables[0]:6.2f} s wall (median), {tables[1]:6.2f} s CPU")
    print(f"  headers folders:   {anchor[0]:6.2f} s wall (median), {anchor[1]:6.2f} s CPU")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
