#!/usr/bin/env python3
"""Every attack of issue 11, end to end: one bad file costs one line, the run goes on.

Each attack is built in its own folder beside a good module whose finding is known (a
static export in `good.c`, an unresolved import in `good.ko`), and kmodlint is run on it
as a user would (`python -m kmodlint ...`, a fresh process, text output). Per attack the
table shows:

- status: the exit status (1 = findings, 2 = a usage error said in one line);
- lines: how many output lines name the bad file (the diagnostic; 1 is the target);
- good: whether the good module's finding is still there (the run stayed intact);
- s / MB: wall seconds and peak RSS of kmodlint with its children (cpp, workers);
- verdict: ok, or what went wrong (a traceback, a hang, a missing line, > 60 s, > 1 GB).

The regression tests in tests/test_hardening.py, tests/test_bad_input.py and tests/fuzz
check the same attacks piece by piece, in-process; this script is the whole-run view a
reviewer can rerun in a few minutes:

    python3 benchmarks/attacks.py [--only NAME ...] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fuzz.elfbuild import SHT_RELA, Builder, Part, module  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "arch" / "x86_64"
LIMIT_S = 60.0
LIMIT_MB = 1024.0
TIME = Path("/usr/bin/time")

GOOD_C = """\
#include <linux/module.h>
static int good_hidden(void) { return 0; }
EXPORT_SYMBOL(good_hidden);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("good");
"""
GOOD_C_FINDING = "[KM101 static-export]"
GOOD_KO_FINDING = "Unknown symbol myadd"
SYMVERS = (
    "0x92997ed8\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n"
    "0x9060323f\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n"
)


def module_c(body: str) -> str:
    return (
        f'#include <linux/module.h>\n{body}\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("bad");\n'
    )


@dataclass
class Plan:
    """How to run kmodlint on an attack's folder and what a clean outcome looks like."""

    args: list[str]
    bad: str | None  # a piece of the bad file's name (or of its diagnostic) to count lines by
    good: str | None = GOOD_C_FINDING
    status: tuple[int, ...] = (1,)
    stdout: str | None = None  # a path to write stdout to (/dev/full), else captured
    close_stdout: bool = False  # the reader goes away at once (`| head -0`)
    signal_after: float | None = None  # SIGTERM the run this many seconds in
    env: dict[str, str] = field(default_factory=dict)
    after: Callable[[str], str | None] | None = None  # an extra check of the output
    max_processes: int | None = None  # at most this many processes below kmodlint


@dataclass
class Result:
    name: str
    status: int | None
    lines: int
    good: bool | None
    seconds: float
    peak_mb: float
    verdict: str


def source_args(root: Path, *extra: str) -> list[str]:
    return ["check", str(root), "--kernel", "none", "--isolated", "--color", "never", *extra]


def binary_args(root: Path, *extra: str) -> list[str]:
    return [
        "check",
        str(root),
        "--kernel",
        str(root / "Module.symvers"),
        "--isolated",
        "--color",
        "never",
        *extra,
    ]


def good_c(root: Path) -> None:
    (root / "good.c").write_text(GOOD_C)


def good_ko(root: Path) -> None:
    shutil.copy(FIXTURES / "mod2.ko", root / "good.ko")
    (root / "Module.symvers").write_text(SYMVERS)


def zeros(packer: object, megabytes: int) -> bytes:
    chunk, parts = bytes(1 << 20), []
    for _ in range(megabytes):
        parts.append(packer.compress(chunk))  # type: ignore[attr-defined]
    parts.append(packer.flush())  # type: ignore[attr-defined]
    return b"".join(parts)


# --------------------------------------------------------------------------------------
# The attacks, in the order of issue 11's list


def include_dev_zero(root: Path) -> Plan:
    good_c(root)
    (root / "bad.c").write_text(module_c('#include "/dev/zero"'))
    return Plan(source_args(root), "bad.c")


