#!/usr/bin/env python3
"""Start-up of the commands a user runs on every commit, beside ruff's (issue 13, item 1).

Times whole processes (median of --runs), so the figures include the interpreter's own
start-up, as a user or a pre-commit hook sees them:

- `kmodlint --version`, `kmodlint rules`, `kmodlint explain KM301` against `ruff --version`
  (target: <= 0.1 s);
- `kmodlint check ONE.c` with a warm cache against `ruff check ONE.py` (target: <= 0.25 s).

Prints each figure with its anchor and the ratio, and the load average the rounds ran
under: the figures are wall-clock times, and every command runs once per round, in turn,
so a loaded machine slows kmodlint and ruff alike (the absolute targets still want an
otherwise idle machine).

    python3 benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SMALL_C = REPO / "corpus" / "km605-near-miss-matching-types" / "modparamtypeok.c"


def _once(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    kmodlint = [sys.executable, "-m", "kmodlint"]
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    with tempfile.TemporaryDirectory() as tmp:
        cache = ["--cache-dir", str(Path(tmp) / "cache")]
        one_py = Path(tmp) / "one.py"
        one_py.write_text("import os\n\nprint(os.getcwd())\n")
        check = [*kmodlint, "check", str(SMALL_C), "--kernel", "none", "--config", "none"]
        check += ["--isolated", "-q", *cache]
        commands = {
            "ruff --version": [ruff, "--version"],
            "ruff check one .py": [ruff, "check", "--no-cache", str(one_py)],
            "kmodlint --version": [*kmodlint, "--version"],
            "kmodlint rules": [*kmodlint, "rules"],
            "kmodlint explain KM301": [*kmodlint, "explain", "KM301"],
            "check one small .c, warm": check,
        }
        for command in commands.values():  # warm-up: the page cache, the .c's cache entry
            _once(command)
        # Every command once per round, in turn, so a change of the machine's load falls
        # on kmodlint and its anchor alike; the 1-minute load average before each round.
        samples: dict[str, list[float]] = {name: [] for name in commands}
        loads = []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            for name, command in commands.items():
                samples[name].append(_once(command))
    median = {name: statistics.median(values) for name, values in samples.items()}
    rows = [
        ("kmodlint --version", "ruff --version", 0.1),
        ("kmodlint rules", "ruff --version", 0.1),
        ("kmodlint explain KM301", "ruff --version", 0.1),
        ("check one small .c, warm", "ruff check one .py", 0.25),
    ]
    print(
        f"medians of {args.runs} rounds; load average (1 min) {min(loads):.2f}-{max(loads):.2f},"
        f" median {statistics.median(loads):.2f}, on {os.cpu_count()} CPUs"
    )
    print(f"{'what':28} {'kmodlint':>9} {'anchor (ruff)':>14} {'ratio':>7} {'target':>7}")
    for what, anchor, target in rows:
        seconds, base = median[what], median[anchor]
        verdict = "ok" if seconds <= target else "MISSED"
        print(
            f"{what:28} {seconds:8.3f}s {base:13.3f}s {seconds / base:6.1f}x "
            f"{target:6.2f}s {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
