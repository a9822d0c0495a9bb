"""The fuzzed input families: a Hypothesis strategy and a check per family.

A check raises AssertionError (or lets an exception escape) when kmodlint broke a promise
for that input; it returns normally when the input was handled cleanly. Every check runs
kmodlint in this process and under a per-input time limit (`TIME_LIMIT`).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import lzma
import os
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import zstandard
from hypothesis import strategies as st

from kmodlint import baseline, cli, settings
from kmodlint.extract import extract_binary
from kmodlint.frontends.elf import inspect_module
from kmodlint.kernel.load import KernelSpecError, load_kernel
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import all_rules
from tests.corpus_support import forget_process_state

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GOOD_KO = FIXTURES / "arch" / "x86_64" / "mod1.ko"

# The bound: no input above 60 s (or 1 GB RSS, which the long run measures).
TIME_LIMIT = float(os.environ.get("KMODLINT_FUZZ_TIME_LIMIT", "60"))

GOOD_C = """\
#include <linux/module.h>
static int __init good_init(void) { return 0; }
module_init(good_init);
MODULE_LICENSE("GPL");
"""
# Where a hostile `$(shell ...)` would leave its mark if it ever ran.
SHELL_MARK = "kmodlint-fuzz-shell-ran"


class InputTimeout(Exception):
    """One input took longer than TIME_LIMIT."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise InputTimeout in the main thread after `seconds` (a hang fails its input
    instead of stopping the run); a no-op off the main thread."""
    if seconds <= 0 or not _main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise InputTimeout(f"input took more than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@dataclass
class CliRun:
    status: int
    out: str
    err: str

    def report(self) -> dict:
        return json.loads(self.out)


def run_cli(*args: str) -> CliRun:
    """`kmodlint ARGS` in this process, stdout and stderr captured, and kmodlint's
    per-process memos emptied after it (each input starts as a new process would, and
    leaves nothing behind for the next input or the next test)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(list(args))
    finally:
        sys.stdout, sys.stderr = saved
        forget_process_state()
    return CliRun(status, out.getvalue(), err.getvalue())


def assert_clean_exit(run: CliRun, allowed: tuple[int, ...] = (0, 1)) -> None:
    assert "Traceback" not in run.err, run.err[-3000:]
    assert "internal error" not in run.err, run.err[-3000:]
    assert run.status in allowed, (run.status, run.err[-3000:])


def check_args(*paths: str, fmt: str = "json", ast: bool = False) -> list[str]:
    args = ["check", *paths, "--kernel", "none", "--isolated", "--no-cache", "-j", "1"]
    args += ["--config", "none", "--format", fmt, "-q"]
    return args if ast else [*args, "--no-ast"]