def header_symlink_dev_zero(root: Path) -> Plan:
    good_c(root)
    (root / "zero.h").symlink_to("/dev/zero")
    (root / "bad.c").write_text(module_c('#include "zero.h"'))
    return Plan(source_args(root), "bad.c")


def line_dev_zero(root: Path) -> Plan:
    good_c(root)
    (root / "bad.c").write_text(module_c('#line 1 "/dev/zero"\nint x;'))
    # cpp and the scan take the name as a name and never open it: nothing to say
    return Plan(source_args(root), None, status=(0, 1))


def c_symlink_dev_zero(root: Path) -> Plan:
    good_c(root)
    (root / "x.c").symlink_to("/dev/zero")
    return Plan(source_args(root), "x.c")


def settings_config_dev_zero(root: Path) -> Plan:
    good_c(root)
    (root / "kmodlint.toml").write_text('config = "/dev/zero"\n')
    args = [a for a in source_args(root) if a != "--isolated"]
    return Plan(args, "/dev/zero", good=None, status=(2,))


def kernel_tree_dev_zero_ko(root: Path) -> Plan:
    good_ko(root)
    kernel = root / "lib-modules"
    (kernel / "kernel").mkdir(parents=True)
    shutil.copy(FIXTURES / "mod1.ko", kernel / "kernel" / "mod1.ko")
    (kernel / "kernel" / "zero.ko").symlink_to("/dev/zero")
    os.mkfifo(kernel / "kernel" / "fifo.ko")
    args = binary_args(root)
    args[args.index("--kernel") + 1] = str(kernel)
    # mod1 in the kernel tree exports myadd: good.ko resolves, so the bad files are the news
    return Plan(args, "zero.ko", good=None, status=(0, 1))


def baseline_dev_zero(root: Path) -> Plan:
    good_c(root)
    return Plan(source_args(root, "--baseline", "/dev/zero"), "/dev/zero", None, (2,))


def fifo_c(root: Path) -> Plan:
    good_c(root)
    os.mkfifo(root / "bad.c")
    return Plan(source_args(root), "bad.c")


def fifo_ko(root: Path) -> Plan:
    good_ko(root)
    os.mkfifo(root / "bad.ko")
    return Plan(binary_args(root), "bad.ko", good=GOOD_KO_FINDING)


def kbuild(root: Path, text: str) -> None:
    good_c(root)
    (root / "Kbuild").write_text("obj-m += good.o\n" + text)


def kbuild_self_include(root: Path) -> Plan:
    kbuild(root, "include $(src)/Kbuild\n" * 5)
    return Plan(source_args(root), "Kbuild")


def kbuild_doubling_variables(root: Path) -> Plan:
    chain = "V0 := x\n" + "".join(f"V{i} = $(V{i - 1})$(V{i - 1})\n" for i in range(1, 31))
    kbuild(root, chain + "obj-m += $(V30).o\n")
    return Plan(source_args(root), "Kbuild")


def kbuild_doubling_in_eight_folders(root: Path) -> Plan:
    """Eight folders that each spend one evaluation's whole make budget: the run's budget
    (three evaluations' worth) stops the reading, so the run costs ~3 bombs, not 8."""
    chain = "V0 := x\n" + "".join(f"V{i} = $(V{i - 1})$(V{i - 1})\n" for i in range(1, 31))
    kbuild(root, "".join(f"obj-m += d{n}/\n" for n in range(8)))
    for n in range(8):
        (root / f"d{n}").mkdir()
        (root / f"d{n}" / "Kbuild").write_text(chain + "obj-m += $(V30).o\n")
    return Plan(source_args(root), "Kbuild")


def kbuild_symlink_fan(root: Path) -> Plan:
    kbuild(root, "obj-m += x/ y/\n")
    (root / "x").symlink_to(".")
    (root / "y").symlink_to(".")
    # each folder is read once by (device, inode): nothing to say, and no 2^40 visits
    return Plan(source_args(root), None, status=(0, 1))


