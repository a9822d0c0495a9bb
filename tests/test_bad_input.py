"""Bad input: one diagnostic line naming the file, and the run goes on with the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

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


def test_missing_path_and_unknown_file_are_reported_not_fatal(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a module\n")
    result = run_kmodlint(
        "check",
        str(tmp_path / "nowhere"),
        str(notes),
        str(GOOD / "mod1.ko"),
        "--kernel",
        "none",
        "--format",
        "json",
        "--no-cache",
    )
    findings = json.loads(result.stdout)["findings"]
    assert sorted(f["rule"] for f in findings) == ["unknown-input", "unreadable-path"]
    assert result.returncode == 1


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
