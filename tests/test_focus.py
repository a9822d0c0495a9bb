"""`check --focus`: findings about the given files, with their whole project as context."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kmodlint.focus import plan_focus, project_root
from tests.corpus_support import CORPUS, run_kmodlint

GPL = CORPUS / "km203-gpl-only-symbol"
NOLICENSE = CORPUS / "km201-missing-license" / "modnolicense.c"
OPTIONS = ("--kernel", "none", "--config", "none", "--no-ast", "-q")


def make_tree(root: Path) -> Path:
    """drv/: modgplexp (GPL-only export) at the top; sub/: modprop (Proprietary, uses it)
    and modnolicense, reached through the top Kbuild's `obj-m += sub/`."""
    drv = root / "drv"
    (drv / "sub").mkdir(parents=True)
    shutil.copy(GPL / "modgplexp.c", drv)
    shutil.copy(GPL / "modgplexp.h", drv)
    text = (GPL / "modprop.c").read_text().replace('"modgplexp.h"', '"../modgplexp.h"')
    (drv / "sub" / "modprop.c").write_text(text)
    shutil.copy(NOLICENSE, drv / "sub")
    (drv / "Kbuild").write_text("obj-m += modgplexp.o\nobj-m += sub/\n")
    (drv / "sub" / "Kbuild").write_text("obj-m += modprop.o\nobj-m += modnolicense.o\n")
    return drv


def codes(cwd: Path, *paths: str) -> tuple[int, list[tuple[str, str]]]:
    """(exit status, [(path, code)]) of `check --focus PATHS` run in `cwd`."""
    result = run_kmodlint("check", "--focus", *OPTIONS, *paths, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    found = []
    for line in result.stdout.splitlines()[:-1]:
        path = line.split(":", 1)[0]
        found.append((path, line.rsplit("[", 1)[1].split()[0]))
    return result.returncode, sorted(found)


def test_a_module_level_finding_of_the_changed_module_only(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    status, found = codes(drv, "sub/modnolicense.c")
    assert status == 1
    assert found == [("sub/Kbuild", "KM201")]  # not modprop's gpl-only-symbol


def test_a_changed_exporter_reports_the_unchanged_importer_it_breaks(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    # modgplexp.c exports gplexp_secret with EXPORT_SYMBOL_GPL; sub/modprop.c (unchanged,
    # Proprietary) uses it. The finding is in modprop.c but names modgplexp's symbol.
    assert codes(drv, "modgplexp.c") == (1, [("sub/modprop.c", "KM203")])
    assert codes(drv, "modgplexp.h") == (1, [("sub/modprop.c", "KM203")])  # included by it
    assert codes(drv, "sub/modprop.c") == (1, [("sub/modprop.c", "KM203")])


def test_the_answer_does_not_depend_on_how_the_list_is_split(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    _, together = codes(drv, "modgplexp.c", "sub/modnolicense.c")
    _, first = codes(drv, "modgplexp.c")
    _, second = codes(drv, "sub/modnolicense.c")
    assert together == sorted(first + second)
    # A Kbuild regroups the modules below it: all of them are in focus.
    _, kbuild = codes(drv, "sub/Kbuild")
    assert kbuild == together


def test_paths_are_shown_as_given(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    assert codes(tmp_path, "drv/sub/modnolicense.c")[1] == [("drv/sub/Kbuild", "KM201")]
    absolute = str(drv / "sub" / "modnolicense.c")
    assert codes(tmp_path, absolute)[1] == [(str(drv / "sub" / "Kbuild"), "KM201")]


def test_files_kmodlint_does_not_read_are_skipped_quietly(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    (drv / "README").write_text("not a module\n")
    (drv / "Module.symvers").write_text("")
    assert codes(drv, "README", "Module.symvers") == (0, [])
    # Without --focus the same path typed by hand is reported (unknown-input).
    plain = run_kmodlint("check", *OPTIONS, "README", cwd=drv)
    assert "KM9" in plain.stdout


def test_a_kmodlint_config_marks_the_project_root(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    (drv / "sub" / ".kmodlint.toml").write_text("")
    assert project_root(str(drv / "sub")) == str(drv / "sub")
    # modgplexp is outside that project now: gplexp_secret is nobody's in the set.
    assert codes(drv, "sub/modprop.c") == (0, [])


def test_project_root_climbs_the_kbuild_chain_only(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    (drv / "include").mkdir()
    assert project_root(str(drv / "sub")) == str(drv)
    assert project_root(str(drv / "include")) == str(drv)  # nearest Kbuild folder, then up
    lone = tmp_path / "lone"
    lone.mkdir()
    assert project_root(str(lone)) == str(lone)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_in_git_ignored_build_output_is_not_context(tmp_path: Path) -> None:
    drv = make_tree(tmp_path)
    built = GPL / "built"
    shutil.copy(built / "modprop.ko", drv / "sub")  # what `make` leaves beside the sources
    (tmp_path / ".gitignore").write_text("*.ko\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert project_root(str(drv / "sub")) == str(drv)
    focus = plan_focus([str(drv / "sub" / "modprop.c")])
    assert not any(path.endswith(".ko") for path in focus.context)
    # No duplicate-module between sub/modprop.ko and the modprop built from sources.
    assert codes(drv, "sub/modprop.c") == (1, [("sub/modprop.c", "KM203")])


def test_binaries_a_changed_ko_and_the_module_it_breaks(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    mods.mkdir()
    for ko in (GPL / "built").glob("*.ko"):
        shutil.copy(ko, mods)
    target = str(CORPUS / "targets" / "deb-6.1.0-56")
    result = run_kmodlint("check", "--focus", "--kernel", target, "modgplexp.ko", cwd=mods)
    assert result.returncode == 1, result.stderr
    assert "kmodlint: focus: 1 path(s); context: the whole project at ." in result.stderr
    # modprop.ko uses modgplexp's GPL-only gplexp_secret: named, so reported; its use of the
    # kernel's GPL-only ktime_get has nothing to do with modgplexp.ko: left out.
    lines = result.stdout.splitlines()[:-1]
    assert len(lines) == 1, result.stdout
    path, rest = lines[0].split(": ", 1)
    assert os.path.normpath(path) == "modprop.ko" and rest.startswith("error:")  # walked from .
    assert "gplexp_secret" in lines[0] and "[KM203 gpl-only-symbol]" in lines[0]


def test_excluded_files_are_neither_focus_nor_context(tmp_path: Path) -> None:
    """`exclude` in the settings applies to the files pre-commit names (--force-exclude)."""
    drv = make_tree(tmp_path)
    (drv / "kmodlint.toml").write_text('exclude = ["sub/modnolicense.c"]\n')
    assert codes(drv, "sub/modnolicense.c") == (0, [])
    # still reported when the exclusion is lifted
    (drv / "kmodlint.toml").write_text("exclude = []\n")
    assert codes(drv, "sub/modnolicense.c") == (1, [("sub/Kbuild", "KM201")])
