"""The AST path on every supported pycparser release (pyproject: ``pycparser>=3.0,<4``).

Each release's wheel (pure Python, so importable as a zip) is put first on ``sys.path`` of a
``python -m tests.pycparser_contract`` run. Its facts for the corpus drivers whose rules read
the parse (``FAMILIES`` there) and for the AST fixtures, and the adapter's contract (typedef
seeding, error location, deep nesting), must equal the installed release's. This found that
pycparser 3.12's ``Enum`` takes a C23 underlying type: rebuilding one raised, and the type of
every enum variable was lost.

The wheels come from the package index once per machine (pip's cache, then a folder under
pytest's cache); without the index the test says so and skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every 3.x release on PyPI; a new one is added here when pyproject's range admits it.
SUPPORTED = ("3.0", "3.1", "3.11", "3.12")


def _contract(pythonpath: str | None, shared: Path) -> dict[str, Any]:
    env = dict(os.environ, KMODLINT_CONTRACT_CACHE=str(shared))
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    run = subprocess.run(
        [sys.executable, "-m", "tests.pycparser_contract"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report: dict[str, Any] = json.loads(run.stdout)
    return report


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stub kernel and cpp's outputs, made by the installed release's run and read by
    the others (cpp does not depend on pycparser; the parse is what is compared)."""
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="module")
def installed(shared: Path) -> dict[str, Any]:
    return _contract(None, shared)


@pytest.fixture(scope="module")
def wheels(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)  # none under -p no:cacheprovider
    folder = Path(cache.mkdir("pycparser-wheels")) if cache else tmp_path_factory.mktemp("whl")
    missing = [v for v in SUPPORTED if not list(folder.glob(f"pycparser-{v}-*.whl"))]
    for version in missing:  # one per pip run: pip resolves the pins of one run together
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder)]
        fetch = subprocess.run(
            [*command, f"pycparser=={version}"], capture_output=True, text=True, timeout=300
        )
        if fetch.returncode != 0:
            pytest.skip(f"cannot download pycparser {version}: {fetch.stderr[-300:]}")
    return folder


@pytest.mark.parametrize("version", SUPPORTED)
def test_release_gives_the_installed_releases_facts(
    version: str, installed: dict[str, Any], wheels: Path, shared: Path
) -> None:
    (wheel,) = wheels.glob(f"pycparser-{version}-*.whl")
    report = _contract(str(wheel), shared)
    # (3.0 calls itself "3.00" and 3.1 "3.10": the file shows which one ran)
    assert report["pycparser_file"].startswith(str(wheel))  # the wheel, not the installed one
    assert report["adapter"] == installed["adapter"]
    assert report["adapter"]["seeding_works"] and report["adapter"]["deep_parses"]
    assert report["adapter"]["error_at"] == ["e.c", "2"]
    assert sorted(report["files"]) == sorted(installed["files"])
    differing = [f for f in installed["files"] if report["files"][f] != installed["files"][f]]
    assert differing == []


def test_the_contract_sees_types_and_exports(installed: dict[str, Any]) -> None:
    """The comparison above is only as good as what the contract records."""
    files = installed["files"]
    unparsed = [name for name, facts in files.items() if not facts["ok"]]
    assert len(files) > 20 and unparsed == ["tests/fixtures/cfront/broken.c"]
    everything = json.dumps(files)
    assert "ctype='enum modosdep_state'" in everything  # the 3.12 Enum case
    assert sum(len(facts["exports"]) for facts in files.values()) > 20
    assert sum(len(facts["section_refs"]) for facts in files.values()) > 0
