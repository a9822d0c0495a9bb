"""Bad input: one diagnostic line naming the file, and the run goes on with the rest."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kmodlint.frontends.elf import inspect_module
from tests.test_corpus import run_kmodlint

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAD = FIXTURES / "bad"
GOOD = FIXTURES / "arch" / "x86_64"

BAD_FILES = {
    "truncated.ko": "truncated",
    "notelf.ko": "not an ELF file",
    "corrupt.ko.xz": "not a valid xz stream",
    "empty.ko": "empty file",
    "cut.ko.xz": "corrupt compressed module",
}


@pytest.fixture()
def mixed_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in BAD_FILES:
        if (BAD / name).exists():
            shutil.copy(BAD / name, tree / name)
    # A real xz stream cut in the middle: right magic, broken data.
    xz = (BAD / "mod1.ko.xz").read_bytes()
    (tree / "cut.ko.xz").write_bytes(xz[: len(xz) // 2])
    for name in ("mod1.ko", "mod2.ko", "mod3.ko"):
        shutil.copy(GOOD / name, tree / name)
    return tree


def test_each_bad_file_gets_one_finding_and_good_modules_are_still_checked(
    mixed_tree: Path, tmp_path: Path
) -> None:
    result = run_kmodlint(
        "check",
        str(mixed_tree),
        "--kernel",
        "none",
        "--format",
        "json",
        env_extra={"KMODLINT_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    invalid = {Path(f["path"]).name: f for f in findings if f["rule"] == "invalid-elf"}
    assert set(invalid) == set(BAD_FILES)
    for name, words in BAD_FILES.items():
        assert words in invalid[name]["message"], invalid[name]
        assert invalid[name]["severity"] == "error"
    # The good modules were analysed: symbols shows them, and nothing else fired on them.
    others = [f for f in findings if f["rule"] != "invalid-elf"]
    assert others == []
    symbols = run_kmodlint("symbols", str(mixed_tree), "--kernel", "none", "--format", "json")
    names = sorted(m["name"] for m in json.loads(symbols.stdout)["modules"])
    assert names == ["mod1", "mod2", "mod3"]


def test_text_output_gives_one_line_per_bad_file(mixed_tree: Path) -> None:
    result = run_kmodlint("check", str(mixed_tree), "--kernel", "none", "--no-cache")
    lines = [line for line in result.stdout.splitlines() if "[KM902 invalid-elf]" in line]
    assert len(lines) == len(BAD_FILES)
    for line in lines:
        assert line.startswith(str(mixed_tree)), line
        assert ": error: " in line


def test_compressed_modules_read_like_plain_ones(tmp_path: Path) -> None:
    plain = run_kmodlint("symbols", str(GOOD / "mod1.ko"), "--kernel", "none", "--format", "json")
    expected = json.loads(plain.stdout)["modules"][0]
    for name in ("mod1.ko.xz", "mod1.ko.zst", "mod1.ko.gz"):
        result = run_kmodlint("symbols", str(BAD / name), "--kernel", "none", "--format", "json")
        assert result.returncode == 0, result.stderr
        module = json.loads(result.stdout)["modules"][0]
        assert module["name"] == "mod1"
        module["path"] = expected["path"]
        assert module == expected


def test_unknown_file_is_reported_not_fatal(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a module\n")
    result = run_kmodlint(
        "check",
        str(notes),
        str(GOOD / "mod1.ko"),
        "--kernel",
        "none",
        "--format",
        "json",
        "--no-cache",
    )
    findings = json.loads(result.stdout)["findings"]
    assert sorted(f["rule"] for f in findings) == ["unknown-input"]
    assert result.returncode == 1


@pytest.mark.parametrize("command", ["check", "deps", "symbols"])
def test_missing_path_is_a_usage_error_before_any_analysis(tmp_path: Path, command: str) -> None:
    """A typo in a path (pre-commit passing a deleted file, a CI variable left empty) must
    not pass as a clean run: exit 2 and one line, for every command (issue 10)."""
    result = run_kmodlint(
        command, str(tmp_path / "nowhere"), str(GOOD / "mod1.ko"), "--kernel", "none", "--no-cache"
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"kmodlint: error: {tmp_path / 'nowhere'}: no such file or directory"
    )
    assert result.stdout == ""


def test_unreadable_module_in_a_tree_is_reported(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(GOOD / "mod1.ko", tree / "mod1.ko")
    # A dangling link is listed by the walk but cannot be opened, whoever runs the tests.
    (tree / "gone.ko").symlink_to(tmp_path / "deleted.ko")
    result = run_kmodlint("check", str(tree), "--kernel", "none", "--format", "json", "--no-cache")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], Path(f["path"]).name) for f in findings] == [("unreadable-path", "gone.ko")]
    assert "No such file or directory" in findings[0]["message"]


def test_bad_kernel_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = run_kmodlint("check", str(GOOD), "--kernel", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_fifo_named_like_a_module_is_reported_not_opened(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(GOOD / "mod1.ko", tree / "mod1.ko")
    os.mkfifo(tree / "pipe.ko")
    result = run_kmodlint("check", str(tree), "--kernel", "none", "--format", "json", "--no-cache")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], Path(f["path"]).name) for f in findings] == [("unknown-input", "pipe.ko")]
    assert "not a regular file" in findings[0]["message"]


def test_non_utf8_file_names_are_reported_not_crashed_on(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    odd = os.fsdecode(b"caf\xe9_" + b"x" * 60 + b".ko")
    shutil.copy(GOOD / "mod1.ko", os.path.join(tree, odd))

    def run(*args: str) -> subprocess.CompletedProcess:
        # Names are printed as the raw bytes the file system holds, like ls does.
        return subprocess.run(
            [sys.executable, "-m", "kmodlint", *args, "--no-cache"],
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=300,
        )

    deps = run("deps", str(tree), "--format", "modules.dep")
    assert deps.returncode == 0, deps.stderr
    assert deps.stdout == odd + ":\n"
    check = run("check", str(tree), "--kernel", "none")
    assert "Traceback" not in check.stderr, check.stderr
    # 65 bytes on disk (the e9 byte counts once), over MODULE_NAME_LEN - 1 = 55.
    assert check.stdout.count("[KM604 module-name-too-long]") == 1
    assert "65 bytes" in check.stdout


def test_corrupt_cache_entries_are_misses(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"KMODLINT_CACHE_DIR": str(cache)}
    first = run_kmodlint(
        "symbols", str(GOOD), "--kernel", "none", "--format", "json", env_extra=env
    )
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for index, entry in enumerate(entries):
        # Truncated pickles, garbage and a pickle of the wrong protocol-valid type.
        entry.write_bytes([b"", b"\x80\x05garbage", b"\x80\x04K\x01."][index % 3])
    again = run_kmodlint(
        "symbols", str(GOOD), "--kernel", "none", "--format", "json", env_extra=env
    )
    assert "Traceback" not in again.stderr, again.stderr
    assert again.stdout == first.stdout


def test_mutated_headers_never_escape_the_elf_inspector() -> None:
    """Flip header and section-header fields of a real module: every variant is either
    read or reported as invalid-elf, never raised."""
    data = (GOOD / "mod1.ko").read_bytes()
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shnum = int.from_bytes(data[0x3C:0x3E], "little")
    positions = list(range(0x10, 0x40)) + list(range(shoff, shoff + shnum * 64))
    values = (0x00, 0x7F, 0x80, 0xFF)
    rng = random.Random(20261123)
    for _ in range(1500):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.choice(positions)] = rng.choice(values)
        module, problems = inspect_module(bytes(mutated), "mut.ko", "mut")
        assert (module is None) == bool(problems)
        assert all(p.name == "invalid-elf" for p in problems)


# ---------------------------------------------------------------------------------------
# Crafted ELF: every loop of the inspector is linear in the counts a file declares (issue 11)


def _timed_inspect(data: bytes) -> tuple[object, list, float, float]:
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    module, problems = inspect_module(data, "crafted.ko", "crafted")
    seconds = time.monotonic() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return module, problems, seconds, grown_mb


def test_a_string_table_without_nul_is_refused_at_once() -> None:
    from tests.fuzz.elfbuild import module

    n = 20_000  # a symbol at every offset of a 20 KB table with no NUL: was a scan each
    data = module([("x", 1, 0, 0, 0)] * n, strtab=b"A" * n, name_offsets=list(range(n)))
    found, problems, seconds, _ = _timed_inspect(data)
    assert found is None
    assert [p.message for p in problems] == [
        "the symbol string table is not NUL-terminated; the loader refuses it"
    ]
    assert seconds < 2


def test_a_section_name_table_without_nul_is_refused_at_once() -> None:
    from tests.fuzz.elfbuild import Builder, Part

    builder = Builder()
    for _ in range(5000):
        builder.add(Part("x"))
    data = builder.build(shstrtab=b"x" * 100_000)  # pyelftools read to its end per section
    found, problems, seconds, _ = _timed_inspect(data)
    assert found is None and len(problems) == 1
    assert "section name table is not NUL-terminated" in problems[0].message
    assert seconds < 2


def test_8000_export_tables_with_relocations_are_read_in_linear_time() -> None:
    from tests.fuzz.elfbuild import SHT_RELA, Part, module

    k = 8000  # was 33 s: every table's relocations were looked for among all sections
    tables = [Part("__ksymtab", data=bytes(12)) for _ in range(k)]
    relocations = [
        Part(".rela__ksymtab", SHT_RELA, data=bytes(24), info=3 + i, entsize=24) for i in range(k)
    ]
    symbols = [(f"__ksymtab_s{i}", 1, 1, 3 + i, 0) for i in range(k)]
    found, problems, seconds, _ = _timed_inspect(module(symbols, extra=tables + relocations))
    assert problems == []
    assert found is not None and len(found.exports) == k  # type: ignore[attr-defined]
    assert seconds < 5


def test_symbols_sharing_one_long_name_cost_no_memory() -> None:
    from tests.fuzz.elfbuild import module

    long_name = b"B" * (1 << 20) + b"\0"
    rows = [("x", 1, 0, 0, 0)] * 2000
    # 2,000 names each starting one byte further into one 1 MB run: was 2 GB of strings
    found, problems, seconds, grown_mb = _timed_inspect(
        module(rows, strtab=long_name, name_offsets=list(range(2000)))
    )
    assert found is None and len(problems) == 1
    assert "names overlap far beyond their string table" in problems[0].message
    assert seconds < 2 and grown_mb < 100
    # 2,000 symbols at the same offset share one decoded name: read, one undefined symbol
    found, problems, seconds, grown_mb = _timed_inspect(
        module(rows, strtab=long_name, name_offsets=[0] * 2000)
    )
    assert problems == []
    assert list(found.undefined) == ["B" * (1 << 20)]  # type: ignore[attr-defined]
    assert seconds < 2 and grown_mb < 100


def test_overlapping_relocation_sections_are_refused() -> None:
    from tests.fuzz.elfbuild import SHT_RELA, Part, module, relocate_headers

    k = 2000
    tables = [Part("__ksymtab", data=bytes(12)) for _ in range(k)]
    # every relocation section claims the same 1 MB of the file (the first one's data)
    first = Part(".rela__ksymtab", SHT_RELA, data=bytes(24 * 40_000), info=3, entsize=24)
    relocations = [first] + [
        Part(".rela__ksymtab", SHT_RELA, info=3 + i, entsize=24, size=24 * 40_000)
        for i in range(1, k)
    ]
    symbols = [(f"__ksymtab_s{i}", 1, 1, 3 + i, 0) for i in range(k)]
    data = relocate_headers(module(symbols, extra=tables + relocations), ".rela__ksymtab")
    found, problems, seconds, _ = _timed_inspect(data)
    assert found is None and len(problems) == 1
    # 40,000 relocations for 2,001 symbols: refused before a second section is decoded
    assert problems[0].message == (
        "export tables with 40,000 relocations for 2,001 symbols: not analysed"
    )
    assert seconds < 5


def test_more_relocations_than_the_file_holds_are_refused() -> None:
    from tests.fuzz.elfbuild import SHT_RELA, Part, module, relocate_headers

    # 40,000 symbols allow 121,024 relocations, but 20 sections over the same 10,000
    # relocation entries would decode the file's bytes many times over
    symbols = [(f"__ksymtab_s{i}", 1, 1, 3, 0) for i in range(40_000)]
    tables = [Part("__ksymtab", data=bytes(12 * 40_000))] + [
        Part("__ksymtab", data=b"") for _ in range(19)
    ]
    first = Part(".rela__ksymtab", SHT_RELA, data=bytes(24 * 10_000), info=3, entsize=24)
    relocations = [first] + [
        Part(".rela__ksymtab", SHT_RELA, info=3 + i, entsize=24) for i in range(1, 20)
    ]
    symbols += [(f"__ksymtab_t{i}", 1, 1, 3 + i, 0) for i in range(1, 20)]
    data = relocate_headers(module(symbols, extra=tables + relocations), ".rela__ksymtab")
    found, problems, seconds, _ = _timed_inspect(data)
    assert found is None and len(problems) == 1
    assert problems[0].message.startswith("relocation sections overlap")
    assert seconds < 5


def test_a_symbol_table_beyond_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmodlint.frontends import elf
    from tests.fuzz.elfbuild import module

    monkeypatch.setattr(elf, "MAX_SYMBOLS", 1000)  # 1,000,000 in earnest: ~400 MB
    found, problems, _s, _m = _timed_inspect(module([("x", 1, 0, 0, 0)] * 1000))
    assert found is None
    assert problems[0].message == "a symbol table of 1,001 entries, more than 1,000: not analysed"


# ---------------------------------------------------------------------------------------
# Compressed modules: truncation is called truncation; many tiny streams cost linear time


def _packed() -> dict[str, bytes]:
    import gzip
    import lzma

    import zstandard

    image = (GOOD / "mod1.ko").read_bytes()
    return {
        "m.ko.xz": lzma.compress(image),
        "m.ko.gz": gzip.compress(image),
        "m.ko.zst": zstandard.ZstdCompressor().compress(image),
        "n.ko.zst": zstandard.ZstdCompressor(write_content_size=False).compress(image),
    }


@pytest.mark.parametrize("name", ["m.ko.xz", "m.ko.gz", "m.ko.zst", "n.ko.zst"])
def test_a_module_cut_anywhere_is_a_truncated_stream(name: str) -> None:
    from kmodlint.extract import inflate
    from kmodlint.frontends.compressed import DecompressError

    data = _packed()[name]
    kind = {"xz": "xz", "gz": "gzip", "zst": "zstd"}[name.rsplit(".", 1)[1]]
    for length in range(1, len(data)):
        with pytest.raises(DecompressError) as caught:
            inflate(data[:length], name)
        message = str(caught.value)
        assert message.startswith(f"corrupt compressed module: truncated {kind} stream ("), (
            length,
            message,
        )


def test_a_truncated_zst_in_a_tree_is_one_truncated_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kmodlint import cli

    data = _packed()["m.ko.zst"]
    (tmp_path / "cut.ko.zst").write_bytes(data[: len(data) // 2])
    (tmp_path / "magic.ko.zst").write_bytes(data[:3])
    shutil.copy(GOOD / "mod2.ko", tmp_path / "mod2.ko")
    cli.main(["check", str(tmp_path), "--kernel", "none", "--isolated", "--no-cache"])
    lines = capsys.readouterr().out.splitlines()
    assert f"{tmp_path}/cut.ko.zst: error: corrupt compressed module: truncated zstd stream " in (
        "\n".join(lines)
    )
    assert sum("truncated zstd stream" in line for line in lines) == 2
    assert lines[-1].endswith("in 1 module")  # mod2 was still analysed


def test_thousands_of_tiny_streams_inflate_in_linear_time() -> None:
    import gzip
    import lzma
    import time

    from kmodlint.extract import inflate

    image = (GOOD / "mod1.ko").read_bytes()
    # was 35-46 s: every stream handed the whole rest of the file to a new decoder
    for name, data in (
        ("m.ko.xz", lzma.compress(image) + lzma.compress(b"") * 160_000),
        ("m.ko.gz", gzip.compress(image) + gzip.compress(b"") * 160_000 + bytes(64)),
    ):
        start = time.monotonic()
        assert inflate(data, name) == image
        assert time.monotonic() - start < 10


def test_the_shared_name_module_as_a_small_ko_xz_is_one_line(tmp_path: Path) -> None:
    import lzma

    from kmodlint.extract import extract_binary
    from tests.fuzz.elfbuild import module

    data = module(
        [("x", 1, 0, 0, 0)] * 2000,
        strtab=b"B" * (1 << 20) + b"\0",
        name_offsets=list(range(2000)),
    )
    packed = lzma.compress(data, preset=9)
    assert len(packed) < 2000  # the was 472 bytes: 2 GB of names once read
    for name, raw, words in (
        ("shared.ko.xz", packed, "decompresses to more than"),  # stopped by the ratio
        ("shared.ko", data, "names overlap far beyond their string table"),
    ):
        (tmp_path / name).write_bytes(raw)
        extraction = extract_binary(str(tmp_path / name), name)
        assert extraction.module is None
        assert [p.name for p in extraction.problems] == ["invalid-elf"]
        assert words in extraction.problems[0].message


def test_modinfo_and_versions_beyond_the_bound_are_refused() -> None:
    from tests.fuzz.elfbuild import Part, module

    # 200,000 .modinfo strings in 600 KB: a 512 MB image of them was 170 million objects
    found, problems, seconds, _ = _timed_inspect(
        module([("x", 1, 0, 0, 0)], modinfo=b"a=\0" * 200_000)
    )
    assert found is None
    assert problems[0].message == (
        ".modinfo holds 200,000 strings, more than 100,000: not analysed"
    )
    assert seconds < 2
    found, problems, seconds, _ = _timed_inspect(
        module([("x", 1, 0, 0, 0)], extra=[Part("__versions", data=bytes(64 * 100_001))])
    )
    assert found is None
    assert problems[0].message == "__versions holds 100,001 rows, more than 100,000: not analysed"
    assert seconds < 2
