"""Hostile or broken input costs one diagnostic line, never the run (issue 11).

Each test is one attack from the issue, run in this process through `cli.main` (fast:
no interpreter start-up per case), with the good module beside it still reported.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kmodlint import cli, pool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD_KO = FIXTURES / "arch" / "x86_64" / "mod1.ko"

GOOD_C = """\
#include <linux/module.h>
static int __init good_init(void) { return 0; }
module_init(good_init);
MODULE_LICENSE("GPL");
"""


def _module(body: str) -> str:
    """A file that is a module (it includes a kernel header), with `body` in it."""
    return f'#include <linux/module.h>\n{body}\nMODULE_LICENSE("GPL");\n'


BAD_IF = {
    "shift.c": _module("#if 1 << -1\nint a;\n#endif"),
    "product.c": _module(
        "#if (" + " * ".join(["0x7fffffffffffffff"] * 20) + ") / 3\nint b;\n#endif"
    ),
    "deep.c": _module("#if " + "(" * 5000 + "1" + ")" * 5000 + "\nint c;\n#endif"),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    """`kmodlint check ARGS --format json`: (status, report, stderr)."""
    status = cli.main(
        ["check", *args, "--kernel", "none", "--isolated", "--format", "json", "--no-ast"]
    )
    out, err = capsys.readouterr()
    return status, json.loads(out) if out.strip() else {}, err


def by_file(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.get("findings", []):
        name = os.path.basename(finding["path"] or "")
        found.setdefault(name, []).append(f"{finding['rule']}: {finding['message']}")
    return found


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder, so no test reads or writes the user's."""
    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KMODLINT_DEBUG", raising=False)
    return tmp_path


# ---------------------------------------------------------------------------------------
# 1. One bad file never costs the run


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_crashing_if_is_one_line_and_the_good_module_is_still_checked(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    for name, text in BAD_IF.items():
        (tree / name).write_text(text)
    # the pool even for four files: the failure must be caught in the worker itself
    monkeypatch.setattr(pool, "_POOL_THRESHOLD", 1)
    status, report, err = run(capsys, str(tree), "-j", jobs, "--no-cache")
    assert "Traceback" not in err and "_RemoteTraceback" not in err
    found = by_file(report)
    assert any("no-module-exit" in f for f in found["good.c"])  # the good module's finding
    for name, reason in (
        ("shift.c", "ValueError"),
        ("product.c", "OverflowError"),
        ("deep.c", "RecursionError"),
    ):
        assert len(found[name]) == 1, found[name]
        assert found[name][0].startswith("unparsable-source: analysis stopped (" + reason)
    assert status == 1


def test_a_crash_reading_a_binary_is_that_module_s_invalid_elf(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint import extract

    real = extract.inspect_module

    def fragile(data: bytes, path: str, name: str):  # type: ignore[no-untyped-def]
        if name == "bad":
            raise IndexError("list index out of range")
        return real(data, path, name)

    monkeypatch.setattr(extract, "inspect_module", fragile)
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, tree / "mod1.ko")
    shutil.copy(GOOD_KO, tree / "bad.ko")
    cli.main(["check", str(tree), "--kernel", "none", "--isolated", "--no-cache"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    bad = [line for line in out.splitlines() if "bad.ko" in line]
    assert bad == [
        f"{tree}/bad.ko: error: analysis stopped (IndexError: list index out of range) "
        "[KM902 invalid-elf]"
    ]
    assert out.rstrip().endswith("in 1 module")  # mod1.ko is still checked


def test_a_crash_of_kmodlint_itself_is_one_line_and_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("something\nkmodlint did not expect")

    monkeypatch.setattr(cli, "_dispatch", broken)
    assert cli.main(["check", str(env)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == "kmodlint: internal error: RuntimeError: something kmodlint did not expect"
    assert "report it" in lines[1] and len(lines) == 2
    monkeypatch.setenv("KMODLINT_DEBUG", "1")
    assert cli.main(["check", str(env)]) == 2
    assert "Traceback" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# 4. Output that goes away


class _ClosedPipe:
    """A stdout whose reader has gone (`kmodlint check | head -0`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False


class _FullDisk(_ClosedPipe):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_closed_pipe_exits_with_the_findings_status(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)  # a warning: status 1 with --fail-on warning
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    monkeypatch.setattr(cli, "_silence_stdout", lambda: None)  # pytest owns fd 1
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    assert cli.main([*args, "--fail-on", "warning"]) == 1
    assert cli.main([*args, "--fail-on", "error"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_full_disk_on_stdout_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    monkeypatch.setattr("sys.stdout", _FullDisk())
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "kmodlint: error: cannot write the report: No space left on device" in err
    assert "Traceback" not in err
