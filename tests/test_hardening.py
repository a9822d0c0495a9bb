"""Hostile or broken input costs one diagnostic line, never the run (issue 11).

Each test is one attack from the issue, run in this process through `cli.main` (fast:
no interpreter start-up per case), with the good module beside it still reported.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmodlint import cli, pool

# what hostile input costs is judged at the limit a command-line run starts with
pytestmark = pytest.mark.usefixtures("default_recursion_limit")

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


class _Hung(BaseException):
    """Not an OSError (TimeoutError is one: a reader's `except OSError` would swallow it and
    a hang would pass as a skipped file), not an Exception (per-file handlers catch those)."""


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """A hang (a FIFO opened for reading) fails its test instead of the whole run."""

    def expired(signum: int, frame: object) -> None:
        raise _Hung("the test hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


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
    # the one crash left: 5,000 nested parentheses
    assert len(found["deep.c"]) == 1, found["deep.c"]
    assert found["deep.c"][0].startswith("unparsable-source: analysis stopped (RecursionError")
    # `1 << -1` is "cannot tell" and the overflowing product a C value since the one #if
    # evaluator (cfront/preprocess/condition.py); they crashed (ValueError, OverflowError) before
    for name in ("shift.c", "product.c"):
        assert not any("analysis stopped" in f for f in found.get(name, [])), found[name]
    assert status == 1


def test_a_crash_reading_a_binary_is_that_module_s_invalid_elf(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint.frontends import elf  # extract.py imports it when it reads a binary

    real = elf.inspect_module

    def fragile(data: bytes, path: str, name: str):  # type: ignore[no-untyped-def]
        if name == "bad":
            raise IndexError("list index out of range")
        return real(data, path, name)

    monkeypatch.setattr(elf, "inspect_module", fragile)
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


# ---------------------------------------------------------------------------------------
# 2. Only regular files are opened, and never more than a bound


def test_read_regular_refuses_fifos_devices_and_huge_files(tmp_path: Path) -> None:
    from kmodlint.safe_io import RefusedInput, read_regular

    fifo = tmp_path / "fifo.c"
    os.mkfifo(fifo)  # no writer: a plain open() would block for ever
    zero = tmp_path / "zero.c"
    zero.symlink_to("/dev/zero")  # a plain read() would never end
    big = tmp_path / "big.c"
    big.write_bytes(b"x" * 2000)
    fine = tmp_path / "fine.c"
    fine.write_bytes(b"int x;\n")
    for path, reason in ((fifo, "not a regular file"), (zero, "not a regular file")):
        with pytest.raises(RefusedInput) as refused:
            read_regular(str(path), 1 << 20)
        assert refused.value.strerror == reason
    with pytest.raises(RefusedInput, match="larger than 1000 bytes"):
        read_regular(str(big), 1000)
    assert read_regular(str(fine), 1000) == b"int x;\n"


def _kbuild_tree(root: Path) -> Path:
    """good.c, a FIFO and a symlink to /dev/zero, all claimed by the Kbuild."""
    tree = root / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    os.mkfifo(tree / "fifo.c")
    (tree / "zero.c").symlink_to("/dev/zero")
    (tree / "Kbuild").write_text("obj-m += good.o fifo.o zero.o\n")
    return tree


def test_a_fifo_and_a_dev_zero_source_are_one_line_each(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _kbuild_tree(env)
    _, report, err = run(capsys, str(tree), "--no-cache", "--config", "none")
    found = by_file(report)
    assert found["fifo.c"] == ["unknown-input: not a regular file"]
    assert found["zero.c"] == ["unknown-input: not a regular file"]
    assert any("no-module-exit" in f for f in found["good.c"])
    assert "Traceback" not in err


def test_a_fifo_and_a_dev_zero_source_without_a_kbuild_are_one_line_each(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no Kbuild, the grouping's own walk of the folder used to hand them on as lone
    modules: a second line each ("unreadable-path") after discovery's."""
    tree = _kbuild_tree(env)
    (tree / "Kbuild").unlink()
    _, report, err = run(capsys, str(tree), "--no-cache", "--config", "none")
    found = by_file(report)
    assert found["fifo.c"] == ["unknown-input: not a regular file"]
    assert found["zero.c"] == ["unknown-input: not a regular file"]
    assert any("no-module-exit" in f for f in found["good.c"])
    assert "Traceback" not in err


def test_analyse_source_refuses_a_fifo_even_when_handed_one(tmp_path: Path) -> None:
    """The worker's own reading, whatever discovery decided: a FIFO named by a job."""
    from kmodlint.cfront.frontend import SourceJob, analyse_source

    os.mkfifo(tmp_path / "x.c")
    result = analyse_source(SourceJob(str(tmp_path / "x.c"), (), use_ast=False))
    assert [(p.name, p.message) for p in result.problems] == [
        ("unreadable-path", "not a regular file")
    ]


def test_kbuild_files_that_are_fifos_are_not_read(tmp_path: Path) -> None:
    from kmodlint.cfront.kbuild.dkms import read_dkms_make
    from kmodlint.cfront.kbuild.grouping import group_sources

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    os.mkfifo(tree / "fifo.mk")
    (tree / "Kbuild").write_text("include $(src)/fifo.mk\nobj-m += good.o\n")
    os.mkfifo(tree / "dkms.conf")
    assert read_dkms_make(str(tree / "dkms.conf")) == {}
    grouping = group_sources([str(tree)], None, [str(tree / "good.c")])
    # never opened (kbuild's include looks for a file), one problem naming it
    assert [m for _, _, m in grouping.problems if "fifo.mk" in m] == [
        f"included file not found: {tree / 'fifo.mk'}"
    ]
    assert [m.name for m in grouping.modules] == ["good"]


