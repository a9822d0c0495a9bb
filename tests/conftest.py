"""Shared fixtures, and the corpus todo-marker count so known limits cannot pile up unseen."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Python's default recursion limit, as a command-line run starts with (a test that
    deepened it must not make a 100k-deep JSON or #if overflow the C stack instead of
    raising RecursionError): for the tests of what hostile input costs."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@pytest.fixture(scope="session")
def stub_env_seed(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The stub environments one real run materialises in a cache folder (`stubenv-*`, each
    named by a hash of its contents and marked `.complete` when whole): made once per
    session instead of once per test (~2 s of writing 7,000 headers)."""
    from tests.corpus_support import CORPUS, run_kmodlint

    seed = tmp_path_factory.mktemp("stub-env-seed") / "cache"
    source = CORPUS / "km101-static-export" / "modstatic.c"
    result = run_kmodlint(
        "check", str(source), "--kernel", "none", "--config", "none", "--isolated",
        "--fail-on", "never", env_extra={"KMODLINT_CACHE_DIR": str(seed)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # none found (kmodlint names them otherwise now): every run makes its own, slower
    return sorted(p for p in seed.glob("stubenv-*") if (p / ".complete").is_file())


@pytest.fixture
def cache_dir(tmp_path: Path, stub_env_seed: list[Path]) -> Path:
    """A fresh cache folder for one test: no results, only the session's stub environment
    (linked), which a run would otherwise write there identically."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    for env in stub_env_seed:
        os.symlink(env, folder / env.name)
    return folder


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.corpus_support import CORPUS, read_annotations

    cases = [p for p in CORPUS.iterdir() if p.is_dir() and p.name != "targets"]
    todo = 0
    for case in cases:
        try:
            todo += sum(1 for a in read_annotations(case) if a.kind.startswith("todo"))
        except Exception:  # a malformed case already failed its own test
            continue
        expect_file = case / "expect.toml"
        if expect_file.exists():
            todo += expect_file.read_text().count("todo =")
    terminalreporter.write_line(f"corpus: {len(cases)} cases, {todo} todo markers")
