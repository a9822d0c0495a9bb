#!/usr/bin/env python3
"""Start-up of the commands a user runs on every commit, beside ruff's (issue 13, item 1).

Times whole processes (median of --runs), so the figures include the interpreter's own
start-up, as a user or a pre-commit hook sees them:

- `kmodlint --version`, `kmodlint rules`, `kmodlint explain KM301` against `ruff --version`
  (target: <= 0.1 s);
- `kmodlint check ONE.c` with a warm cache against `ruff check ONE.py` (target: <= 0.25 s).

Prints each figure with its anchor and the ratio. Run on an otherwise idle machine: the
figures are wall-clock times.

    python3 benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SMALL_C = REPO / "corpus" / "km605-near-miss-matching-types" / "modparamtypeok.c"


def timed(command: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time of `command`, in seconds (one warm-up run first)."""
    subprocess.run(command, capture_output=True, cwd=cwd)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=cwd)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


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
        anchor = timed([ruff, "--version"], args.runs)
        anchor_check = timed([ruff, "check", "--no-cache", str(one_py)], args.runs)
        check = [
            *kmodlint,
            "check",
            str(SMALL_C),
            "--kernel",
            "none",
            "--config",
            "none",
            "--isolated",
            "-q",
            *cache,
        ]
        rows = [
            ("kmodlint --version", timed([*kmodlint, "--version"], args.runs), anchor, 0.1),
            ("kmodlint rules", timed([*kmodlint, "rules"], args.runs), anchor, 0.1),
            (
                "kmodlint explain KM301",
                timed([*kmodlint, "explain", "KM301"], args.runs),
                anchor,
                0.1,
            ),
            ("check one small .c, warm", timed(check, args.runs), anchor_check, 0.25),
        ]
    print(f"{'what':28} {'kmodlint':>9} {'anchor (ruff)':>14} {'ratio':>7} {'target':>7}")
    for what, seconds, base, target in rows:
        verdict = "ok" if seconds <= target else "MISSED"
        print(
            f"{what:28} {seconds:8.3f}s {base:13.3f}s {seconds / base:6.1f}x "
            f"{target:6.2f}s {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