def test_a_linemarker_naming_dev_zero_is_not_read(tmp_path: Path) -> None:
    """`#line 1 "/dev/zero"`: the AST path maps locations through the named file, and the
    cache records every file cpp's linemarkers name."""
    from kmodlint import cache
    from kmodlint.cfront.ast.walk import Locator as _Locator

    assert _Locator(str(tmp_path / "x.c"), str(tmp_path))._source("/dev/zero") is None
    _, deps = cache.recorded(lambda _: cache.note_file("/dev/zero"), None)
    assert [dep[1] for dep in deps] == [-1]  # recorded as "not a file", never read


def test_a_kernel_tree_with_a_fifo_and_a_dev_zero_module(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kernel = env / "kernel"
    (kernel / "kernel").mkdir(parents=True)
    shutil.copy(FIXTURES / "arch" / "x86_64" / "mod2.ko", kernel / "kernel" / "mod2.ko")
    os.mkfifo(kernel / "kernel" / "fifo.ko")
    (kernel / "kernel" / "zero.ko").symlink_to("/dev/zero")
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, tree / "mod1.ko")
    status = cli.main(["check", str(tree), "--kernel", str(kernel), "--isolated", "--no-cache"])
    out, err = capsys.readouterr()
    assert f"{kernel}/kernel/fifo.ko: error: not a regular file [KM903 unreadable-path]" in out
    assert f"{kernel}/kernel/zero.ko: error: not a regular file [KM903 unreadable-path]" in out
    assert "mod1.ko" in out and "Traceback" not in err
    assert status == 1


def _bombs() -> dict[str, bytes]:
    """128 MB of zeros in each format, a few hundred KB at most, compressed a MB at a
    time (so this process never holds the image the bomb would inflate to)."""
    import lzma
    import zlib

    import zstandard

    mb = bytes(1 << 20)
    xz, gz = lzma.LZMACompressor(), zlib.compressobj(1, wbits=31)
    zst = zstandard.ZstdCompressor().compressobj()
    packed: dict[str, list[bytes]] = {"xz.ko.xz": [], "gz.ko.gz": [], "zst.ko.zst": []}
    for _ in range(128):
        packed["xz.ko.xz"].append(xz.compress(mb))
        packed["gz.ko.gz"].append(gz.compress(mb))
        packed["zst.ko.zst"].append(zst.compress(mb))
    packed["xz.ko.xz"].append(xz.flush())
    packed["gz.ko.gz"].append(gz.flush())
    packed["zst.ko.zst"].append(zst.flush())
    return {name: b"".join(parts) for name, parts in packed.items()}


def test_decompression_bombs_are_stopped_early(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import resource

    tree = env / "tree"
    tree.mkdir()
    for name, data in _bombs().items():
        (tree / name).write_bytes(data)
    shutil.copy(GOOD_KO, tree / "mod1.ko")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cli.main(["check", str(tree), "--kernel", "none", "--isolated", "--no-cache"])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    out = capsys.readouterr().out
    for name in ("xz.ko.xz", "gz.ko.gz", "zst.ko.zst"):
        line = next(line for line in out.splitlines() if name in line)
        assert "decompresses to more than" in line and "[KM902 invalid-elf]" in line
    assert out.rstrip().endswith("in 1 module")
    assert grown_mb < 64  # a chunk past the cap at most, never the 128 MB image


def test_compressed_modules_still_inflate_and_truncated_ones_are_corrupt() -> None:
    import gzip
    import lzma

    import zstandard

    from kmodlint.extract import inflate
    from kmodlint.frontends.compressed import DecompressError

    image = GOOD_KO.read_bytes()
    packed = {
        "m.ko.xz": lzma.compress(image),
        "m.ko.gz": gzip.compress(image),
        "m.ko.zst": zstandard.ZstdCompressor(write_content_size=False).compress(image),
    }
    for name, data in packed.items():
        assert inflate(data, name) == image
        with pytest.raises(DecompressError, match="corrupt compressed module"):
            inflate(data[: len(data) - 4], name)  # a truncated .ko.zst is no longer accepted
    with pytest.raises(DecompressError, match="wrong magic"):
        inflate(b"\x7fELF", "m.ko.zst")


def test_a_small_module_of_zeroed_tables_inflates_and_a_bomb_still_does_not() -> None:
    """Debian 6.12's test_bpf.ko.xz is 45 KB for a 4.9 MB image (110x): a small image may
    compress up to 256x; past 8 MB only 64x is allowed (a 388 KB bomb stops at 24 MB)."""
    import gzip
    import lzma
    import random

    from kmodlint.extract import MB, inflate, inflate_cap
    from kmodlint.frontends.compressed import DecompressError

    # a random byte every 300: 5 MB that xz and gzip pack ~100x (the reader ignores them)
    tables = bytearray(5 * MB)
    tables[::300] = random.Random(0).randbytes(len(tables[::300]))
    image = GOOD_KO.read_bytes() + bytes(tables)
    for name, data in (("t.ko.xz", lzma.compress(image)), ("t.ko.gz", gzip.compress(image))):
        assert len(image) > 64 * len(data)
        assert inflate(data, name) == image
    assert inflate_cap(388 * 1024) == 64 * 388 * 1024
    assert inflate_cap(20 * 1024) == 256 * 20 * 1024
    assert inflate_cap(100 * 1024) == 8 * MB
    with pytest.raises(DecompressError, match="decompresses to more than"):
        inflate(lzma.compress(bytes(9 * MB)), "z.ko.xz")


def test_an_oversized_module_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint import extract

    monkeypatch.setattr(extract, "MODULE_LIMIT", 1000)
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, tree / "mod1.ko")
    cli.main(["check", str(tree), "--kernel", "none", "--isolated", "--no-cache"])
    out = capsys.readouterr().out
    assert f"{tree}/mod1.ko: error: larger than 1000 bytes [KM903 unreadable-path]" in out


