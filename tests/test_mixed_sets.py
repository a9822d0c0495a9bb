"""Sources and binaries in one run: a driver tree stacked on a built base module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.corpus_support import run_kmodlint

SEEDS = Path(__file__).resolve().parent.parent / "corpus" / "km000-seeds-mod1-mod2"
TARGET = SEEDS.parent / "targets" / "deb-6.1.0-56"


def _tree(tmp_path: Path, licence: str = "GPL") -> Path:
    tree = tmp_path / "upper"
    tree.mkdir()
    text = (
        (SEEDS / "mod2.c")
        .read_text()
        .replace('MODULE_LICENSE("GPL")', f'MODULE_LICENSE("{licence}")')
    )
    (tree / "mod2.c").write_text(text)
    (tree / "Kbuild").write_text("obj-m += mod2.o\n")
    return tree


def _check(*paths: Path) -> list[tuple[str, int | None, str, str | None]]:
    result = run_kmodlint(
        "check",
        *map(str, paths),
        "--kernel",
        str(TARGET),
        "--config",
        "none",
        "--format",
        "json",
        "--no-cache",
    )
    assert result.returncode in (0, 1), result.stderr
    return [
        (Path(f["path"]).name, f["line"], f["rule"], f["module"])
        for f in json.loads(result.stdout)["findings"]
    ]


def test_source_module_resolves_against_a_built_base_module(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    alone = _check(tree)
    assert ("mod2.c", 17, "unresolved-symbol", "mod2") in alone
    stacked = _check(tree, SEEDS / "built" / "mod1.ko")
    assert stacked == [("mod2.c", 10, "extern-in-source", "mod2")]
    deps = run_kmodlint(
        "deps",
        str(tree),
        str(SEEDS / "built" / "mod1.ko"),
        "--kernel",
        "none",
        "--config",
        "none",
        "--no-cache",
    )
    assert "  modprobe mod1\n  modprobe mod2\n" in deps.stdout
    dep_lines = run_kmodlint(
        "deps",
        str(tree),
        str(SEEDS / "built" / "mod1.ko"),
        "--format",
        "modules.dep",
        "--kernel",
        "none",
        "--config",
        "none",
        "--no-cache",
    )
    assert dep_lines.returncode == 0, dep_lines.stderr
    assert sorted(dep_lines.stdout.splitlines()) == ["mod1.ko:", "mod2.ko: mod1.ko"]


def test_licence_rules_cross_the_source_binary_boundary(tmp_path: Path) -> None:
    tree = _tree(tmp_path, licence="Proprietary")
    base = tmp_path / "base"
    base.mkdir()
    # A source copy of mod1 whose export is GPL-only, beside the proprietary upper module.
    (base / "mod1.c").write_text(
        (SEEDS / "mod1.c").read_text().replace("EXPORT_SYMBOL(myadd)", "EXPORT_SYMBOL_GPL(myadd)")
    )
    (base / "Kbuild").write_text("obj-m += mod1.o\n")
    found = _check(tree, base)
    assert ("mod2.c", 17, "gpl-only-symbol", "mod2") in found


def test_same_module_as_source_and_binary_is_reported_once(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    shutil.copy(SEEDS / "built" / "mod2.ko", tmp_path / "mod2.ko")
    found = _check(tree, tmp_path / "mod2.ko", SEEDS / "built" / "mod1.ko")
    assert [f for f in found if f[2] == "duplicate-module"] != []
