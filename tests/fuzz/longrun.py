"""Long fuzzing runs by hand: `python -m tests.fuzz --long --minutes N` (this module is
what `tests/fuzz/__main__.py` runs; it is importable, so spawned processes find it).

Every family runs in its own process (so its peak RSS is its own) for its share of the
time, in batches of Hypothesis examples; a failing input is counted, written to
`--save DIR` and the run goes on. The table printed at the end is what the issue asks
for: per family, inputs tried / handled cleanly / peak RSS / max seconds per input.
Without --long, each family runs the example count of the normal suite once.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from queue import Empty
from typing import Any

# The memory one family's process may take before an input is stopped (MemoryError,
# counted as a failure): far above the 1 GB bound, below what hurts the machine.
ADDRESS_SPACE = 6 << 30


def _run_family(name: str, seconds: float, batch: int, save: str | None, out: Any) -> None:
    os.environ.setdefault("KMODLINT_FUZZ_CHAINS", "3")  # read when families is imported
    from hypothesis import HealthCheck, Phase, given, settings

    from tests.fuzz.families import FAMILIES, run_one

    os.environ["KMODLINT_CACHE_DIR"] = tempfile.mkdtemp(prefix="kmodlint-fuzz-cache-")
    os.environ.pop("KMODLINT_DEBUG", None)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    family = FAMILIES[name]
    stats: dict[str, Any] = {"tried": 0, "handled": 0, "max_seconds": 0.0, "slowest": ""}
    stats["failures"] = []
    # without --long (seconds 0): one batch of the family's example count, no deadline
    deadline = time.monotonic() + seconds if seconds > 0 else float("inf")

    @settings(
        max_examples=batch,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # nothing fails to Hypothesis: no shrinking
        suppress_health_check=list(HealthCheck),
    )
    @given(family.inputs)
    def one(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        stats["tried"] += 1
        start = time.monotonic()
        try:
            run_one(family, case)
            stats["handled"] += 1
        except Exception as exc:
            summary = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            stats["failures"].append(summary)
            if save:
                path = Path(save) / f"{name}-{len(stats['failures'])}.txt"
                path.write_text(f"{summary}\n\n{case!r}\n\n{traceback.format_exc()}")
        finally:
            seconds_taken = time.monotonic() - start
            if seconds_taken > stats["max_seconds"]:
                stats["max_seconds"] = seconds_taken
                stats["slowest"] = repr(case)[:160]
            sys.setrecursionlimit(1000)  # as a command-line run starts, for every input

    sys.setrecursionlimit(1000)
    while True:
        one()
        if seconds <= 0 or time.monotonic() >= deadline:
            break
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats["children_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.put((name, stats))


def _mixed_trees() -> str | None:
    """Run from a second checkout (a worktree) of an editable install, `kmodlint` comes from
    the checkout (the current directory is first on sys.path) but `kmodlint.rules` from the
    installed tree (setuptools maps it to the top-level rules/): two commits in one process.
    A long run on 2026-12-03 lost three families to that (ImportError, not kmodlint's)."""
    import importlib.util

    package = importlib.util.find_spec("kmodlint")
    rules = importlib.util.find_spec("kmodlint.rules")
    if package is None or rules is None or not package.origin or not rules.origin:
        return "kmodlint or kmodlint.rules cannot be found"
    package_root = os.path.dirname(os.path.dirname(os.path.realpath(package.origin)))
    rules_root = os.path.dirname(os.path.dirname(os.path.realpath(rules.origin)))
    if package_root != rules_root:
        return (
            f"kmodlint comes from {package_root} but kmodlint.rules from {rules_root}: run "
            "from the checkout that is installed, or link kmodlint/rules to the checkout's rules/"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz.families import FAMILIES

    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--long", action="store_true", help="run for --minutes, not once")
    parser.add_argument("--minutes", type=float, default=10.0, help="total, shared by families")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="families run at the same time")
    parser.add_argument("--batch", type=int, default=200, help="Hypothesis examples per batch")
    parser.add_argument("--save", help="folder for the failing inputs")
    args = parser.parse_args(argv)
    names = [n for n in args.families.split(",") if n]
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    if args.save:
        os.makedirs(args.save, exist_ok=True)
    mixed = _mixed_trees()
    if mixed:
        parser.error(mixed)
    # each family gets an equal share of the wall-clock time, `jobs` at a time
    waves = -(-len(names) // max(1, args.jobs))
    share = args.minutes * 60 / waves if args.long else 0.0
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    results: dict[str, dict] = {}
    pending = list(names)
    running: dict[str, Any] = {}
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < max(1, args.jobs):
            name = pending.pop(0)
            batch = args.batch if args.long else FAMILIES[name].examples
            process = context.Process(
                target=_run_family, args=(name, share, batch, args.save, queue)
            )
            process.start()
            running[name] = process
        try:
            name, stats = queue.get(timeout=5)
        except Empty:
            for name, process in list(running.items()):
                if not process.is_alive():  # killed (by the OOM killer, a signal)
                    running.pop(name)
                    results[name] = _died(name, process.exitcode)
            continue
        results[name] = stats
        running.pop(name).join()
        print(f"  {name}: {stats['tried']} inputs done", file=sys.stderr, flush=True)
    print(_table(names, results, time.monotonic() - started))
    return 0 if all(not results[n]["failures"] for n in names) else 1


def _died(name: str, exitcode: int | None) -> dict:
    return {
        "tried": 0,
        "handled": 0,
        "max_seconds": 0.0,
        "slowest": "",
        "failures": [f"the {name} process died (exit code {exitcode})"],
        "peak_rss_mb": 0.0,
        "children_rss_mb": 0.0,
    }


def _table(names: list[str], results: dict[str, dict], elapsed: float) -> str:
    rows = [("family", "tried", "handled", "failed", "peak RSS MB", "cpp RSS MB", "max s")]
    for name in names:
        r = results[name]
        rows.append(
            (
                name,
                str(r["tried"]),
                str(r["handled"]),
                str(len(r["failures"])),
                f"{r['peak_rss_mb']:.0f}",
                f"{r['children_rss_mb']:.0f}",
                f"{r['max_seconds']:.2f}",
            )
        )
    total = sum(results[n]["tried"] for n in names)
    handled = sum(results[n]["handled"] for n in names)
    rows.append(("total", str(total), str(handled), str(total - handled), "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"{elapsed / 60:.1f} minutes")
    for name in names:
        r = results[name]
        lines.append(f"{name}: slowest input ({r['max_seconds']:.2f} s): {r['slowest']}")
        for failure in r["failures"][:5]:
            lines.append(f"{name}: FAILED {failure}")
    return "\n".join(lines)