def test_settings_files_that_are_fifos_or_too_deep_are_one_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    os.mkfifo(tree / "fifo.toml")
    deep = tree / "deep.toml"
    deep.write_text("select = " + "[" * 5000 + "]" * 5000 + "\n")
    big = tree / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    for name, reason in (
        ("fifo.toml", "cannot read: not a regular file"),
        ("deep.toml", "invalid TOML: nested too deeply"),
        ("big.toml", "cannot read: larger than 1 MB"),
    ):
        status = cli.main(["check", str(tree), "--settings", str(tree / name), "--kernel", "none"])
        err = capsys.readouterr().err
        assert status == 2
        assert err.strip() == f"kmodlint: error: {tree / name}: {reason}", err


def test_baselines_that_are_fifos_deep_or_infinite_are_one_error(tmp_path: Path) -> None:
    from kmodlint import baseline

    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "inf.json").write_text(
        json.dumps(
            {"version": 1, "findings": [{"code": "KM1", "module": "m", "key": "k"}]}
        ).replace('"key": "k"', '"key": "k", "count": 1e999')
    )
    (tmp_path / "digits.json").write_text('{"version": ' + "1" * 5000 + "}")
    for name, reason in (
        ("fifo.json", "not a regular file"),
        ("deep.json", "nested too deeply"),
        ("inf.json", "malformed entry"),
        ("digits.json", "is not JSON"),
    ):
        with pytest.raises(baseline.BaselineError, match=reason):
            baseline.read(str(tmp_path / name))


def _unusable(folder: Path) -> dict[str, Path]:
    """A FIFO and a symlink to /dev/zero: what a plain open() would block or never end on."""
    os.mkfifo(folder / "fifo")
    (folder / "zero").symlink_to("/dev/zero")
    return {"fifo": folder / "fifo", "zero": folder / "zero"}


def test_a_config_that_is_a_fifo_dev_zero_or_a_gzip_bomb_is_one_error(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from kmodlint.cfront.kbuild import kconfig

    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    unusable = _unusable(env)
    fifo_gz = env / "config.gz"
    os.mkfifo(fifo_gz)
    monkeypatch.setattr(kconfig, "TABLE_LIMIT", 1 << 20)  # 1 MB: a bomb needs no 256 MB here
    bomb = env / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"CONFIG_X=y\n" + bytes(8 << 20)))  # 8 KB -> 8 MB
    broken = env / "broken.gz"
    broken.write_bytes(gzip.compress(b"CONFIG_X=y\n" * 1000)[:-20])
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    from kmodlint import loading

    real_load_set = loading.load_set

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the analysis started")

    monkeypatch.setattr(loading, "load_set", never)  # the error comes before any analysis
    for path, reason in (
        (unusable["fifo"], "not a regular file"),
        (unusable["zero"], "not a regular file"),
        (fifo_gz, "not a regular file"),
        (bomb, "decompresses to more than 1 MB"),
        (broken, "truncated gzip data"),
    ):
        assert cli.main([*args, "--config", str(path)]) == 2
        out, err = capsys.readouterr()
        assert err.strip() == f"kmodlint: error: {path}: {reason}", err
    # a good compressed configuration still reads, and the module beside is checked
    fine = env / "config-ok.gz"
    fine.write_bytes(gzip.compress(b"CONFIG_MODULES=y\n# CONFIG_X is not set\n"))
    monkeypatch.setattr(loading, "load_set", real_load_set)
    assert kconfig.read_config(str(fine), keep_unset=True) == {
        "CONFIG_MODULES": "y",
        "CONFIG_X": "",
    }
    assert cli.main([*args, "--config", str(fine)]) == 1
    out, err = capsys.readouterr()
    assert "no-module-exit" in out and f"configuration {fine}" in err


def test_a_fifo_or_dev_zero_modules_order_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("fifo", "zero"):
        tree = env / kind
        tree.mkdir()
        shutil.copy(GOOD_KO, tree / "mod1.ko")
        order = tree / "modules.order"
        if kind == "fifo":
            os.mkfifo(order)
        else:
            order.symlink_to("/dev/zero")
        status = cli.main(["check", str(tree), "--kernel", "none", "--isolated", "--no-cache"])
        out, err = capsys.readouterr()
        assert [line for line in out.splitlines() if "modules.order" in line] == [
            f"{order}: error: not a regular file [KM903 unreadable-path]"
        ]
        assert out.rstrip().endswith("in 1 module") and "Traceback" not in err
        assert status == 1