def kbuild_outside_root(root: Path) -> Plan:
    kbuild(root, "obj-m += ../../../../elsewhere/\n")
    return Plan(source_args(root), "elsewhere")


def define_doubling_under_if(root: Path) -> Plan:
    chain = "#define A0 1\n" + "".join(
        f"#define A{i} (A{i - 1} + A{i - 1})\n" for i in range(1, 61)
    )
    good_c(root)
    (root / "bad.c").write_text(module_c(chain + "#if A60 > 0\nint big;\n#endif"))
    return Plan(source_args(root), "bad.c", status=(0, 1))


def mutual_include_bomb(root: Path) -> Plan:
    good_c(root)
    (root / "a.h").write_text('#include "b.h"\n#include "b.h"\n')
    (root / "b.h").write_text('#include "a.h"\n#include "a.h"\n')
    (root / "bad.c").write_text(module_c('#include "a.h"'))
    return Plan(source_args(root), "bad.c")


def macro_bomb(root: Path) -> Plan:
    good_c(root)
    chain = "#define B0 x x\n" + "".join(f"#define B{i} B{i - 1} B{i - 1}\n" for i in range(1, 31))
    (root / "bad.c").write_text(module_c(chain + "int y = B30;"))
    return Plan(source_args(root), "bad.c")


def huge_c(root: Path) -> Plan:
    good_c(root)
    with open(root / "bad.c", "w") as out:
        out.write('#include <linux/module.h>\nMODULE_LICENSE("GPL");\n')
        line = "int a_%d;\n"
        written, index = 0, 0
        while written < 50 << 20:
            text = line % index
            out.write(text)
            written += len(text)
            index += 1
    return Plan(source_args(root), "bad.c")


def missing_includes(root: Path) -> Plan:
    good_c(root)
    includes = "".join(f'#include "missing{i}.h"\n' for i in range(40))
    (root / "bad.c").write_text(module_c(includes + "int z;"))
    return Plan(source_args(root), "bad.c", status=(0, 1))


def xz_bomb(root: Path) -> Plan:
    good_ko(root)
    (root / "bomb.ko.xz").write_bytes(zeros(lzma.LZMACompressor(preset=0), 2048))
    return Plan(binary_args(root), "bomb.ko.xz", good=GOOD_KO_FINDING)


def zst_bomb(root: Path) -> Plan:
    import zstandard

    good_ko(root)
    (root / "bomb.ko.zst").write_bytes(zeros(zstandard.ZstdCompressor().compressobj(), 3072))
    return Plan(binary_args(root), "bomb.ko.zst", good=GOOD_KO_FINDING)


def xz_shared_names(root: Path) -> Plan:
    good_ko(root)
    data = module(
        [("x", 1, 0, 0, 0)] * 2000, strtab=b"B" * (1 << 20) + b"\0", name_offsets=list(range(2000))
    )
    (root / "shared.ko.xz").write_bytes(lzma.compress(data, preset=9))
    return Plan(binary_args(root), "shared.ko.xz", good=GOOD_KO_FINDING)


def strtab_without_nul(root: Path) -> Plan:
    good_ko(root)
    n = 20_000
    data = module([("x", 1, 0, 0, 0)] * n, strtab=b"A" * n, name_offsets=list(range(n)))
    (root / "nonul.ko").write_bytes(data)
    return Plan(binary_args(root), "nonul.ko", good=GOOD_KO_FINDING)


def many_ksymtab_sections(root: Path) -> Plan:
    good_ko(root)
    k = 8000
    tables = [Part("__ksymtab", data=bytes(12)) for _ in range(k)]
    relocations = [
        Part(".rela__ksymtab", SHT_RELA, data=bytes(24), info=3 + i, entsize=24) for i in range(k)
    ]
    symbols = [(f"__ksymtab_s{i}", 1, 1, 3 + i, 0) for i in range(k)]
    (root / "tables.ko").write_bytes(module(symbols, extra=tables + relocations))
    # a readable module exporting 8,000 symbols (each with a bad license-less module note)
    return Plan(binary_args(root), "tables.ko", good=GOOD_KO_FINDING)


