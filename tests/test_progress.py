"""The progress bar: on a terminal's stderr for long runs only; never on stdout. (Real
processes: the bar depends on what stderr is, a terminal or a pipe.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.corpus_support import CORPUS, run_kmodlint

SEEDS = CORPUS / "km000-seeds-mod1-mod2" / "built"
BAR = b"kmodlint: reading modules ["


def run_on_pty(*args: str, env_extra: dict[str, str] | None = None) -> tuple[bytes, bytes, int]:
    """Run the CLI with stderr on a pseudo-terminal; returns (stdout, terminal bytes, rc)."""
    env = dict(os.environ)
    env.pop("KMODLINT_PROGRESS_MIN", None)
    env.update(env_extra or {})
    master, slave = os.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "kmodlint", *args],
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
            timeout=300,
        )
    finally:
        os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the terminal is drained and its slave side closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return result.stdout, seen, result.returncode


def many_modules(folder: Path, count: int) -> Path:
    """`count` module files: a run long enough for the default threshold and a pool."""
    folder.mkdir()
    for index in range(count):
        shutil.copy(SEEDS / "mod1.ko", folder / f"copy{index:03}.ko")
    return folder


def test_bar_on_a_terminal_for_a_large_run(tmp_path: Path) -> None:
    tree = many_modules(tmp_path / "many", 210)
    out, seen, rc = run_on_pty("deps", str(tree), "--kernel", "none", "--no-cache", "-j", "2")
    assert rc == 0
    assert BAR in seen
    assert b"] 210/210" in seen
    assert seen.count(b"\r\x1b[K") >= 2  # drawn in place, then erased
    assert b"\r" not in out and b"reading modules" not in out


def test_threshold_can_be_lowered_and_stdout_stays_clean() -> None:
    args = ("deps", str(SEEDS), "--kernel", "none", "--no-cache", "--format", "json")
    out, seen, rc = run_on_pty(*args, env_extra={"KMODLINT_PROGRESS_MIN": "1"})
    assert rc == 0
    assert b"] 2/2" in seen
    assert out.startswith(b"{") and b"reading modules" not in out
    # A small run under the default threshold draws nothing.
    _, quiet_small, _ = run_on_pty(*args)
    assert BAR not in quiet_small


def test_no_bar_under_quiet_or_without_a_terminal() -> None:
    args = ("deps", str(SEEDS), "--kernel", "none", "--no-cache")
    _, seen, rc = run_on_pty(*args, "--quiet", env_extra={"KMODLINT_PROGRESS_MIN": "1"})
    assert rc == 0
    assert seen == b""
    env = dict(os.environ, KMODLINT_PROGRESS_MIN="1")
    piped = subprocess.run(
        [sys.executable, "-m", "kmodlint", *args], capture_output=True, env=env, timeout=300
    )
    assert piped.returncode == 0
    assert b"reading modules" not in piped.stderr and b"\r" not in piped.stderr


def test_jobs_do_not_change_the_result(tmp_path: Path) -> None:
    tree = many_modules(tmp_path / "pool", 70)  # above the pool threshold
    shutil.copy(SEEDS / "mod2.ko", tree / "mod2.ko")
    args = ("deps", str(tree), "--kernel", "none", "--no-cache", "--format", "json")
    outputs = {jobs: run_kmodlint(*args, "-j", jobs).stdout for jobs in ("1", "3")}
    assert outputs["1"] == outputs["3"]
    assert '"mod2"' in outputs["1"]