def test_a_module_made_of_a_fifo_and_dev_zero_still_reports_its_good_part(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "main.c").write_text(GOOD_C)
    (tree / "shared.h").write_text("int shared;\n")
    os.mkfifo(tree / "fifo.c")
    (tree / "zero.c").symlink_to("/dev/zero")
    (tree / "Kbuild").write_text("obj-m += good.o\ngood-y := main.o fifo.o zero.o\n")
    for paths in ([str(tree)], ["--focus", str(tree / "shared.h"), str(tree / "main.c")]):
        _, report, err = run(capsys, *paths, "--config", "none")
        found = by_file(report)
        assert any("no-module-exit" in f for f in found["main.c"])
        assert "Traceback" not in err
        if "--focus" not in paths:  # --focus keeps only main.c's module's own findings
            assert found["fifo.c"] == ["unknown-input: not a regular file"], found
            assert found["zero.c"] == ["unknown-input: not a regular file"]


def test_readers_of_a_module_s_files_after_the_front_end_refuse_fifos_and_dev_zero(
    tmp_path: Path,
) -> None:
    """Inline suppressions and --focus read a module's files again after the front end
    (which refused them, one line each): a FIFO or /dev/zero put there since (or handed
    over by a caller) is skipped, not read for ever."""
    from kmodlint import focus, suppress

    unusable = _unusable(tmp_path)
    good = tmp_path / "good.c"
    good.write_text('#include "shared.h"\nint x; // kmodlint: ignore[KM601]\n')
    for path in unusable.values():
        assert suppress.scan(str(path), []) == []
    assert [s.line for s in suppress.scan(str(good), [])] == [2]
    files = [str(unusable["fifo"]), str(unusable["zero"])]
    assert not focus._includes(files, {"shared.h"})
    assert focus._includes([*files, str(good)], {"shared.h"})
    # a pyproject.toml that is a FIFO, /dev/zero, or nested too deeply: no settings there
    for kind in ("fifo", "zero", "deep", "kmodlint"):
        folder = tmp_path / f"project-{kind}"
        folder.mkdir()
        if kind == "fifo":
            os.mkfifo(folder / "pyproject.toml")
        elif kind == "zero":
            (folder / "pyproject.toml").symlink_to("/dev/zero")
        elif kind == "deep":
            (folder / "pyproject.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
        else:
            (folder / "pyproject.toml").write_text("[tool.kmodlint]\n")
        assert focus._has_config(str(folder)) is (kind == "kmodlint")


def test_a_user_space_check_including_a_fifo_header_does_not_hang(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .c no Kbuild claims is read with its quoted headers to tell a program from a
    module: a header that is a FIFO or /dev/zero is skipped, not read."""
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    os.mkfifo(tree / "fifo.h")
    (tree / "zero.h").symlink_to("/dev/zero")
    (tree / "tool.c").write_text('#include "fifo.h"\n#include "zero.h"\nint tool(void);\n')
    _, report, err = run(capsys, str(tree), "--config", "none")
    found = by_file(report)
    assert any("no-module-exit" in f for f in found["good.c"])
    assert "tool.c" not in found  # a user-space program: its headers show no kernel one
    assert found["fifo.h"] == ["unknown-input: not a regular file"]
    assert "Traceback" not in err and "user-space programs" in err


def test_the_search_of_a_module_s_folder_skips_fifos_and_dev_zero(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """defined_elsewhere reads the other .c files of a module's folder for a definition
    of what nobody exports: a FIFO there must not block it, /dev/zero not fill memory."""
    from kmodlint.cfront import elsewhere  # loading.py imports it when there are sources

    searched: list[set[str]] = []
    real = elsewhere.defined_elsewhere

    def spy(module: object, wanted: set[str]) -> set[str]:
        found = real(module, wanted)  # type: ignore[arg-type]
        searched.append(found)
        return found

    monkeypatch.setattr(elsewhere, "defined_elsewhere", spy)
    symvers = env / "Module.symvers"
    symvers.write_text("0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n")
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(
        GOOD_C.replace("return 0;", "return helper();").replace(
            "static int", "extern int helper(void);\nstatic int", 1
        )
    )
    (tree / "Kbuild").write_text("obj-m += good.o\n")
    os.mkfifo(tree / "a_fifo.c")  # searched before other.c
    (tree / "b_zero.c").symlink_to("/dev/zero")
    (tree / "other.c").write_text("int helper(void) { return 0; }\n")
    args = ["check", str(tree), "--kernel", str(symvers), "--isolated", "--no-cache"]
    cli.main([*args, "--format", "json", "--no-ast", "--config", "none"])
    out, err = capsys.readouterr()
    found = by_file(json.loads(out))
    assert searched == [{"helper"}]  # found in other.c, past the FIFO and /dev/zero
    assert not any("helper" in f for f in found["good.c"] if "extern" not in f)
    assert found["a_fifo.c"] == ["unknown-input: not a regular file"]
    assert "Traceback" not in err


def test_kernel_source_readers_skip_fifos_and_dev_zero(tmp_path: Path) -> None:
    """--kernel-source's generator reads the user's kernel tree: its headers and .c files
    and autoconf.h. Each reader refuses what is not a regular file of bounded size."""
    from kmodlint.cfront import kernel_inlines
    from kmodlint.cfront.kbuild.kconfig import ConfigError, read_config_macros
    from kmodlint.cfront.stubenv import conditions, read_headers

    include = tmp_path / "include" / "linux"
    include.mkdir(parents=True)
    (include / "good.h").write_text(
        "#define GOOD_FN(x) (x)\n#define GOOD_VALUE 3\n#if GOOD_TEST\n#endif\n"
        "static inline int good_inline(void) { return 0; }\n"
    )
    for name in ("fifo.h", "fifo.c"):
        os.mkfifo(include / name)
    for name in ("zero.h", "zero.c"):
        (include / name).symlink_to("/dev/zero")
    roots = [str(tmp_path / "include")]
    assert read_headers.function_macros(roots) == frozenset({"GOOD_FN"})
    assert read_headers.object_macros(roots) == {"GOOD_VALUE": ["3"]}
    assert read_headers.tested_names(roots) == {"GOOD_TEST"}
    assert "good_inline" in kernel_inlines.generate(str(tmp_path))
    scan = read_headers.scan_header(
        str(include / "fifo.h"), "linux/fifo.h", conditions.CondEvaluator(None, {})
    )
    assert not scan.order
    for name in ("fifo.h", "zero.h"):
        with pytest.raises(ConfigError, match="not a regular file"):
            read_config_macros(str(include / name))


@pytest.mark.skipif(shutil.which("cpp") is None, reason="no cpp on this machine")
def test_cpp_including_dev_zero_is_stopped_by_its_memory_limit(tmp_path: Path) -> None:
    from kmodlint.cfront.preprocess.cpp import PreprocessError, preprocess

    source = tmp_path / "zinc.c"
    source.write_text('#include "/dev/zero"\n')
    with pytest.raises(PreprocessError, match="cpp: "):
        preprocess(str(source), defines={}, include_dirs=[])


# ---------------------------------------------------------------------------------------
# 3. The cache cannot execute code


class _Payload:
    """Unpickling this creates `marker` (os.system would do anything else the same way)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def _entries(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.glob("v*/*/*") if p.is_file() and not p.name.startswith(".tmp-")]


def test_a_crafted_pickle_at_a_real_entry_is_a_miss_and_never_runs(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pickle

    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    cache_dir = env / "cache"
    first = run(capsys, str(tree), "--cache-dir", str(cache_dir))
    entries = _entries(cache_dir)
    assert entries  # the run stored its result
    marker = env / "pwned"
    crafted = pickle.dumps(([], _Payload(str(marker))))
    for forged in (crafted, bytes(32) + crafted, entries[0].read_bytes()[:32] + crafted):
        for entry in entries:
            entry.write_bytes(forged)
        again = run(capsys, str(tree), "--cache-dir", str(cache_dir))
        assert not marker.exists()
        assert again[:2] == first[:2]  # a miss: the same findings, recomputed


def test_cache_key_and_folders_are_private_whatever_the_umask(tmp_path: Path) -> None:
    from kmodlint.cache import Cache

    old = os.umask(0)
    try:
        cache = Cache(tmp_path / "a" / "b" / "cache")
        cache.store("ab" + "0" * 62, "value", [])
    finally:
        os.umask(old)
    root = tmp_path / "a"
    for folder in (root, root / "b", root / "b" / "cache", cache.directory):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (cache.root / "key").stat().st_mode & 0o777 == 0o600
    assert Cache(cache.root).load("ab" + "0" * 62) == "value"


def test_a_key_others_can_read_is_not_trusted(tmp_path: Path) -> None:
    from kmodlint.cache import Cache

    key = "cd" + "0" * 62
    Cache(tmp_path / "cache").store(key, "value", [])
    (tmp_path / "cache" / "key").chmod(0o644)  # anyone could have signed with it
    assert Cache(tmp_path / "cache").load(key) is None
    (tmp_path / "cache" / "key").chmod(0o600)
    assert Cache(tmp_path / "cache").load(key) == "value"
    # an entry moved to another name does not verify there
    other = "ef" + "0" * 62
    cache = Cache(tmp_path / "cache")
    cache._file(other).parent.mkdir(parents=True, exist_ok=True)
    cache._file(other).write_bytes(cache._file(key).read_bytes())
    assert cache.load(other) is None


needs_cpp = pytest.mark.skipif(shutil.which("cpp") is None, reason="no cpp on this machine")


@needs_cpp
def test_the_stub_environment_goes_where_the_cache_goes(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(env / "xdg"))
    monkeypatch.delenv("KMODLINT_CACHE_DIR")
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--config", "none"]
    assert cli.main([*args, "--cache-dir", str(env / "chosen")]) == 1
    assert list((env / "chosen").glob("stubenv-*"))
    assert "1 of 1 C file(s) analysed with a full syntax tree" in capsys.readouterr().err
    assert cli.main([*args, "--no-cache"]) == 1
    assert "1 of 1 C file(s) analysed with a full syntax tree" in capsys.readouterr().err
    assert not (env / "xdg").exists()  # neither run wrote to the default cache


@needs_cpp
def test_no_writable_cache_folder_still_parses_c_with_one_note(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    (env / "file").write_text("")  # a cache folder that cannot exist (root ignores modes)
    cache_dir = env / "file" / "cache"
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--config", "none"]
    assert cli.main([*args, "--cache-dir", str(cache_dir)]) == 1
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "cache folder" in line]
    assert notes == [
        f"kmodlint: cache folder {cache_dir}: {env / 'file'}: not a directory; this run "
        "works in a temporary folder instead (give --cache-dir or KMODLINT_CACHE_DIR a "
        "writable one)"
    ]
    assert "1 of 1 C file(s) analysed with a full syntax tree" in err


# ---------------------------------------------------------------------------------------
# 4. Signals stop the workers at once


def _slow(item: int) -> int:
    import time

    time.sleep(0.2)
    return item


class _NotConverted(Exception):
    """What SIGTERM raises here if the pool did not install its own handler (instead of
    killing the test run)."""


def _gone(pid: int) -> bool:
    """Whether process `pid` is dead: no such process, or a zombie (dead, only its exit
    status left for its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_pool_within_2_s_and_leaves_no_worker(
    monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    import multiprocessing
    import threading
    import time

    def unconverted(signum: int, frame: object) -> None:
        raise _NotConverted

    workers: list[int] = []

    def interrupt() -> None:
        workers.extend(p.pid for p in multiprocessing.active_children() if p.pid)
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(pool, "_POOL_THRESHOLD", 1)
    before = signal.signal(signal.SIGTERM, unconverted)
    # A suite started in the background by a shell without job control (`cmd &` in a
    # script) inherits SIGINT ignored, and Python keeps it so: Ctrl-C cannot reach such a
    # process at all. The test is about a process that Ctrl-C does reach.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    items = list(range(200))  # 20 s of work for two workers
    timer = threading.Timer(0.8, interrupt)
    try:
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            list(pool.run_cached(_slow, items, [None] * len(items), 2, None, int))
        took = time.monotonic() - start
        assert signal.getsignal(signal.SIGTERM) is unconverted  # restored after the run
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, before)
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert took < 0.8 + 2
    assert len(workers) == 2
    # dead already; the executor's own thread may still be collecting their exit status
    # (it races the pool's join for it, so the Process objects can lag behind)
    assert [pid for pid in workers if not _gone(pid)] == []
    # Python 3.11's exit handler wakes every pool thread on its list through a pipe that
    # a still-running thread may be closing at that moment: an "Exception ignored ...
    # Bad file descriptor" traceback at exit (seen after SIGTERM under load). A stopped
    # pool's thread has ended when the run returns, so nothing is left to race.
    from concurrent.futures import process as futures_process

    threads = list(futures_process._threads_wakeups)  # type: ignore[attr-defined]
    assert [thread for thread in threads if thread.is_alive()] == []


def test_a_stop_whose_keyboard_interrupt_was_swallowed_still_stops_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signal's KeyboardInterrupt that lands in a finalizer (an earlier run's executor
    collected just then) is printed as "Exception ignored" and lost: seen as the SIGINT
    test running all its 20 s of work in a loaded full suite. The handler's flag, set
    here without any exception, must stop the run all the same."""
    import threading
    import time

    monkeypatch.setattr(pool, "_POOL_THRESHOLD", 1)
    timer = threading.Timer(0.8, pool._stop_requested.set)
    start = time.monotonic()
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            list(pool.run_cached(_slow, list(range(200)), [None] * 200, 2, None, int))
    finally:
        timer.cancel()
    assert time.monotonic() - start < 0.8 + 2


def test_a_file_whose_analysis_crashed_is_not_cached(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    (tree / "deep.c").write_text(BAD_IF["deep.c"])
    cache_dir = env / "cache"
    for _ in range(2):  # the second run recomputes deep.c and says the same
        _, report, _ = run(capsys, str(tree), "--cache-dir", str(cache_dir))
        [line] = by_file(report)["deep.c"]
        assert line.startswith("unparsable-source: analysis stopped (RecursionError")
        assert len(_entries(cache_dir)) == 1  # good.c's


# ---------------------------------------------------------------------------------------
# 2. Every output format survives any name, and --output is written atomically


def _evil_module(folder: Path) -> tuple[Path, Path]:
    """mod2.ko with its import `myadd` renamed "ESC[2J" + newline (same length, in the
    symbol table and __versions), and a Module.symvers without it: the name is in a
    finding's message."""
    data = (FIXTURES / "arch" / "x86_64" / "mod2.ko").read_bytes()
    assert data.count(b"myadd\0") == 2
    evil = folder / "evil.ko"
    evil.write_bytes(data.replace(b"myadd\0", b"\x1b[2J\n\0"))
    symvers = folder / "Module.symvers"
    symvers.write_text(
        "0x92997ed8\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n"
        "0x9060323f\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n"
    )
    return evil, symvers


def test_control_characters_of_a_symbol_name_are_escaped_in_text_output(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = env / "tree"
    tree.mkdir()
    evil, symvers = _evil_module(tree)
    args = ["check", str(evil), "--kernel", str(symvers), "--isolated", "--no-cache"]
    assert cli.main([*args, "--color", "never"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    lines = out.splitlines()
    assert all(line.startswith(f"{evil}: error: ") for line in lines[:-1]), lines
    assert lines[-1].startswith(f"{len(lines) - 1} errors,")  # one line per finding
    assert any("Unknown symbol \\x1b[2J\\x0a: exported by no module" in line for line in lines)
    # colour codes are still kmodlint's own, and only those
    cli.main([*args, "--color", "always"])
    assert "\x1b[2J" not in capsys.readouterr().out
    cli.main([*args, "--format", "github"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Unknown symbol \\x1b[2J\\x0a:" in out
    cli.main([*args, "--format", "json"])
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert any(m.startswith("Unknown symbol \x1b[2J\n:") for m in messages)  # data: exact


def test_printable_escapes_controls_separators_and_non_utf8_bytes() -> None:
    from kmodlint.reporters.escape import printable, printable_lines, valid_unicode

    assert printable("a\x1b[2J\nb\r\t\x00\x7f\x85\u2028\u202e") == (
        "a\\x1b[2J\\x0ab\\x0d\\x09\\x00\\x7f\\x85\\u2028\\u202e"
    )
    assert printable(os.fsdecode(b"caf\xe9.ko")) == "caf\\xe9.ko"  # the file name's byte
    assert printable("café → ok") == "café → ok"  # printable text is left alone
    assert printable_lines("one\x1b\ntwo\tthree") == "one\\x1b\ntwo\tthree"
    raw = os.fsdecode(b"caf\xe9\x1b.ko")
    assert printable(raw, keep_bytes=True) == os.fsdecode(b"caf\xe9\\x1b.ko")
    assert valid_unicode(os.fsdecode(b"a\xff\n")) == "a\\xff\n"


def _hostile_names(tree: Path) -> None:
    """A good module, a module whose name is not UTF-8 and a symlink loop named .ko."""
    shutil.copy(GOOD_KO, tree / "mod1.ko")
    (Path(os.fsdecode(bytes(tree) + b"/bad\xe9.ko"))).write_bytes(b"\x7fELF" + bytes(60))
    (tree / "self.ko").symlink_to("self.ko")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format_survives_non_utf8_names_and_symlink_loops(
    env: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    tree = env / "tree"
    tree.mkdir()
    _hostile_names(tree)
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache"]
    assert cli.main([*args, "--format", fmt]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err
    out.encode("utf-8")  # no lone surrogate left: a strict UTF-8 reader can take it
    if fmt == "json":
        paths = {os.path.basename(f["path"]) for f in json.loads(out)["findings"]}
        assert paths == {"bad\\xe9.ko", "self.ko"}
    elif fmt == "sarif":
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(out)["runs"][0]["results"]
        ]
        assert sorted(uri.rsplit("/", 1)[1] for uri in uris) == ["bad%E9.ko", "self.ko"]
    else:
        assert "bad\\xe9.ko" in out and "self.ko" in out
    # --output and --write-baseline write the same report to a file; the baseline then
    # accounts for both findings, whatever their names
    report = env / f"report.{fmt}"
    assert cli.main([*args, "--format", fmt, "--output", str(report)]) == 1
    assert report.read_text(encoding="utf-8") == out
    baseline = env / "baseline.json"
    assert cli.main([*args, "--write-baseline", str(baseline)]) == 0
    assert "wrote 2 finding(s)" in capsys.readouterr().err
    assert cli.main([*args, "--format", fmt, "--baseline", str(baseline)]) == 0


def test_under_root_does_not_raise_on_a_symlink_loop(tmp_path: Path) -> None:
    from kmodlint.fingerprint import under_root

    (tmp_path / "self.ko").symlink_to("self.ko")
    assert under_root(str(tmp_path / "self.ko"), tmp_path) == "self.ko"
    assert under_root(str(tmp_path / "self.ko"), tmp_path / "elsewhere") is None


def _temporary_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".kmodlint-"))


def test_output_is_written_atomically(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint import safe_io
    from kmodlint.reporters import findings as findings_reporter

    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    out_dir = env / "out"
    out_dir.mkdir()
    report = out_dir / "report.txt"
    report.write_text("the previous report\n")
    report.chmod(0o640)
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    args += ["--config", "none", "--output", str(report)]

    # the report crashes half way: the previous file is left whole (was: emptied)
    def crash(*_: object, **__: object) -> str:
        raise RuntimeError("renderer bug")

    with monkeypatch.context() as patch:
        patch.setattr(findings_reporter, "format_text", crash)
        assert cli.main(args) == 2
    assert "internal error: RuntimeError: renderer bug" in capsys.readouterr().err
    assert report.read_text() == "the previous report\n"

    # the disk fills while writing: one line, the previous file whole, no temporary left
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(safe_io.os, "fsync", full)
        assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"kmodlint: error: cannot write {report}: No space left on device"
    )
    assert report.read_text() == "the previous report\n"
    assert _temporary_files(out_dir) == []

    # a good run replaces it, keeping its mode; a new file gets the umask's mode
    assert cli.main(args) == 1
    assert "no-module-exit" in report.read_text()
    assert report.stat().st_mode & 0o777 == 0o640
    fresh = out_dir / "fresh.txt"
    old = os.umask(0o027)
    try:
        assert cli.main([*args[:-1], str(fresh)]) == 1
    finally:
        os.umask(old)
    assert fresh.stat().st_mode & 0o777 == 0o640
    # through a symlink: the file it names is replaced, the link stays a link
    link = env / "link.txt"
    link.symlink_to(fresh)
    fresh.write_text("stale\n")
    assert cli.main([*args[:-1], str(link)]) == 1
    assert link.is_symlink() and "no-module-exit" in fresh.read_text()
    assert _temporary_files(out_dir) == []


def test_output_to_a_device_or_fifo_is_written_in_place(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output /dev/null` (or /dev/stdout, a FIFO a reader waits on) cannot be replaced
    by a renamed file: it is written to, and stays what it was (this matters as root)."""
    import stat
    import threading

    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    args += ["--config", "none"]
    assert cli.main([*args, "--output", os.devnull]) == 1
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = env / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    assert cli.main([*args, "--output", str(fifo)]) == 1
    reader.join(10)
    assert "no-module-exit" in received[0]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    capsys.readouterr()


def test_write_baseline_is_atomic(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint import safe_io

    tree = env / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(GOOD_C)
    baseline = env / "baseline.json"
    baseline.write_text('{"version": 1, "findings": []}\n')

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safe_io.os, "fsync", full)
    args = ["check", str(tree), "--kernel", "none", "--isolated", "--no-cache", "--no-ast"]
    assert cli.main([*args, "--config", "none", "--write-baseline", str(baseline)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert baseline.read_text() == '{"version": 1, "findings": []}\n'
    assert _temporary_files(env) == []


@pytest.mark.parametrize(
    "command",
    [
        ["symbols"],
        ["deps", "--symbols"],
        ["deps", "--format", "dot"],
        ["deps", "--format", "mermaid"],
        ["deps", "--format", "modules.dep"],
        ["check", "--format", "github"],
    ],
)
def test_symbols_and_deps_escape_names_from_the_input(
    env: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A module file named with ESC and a newline (its module name too), holding the
    symbol named so: no output but the JSON data carries them raw."""
    tree = env / "tree"
    tree.mkdir()
    evil, symvers = _evil_module(tree)
    evil.rename(tree / "ev\x1b[2J\nil.ko")
    status = cli.main([command[0], str(tree), *command[1:], "--kernel", str(symvers)])
    out, err = capsys.readouterr()
    assert status in (0, 1) and "Traceback" not in err
    assert "\x1b" not in out + err and "\r" not in out
    # shown escaped (DOT then escapes the backslashes once more, as its strings need)
    assert "ev\\x1b[2J\\x0ail" in out.replace("\\\\", "\\")


def test_symbols_json_holds_no_lone_surrogate_for_a_non_utf8_name(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """json.dumps writes a lone surrogate as the escape \\udce9, which strict readers
    (serde_json, GitHub) refuse: the file name's byte is shown as \\xe9 instead."""
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, Path(os.fsdecode(bytes(tree) + b"/caf\xe9.ko")))
    assert cli.main(["symbols", str(tree), "--format", "json", "--kernel", "none"]) == 0
    out = capsys.readouterr().out
    assert "\\udc" not in out
    [module] = json.loads(out)["modules"]
    assert module["name"] == "caf\\xe9" and module["path"].endswith("caf\\xe9.ko")


def test_mermaid_labels_escape_quotes_and_entities(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module named a"b#quot;c: the quote must not end the label, and the name's own
    "#quot;" must stay text, not become a second quote."""
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, tree / 'a"b#quot;c.ko')
    assert cli.main(["deps", str(tree), "--format", "mermaid", "--kernel", "none"]) == 0
    out = capsys.readouterr().out
    assert '["a#quot;b#35;quot;c"]' in out
    assert cli.main(["deps", str(tree), "--format", "dot", "--kernel", "none"]) == 0
    assert '"a\\"b#quot;c"' in capsys.readouterr().out


def test_a_report_on_an_ascii_or_latin1_terminal_escapes_what_it_cannot_hold(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LANG=en_US.ISO-8859-1 (or PYTHONIOENCODING=ascii): kmodlint's own "—" used to end
    the run with an internal error half-way through the report; a non-UTF-8 file name in
    modules.dep still goes out byte for byte, as depmod writes it."""
    import io

    for encoding in ("ascii", "latin-1"):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict")
        monkeypatch.setattr("sys.stdout", stream)
        assert cli.main(["explain", "KM301"]) == 0
        stream.flush()
        assert "resolve_symbol()` \\u2014" in raw.getvalue().decode(encoding)
        assert stream.errors == "strict"  # the stream is given back as it was
    tree = env / "tree"
    tree.mkdir()
    shutil.copy(GOOD_KO, Path(os.fsdecode(bytes(tree) + b"/caf\xe9.ko")))
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    monkeypatch.setattr("sys.stdout", stream)
    assert cli.main(["deps", str(tree), "--format", "modules.dep", "--kernel", "none"]) == 0
    stream.flush()
    assert raw.getvalue() == b"caf\xe9.ko:\n"


def test_a_config_gz_of_many_tiny_members_inflates_in_linear_time() -> None:
    """100,000 one-line gzip members (3 MB): each member used to copy the rest of the file
    (23.8 s); the input now goes in small pieces (0.1 s)."""
    import gzip
    import time

    from kmodlint.safe_io import inflate_gzip

    data = gzip.compress(b"CONFIG_X=y\n") * 100_000
    start = time.monotonic()
    assert inflate_gzip(data + bytes(64), 256 << 20, "config.gz") == b"CONFIG_X=y\n" * 100_000
    assert time.monotonic() - start < 5
    with pytest.raises(ValueError, match="truncated"):
        inflate_gzip(data[:-3], 256 << 20, "config.gz")


def test_cpp_blocked_on_a_fifo_include_is_stopped_at_its_wall_time_bound(tmp_path: Path) -> None:
    """A header that is a FIFO blocks cpp without using CPU (RLIMIT_CPU never fires): the
    wall-time bound stops it. The wait blocks rather than polls (issue 13), so the bound
    is a timer's: checked here with a short one."""
    import time

    from kmodlint.cfront.preprocess.cpp import PreprocessError, preprocess

    os.mkfifo(tmp_path / "pipe.h")
    (tmp_path / "a.c").write_text('#include "pipe.h"\nint a;\n')
    start = time.monotonic()
    with pytest.raises(PreprocessError, match="timed out after 1s"):
        preprocess(str(tmp_path / "a.c"), defines={}, include_dirs=[], timeout=1.0)
    assert time.monotonic() - start < 10
    (tmp_path / "b.c").write_text("int b;\n")  # and a file that ends is not stopped
    assert "int b;" in preprocess(str(tmp_path / "b.c"), defines={}, include_dirs=[], timeout=5.0)
