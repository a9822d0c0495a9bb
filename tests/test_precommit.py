"""The pre-commit hook for real: `pre-commit try-repo <this repo> kmodlint` on staged files
of a throwaway git repository. try-repo builds a virtualenv and pip-installs this repository
into it, as a user's pre-commit would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus_support import CORPUS

REPO = Path(__file__).resolve().parent.parent
GPL = CORPUS / "km203-gpl-only-symbol"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository, committed. try-repo copies a dirty tree into a fresh shadow repository
    on every call, and pre-commit would build a new virtualenv each time; a clean snapshot at
    one path is installed once."""
    if not git(REPO, "status", "--porcelain"):
        return REPO
    snapshot = tmp_path_factory.mktemp("kmodlint-snapshot")
    files = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, snapshot / name)
    git(snapshot, "init", "-q")
    git(snapshot, "add", "-A")
    git(snapshot, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "snapshot")
    return snapshot


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A committed driver tree: modgplexp exports, modprop (GPL) uses its exports."""
    shutil.copy(GPL / "modgplexp.c", tmp_path)
    shutil.copy(GPL / "modgplexp.h", tmp_path)
    text = (GPL / "modprop.c").read_text().replace('"Proprietary"', '"GPL"')
    (tmp_path / "modprop.c").write_text(text)
    (tmp_path / "Kbuild").write_text("obj-m += modgplexp.o\nobj-m += modprop.o\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "config", "user.email", "t@t")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "driver")
    return tmp_path


def try_repo(project: Path, repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home))
    # The hook must run the kmodlint pip installed in its virtualenv, not this checkout.
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "kmodlint"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def stage(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    git(project, "add", name)


def test_the_hook_refuses_bad_content_and_passes_good(
    project: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    # One bad commit, two defects in modgplexp.c: no licence any more, and an export of a
    # function made static. (Each try-repo call builds its own virtualenv: two calls only.)
    stage(project, "modgplexp.c", 'MODULE_LICENSE("GPL");', "")
    stage(project, "modgplexp.c", "int gplexp_public(", "static int gplexp_public(")
    refused = try_repo(project, hook_repo, pre_commit_home)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "kmodlint" in refused.stdout and "Failed" in refused.stdout
    assert "Kbuild:1:1: error: missing MODULE_LICENSE() in modgplexp: add" in output
    assert "modgplexp.c:11:1: error:" in output and "[KM101 static-export]" in output
    # Unchanged modprop.c now takes a GPL-only symbol from a licence-less module: reported,
    # because the finding names the changed module's export.
    assert "modprop.c:10:10: error:" in output and "[KM204 proprietary-import]" in output

    git(project, "checkout", "HEAD", "--", "modgplexp.c")  # back to the committed file
    stage(project, "modprop.c", "return 0;", "return a + b > 0 ? 0 : 0;")
    passed = try_repo(project, hook_repo, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "kmodlint" in passed.stdout and "Passed" in passed.stdout
