#!/usr/bin/env python3
"""`check --focus ONE.c` inside a full kernel source tree (issue 13, item 2).

Three whole-process runs of `kmodlint check --focus FILE` from the tree's top, with a fresh
cache folder, as a pre-commit hook would make them:

- first: no index yet (the tree's index is built: Kbuild grouping + one scan of every
  module file), and the context's modules analysed cold (target: <= 300 s on 2 cores);
- warm: the index exists, nothing changed (median of --runs; target: <= 1 s);
- incremental: the focus file edited (a comment appended): only it is read again by the
  index and analysed again by the front end.

The shared tree is never written: the runs happen in a copy made of symbolic links
(`cp -rs`, a few seconds), in which only the focus file is a real, editable file. Beside
each figure: the anchors, ruff checking one file and (with --make) kbuild compiling the
focus object against the --kernel headers (`make -C HEADERS M=<copy of its folder>
<object>.o`), and the ratios.

With --compare DIR..., the findings of the focus run are checked against a run over those
folders of the tree (which must hold the context's modules), kept the way --focus keeps
them (`Focus.select`): a whole-tree run takes hours with the AST on 2 cores, so a larger
part of the tree stands in for it.

    python3 benchmarks/focus_in_tree.py  # the defaults below: Linux 6.1 + Debian's amd64
    python3 benchmarks/focus_in_tree.py --focus drivers/net/ethernet/intel/igb/igb_main.c \
        --compare drivers/net/ethernet/intel/igb drivers/net/ethernet/intel/igbvf
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = "/work/cache"
TREE = f"{CACHE}/linux-source/x/usr/src/linux-source-6.1"
CONFIG = f"{CACHE}/image/x/boot/config-6.1.0-56-amd64"
KERNEL = "/usr/src/linux-headers-6.1.0-56-amd64"
FOCUS = "drivers/net/ethernet/intel/e1000e/netdev.c"
REPO = Path(__file__).resolve().parent.parent


Row = tuple[str, int | None, str, str]  # path, line, code, message


CPU: list[float] = []  # CPU seconds (user + system) of each run, in order


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds and the focus note of one run; its CPU seconds go to CPU (on a shared
    machine the wall time also counts the waits for a core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr}")
    note = next((line for line in done.stderr.splitlines() if "focus:" in line), "")
    return seconds, note


def link_copy(tree: str, into: Path, focus: str) -> Path:
    """The tree as symbolic links (folders real), the focus file a real copy."""
    copy = into / "linux"
    subprocess.run(["cp", "-rs", os.path.abspath(tree), str(copy)], check=True)
    target = copy / focus
    target.unlink()
    shutil.copy2(os.path.join(tree, focus), target)
    return copy


def ruff_one_file(runs: int, folder: Path) -> float:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    one = folder / "one.py"
    one.write_text("import os\n\nprint(os.getcwd())\n")
    samples = [run([ruff, "check", "--no-cache", str(one)], folder)[0] for _ in range(runs)]
    return statistics.median(samples)


def make_one_object(tree: str, kernel: str, focus: str, folder: Path) -> float | None:
    """kbuild compiling the focus object alone, as an external module's folder."""
    module_dir = folder / "module"
    shutil.copytree(os.path.join(tree, os.path.dirname(focus)), module_dir)
    obj = os.path.basename(focus)[:-2] + ".o"
    command = ["make", "-s", "-C", kernel, f"M={module_dir}", obj]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not (module_dir / obj).is_file():
        print(f"make of {obj} failed: {done.stderr.strip()[:300]}", file=sys.stderr)
        return None
    return seconds


def folders_run_about(
    tree: Path, folders: list[str], focus: str, config: str, kernel: str, cache: str
) -> tuple[list[Row], str]:
    """The findings of `check FOLDERS` that `--focus FOCUS` would keep, in this process
    (the same steps as pipeline.check up to the focus filter), and what that run read."""
    from kmodlint import settings
    from kmodlint.focus import Focus
    from kmodlint.loading import load_set
    from kmodlint.pipeline import rule_findings
    from kmodlint.settings import Layer

    os.chdir(tree)
    options = settings.resolve(folders, None, True, Layer(), kernel, config, "never")
    loaded = load_set(folders, kernel, None, True, cache, config)
    findings = rule_findings(loaded.module_set, options).findings
    kept = Focus(files={os.path.realpath(focus)}).select(findings, loaded.module_set)
    sources = loaded.sources
    read = f"{len(loaded.module_set.modules)} modules"
    if sources is not None:
        read += f", {sources.files_with_ast} of {sources.files_total} C files with the AST"
    return sorted((f.path, f.line, f.code, f.message) for f in kept), read