def section_names_without_nul(root: Path) -> Plan:
    good_ko(root)
    builder = Builder()
    for _ in range(5000):
        builder.add(Part("x"))
    (root / "shnames.ko").write_bytes(builder.build(shstrtab=b"x" * 100_000))
    return Plan(binary_args(root), "shnames.ko", good=GOOD_KO_FINDING)


def if_negative_shift(root: Path) -> Plan:
    good_c(root)
    (root / "bad.c").write_text(module_c("#if 1 << -1\nint a;\n#endif"))
    # cpp takes a negative shift as the opposite shift; so does kmodlint's #if: no line
    return Plan(source_args(root), None, status=(0, 1))


def if_overflowing_product(root: Path) -> Plan:
    good_c(root)
    product = " * ".join(["0x7fffffffffffffff"] * 20)
    (root / "bad.c").write_text(module_c(f"#if ({product}) / 3\nint b;\n#endif"))
    # wraps around as cpp's intmax_t arithmetic does: a valid file, no line
    return Plan(source_args(root), None, status=(0, 1))


def deep_nesting(root: Path) -> Plan:
    good_c(root)
    (root / "parens.c").write_text(module_c("#if " + "(" * 5000 + "1" + ")" * 5000 + "\n#endif"))
    (root / "nots.c").write_text(module_c("#if " + "!" * 5000 + "1\n#endif"))
    (root / "ternary.c").write_text(
        module_c("#if " + "1 ? " * 5000 + "1" + " : 0" * 5000 + "\n#endif")
    )
    (root / "ast.c").write_text(module_c("int v = " + "(" * 5000 + "1" + ")" * 5000 + ";"))
    return Plan(source_args(root), ".c:", status=(0, 1))


def symlink_loop(fmt: str) -> Callable[[Path], Plan]:
    def build(root: Path) -> Plan:
        good_ko(root)
        (root / "self.ko").symlink_to("self.ko")
        if fmt == "baseline":

            def written(out: str) -> str | None:
                text = (root / "base.json").read_text()
                return None if "self.ko" in text and "myadd" in text else "base.json lacks them"

            args = binary_args(root, "--write-baseline", "base.json")
            return Plan(args, None, good=None, status=(0,), after=written)
        good = GOOD_KO_FINDING if fmt in ("text", "github") else "myadd"
        return Plan(binary_args(root, "--format", fmt), "self.ko", good=good)

    return build


def non_utf8_name(fmt: str) -> Callable[[Path], Plan]:
    def build(root: Path) -> Plan:
        good_ko(root)
        name = os.fsdecode(bytes(root) + b"/caf\xe9.ko")
        Path(name).write_bytes(b"\x7fELF" + bytes(60))
        extra = ["--format", fmt] if fmt != "output" else ["--output", "report.txt"]

        def readable(out: str) -> str | None:
            if fmt == "output":
                text = (root / "report.txt").read_text("utf-8", "strict")
                return None if "caf\\xe9.ko" in text else "report.txt lacks the name"
            return None

        # JSON escapes the backslash of the \xe9 shown; SARIF percent-encodes the byte
        bad = {"sarif": "caf%E9.ko", "json": "caf\\\\xe9.ko", "output": None}[fmt]
        good = "myadd" if fmt != "output" else None
        return Plan(binary_args(root, *extra), bad, good=good, after=readable)

    return build


def deep_toml(root: Path) -> Plan:
    good_c(root)
    (root / "kmodlint.toml").write_text("select = " + "[" * 5000 + "]" * 5000 + "\n")
    args = [a for a in source_args(root) if a != "--isolated"]
    return Plan(args, "kmodlint.toml", good=None, status=(2,))


