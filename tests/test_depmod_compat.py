"""`kmodlint deps --format modules.dep` against real depmod output on a tree of corpus modules.

tests/fixtures/depmod/make_expected.sh wrote the references with kmod v30's depmod: one tree
with a modules.order listing every other module, one without (depmod's hash order).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kmodlint.depmod import hash_superfast
from tests.corpus_support import CORPUS, run_kmodlint

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "depmod"


def build_tree(root: Path, with_order: bool) -> Path:
    tree = root / "lib" / "modules" / "0.0.0-kmodlint"
    for line in (FIXTURE / "cases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        case, dest = line.split()
        target = tree / "kernel" / dest
        target.mkdir(parents=True, exist_ok=True)
        for module in sorted((CORPUS / case / "built").glob("*.ko")):
            shutil.copy(module, target / module.name)
    if with_order:
        shutil.copy(FIXTURE / "modules.order", tree / "modules.order")
    # depmod never descends into build/ or source/ of a modules tree.
    (tree / "build").mkdir()
    shutil.copy(CORPUS / "km302-dependency-cycle" / "built" / "modcyca.ko", tree / "build")
    return tree


@pytest.mark.parametrize("with_order", [True, False], ids=["modules.order", "hash-order"])
def test_modules_dep_is_byte_identical_to_depmod(tmp_path: Path, with_order: bool) -> None:
    tree = build_tree(tmp_path, with_order)
    result = run_kmodlint("deps", str(tree), "--format", "modules.dep", "--kernel", "none", "-q")
    assert result.returncode == 0, result.stderr
    reference = "modules.dep.ordered" if with_order else "modules.dep.unordered"
    assert result.stdout == (FIXTURE / reference).read_text()


def test_hash_superfast_matches_kmod_bucket_order() -> None:
    # Buckets kmod's hash gives these names (checked against depmod's line order above).
    unordered = (FIXTURE / "modules.dep.unordered").read_text().splitlines()
    names = [line.split(":")[0].rsplit("/", 1)[-1][:-3] for line in unordered]
    keys = [(hash_superfast(n.encode()) & 511, n) for n in names]
    assert keys == sorted(keys)