def focus_rows(report: Path) -> list[Row]:
    found = json.loads(report.read_text())["findings"]
    return sorted((f["path"], f["line"], f["code"], f["message"]) for f in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=TREE)
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--kernel", default=KERNEL)
    parser.add_argument("--focus", default=FOCUS, help="tree-relative path of the focus file")
    parser.add_argument("--runs", type=int, default=5, help="warm runs (the median is shown)")
    parser.add_argument("--make", action="store_true", help="also time kbuild's compile")
    parser.add_argument("--compare", nargs="+", metavar="DIR", help="tree-relative folders")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="focus-in-tree-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        tree = link_copy(args.tree, work, args.focus)
        print(f"linked copy of {args.tree}: {time.perf_counter() - started:.1f} s")
        command = [
            sys.executable, "-m", "kmodlint", "check", "--focus", args.focus,
            "--config", args.config, "--kernel", args.kernel,
            "--cache-dir", str(work / "cache"), "--fail-on", "never",
            "--format", "json", "--output", str(work / "report.json"),
        ]  # fmt: skip
        env_path = str(REPO)
        os.environ["PYTHONPATH"] = env_path + os.pathsep + os.environ.get("PYTHONPATH", "")
        first, note = run(command, tree)
        first_cpu = CPU[-1]
        print(f"first run: {first:.1f} s, {first_cpu:.1f} s CPU  [{note}]", flush=True)
        warm_runs = [run(command, tree) for _ in range(args.runs)]
        warm = statistics.median(seconds for seconds, _ in warm_runs)
        warm_cpu = statistics.median(CPU[-args.runs :])
        shown = ", ".join(f"{s:.2f}" for s, _ in warm_runs)
        print(f"warm runs: {shown} s, {warm_cpu:.2f} s CPU  [{warm_runs[-1][1]}]", flush=True)
        rebuilt = sum("built now" in note for _, note in warm_runs)
        if rebuilt:
            # the index's key holds kmodlint's code fingerprint: an edit of kmodlint during
            # the benchmark (a shared checkout) makes a warm run build the index again
            print(f"  {rebuilt} warm run(s) built the index again: kmodlint's code changed")
        with open(tree / args.focus, "a", encoding="utf-8") as handle:
            handle.write("/* edited by benchmarks/focus_in_tree.py */\n")
        incremental, note = run(command, tree)
        incremental_cpu = CPU[-1]
        print(f"incremental run: {incremental:.2f} s, {incremental_cpu:.2f} s CPU  [{note}]")
        read = re.search(r"(\d+) file\(s\) re-read", note)
        ruff = ruff_one_file(args.runs, work)
        make = make_one_object(args.tree, args.kernel, args.focus, work) if args.make else None
        same = None
        if args.compare:
            focused = focus_rows(work / "report.json")
            started = time.perf_counter()
            wider, read_by_folders = folders_run_about(
                tree, args.compare, args.focus, args.config, args.kernel, str(work / "cache")
            )
            seconds = time.perf_counter() - started
            same = focused == wider
            print(
                f"findings about the focus: {len(focused)} from --focus, {len(wider)} from a "
                f"run over {' '.join(args.compare)} ({read_by_folders}, {seconds:.0f} s): "
                + ("identical" if same else "DIFFERENT")
            )
            for row in sorted(set(focused) ^ set(wider)):
                print(f"  {'focus only' if row in focused else 'folders only'}: {row}")
        os.chdir(REPO)
        subprocess.run(["rm", "-rf", str(tree)], check=False)  # 78,000 links: faster than rmtree
    rows = [
        ("first run (index built)", first, first_cpu, 300.0),
        ("warm run", warm, warm_cpu, 1.0),
        ("incremental run (focus edited)", incremental, incremental_cpu, None),
    ]
    print()
    header = f"{'what':32} {'kmodlint':>9} {'CPU':>8} {'ruff 1 file':>12} {'ratio':>8}"
    header += f" {'make 1 .o':>10} {'ratio':>7}" if make else ""
    print(header + f" {'target':>8}")
    for what, seconds, cpu, target in rows:
        line = f"{what:32} {seconds:8.2f}s {cpu:7.2f}s {ruff:11.3f}s {seconds / ruff:7.0f}x"
        if make:
            line += f" {make:9.2f}s {seconds / make:6.2f}x"
        verdict = "" if target is None else ("ok" if seconds <= target else "MISSED")
        line += f" {'' if target is None else f'{target:.0f} s':>8} {verdict}"
        print(line)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} core(s)")
    if read:
        print(f"the incremental run re-read {read.group(1)} file(s) of the tree's index")
    return 0 if same is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())
