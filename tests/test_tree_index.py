"""`check --focus` inside a kernel source tree: the context comes from the tree's index (the
focus module, the modules using its exports, those exporting what it uses), the findings
about the focus are those of a whole-tree run, and a second run re-reads only what changed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from kmodlint.focus import plan_focus
from kmodlint.tree_index import (
    GroupSettings,
    TreeIndex,
    context_for,
    kernel_tree_top,
    open_index,
)
from tests.corpus_support import CORPUS, run_kmodlint

GPL = CORPUS / "km203-gpl-only-symbol"
NOLICENSE = CORPUS / "km201-missing-license" / "modnolicense.c"
CYCLE = CORPUS / "km302-dependency-cycle"
CONFIG = (
    "CONFIG_MODULES=y\nCONFIG_GPLEXP=m\nCONFIG_USERS=m\nCONFIG_CYCLE=m\n# CONFIG_OFF is not set\n"
)
OPTIONS = ("--kernel", "none", "--no-ast", "--fail-on", "never", "--format", "json")
OLD = time.time() - 3600  # files written by the test are made old: see _RACY_NS


def make_kernel_tree(root: Path) -> Path:
    """linux/: a top Makefile (VERSION, PATCHLEVEL), Kbuild and arch/, and drivers/ with
    gplexp/ (modgplexp: exports gplexp_public and, GPL-only, gplexp_secret), users/
    (modprop: Proprietary, uses both; modnolicense: no MODULE_LICENSE), cycle/ (modcyca
    and modcycb use each other's exports), off/ (a module the configuration leaves out)."""
    tree = root / "linux"
    drivers = tree / "drivers"
    for folder in ("arch/x86", "drivers/gplexp", "drivers/users", "drivers/cycle", "drivers/off"):
        (tree / folder).mkdir(parents=True)
    (tree / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
    (tree / "Kbuild").write_text("obj-y += drivers/\n")
    (tree / "arch" / "x86" / "Makefile").write_text("# nothing\n")
    (drivers / "Makefile").write_text(
        "obj-$(CONFIG_GPLEXP) += gplexp/\nobj-$(CONFIG_USERS) += users/\n"
        "obj-$(CONFIG_CYCLE) += cycle/\nobj-$(CONFIG_OFF) += off/\n"
    )
    shutil.copy(GPL / "modgplexp.c", drivers / "gplexp")
    shutil.copy(GPL / "modgplexp.h", drivers / "gplexp")
    (drivers / "gplexp" / "Makefile").write_text("obj-$(CONFIG_GPLEXP) += modgplexp.o\n")
    text = (GPL / "modprop.c").read_text().replace('"modgplexp.h"', '"../gplexp/modgplexp.h"')
    (drivers / "users" / "modprop.c").write_text(text)
    shutil.copy(NOLICENSE, drivers / "users")
    (drivers / "users" / "Makefile").write_text("obj-m += modprop.o\nobj-m += modnolicense.o\n")
    for name in ("modcyca.c", "modcyca.h", "modcycb.c", "modcycb.h"):
        shutil.copy(CYCLE / name, drivers / "cycle")
    (drivers / "cycle" / "Makefile").write_text("obj-m += modcyca.o modcycb.o\n")
    shutil.copy(NOLICENSE, drivers / "off" / "modoff.c")
    (drivers / "off" / "Makefile").write_text("obj-$(CONFIG_OFF) += modoff.o\n")
    (root / "config").write_text(CONFIG)
    age(tree)
    return tree


def age(tree: Path) -> None:
    for folder, _, names in os.walk(tree):
        for name in names:
            os.utime(os.path.join(folder, name), (OLD, OLD))


def settings(root: Path) -> GroupSettings:
    from kmodlint.loading import choose_config

    config, _ = choose_config(str(root / "config"))
    return GroupSettings(config, {}, None, None)


def run(cwd: Path, cache: Path, *args: str) -> tuple[list[tuple[str, int | None, str]], str]:
    result = run_kmodlint(
        "check", *OPTIONS, "--config", "../config", *args, cwd=cwd,
        env_extra={"KMODLINT_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = sorted((f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"])
    return found, result.stderr


def focus_note(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if "focus:" in line)


def whole_tree_about(cwd: Path, cache: Path, focus: str) -> list[tuple[str, int | None, str]]:
    """A whole-tree run's findings, kept as `--focus` keeps them (Focus.select), in the
    same process so the selection sees the same module set."""
    from kmodlint import settings as settings_module
    from kmodlint.engine import run_rules
    from kmodlint.focus import Focus
    from kmodlint.loading import load_set
    from kmodlint.settings import Layer

    os.chdir(cwd)
    options = settings_module.resolve(["."], None, True, Layer(), "none", "../config", "never")
    loaded = load_set(["."], "none", 1, True, str(cache), "../config", use_ast=False)
    findings = run_rules(loaded.module_set, options.all_selected(), None)
    chosen = Focus(files={os.path.realpath(focus)})
    kept = chosen.select(findings, loaded.module_set)
    return sorted((f.path, f.line, f.code) for f in kept)


def test_kernel_tree_top_needs_the_version_lines(tmp_path: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    assert kernel_tree_top(str(tree / "drivers" / "users" / "modprop.c")) == str(tree)
    (tree / "Makefile").write_text("all:\n\t$(MAKE) -C /lib/modules/x/build M=$(PWD)\n")
    # Kbuild + Makefile + arch/ alone: a driver repository, the whole of it is the project
    assert kernel_tree_top(str(tree / "drivers" / "users" / "modprop.c")) is None
    plan = plan_focus([str(tree / "drivers" / "users" / "modprop.c")], "none", "none")
    assert not plan.trees and plan.roots == [str(tree)]


def test_the_context_is_the_module_its_users_and_its_providers(tmp_path: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    index = open_index(str(tree), settings(tmp_path), None)
    assert index.built and not index.files.keys() & {"drivers/off/modoff.c"}

    def names(path: str) -> list[str]:
        return sorted(m.name for m in context_for(index, [path], []).modules)

    # an exporter: its user (modprop), not the unrelated modnolicense nor the cycle
    assert names("drivers/gplexp/modgplexp.c") == ["modgplexp", "modprop"]
    # an importer: its provider
    assert names("drivers/users/modprop.c") == ["modgplexp", "modprop"]
    assert names("drivers/users/modnolicense.c") == ["modnolicense"]
    # a header: the modules whose .c files include it
    assert names("drivers/gplexp/modgplexp.h") == ["modgplexp", "modprop"]
    assert names("drivers/cycle/modcyca.c") == ["modcyca", "modcycb"]
    assert names("drivers/users/Makefile") == ["modgplexp", "modnolicense", "modprop"]
    assert names("drivers/off/modoff.c") == []  # not built by this configuration


def test_a_file_of_no_module_has_nothing_to_report(tmp_path: Path, cache_dir: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    found, stderr = run(tree, cache_dir, "--focus", "drivers/off/modoff.c")
    assert found == []  # modoff.c has no MODULE_LICENSE, but this configuration builds none
    assert "0 module(s)" in focus_note(stderr) and "part of no module" in focus_note(stderr)


@pytest.mark.parametrize(
    "focus",
    [
        "drivers/gplexp/modgplexp.c",
        "drivers/users/modprop.c",
        "drivers/users/modnolicense.c",
        "drivers/cycle/modcycb.c",
        "drivers/users/Makefile",
    ],
)
def test_findings_are_those_of_a_whole_tree_run(
    tmp_path: Path, cache_dir: Path, focus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = make_kernel_tree(tmp_path)
    found, stderr = run(tree, cache_dir, "--focus", focus)
    monkeypatch.chdir(tree)
    expected = whole_tree_about(tree, cache_dir, focus)
    assert found == expected
    assert found  # each focus has something to say: the comparison is not of two empties
    assert "of the kernel tree at ." in focus_note(stderr)


def test_a_second_run_rereads_only_the_changed_file(tmp_path: Path, cache_dir: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    focus = "drivers/users/modprop.c"
    first, stderr = run(tree, cache_dir, "--focus", focus)
    assert (
        "2 module(s)" in focus_note(stderr) and "built now: 8 file(s) read" in stderr
    )  # 5 .c, 3 .h
    again, stderr = run(tree, cache_dir, "--focus", focus)
    assert again == first and "updated: 0 file(s) re-read" in focus_note(stderr)
    # modprop stops using the GPL-only symbol: only modprop.c is read again
    source = tree / "drivers" / "users" / "modprop.c"
    source.write_text(source.read_text().replace("gplexp_secret(2)", "gplexp_public(2)"))
    changed, stderr = run(tree, cache_dir, "--focus", focus)
    assert "updated: 1 file(s) re-read" in focus_note(stderr)
    assert [f for f in first if f not in changed] == [("drivers/users/modprop.c", 10, "KM203")]


def test_a_new_export_finds_the_unchanged_files_that_already_use_it(tmp_path: Path) -> None:
    from kmodlint.cache import Cache

    tree = make_kernel_tree(tmp_path)
    users = tree / "drivers" / "users"
    (users / "modprop.c").write_text(
        (users / "modprop.c").read_text().replace("gplexp_public(1)", "gplexp_new(1)")
    )
    age(tree)
    cache = Cache(tmp_path / "cache")
    index = open_index(str(tree), settings(tmp_path), cache)
    assert "gplexp_new" not in index.files["drivers/users/modprop.c"].mentions
    exporter = tree / "drivers" / "gplexp" / "modgplexp.c"
    exporter.write_text(
        exporter.read_text().replace("EXPORT_SYMBOL(gplexp_public);", "EXPORT_SYMBOL(gplexp_new);")
    )
    os.utime(exporter, (OLD + 10, OLD + 10))
    # a new run (the identifier CRCs come from the cache): modgplexp.c is read again, and
    # modprop.c, whose identifiers hold the new name; no other file
    index = open_index(str(tree), settings(tmp_path), Cache(tmp_path / "cache"))
    assert not index.built and index.read == 2
    assert "gplexp_new" in index.files["drivers/users/modprop.c"].mentions
    graph = index.graph
    assert graph is not None and "gplexp_new" in graph.exports[_key(index, "modgplexp")]


def _key(index: TreeIndex, name: str) -> str:
    from kmodlint.tree_index import module_key

    return next(module_key(m) for m in index.grouping.modules if m.name == name)


def test_a_focus_in_and_out_of_the_tree_at_once(tmp_path: Path, cache_dir: Path) -> None:
    """A driver repository beside the tree keeps its whole-project context; the tree's
    files get theirs from the index, in the same run."""
    tree = make_kernel_tree(tmp_path)
    driver = tmp_path / "driver"
    driver.mkdir()
    shutil.copy(NOLICENSE, driver / "moddriver.c")
    (driver / "Kbuild").write_text("obj-m += moddriver.o\n")
    both, stderr = run(
        tree, cache_dir, "--focus", "drivers/users/modprop.c", "../driver/moddriver.c"
    )
    tree_only, _ = run(tree, cache_dir, "--focus", "drivers/users/modprop.c")
    driver_only, _ = run(tree, cache_dir, "--focus", "../driver/moddriver.c")
    assert both == sorted(tree_only + driver_only)
    assert ("../driver/Kbuild", 1, "KM201") in driver_only
    note = focus_note(stderr)
    assert "the whole project at ../driver" in note and "of the kernel tree at ." in note


def test_without_a_cache_the_index_is_built_for_the_run(tmp_path: Path, cache_dir: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    focus = "drivers/gplexp/modgplexp.c"
    cached, _ = run(tree, cache_dir, "--focus", focus)
    for _ in range(2):  # nothing is kept: each run builds it again
        uncached, stderr = run(tree, cache_dir, "--no-cache", "--focus", focus)
        assert uncached == cached and "built now: 8 file(s) read" in focus_note(stderr)


def test_the_answer_does_not_depend_on_how_the_list_is_split(
    tmp_path: Path, cache_dir: Path
) -> None:
    tree = make_kernel_tree(tmp_path)
    files = (
        "drivers/gplexp/modgplexp.c",
        "drivers/users/modnolicense.c",
        "drivers/cycle/modcyca.c",
    )
    together, stderr = run(tree, cache_dir, "--focus", *files)
    apart = sorted(f for name in files for f in run(tree, cache_dir, "--focus", name)[0])
    assert together == sorted(set(apart))
    assert "5 module(s) of the kernel tree at . (3 in focus)" in focus_note(stderr)


def test_a_header_focus_and_a_lost_records_entry(tmp_path: Path, cache_dir: Path) -> None:
    from kmodlint.cache import Cache

    tree = make_kernel_tree(tmp_path)
    header = "drivers/gplexp/modgplexp.h"
    first, _ = run(tree, cache_dir, "--focus", header)
    assert ("drivers/users/modprop.c", 10, "KM203") in first  # modprop includes it
    # a warm run reads the file records only for what needs them (a header's includers)
    again, stderr = run(tree, cache_dir, "--focus", header)
    assert again == first and "updated: 0 file(s) re-read" in focus_note(stderr)
    # the records' cache entry evicted: the index is built again, with the same answer
    cache = Cache(cache_dir)
    key = cache.key(os.path.realpath(tree), salt=f"tree-files:{settings(tmp_path).digest}")
    assert key is not None
    cache._file(key).unlink()
    rebuilt, stderr = run(tree, cache_dir, "--focus", header)
    assert rebuilt == first and "built now: 8 file(s) read" in focus_note(stderr)


def test_a_changed_kbuild_regroups_the_tree(tmp_path: Path, cache_dir: Path) -> None:
    tree = make_kernel_tree(tmp_path)
    focus = "drivers/users/modnolicense.c"
    first, _ = run(tree, cache_dir, "--focus", focus)
    assert first == [("drivers/users/Makefile", 2, "KM201")]
    # modnolicense is no longer built: nothing to say about it, and the Kbuild was reread
    (tree / "drivers" / "users" / "Makefile").write_text("obj-m += modprop.o\n")
    found, stderr = run(tree, cache_dir, "--focus", focus)
    assert found == [] and "Kbuild regrouped" in focus_note(stderr)
    assert "part of no module" in focus_note(stderr)


def test_in_a_symlink_farm_of_the_tree_each_module_is_read_once(
    tmp_path: Path, cache_dir: Path
) -> None:
    """`cp -rs`/`lndir` make a tree of real folders whose files link into the original:
    those files belong to the farm's tree. Resolving them into the original made each
    context file a path outside the focus tree, so its module was grouped and analysed
    a second time (e1000e's 11 files read as 22), and here its findings were lost."""
    original = make_kernel_tree(tmp_path / "original")
    farm = tmp_path / "farm" / "linux"
    for folder, _, names in os.walk(original):
        target = farm / os.path.relpath(folder, original)
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            (target / name).symlink_to(os.path.join(folder, name))
    shutil.copy(tmp_path / "original" / "config", tmp_path / "farm" / "config")
    focus = "drivers/users/modprop.c"
    in_original, _ = run(original, cache_dir, "--focus", focus)
    in_farm, _ = run(farm, cache_dir, "--focus", focus)
    assert in_farm == in_original and in_farm
    with_ast = [o for o in OPTIONS if o != "--no-ast"]
    result = run_kmodlint(
        "check", *with_ast, "--config", "../config", "--focus", focus, cwd=farm,
        env_extra={"KMODLINT_CACHE_DIR": str(cache_dir)},
    )  # fmt: skip
    assert "2 module(s)" in focus_note(result.stderr)
    # modprop.c and modgplexp.c (the two modules' files), each read once
    assert "2 of 2 C file(s) analysed with a full syntax tree" in result.stderr