def baseline_infinite_count(root: Path) -> Plan:
    good_c(root)
    (root / "base.json").write_text('{"version": 1, "findings": [{"count": 1e999}]}\n')
    return Plan(source_args(root, "--baseline", "base.json"), "base.json", None, (2,))


def baseline_deep_array(root: Path) -> Plan:
    good_c(root)
    (root / "base.json").write_text("[" * 100_000 + "]" * 100_000)
    return Plan(source_args(root, "--baseline", "base.json"), "base.json", None, (2,))


def stdout_dev_full(root: Path) -> Plan:
    good_c(root)
    return Plan(source_args(root), "cannot write the report", None, (2,), stdout="/dev/full")


def closed_pipe(root: Path) -> Plan:
    good_c(root)
    return Plan(source_args(root), None, None, (1,), close_stdout=True)


def crafted_cache_entry(root: Path) -> Plan:
    """Run once to fill a private cache, replace every file in it by a pickle whose loading
    would create a marker file, run again: the marker must not appear."""
    good_c(root)
    cache = root / "cache"
    marker = root / "pwned"
    env = dict(os.environ, KMODLINT_CACHE_DIR=str(cache))
    subprocess.run(
        [sys.executable, "-m", "kmodlint", *source_args(root)], env=env, capture_output=True
    )
    payload = pickle.dumps(_Marker(str(marker)))
    forged = 0
    for entry in cache.rglob("*"):
        if entry.is_file() and entry.name != "key":
            entry.write_bytes(payload)
            forged += 1

    def not_run(out: str) -> str | None:
        if not forged:
            return "the first run stored nothing to forge"
        return "the pickle ran" if marker.exists() else None

    return Plan(source_args(root), None, env={"KMODLINT_CACHE_DIR": str(cache)}, after=not_run)


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def no_cache_writes_nothing(root: Path) -> Plan:
    good_c(root)
    home = root / "xdg"

    def nothing(out: str) -> str | None:
        written = [p for p in home.rglob("*") if p.is_file()] if home.exists() else []
        return f"{len(written)} files written under XDG_CACHE_HOME" if written else None

    env = {"XDG_CACHE_HOME": str(home), "KMODLINT_CACHE_DIR": ""}
    return Plan(source_args(root, "--no-cache"), None, env=env, after=nothing)


def unwritable_cache(root: Path) -> Plan:
    good_c(root)
    locked = root / "locked"
    locked.mkdir(mode=0o500)
    env = {"KMODLINT_CACHE_DIR": str(locked / "cache"), "XDG_CACHE_HOME": str(locked)}
    return Plan(source_args(root), "cache", env=env, after=_ast_used)


def _ast_used(out: str) -> str | None:
    return None if "with a full syntax tree" in out and "0 of" not in out else "no AST parse"


def many_sources(root: Path, count: int = 300) -> None:
    good_c(root)
    for i in range(count):
        (root / f"m{i}.c").write_text(module_c(f"int m{i}_value = {i};"))


def sigterm(root: Path) -> Plan:
    many_sources(root)
    return Plan(
        source_args(root, "--no-cache", "-j", "2"), None, None, (-15, 2, 143), signal_after=3.0
    )


def symvers_nul_separated(root: Path) -> Plan:
    good_ko(root)
    (root / "Module.symvers").write_text(SYMVERS.replace("\t", "\0"))
    # nothing readable: not a kernel table at all, one usage line before any analysis
    return Plan(binary_args(root), "Module.symvers", good=None, status=(2,))