def findings_by_file(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for finding in report.get("findings", []):
        found.setdefault(os.path.basename(finding.get("path") or ""), []).append(finding)
    return found


def _is_input_problem(finding: dict) -> bool:
    """KM90x: the file (or a line of it) could not be (fully) read."""
    return str(finding.get("code", "")).startswith("KM90")


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kmodlint-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Interesting values


def interesting(width_bits: int, size: int) -> st.SearchStrategy[int]:
    top = (1 << width_bits) - 1
    fixed = [0, 1, 2, 3, 4, 7, 8, 16, 24, 64, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]
    fixed += [size - 1, size, size + 1, size // 2, top, top >> 1, (top >> 1) + 1]
    return st.one_of(
        st.sampled_from([v & top for v in fixed if v >= 0]),
        st.integers(0, top),
        st.integers(0, min(top, 4 * size + 64)),
    )


# ---------------------------------------------------------------------------------------
# ELF: structure-aware mutations of the corpus modules


@cache
def elf_seeds() -> tuple[tuple[str, bytes], ...]:
    files = sorted(ROOT.glob("corpus/*/built/*.ko")) + sorted(FIXTURES.glob("arch/*/*.ko"))
    files += sorted(FIXTURES.glob("objects/*/*.o"))
    return tuple((str(p.relative_to(ROOT)), p.read_bytes()) for p in files)


# (offset, format) of fields: ELF header, section header, symbol; per class.
_EHDR = {
    64: {"type": (16, "H"), "machine": (18, "H"), "shoff": (40, "Q"), "shentsize": (58, "H")}
    | {"shnum": (60, "H"), "shstrndx": (62, "H"), "class": (4, "B"), "data": (5, "B")},
    32: {"type": (16, "H"), "machine": (18, "H"), "shoff": (32, "I"), "shentsize": (46, "H")}
    | {"shnum": (48, "H"), "shstrndx": (50, "H"), "class": (4, "B"), "data": (5, "B")},
}
_SHDR = {
    64: {"name": (0, "I"), "type": (4, "I"), "offset": (24, "Q"), "size": (32, "Q")}
    | {"link": (40, "I"), "info": (44, "I"), "entsize": (56, "Q")},
    32: {"name": (0, "I"), "type": (4, "I"), "offset": (16, "I"), "size": (20, "I")}
    | {"link": (24, "I"), "info": (28, "I"), "entsize": (36, "I")},
}
_SYM = {
    64: {"name": (0, "I"), "info": (4, "B"), "shndx": (6, "H"), "value": (8, "Q")},
    32: {"name": (0, "I"), "value": (4, "I"), "info": (12, "B"), "shndx": (14, "H")},
}
_WIDTH = {"B": 8, "H": 16, "I": 32, "Q": 64}


@dataclass
class Layout:
    wide: int  # 32 or 64
    order: str
    shoff: int
    shnum: int
    shentsize: int
    # (header offset, sh_type, sh_offset, sh_size, sh_link) per section
    sections: list[tuple[int, int, int, int, int]]

    def field(self, data: bytes, at: int, fmt: str) -> int:
        return struct.unpack_from(self.order + fmt, data, at)[0]


def layout(data: bytes) -> Layout | None:
    """The section headers of a still-sane image, or None."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    wide = 64 if data[4] == 2 else 32
    order = "<" if data[5] == 1 else ">"

    def get(name: str) -> int:
        at, fmt = _EHDR[wide][name]
        return struct.unpack_from(order + fmt, data, at)[0]

    shoff, shnum, shentsize = get("shoff"), get("shnum"), get("shentsize")
    if shentsize != (64 if wide == 64 else 40) or shoff + shnum * shentsize > len(data):
        return None
    sections = []
    for index in range(shnum):
        at = shoff + index * shentsize
        fields = _SHDR[wide]
        values = [
            struct.unpack_from(order + fields[f][1], data, at + fields[f][0])[0]
            for f in ("type", "offset", "size", "link")
        ]
        sections.append((at, *values))
    return Layout(wide, order, shoff, shnum, shentsize, sections)


def _put(data: bytearray, at: int, fmt: str, order: str, value: int) -> None:
    if at >= 0 and at + struct.calcsize(fmt) <= len(data):
        struct.pack_into(order + fmt, data, at, value & ((1 << _WIDTH[fmt]) - 1))


ElfMutation = tuple[Any, ...]


def elf_mutations(size: int) -> st.SearchStrategy[ElfMutation]:
    fraction = st.floats(0, 1, allow_nan=False)
    return st.one_of(
        st.tuples(st.just("ehdr"), st.sampled_from(sorted(_EHDR[64])), interesting(64, size)),
        st.tuples(
            st.just("shdr"),
            st.integers(0, 200),
            st.sampled_from(sorted(_SHDR[64])),
            interesting(64, size),
        ),
        st.tuples(
            st.just("sym"),
            st.integers(0, 400),
            st.sampled_from(sorted(_SYM[64])),
            interesting(64, size),
        ),
        st.tuples(st.just("strtab-no-nul"), st.integers(0, 8), fraction, fraction),
        st.tuples(st.just("dup-sections"), st.integers(0, 200), st.integers(1, 3000)),
        st.tuples(st.just("dup-symbols"), st.integers(0, 400), st.integers(1, 5000), st.booleans()),
        st.tuples(st.just("flip"), fraction, st.integers(0, 255)),
        st.tuples(st.just("truncate"), fraction),
        st.tuples(st.just("append"), st.binary(max_size=64)),
    )


def mutate_elf(data: bytes, mutations: list[ElfMutation]) -> bytes:
    out = bytearray(data)
    for mutation in mutations:
        kind = mutation[0]
        shape = layout(bytes(out))
        if kind == "flip" and out:
            out[int(mutation[1] * (len(out) - 1))] = mutation[2]
        elif kind == "truncate":
            del out[int(mutation[1] * len(out)) :]
        elif kind == "append":
            out += mutation[1]
        elif shape is None:
            continue
        elif kind == "ehdr":
            at, fmt = _EHDR[shape.wide][mutation[1]]
            _put(out, at, fmt, shape.order, mutation[2])
        elif kind == "shdr" and shape.sections:
            header = shape.sections[mutation[1] % len(shape.sections)][0]
            at, fmt = _SHDR[shape.wide][mutation[2]]
            _put(out, header + at, fmt, shape.order, mutation[3])
        elif kind == "sym":
            _mutate_symbol(out, shape, mutation[1], mutation[2], mutation[3])
        elif kind == "strtab-no-nul":
            tables = [s for s in shape.sections if s[1] == 3 and s[2] + s[3] <= len(out)]
            if tables:
                _h, _t, offset, size, _l = tables[mutation[1] % len(tables)]
                start = offset + int(mutation[2] * size)
                end = min(offset + size, start + 1 + int(mutation[3] * size))
                out[start:end] = bytes(out[start:end]).replace(b"\0", b"A")
        elif kind == "dup-sections" and shape.sections:
            out = _duplicate_sections(out, shape, mutation[1], mutation[2])
        elif kind == "dup-symbols":
            out = _duplicate_symbols(out, shape, mutation[1], mutation[2], mutation[3])
    return bytes(out)


def _symtab(shape: Layout) -> tuple[int, int, int, int] | None:
    for header, sh_type, offset, size, link in shape.sections:
        if sh_type == 2:
            return header, offset, size, link
    return None


def _mutate_symbol(out: bytearray, shape: Layout, which: int, field: str, value: int) -> None:
    found = _symtab(shape)
    if found is None:
        return
    _header, offset, size, _link = found
    entry = 24 if shape.wide == 64 else 16
    count = size // entry
    if count:
        at, fmt = _SYM[shape.wide][field]
        _put(out, offset + (which % count) * entry + at, fmt, shape.order, value)


def _duplicate_sections(out: bytearray, shape: Layout, which: int, copies: int) -> bytearray:
    """The section header table moved to the end of the file with `copies` more copies of
    one header (8,000 __ksymtab sections, thousands of relocation sections)."""
    copies = min(copies, 0xFF00 - shape.shnum)
    table = out[shape.shoff : shape.shoff + shape.shnum * shape.shentsize]
    one = shape.sections[which % len(shape.sections)][0]
    header = out[one : one + shape.shentsize]
    out += b"\0" * (-len(out) % 8)
    shoff = len(out)
    out += table + header * copies
    _put(out, _EHDR[shape.wide]["shoff"][0], _EHDR[shape.wide]["shoff"][1], shape.order, shoff)
    _put(out, _EHDR[shape.wide]["shnum"][0], "H", shape.order, shape.shnum + copies)
    return out


def _duplicate_symbols(
    out: bytearray, shape: Layout, which: int, copies: int, shift_names: bool
) -> bytearray:
    """A new symbol table at the end: the old one plus `copies` copies of one symbol, all
    on one name or each one byte further into it (symbols sharing one long name)."""
    found = _symtab(shape)
    if found is None:
        return out
    header, offset, size, _link = found
    entry = 24 if shape.wide == 64 else 16
    if size < entry or offset + size > len(out):
        return out
    old = bytes(out[offset : offset + size])
    row = bytearray(old[(which % (size // entry)) * entry :][:entry])
    name_at, name_fmt = _SYM[shape.wide]["name"]
    base_name = struct.unpack_from(shape.order + name_fmt, row, name_at)[0]
    rows = bytearray()
    for number in range(copies):
        if shift_names:
            _put(row, name_at, name_fmt, shape.order, base_name + number)
        rows += row
    out += b"\0" * (-len(out) % 8)
    start = len(out)
    out += old + rows
    fields = _SHDR[shape.wide]
    _put(out, header + fields["offset"][0], fields["offset"][1], shape.order, start)
    _put(out, header + fields["size"][0], fields["size"][1], shape.order, len(old) + len(rows))
    return out


@st.composite
def elf_inputs(draw: st.DrawFn) -> dict:
    name, seed = draw(st.sampled_from(elf_seeds()))
    mutations = draw(st.lists(elf_mutations(len(seed)), min_size=1, max_size=5))
    return {
        "seed": name,
        "mutations": mutations,
        "data": mutate_elf(seed, mutations),
        "format": draw(st.sampled_from(["json", "text", "sarif", "github"])),
        "suffix": ".o" if name.endswith(".o") else ".ko",
    }


@cache
def _good_findings(fmt: str = "json") -> list[tuple[str, str]]:
    with workdir() as tree:
        shutil.copy(GOOD_KO, tree / "mod1.ko")
        run = run_cli(*check_args(str(tree)))
    assert_clean_exit(run)
    return sorted((f["rule"], f["message"]) for f in run.report()["findings"])


def check_elf(case: dict) -> None:
    data: bytes = case["data"]
    module, problems = inspect_module(data, "fuzzed.ko", "fuzzed")
    assert (module is None) == (len(problems) == 1), problems
    if module is None:
        assert problems[0].name == "invalid-elf"
        assert "\n" not in problems[0].message and problems[0].message
    else:
        assert problems == []
        good = extract_binary(str(GOOD_KO), "mod1.ko").module
        assert good is not None
        ms = ModuleSet([good, module])
        for rule in all_rules():
            list(rule.check(ms))
    with workdir() as tree:
        shutil.copy(GOOD_KO, tree / "mod1.ko")
        (tree / ("fuzzed" + case["suffix"])).write_bytes(data)
        # named: a .o in a folder beside a .ko is a build intermediate, not a module
        paths = [str(tree / "mod1.ko"), str(tree / ("fuzzed" + case["suffix"]))]
        run = run_cli(*check_args(*paths, fmt=case["format"]))
        assert_clean_exit(run)
        if case["format"] != "json":
            return
        found = findings_by_file(run.report())
        fuzzed = found.get("fuzzed" + case["suffix"], [])
        if module is None:
            # a bad file costs one line, and mod1's findings are what they were alone
            assert len(fuzzed) == 1 and fuzzed[0]["rule"] == "invalid-elf", fuzzed
            mine = sorted((f["rule"], f["message"]) for f in found.get("mod1.ko", []))
            assert mine == _good_findings()


# ---------------------------------------------------------------------------------------
# Compressed containers


def _compress(kind: str, data: bytes) -> bytes:
    if kind == "xz":
        return lzma.compress(data)
    if kind == "gz":
        return gzip.compress(data, compresslevel=6)
    return zstandard.ZstdCompressor(write_content_size=len(data) % 2 == 0).compress(data)


@st.composite
def compressed_inputs(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["xz", "gz", "zst"]))
    source = draw(st.sampled_from(["module", "mutated-module", "zeros", "junk"]))
    if source in ("module", "mutated-module"):
        _name, image = draw(st.sampled_from(elf_seeds()))
        if source == "mutated-module":
            image = mutate_elf(image, draw(st.lists(elf_mutations(len(image)), max_size=2)))
    elif source == "zeros":  # a bomb within test limits: MBs of zeros in a few KB
        image = bytes(draw(st.integers(0, 16)) * 512 * 1024 + draw(st.integers(0, 5000)))
    else:
        image = draw(st.binary(max_size=2000))
    packed = _compress(kind, image)
    streams = draw(st.integers(1, 3)) if kind != "zst" else 1
    packed = packed * streams
    cut = draw(st.one_of(st.none(), st.integers(1, max(1, len(packed) - 1))))
    if cut is not None:
        packed = packed[:cut]
    flips = draw(
        st.lists(st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 255)), max_size=3)
    )
    raw = bytearray(packed)
    for where, value in flips:
        raw[int(where * (len(raw) - 1))] = value
    tail = draw(st.one_of(st.just(b""), st.binary(max_size=32), st.just(b"\0" * 64)))
    raw += tail
    return {
        "tail": tail,
        "kind": kind,
        "source": source,
        "image_size": len(image),
        "streams": streams,
        "cut": cut,
        "flips": flips,
        "data": bytes(raw),
    }


def check_compressed(case: dict) -> None:
    name = f"fuzzed.ko.{case['kind']}"
    with workdir() as tree:
        path = tree / name
        path.write_bytes(case["data"])
        extraction = extract_binary(str(path), name)
        problems = extraction.problems
        assert (extraction.module is None) == (len(problems) == 1), problems
        if extraction.module is None:
            message = problems[0].message
            assert "\n" not in message and message
            plain = case["cut"] is not None and not case["flips"] and case["streams"] == 1
            if plain and not case["tail"]:
                # cut inside its only stream: said so (not "bad magic", never accepted)
                assert "truncated" in message or "decompresses to more than" in message, message
        shutil.copy(GOOD_KO, tree / "mod1.ko")
        run = run_cli(*check_args(str(tree)))
        assert_clean_exit(run)
        found = findings_by_file(run.report())
        if extraction.module is None:
            assert len(found.get(name, [])) == 1, found.get(name)
            mine = sorted((f["rule"], f["message"]) for f in found.get("mod1.ko", []))
            assert mine == _good_findings()


# ---------------------------------------------------------------------------------------
# C and the preprocessor


_IDENTS = st.sampled_from(["f_a", "f_b", "M_X", "M_Y", "CONFIG_FUZZ", "v_n", "__func__"])


def _if_expression(depth: int) -> st.SearchStrategy[str]:
    number = st.one_of(
        st.sampled_from(
            [
                "0",
                "1",
                "-1",
                "0x7fffffffffffffff",
                "0xffffffffffffffffULL",
                "18446744073709551616",
                "1 << 63",
                "'a'",
                "1u",
                "0777",
            ]
        ),
        st.integers(-(2**70), 2**70).map(str),
    )
    atom = st.one_of(number, _IDENTS, _IDENTS.map(lambda n: f"defined({n})"))
    if depth <= 0:
        return atom
    sub = _if_expression(depth - 1)
    ops = [
        "+",
        "-",
        "*",
        "/",
        "%",
        "<<",
        ">>",
        "&",
        "|",
        "^",
        "&&",
        "||",
        "==",
        "!=",
        "<",
        ">=",
        ",",
    ]
    return st.one_of(
        atom,
        st.tuples(sub, st.sampled_from(ops), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["!", "~", "-", "+"]), sub).map("".join),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
    )


def _c_piece() -> st.SearchStrategy[str]:
    deep = st.integers(1, 3000)
    return st.one_of(
        _if_expression(3).map(lambda e: f"#if {e}\nint f_if;\n#endif\n"),
        st.tuples(st.sampled_from("(!~-"), deep).map(
            lambda t: (
                "#if " + t[0] * t[1] + "1" + (")" * t[1] if t[0] == "(" else "") + "\n#endif\n"
            )
        ),
        deep.map(lambda n: "#if 1\n" * n + "int f_deep;\n" + "#endif\n" * n),
        deep.map(lambda n: "#ifdef M_X\n" * n),  # unbalanced
        st.integers(1, 40).map(
            lambda n: (
                "#define B0 x\n"
                + "".join(f"#define B{i + 1} B{i} B{i}\n" for i in range(n))
                + f"int f_bomb = B{n};\n#if B{n}\n#endif\n"
            )
        ),
        st.integers(1, 60).map(
            lambda n: "".join(f"#define R{i}(a) R{i + 1}(a,a)\n" for i in range(n)) + "R0(1)\n"
        ),
        st.sampled_from(
            [
                '#include "fuzzed.c"\n',
                '#include "h1.h"\n',
                "#include </dev/zero>\n",
                '#line 1 "/dev/zero"\n',
                '# 1 "/dev/zero" 1\n',
                "#include\n",
                "#if\n",
                "#elif 1\n",
                "#endif\n",
                "#define\n",
                "#pragma once\n",
                "??=define X 1\n",
            ]
        ),
        st.sampled_from(
            [
                "EXPORT_SYMBOL(f_a);\n",
                "EXPORT_SYMBOL_GPL(f_b);\n",
                'EXPORT_SYMBOL_NS(f_a, "NS");\n',
                'MODULE_IMPORT_NS("NS");\n',
                "MODULE_LICENSE(\n",
                'MODULE_LICENSE("Proprietary");\n',
                "module_param(v_n, int, 0644);\n",
                "int f_a(void) { return 0; }\n",
                "static int f_b(void) { return f_a(); }\n",
                "module_init(f_a);\nmodule_exit(f_b);\n",
                "struct { int x; } v_s = { .x = (((((1))))) };\n",
                '"unterminated string\n',
                "/* unterminated comment\n",
                "{{{{{{{{\n",
                "}}}}}}}}\n",
            ]
        ),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    )


@st.composite
def c_inputs(draw: st.DrawFn) -> dict:
    pieces = draw(st.lists(_c_piece(), min_size=1, max_size=6))
    header = draw(st.sampled_from(["#include <linux/module.h>\n", ""]))
    return {
        "source": header + "".join(pieces),
        "h1": draw(st.sampled_from(['#include "h2.h"\n', "int f_h1;\n", '#include "h1.h"\n'])),
        "h2": draw(st.sampled_from(['#include "h1.h"\n', "#define M_Y 1\n"])),
        "ast": draw(st.integers(0, 4)) == 0,  # the AST path runs cpp: one input in five
    }


@cache
def _good_c_findings(ast: bool) -> list[tuple[str, str]]:
    with workdir() as tree:
        (tree / "good.c").write_text(GOOD_C)
        run = run_cli(*check_args(str(tree), ast=ast))
    assert_clean_exit(run)
    return sorted((f["rule"], f["message"]) for f in run.report()["findings"])


def check_c(case: dict) -> None:
    with workdir() as tree:
        (tree / "good.c").write_text(GOOD_C)
        (tree / "fuzzed.c").write_text(case["source"], errors="surrogateescape")
        (tree / "h1.h").write_text(case["h1"])
        (tree / "h2.h").write_text(case["h2"])
        run = run_cli(*check_args(str(tree), ast=case["ast"]))
        assert_clean_exit(run)
        found = findings_by_file(run.report())
        mine = sorted((f["rule"], f["message"]) for f in found.get("good.c", []))
        assert mine == _good_c_findings(case["ast"]), run.err[-2000:]
        for name, findings in found.items():
            problems = [f for f in findings if _is_input_problem(f)]
            assert len(problems) <= 1, (name, problems)


# ---------------------------------------------------------------------------------------
# Kbuild and Makefiles


def _make_line() -> st.SearchStrategy[str]:
    return st.one_of(
        _FIXED_MAKE_LINES, st.text(alphabet=st.characters(codec="utf-8"), max_size=120)
    )


def _chain(length: int) -> str:
    """`V1 = $(V0)$(V0)` ... : 2^length bytes if expanded (up to 4 s a file, the make
    interpreter's work budget)."""
    lines = "".join(f"V{i + 1} = $(V{i})$(V{i})\n" for i in range(length))
    return f"V0 = x\n{lines}obj-m += $(V{length})\n"


_FIXED_MAKE_LINES = st.sampled_from(
    [
        "obj-m += good.o\n",
        "obj-m := good.o fuzz.o\n",
        "obj-$(CONFIG_FUZZ) += sub/\n",
        "obj-m += loop/\n",
        "obj-m += ../../../../elsewhere/\n",
        "fuzz-objs := good.o missing.o\n",
        "fuzz-y += $(fuzz-y)\n",
        "include $(src)/Makefile\n",
        "include $(src)/Kbuild\n",
        "-include /dev/zero\n",
        "sinclude $(src)/nowhere.mk\n",
        f"X := $(shell touch /tmp/{SHELL_MARK})\n",
        f"$(shell touch /tmp/{SHELL_MARK})\n",
        "ccflags-y += -I$(src)/include\n",
        "ifeq ($(CONFIG_FUZZ),y)\n",
        "ifdef KERNELRELEASE\n",
        "ifneq ($(KERNELRELEASE),)\n",
        "else\n",
        "endif\n",
        "define F\n$(1) $(1)\nendef\n",
        "L := $(call F,$(call F,$(call F,x)))\n",
        "R = $(R)\n",
        "$(eval obj-m += good.o)\n",
        "$(foreach v,a b c d,$(foreach w,a b c d,$(foreach x,a b c d,$(v)$(w)$(x))))\n",
        "all:\n\t$(MAKE) -C $(KDIR) M=$(PWD) modules\n",
        "export\n",
        "obj-m += \\\n",
        "$(error stop)\n",
        "$(warning careful)\n",
    ]
)


@st.composite
def kbuild_inputs(draw: st.DrawFn) -> dict:
    files = {
        "kbuild": draw(st.lists(_make_line(), min_size=1, max_size=8)),
        "makefile": draw(st.lists(_make_line(), max_size=4)),
        "sub": draw(st.lists(_make_line(), max_size=3)),
    }
    # a doubling chain in one input in eight, one file (each costs seconds: the suite's
    # budget); KMODLINT_FUZZ_CHAINS allows more per input in a long run
    for _ in range(int(os.environ.get("KMODLINT_FUZZ_CHAINS", "1"))):
        if draw(st.sampled_from([False] * 7 + [True])):
            lines = files[draw(st.sampled_from(sorted(files)))]
            lines.insert(draw(st.integers(0, len(lines))), _chain(draw(st.integers(1, 40))))
    case: dict = {name: "".join(lines) for name, lines in files.items()}
    case["loop"] = draw(st.booleans())  # loop -> . (obj-m += loop/ visits forever)
    return case


def check_kbuild(case: dict) -> None:
    mark = Path("/tmp") / SHELL_MARK
    with contextlib.suppress(FileNotFoundError):
        mark.unlink()
    with workdir() as top:
        tree = top / "driver"
        (tree / "sub").mkdir(parents=True)
        (tree / "good.c").write_text(GOOD_C)
        (tree / "Kbuild").write_text(case["kbuild"], errors="surrogateescape")
        if case["makefile"]:
            (tree / "Makefile").write_text(case["makefile"], errors="surrogateescape")
        (tree / "sub" / "Kbuild").write_text(case["sub"], errors="surrogateescape")
        if case["loop"]:
            (tree / "loop").symlink_to(".")
        run = run_cli(*check_args(str(tree)))
        assert_clean_exit(run, (0, 1, 2))
        if run.status == 2:  # a Kbuild that builds nothing: a usage error, in one line
            assert run.err.startswith("kmodlint: error: no module found in "), run.err
            assert run.err.count("\n") == 1, run.err
            return
        for name, findings in findings_by_file(run.report()).items():
            problems = [f for f in findings if _is_input_problem(f)]
            # one line per bad Kbuild line at most; never a run stopped
            assert len(problems) <= 64, (name, len(problems))
    assert not mark.exists(), "a $(shell ...) of a Makefile was executed"


# ---------------------------------------------------------------------------------------
# Module.symvers (with an oracle: the rows generated bad are known)

_KINDS = ["EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", "EXPORT_SYMBOL_GPL_FUTURE"]
_BAD_CRCS = [
    "-0x5",
    "0x" + "1" * 200,
    "1_000",
    "0x1_000",
    "0x",
    "0x123456789",
    " 0x5",
    "0xg",
    "5",
    "0x5 ",
    "+0x5",
    "\uff10x5",  # a fullwidth zero
]


def _bad_row(kind: str, n: int) -> str:
    good = f"0x{n:08x}\tbad_{n}\tvmlinux\tEXPORT_SYMBOL\t"
    return {
        "crc": f"{_BAD_CRCS[n % len(_BAD_CRCS)]}\tbad_{n}\tvmlinux\tEXPORT_SYMBOL\t",
        "columns": good + "\textra",
        "few": f"0x{n:08x}\tbad_{n}\tvmlinux",
        "kind": good.replace("EXPORT_SYMBOL", "EXPORT_SOMETHING"),
        "nul": good.replace("\tvmlinux", "\tvm\0linux"),
        "blank-name": good.replace(f"bad_{n}", "bad name"),
        "no-owner": good.replace("vmlinux", ""),
        "garbage": "garbage line here",
        "control": good.replace(f"bad_{n}", f"bad\x1b[31m{n}"),
    }[kind]


@st.composite
def symvers_inputs(draw: st.DrawFn) -> dict:
    rows: list[tuple[str, str | None]] = []  # (text, symbol when good)
    for n in range(draw(st.integers(1, 60))):
        if draw(st.integers(0, 3)) == 0:
            kind = draw(
                st.sampled_from(
                    [
                        "crc",
                        "columns",
                        "few",
                        "kind",
                        "nul",
                        "blank-name",
                        "no-owner",
                        "garbage",
                        "control",
                    ]
                )
            )
            rows.append((_bad_row(kind, n), None))
        else:
            layout_ = draw(st.sampled_from(["new", "5.4", "old"]))
            crc = f"0x{draw(st.integers(0, 2**32 - 1)):0{draw(st.integers(1, 8))}x}"
            symbol = f"sym_{draw(st.integers(0, 80))}"
            kind = draw(st.sampled_from(_KINDS))
            owner = draw(st.sampled_from(["vmlinux", "drivers/x/y", "fs/z"]))
            text = {
                "new": f"{crc}\t{symbol}\t{owner}\t{kind}\t{draw(st.sampled_from(['', 'NS']))}",
                "5.4": f"{crc}\t{symbol}\tNS\t{owner}\t{kind}",
                "old": f"{crc}\t{symbol}\t{owner}\t{kind}",
            }[layout_]
            rows.append((text, symbol))
    separator = draw(st.sampled_from(["\n", "\r\n"]))
    return {"rows": rows, "separator": separator, "via_cli": draw(st.integers(0, 3)) == 0}


def check_symvers(case: dict) -> None:
    rows: list[tuple[str, str | None]] = case["rows"]
    text = case["separator"].join(t for t, _ in rows) + "\n"
    bad = sum(1 for _t, symbol in rows if symbol is None)
    with workdir() as tree:
        path = tree / "Module.symvers"
        path.write_text(text)
        try:
            table = load_kernel(str(path), _no_tree)
        except KernelSpecError:
            # only when no row of the first 20 looks like a symvers row at all
            assert all("\tEXPORT_" not in t for t, _ in rows[:20])
            return
        messages = [p.message for p in table.problems]
        if bad:
            assert table.complete is False
            assert len(messages) == 1
            assert messages[0].startswith(f"{bad} unreadable Module.symvers line(s)"), messages
        else:
            assert messages == [] and table.complete is True
        wanted = {symbol for _t, symbol in rows if symbol is not None}
        assert set(table.exports) == wanted
        if case["via_cli"]:
            shutil.copy(GOOD_KO, tree / "mod1.ko")
            args = check_args(str(tree / "mod1.ko"))
            args[args.index("none")] = str(path)
            run = run_cli(*args)
            assert_clean_exit(run)
            rules = [f["rule"] for f in run.report()["findings"]]
            if bad:  # an incomplete table: nothing is called unresolved against it
                assert "unresolved-symbol" not in rules
                assert rules.count("invalid-kernel-table") == 1


def _no_tree(files: list) -> list:
    raise AssertionError("a Module.symvers path never reads a module tree")


# ---------------------------------------------------------------------------------------
# Settings (TOML) and baselines (JSON)


def _toml_value(depth: int) -> st.SearchStrategy[str]:
    scalar = st.one_of(
        st.sampled_from(
            [
                '"KM101"',
                '"KM"',
                '""',
                '"ALL"',
                '"unresolved-symbol"',
                '"E"',
                "1",
                "1e999",
                "nan",
                "inf",
                "true",
                '"error"',
                '"never"',
                '"none"',
                '"/dev/zero"',
                "1979-05-27T07:32:00Z",
                '"\\u0000"',
                "0x7f",
                '"*.c"',
            ]
        ),
        st.text(max_size=20).map(json.dumps),
    )
    if depth <= 0:
        return scalar
    sub = _toml_value(depth - 1)
    return st.one_of(
        scalar,
        st.lists(sub, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(
            st.tuples(st.sampled_from(['"*.c"', '"KM301"', "x", '"a.b"']), sub), max_size=3
        ).map(lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"),
    )


@st.composite
def settings_inputs(draw: st.DrawFn) -> dict:
    keys = [*settings.KNOWN_KEYS, "selct", "tool", "[tool.kmodlint]"]
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(keys))
        lines.append(f"{key} = {draw(_toml_value(2))}\n")
    extra = draw(
        st.sampled_from(
            [
                "",
                "select = " + "[" * 3000 + "]" * 3000 + "\n",
                "[[[\n",
                "x = \n",
                "= 1\n",
                'select = ["KM1"]\nselect = ["KM2"]\n',
                "\0\n",
                '[severity]\nKM301 = "info"\n',
                '[per-file-ignores]\n"*.c" = ["KM101"]\n',
                "a = 1" * 1000 + "\n",
            ]
        )
    )
    name = draw(st.sampled_from(["kmodlint.toml", "pyproject.toml", ".kmodlint.toml"]))
    text = "".join(lines) + extra
    if name == "pyproject.toml" and draw(st.booleans()):
        text = "[tool.kmodlint]\n" + text
    return {"name": name, "text": text, "bytes": draw(st.binary(max_size=16))}


def check_settings(case: dict) -> None:
    with workdir() as tree:
        path = tree / case["name"]
        path.write_bytes(case["text"].encode("utf-8", "surrogateescape") + case["bytes"])
        try:
            settings.load_settings(str(path))
        except settings.SettingsError as exc:
            assert str(exc).startswith(str(path))
        (tree / "good.c").write_text(GOOD_C)
        args = check_args(str(tree / "good.c"))
        args[args.index("--isolated")] = "--settings"
        args.insert(args.index("--settings") + 1, str(path))
        run = run_cli(*args)
        assert_clean_exit(run, (0, 1, 2))
        if run.status == 2:
            errors = [line for line in run.err.splitlines() if line.startswith("kmodlint: error")]
            assert len(errors) == 1, run.err


def _json_value(depth: int) -> st.SearchStrategy[Any]:
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.sampled_from(["KM301", "mod1", "myadd"]),
    )
    if depth <= 0:
        return scalar
    sub = _json_value(depth - 1)
    return st.one_of(
        scalar,
        st.lists(sub, max_size=4),
        st.dictionaries(st.sampled_from(["code", "module", "key", "count", "x"]), sub, max_size=5),
    )


@st.composite
def baseline_inputs(draw: st.DrawFn) -> dict:
    shape = draw(st.sampled_from(["document", "entries", "raw"]))
    if shape == "raw":
        text = draw(
            st.sampled_from(
                [
                    "[" * 100_000 + "]" * 100_000,
                    '{"version": ' + "1" * 5000 + "}",
                    "",
                    "\0",
                    '{"version": 1, "findings": [' + "{}," * 1000 + "{}]}",
                    "nul\0l",
                    '{"a":',
                    '{"version": 1e999}',
                    "\ufeff{}",
                ]
            )
        )
    else:
        entries = draw(
            st.lists(
                st.dictionaries(
                    st.sampled_from(["code", "module", "key", "count"]), _json_value(1), max_size=4
                ),
                max_size=8,
            )
        )
        if shape == "entries":
            entries = [{"code": "KM301", "module": "mod1", "key": "k", **e} for e in entries]
        document = {"version": draw(st.sampled_from([1, 2, "1", None])), "findings": entries}
        if draw(st.booleans()):
            document["findings"] = draw(_json_value(2))
        text = json.dumps(document)
    return {"text": text, "tail": draw(st.binary(max_size=8))}


def check_baseline(case: dict) -> None:
    with workdir() as tree:
        path = tree / "baseline.json"
        path.write_bytes(case["text"].encode("utf-8", "surrogatepass") + case["tail"])
        try:
            baseline.read(str(path))
        except baseline.BaselineError as exc:
            assert "\n" not in str(exc), str(exc)[:2000]
        shutil.copy(GOOD_KO, tree / "mod1.ko")
        args = check_args(str(tree / "mod1.ko"))
        run = run_cli(*args, "--baseline", str(path))
        assert_clean_exit(run, (0, 1, 2))
        if run.status == 2:
            errors = [line for line in run.err.splitlines() if line.startswith("kmodlint: error")]
            assert len(errors) == 1, run.err[-2000:]


# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    name: str
    inputs: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    # examples in the normal test suite (KMODLINT_FUZZ_EXAMPLES scales them)
    examples: int


FAMILIES = {
    family.name: family
    for family in (
        Family("elf", elf_inputs(), check_elf, 40),
        Family("compressed", compressed_inputs(), check_compressed, 30),
        Family("c", c_inputs(), check_c, 20),
        Family("kbuild", kbuild_inputs(), check_kbuild, 15),
        Family("symvers", symvers_inputs(), check_symvers, 30),
        Family("settings", settings_inputs(), check_settings, 25),
        Family("baseline", baseline_inputs(), check_baseline, 25),
    )
}


def run_one(family: Family, case: Any) -> float:
    """Check one input under the time limit; its duration in seconds."""
    start = time.monotonic()
    with time_limit(TIME_LIMIT):
        family.check(case)
    return time.monotonic() - start
