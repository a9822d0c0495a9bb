"""A .ko beside the Kbuild that declares it is the module's build product (issue 10): not a
duplicate-module, and a stale-build note when it is older than, or disagrees with, its
sources. Real inputs: the seeds' sources and the .ko kbuild built from them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kmodlint.cli import main

SEEDS = Path(__file__).resolve().parent.parent / "corpus" / "km000-seeds-mod1-mod2"


def _driver_after_make(tmp_path: Path) -> Path:
    """The seeds' folder as `make M=...` leaves it: sources, Kbuild and mod1.ko/mod2.ko."""
    tree = tmp_path / "drv"
    tree.mkdir()
    for name in ("Kbuild", "mod1.c", "mod2.c"):
        shutil.copy(SEEDS / name, tree / name)
    for name in ("mod1.ko", "mod2.ko"):
        shutil.copy(SEEDS / "built" / name, tree / name)
    newest = max(os.stat(tree / n).st_mtime for n in ("Kbuild", "mod1.c", "mod2.c"))
    for name in ("mod1.ko", "mod2.ko"):
        os.utime(tree / name, (newest + 10, newest + 10))
    return tree


def _findings(tree: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    code = main(
        [
            "check",
            str(tree),
            "--format",
            "json",
            "--fail-on",
            "never",
            "--kernel",
            "none",
            "--config",
            "none",
            "--isolated",
            "--cache-dir",
            str(cache_dir),
            "-j",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)["findings"]


def test_fresh_build_product_is_neither_duplicate_nor_stale(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _driver_after_make(tmp_path)
    codes = [f["code"] for f in _findings(tree, cache_dir, capsys)]
    assert "KM906" not in codes
    assert "KM907" not in codes


def test_edited_source_makes_the_build_stale(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _driver_after_make(tmp_path)
    later = os.stat(tree / "mod1.ko").st_mtime + 60
    os.utime(tree / "mod1.c", (later, later))
    stale = [f for f in _findings(tree, cache_dir, capsys) if f["code"] == "KM907"]
    assert len(stale) == 1
    assert stale[0]["path"].endswith("mod1.ko")
    assert "older than 'mod1.c'" in stale[0]["message"]


def test_export_removed_from_sources_is_a_disagreement(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _driver_after_make(tmp_path)
    source = tree / "mod1.c"
    stamp = os.stat(source)
    source.write_text(source.read_text().replace("EXPORT_SYMBOL(myadd);", ""))
    os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    stale = [f for f in _findings(tree, cache_dir, capsys) if f["code"] == "KM907"]
    messages = " ".join(f["message"] for f in stale)
    assert "exports 'myadd' (EXPORT_SYMBOL), which the sources no longer do" in messages
    # mod2.ko still imports myadd from mod1, which its sources still call: no note on mod2
    assert all(f["path"].endswith("mod1.ko") for f in stale)


def test_same_name_elsewhere_is_still_a_duplicate(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _driver_after_make(tmp_path)
    other = tmp_path / "drv" / "other"
    other.mkdir()
    (other / "Makefile").write_text("obj-m += unrelated.o\n")
    shutil.move(str(tree / "mod2.ko"), other / "mod2.ko")
    codes = [f["code"] for f in _findings(tree, cache_dir, capsys)]
    assert codes.count("KM906") == 1