def symvers_partly_unreadable(root: Path) -> Plan:
    good_ko(root)
    with open(root / "Module.symvers", "a") as table:
        table.write("0x1\0myadd\0vmlinux\0EXPORT_SYMBOL\n")

    def quiet(out: str) -> str | None:
        # myadd may be in the unreadable row: the table is incomplete, so no "Unknown
        # symbol" may be claimed from it
        return (
            "an Unknown symbol claimed from an incomplete table"
            if "Unknown symbol" in out
            else None
        )

    return Plan(binary_args(root), "Module.symvers", good=None, status=(0, 1), after=quiet)


def symvers_bad_crcs(root: Path) -> Plan:
    good_ko(root)
    rows = [
        f"{crc}\tsym{i}\tvmlinux\tEXPORT_SYMBOL\t"
        for i, crc in enumerate(["-0x5", "0x" + "f" * 200, "1_000"])
    ]
    (root / "Module.symvers").write_text(SYMVERS + "\n".join(rows) + "\n")
    return Plan(binary_args(root), "Module.symvers", good=None, status=(0, 1))


def truncated_zst(root: Path) -> Plan:
    import zstandard

    good_ko(root)
    data = zstandard.ZstdCompressor().compress((FIXTURES / "mod1.ko").read_bytes())
    (root / "cut.ko.zst").write_bytes(data[: len(data) // 2])
    return Plan(binary_args(root), "cut.ko.zst", good=GOOD_KO_FINDING)


def empty_selector(root: Path) -> Plan:
    good_c(root)
    (root / "kmodlint.toml").write_text('select = [""]\n')
    args = [a for a in source_args(root) if a != "--isolated"]
    return Plan(args, "select", good=None, status=(2,))


def world_writable_settings(root: Path) -> Plan:
    good_c(root)
    (root / "kmodlint.toml").write_text("ignore = []\n")
    os.chmod(root / "kmodlint.toml", 0o666)
    args = [a for a in source_args(root) if a != "--isolated"]
    return Plan(args, "kmodlint.toml")


def included_first_token(root: Path) -> Plan:
    good_c(root)
    (root / "secret.h").write_text("TOPSECRET_TOKEN\n")
    (root / "bad.c").write_text(module_c('#include "secret.h"'))

    def no_leak(out: str) -> str | None:
        return "the header's token is in the output" if "TOPSECRET_TOKEN" in out else None

    return Plan(source_args(root, "--format", "sarif"), None, good="KM101", after=no_leak)


def escape_in_symbol(root: Path) -> Plan:
    good_ko(root)
    data = (FIXTURES / "mod2.ko").read_bytes().replace(b"myadd\0", b"\x1b[2J\n\0")
    (root / "evil.ko").write_bytes(data)

    def escaped(out: str) -> str | None:
        return "a raw ESC reached the terminal" if "\x1b" in out else None

    return Plan(binary_args(root), "\\x1b[2J\\x0a", good=GOOD_KO_FINDING, after=escaped)


def too_many_jobs(root: Path) -> Plan:
    many_sources(root, 20)
    cpus = len(os.sched_getaffinity(0))
    # the pool is capped at the CPUs kmodlint may use (a cpp child each at most)
    return Plan(source_args(root, "-j", "300", "--no-cache"), None, max_processes=2 * cpus + 2)


ATTACKS: dict[str, Callable[[Path], Plan]] = {
    "include-dev-zero": include_dev_zero,
    "header-symlink-dev-zero": header_symlink_dev_zero,
    "line-dev-zero": line_dev_zero,
    "c-symlink-dev-zero": c_symlink_dev_zero,
    "settings-config-dev-zero": settings_config_dev_zero,
    "kernel-tree-dev-zero-and-fifo-ko": kernel_tree_dev_zero_ko,
    "baseline-dev-zero": baseline_dev_zero,
    "fifo-c": fifo_c,
    "fifo-ko": fifo_ko,
    "kbuild-self-include-x5": kbuild_self_include,
    "kbuild-doubling-variables": kbuild_doubling_variables,
    "kbuild-doubling-in-8-folders": kbuild_doubling_in_eight_folders,
    "kbuild-symlinks-to-dot": kbuild_symlink_fan,
    "kbuild-outside-root": kbuild_outside_root,
    "define-doubling-under-if": define_doubling_under_if,
    "mutual-include-bomb": mutual_include_bomb,
    "macro-bomb": macro_bomb,
    "50-mb-c": huge_c,
    "40-missing-includes": missing_includes,
    "xz-bomb-2-gb": xz_bomb,
    "zst-bomb-3-gb": zst_bomb,
    "xz-2000-names-of-1-mb": xz_shared_names,
    "strtab-without-nul": strtab_without_nul,
    "8000-ksymtab-sections": many_ksymtab_sections,
    "section-names-without-nul": section_names_without_nul,
    "if-negative-shift": if_negative_shift,
    "if-overflowing-product": if_overflowing_product,
    "5000-deep-nesting": deep_nesting,
    "symlink-loop-text": symlink_loop("text"),
    "symlink-loop-json": symlink_loop("json"),
    "symlink-loop-sarif": symlink_loop("sarif"),
    "symlink-loop-github": symlink_loop("github"),
    "symlink-loop-write-baseline": symlink_loop("baseline"),
    "non-utf8-name-json": non_utf8_name("json"),
    "non-utf8-name-sarif": non_utf8_name("sarif"),
    "non-utf8-name-output": non_utf8_name("output"),
    "toml-5000-deep": deep_toml,
    "baseline-count-1e999": baseline_infinite_count,
    "baseline-100k-deep": baseline_deep_array,
    "stdout-dev-full": stdout_dev_full,
    "closed-pipe": closed_pipe,
    "crafted-cache-entry": crafted_cache_entry,
    "no-cache-writes-nothing": no_cache_writes_nothing,
    "unwritable-cache": unwritable_cache,
    "sigterm-no-orphans": sigterm,
    "symvers-nul-separated": symvers_nul_separated,
    "symvers-partly-unreadable": symvers_partly_unreadable,
    "symvers-bad-crcs": symvers_bad_crcs,
    "truncated-zst": truncated_zst,
    "empty-selector": empty_selector,
    "world-writable-settings": world_writable_settings,
    "included-file-first-token": included_first_token,
    "escape-in-symbol-name": escape_in_symbol,
    "jobs-300": too_many_jobs,
}


# --------------------------------------------------------------------------------------
# Running one attack


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (workers, cpp), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _command(pid: int) -> str:
    """What process `pid` runs (its first words), to name an orphan."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().split(b"\0")
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return f"{pid}: gone"
    return f"{pid} ({state}): " + " ".join(w.decode(errors="replace") for w in words[:4])[:80]


def run_attack(name: str, build: Callable[[Path], Plan], work: Path, cache: Path) -> Result:
    root = work / name
    root.mkdir()
    plan = build(root)
    env = dict(os.environ, KMODLINT_CACHE_DIR=str(cache), LC_ALL="C.UTF-8")
    env.update(plan.env)
    if env.get("KMODLINT_CACHE_DIR") == "":
        del env["KMODLINT_CACHE_DIR"]
    out_path, err_path = root.parent / f"{name}.out", root.parent / f"{name}.err"
    stdout_target = plan.stdout or str(out_path)
    with open(stdout_target, "w") as out, open(err_path, "w") as err:
        if plan.close_stdout:
            read_end, write_end = os.pipe()
            os.close(read_end)
            out_arg: Any = write_end
        else:
            out_arg = out
        # GNU time measures the peak RSS of kmodlint and its children (cpp, workers): a
        # child forked from this process would start with this process's own peak
        rss_path = root.parent / f"{name}.rss"
        timer = ["/usr/bin/time", "-f", "%M", "-o", str(rss_path)] if TIME.exists() else []
        start = time.monotonic()
        proc = subprocess.Popen(
            [*timer, sys.executable, "-m", "kmodlint", *plan.args],
            cwd=root,
            env=env,
            stdout=out_arg,
            stderr=err,
            start_new_session=True,
        )
        if plan.close_stdout:
            os.close(write_end)
        status, usage, killed, seen = None, None, "", set()
        signalled_at: float | None = None
        most, counted_at = 0, 0.0
        while True:
            pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
            elapsed = time.monotonic() - start
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                proc.returncode = status
                break
            if plan.max_processes is not None and elapsed - counted_at > 0.2:
                most, counted_at = max(most, len(descendants(proc.pid)) - len(timer[:1])), elapsed
            if (
                plan.signal_after is not None
                and signalled_at is None
                and elapsed > plan.signal_after
            ):
                below = descendants(proc.pid)
                target = min(below) if timer and below else proc.pid  # kmodlint, not time
                seen = descendants(target)
                os.kill(target, signal.SIGTERM)
                signalled_at = time.monotonic()
            if elapsed > 90:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = "hung (killed at 90 s)"
            time.sleep(0.02)
        seconds = time.monotonic() - start
    try:
        peak_mb = int(rss_path.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        peak_mb = usage.ru_maxrss / 1024 if usage else 0.0
    output = (
        out_path.read_text("utf-8", "replace") if not plan.stdout else ""
    ) + err_path.read_text("utf-8", "replace")
    lines = 0 if plan.bad is None else sum(plan.bad in line for line in output.splitlines())
    good = None if plan.good is None else plan.good in output
    problems = []
    if killed:
        problems.append(killed)
    if "Traceback" in output or "internal error" in output:
        problems.append("traceback/internal error")
    if status not in plan.status:
        problems.append(f"status {status}")
    if plan.bad is not None and lines == 0:
        problems.append("no line names the bad file")
    if good is False:
        problems.append("the good module's finding is gone")
    if seconds > LIMIT_S:
        problems.append(f"> {LIMIT_S:.0f} s")
    if peak_mb > LIMIT_MB:
        problems.append(f"> {LIMIT_MB:.0f} MB")
    if plan.max_processes is not None and most > plan.max_processes:
        problems.append(f"{most} processes")
    if plan.after is not None:
        said = plan.after(output)
        if said:
            problems.append(said)
    if signalled_at is not None:
        time.sleep(0.1)
        stopped = time.monotonic() - signalled_at
        # a zombie is dead already (only its exit status is left for init to collect)
        alive = [c for c in map(_command, seen) if not c.endswith("gone") and "(Z)" not in c]
        if alive or stopped > 2.5:
            problems.append(f"{len(alive)} orphans {alive}, stopped in {stopped:.1f} s")
        seconds = stopped  # what matters here: the time from the signal to the end
    return Result(name, status, lines, good, seconds, peak_mb, "; ".join(problems) or "ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(ATTACKS), help="run these attacks")
    parser.add_argument("--keep", type=Path, help="build the attacks here and keep them")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kmodlint-attacks-", dir=args.keep))
    cache = work / "shared-cache"
    names = args.only or list(ATTACKS)
    results = []
    header = f"{'attack':34} {'status':>6} {'lines':>5} {'good':>5} {'s':>6} {'MB':>6}  verdict"
    print(header)
    for name in names:
        result = run_attack(name, ATTACKS[name], work, cache)
        results.append(result)
        good = "-" if result.good is None else ("yes" if result.good else "NO")
        print(
            f"{name:34} {result.status!s:>6} {result.lines:>5} {good:>5} "
            f"{result.seconds:6.2f} {result.peak_mb:6.0f}  {result.verdict}",
            flush=True,
        )
    failed = [r for r in results if r.verdict != "ok"]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} attacks handled; "
        f"max {max(r.seconds for r in results):.1f} s, max {max(r.peak_mb for r in results):.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    if not args.keep:
        for path in work.rglob("*"):
            if path.is_dir() and not os.access(path, os.W_OK):
                path.chmod(0o700)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
