"""The settings file: discovery, keys, validation, and the command line on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmodlint import cli
from tests.corpus_support import CORPUS
from tests.test_corpus import run_kmodlint
from tests.tree_support import NO_DESCRIPTION, STATIC_EXPORT, check, copy_case, findings

STATIC = ("modstatic.c", 16, "KM101")
NODESC = ("Kbuild", 1, "KM205")


def two_modules(root: Path) -> Path:
    """root/drv/a: a static export (error), root/drv/b: a missing description (warning)."""
    copy_case(STATIC_EXPORT, root / "drv" / "a")
    copy_case(NO_DESCRIPTION, root / "drv" / "b")
    return root / "drv"


def test_without_settings_both_findings_are_reported(tmp_path: Path) -> None:
    assert findings(str(two_modules(tmp_path))) == [NODESC, STATIC]


def test_closest_settings_file_wins_without_merging(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    (tmp_path / "kmodlint.toml").write_text('ignore = ["missing-description"]\n')
    assert findings(str(drv / "a"), str(drv / "b")) == [STATIC]
    # A closer pyproject.toml with [tool.kmodlint] replaces it entirely (no merge).
    (drv / "pyproject.toml").write_text('[tool.kmodlint]\nignore = ["KM1"]\n')
    assert findings(str(drv)) == [NODESC]
    # A pyproject.toml without [tool.kmodlint] is not a settings file.
    (drv / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert findings(str(drv)) == [STATIC]
    (drv / ".kmodlint.toml").write_text('select = ["KM2"]\n')
    assert findings(str(drv)) == [NODESC]


def test_isolated_and_explicit_settings(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    (drv / "kmodlint.toml").write_text('ignore = ["KM101", "KM205"]\n')
    assert findings(str(drv)) == []
    assert findings(str(drv), "--isolated") == [NODESC, STATIC]
    other = tmp_path / "elsewhere.toml"
    other.write_text('extend-ignore = ["static-export"]\n')
    assert findings(str(drv), "--settings", str(other)) == [NODESC]


def test_command_line_beats_the_file(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    (drv / "kmodlint.toml").write_text('ignore = ["static-export"]\nfail-on = "error"\n')
    assert findings(str(drv)) == [NODESC]
    assert findings(str(drv), "--select", "static-export") == [STATIC]
    assert findings(str(drv), "--extend-ignore", "KM205") == []
    # fail-on = "error" in the file: a warning alone passes, --fail-on warning fails it.
    assert check(str(drv)).returncode == 0
    assert check(str(drv), "--fail-on", "warning").returncode == 1


def test_per_file_and_per_module_ignores(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    settings = drv / "kmodlint.toml"
    settings.write_text('[per-file-ignores]\n"a/*.c" = ["static-export"]\n')
    assert findings(str(drv)) == [NODESC]
    settings.write_text('[per-file-ignores]\n"b/*.c" = ["static-export"]\n')
    assert findings(str(drv)) == [NODESC, STATIC]  # the glob is relative to the file
    settings.write_text('[per-module-ignores]\n"modno*" = ["KM205"]\n"modstatic" = ["KM1"]\n')
    assert findings(str(drv)) == []


def test_severity_override_changes_the_exit_status(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    assert check(str(drv)).returncode == 1
    (drv / "kmodlint.toml").write_text('[severity]\nstatic-export = "info"\n')
    result = check(str(drv), "--format", "json")
    assert result.returncode == 0, result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["severity"]) == ("KM101", "info")
    assert check(str(drv), "--fail-on", "info").returncode == 1


def test_exclude_prunes_discovery(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    (drv / "kmodlint.toml").write_text('exclude = ["b"]\n')
    assert findings(str(drv)) == [STATIC]
    (drv / "kmodlint.toml").write_text('exclude = ["a/*.c"]\n')
    assert findings(str(drv)) == [NODESC]


def test_show_settings_resolves_paths_against_the_file(tmp_path: Path) -> None:
    drv = two_modules(tmp_path)
    (drv / "kmodlint.toml").write_text(
        'kernel = "k/Module.symvers"\nextend-select = ["unused-suppression"]\n'
        '[severity]\nKM205 = "info"\n'
    )
    result = run_kmodlint("check", str(drv), "--show-settings")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"# settings file: {drv / 'kmodlint.toml'}" in out
    assert f'kernel = "{drv / "k" / "Module.symvers"}"' in out
    assert '"KM950 unused-suppression"' in out
    assert 'severity.KM205 = "info"' in out
    # --kernel on the command line wins; the default selection leaves KM950 out.
    out = check(str(drv), "--show-settings", "--isolated").stdout
    assert 'kernel = "none"' in out and "KM950" not in out


def test_mistakes_are_usage_errors_with_a_suggestion(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    settings = drv / "kmodlint.toml"
    cases = {
        'extend-ignor = ["KM101"]\n': "unknown key 'extend-ignor' (did you mean extend-ignore?)",
        'select = ["static-exports"]\n': "did you mean static-export?",
        '[per-file-ignores]\n"*.c" = ["KM1O1"]\n': "unknown rule selector 'KM1O1'",
        '[severity]\nKM101 = "eror"\n': "'eror' is not one of error, warning, info (did you",
        'fail-on = "warnings"\n': "'fail-on': 'warnings' is not one of",
        "select = 'KM101'\n": "'select' must be a list of strings",
        "select = [\n": "invalid TOML",
    }
    for text, message in cases.items():
        settings.write_text(text)
        result = check(str(drv))
        assert result.returncode == 2, text
        assert str(settings) in result.stderr, result.stderr
        assert message in result.stderr, result.stderr
    settings.unlink()
    result = check(str(drv), "--extend-select", "unused-supression")
    assert result.returncode == 2
    assert "did you mean unused-suppression?" in result.stderr


def test_per_module_ignores_reach_binaries(tmp_path: Path) -> None:
    built = CORPUS / "km301-unresolved-symbol" / "built"
    settings = tmp_path / "settings.toml"
    settings.write_text('[per-module-ignores]\n"mod*2" = ["unresolved-symbol"]\n')
    target = ["--kernel", str(CORPUS / "targets" / "deb-6.1.0-56")]  # the last --kernel wins
    before = findings(str(built), "--isolated", *target)
    assert ("mod2.ko", None, "KM301") in before
    after = findings(str(built), "--settings", str(settings), *target)
    assert after == [f for f in before if f != ("mod2.ko", None, "KM301")]


def test_selection_layers_and_specificity() -> None:
    from kmodlint.settings import Layer, Settings

    def km9(settings: Settings) -> list[str]:
        return sorted(c for c in settings.selected() if c.startswith("KM9"))

    assert "KM950" not in Settings().selected()  # opt-in
    assert "KM950" in Settings(file_layer=Layer(select=["ALL"])).selected()
    # Within a layer the longest selector wins: KM950 beats the KM9 prefix.
    assert km9(Settings(file_layer=Layer(ignore=["KM9"], extend_select=["KM950"]))) == ["KM950"]
    # The command line's layer applies on top of the file's.
    layered = Settings(file_layer=Layer(ignore=["static-export"]), cli_layer=Layer(select=["KM1"]))
    assert sorted(layered.selected()) == ["KM101", "KM102", "KM103", "KM104"]


def test_each_path_follows_its_closest_settings_file_whatever_the_order(
    tmp_path: Path, capsys
) -> None:
    """ruff's model (issue 10): `check a b` == `check b a`, a's file governs a's findings and
    b's file b's; pre-commit's file order must not decide the answer."""

    from kmodlint.cli import main

    source = CORPUS / "km205-missing-description"
    for folder, module in (("a", "modnodesc"), ("b", "modnodescb")):
        target = tmp_path / folder
        target.mkdir()
        text = (source / "modnodesc.c").read_text().replace("modnodesc", module)
        (target / f"{module}.c").write_text(text)
        (target / "Kbuild").write_text((source / "Kbuild").read_text().replace("modnodesc", module))
    (tmp_path / "a" / "kmodlint.toml").write_text('ignore = ["missing-description"]\n')
    (tmp_path / "b" / "kmodlint.toml").write_text('[severity]\nmissing-description = "error"\n')

    def run(*paths: str) -> list[tuple[str, str, str]]:
        code = main(
            [
                "check",
                *paths,
                "--format",
                "json",
                "--kernel",
                "none",
                "--config",
                "none",
                "--no-cache",
                "-q",
                "--fail-on",
                "never",
            ]
        )
        assert code == 0
        found = json.loads(capsys.readouterr().out)["findings"]
        return sorted((Path(f["path"]).parent.name, f["code"], f["severity"]) for f in found)

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert run(a, b) == run(b, a) == [("b", "KM205", "error")]


GOOD_C = """\
#include <linux/module.h>
static int __init good_init(void) { return 0; }
module_init(good_init);
MODULE_LICENSE("GPL");
"""
QUICK = ("--kernel", "none", "--config", "none", "--no-ast", "--no-cache")


def _tree(root: Path) -> Path:
    tree = root / "proj" / "drv"
    tree.mkdir(parents=True)
    (tree / "good.c").write_text(GOOD_C)
    return tree


def test_empty_selectors_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`select = [""]` and `--select ''` named no rule and silently ran none (or the
    default set): one line, exit 2, before any analysis."""
    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(tmp_path / "cache"))
    tree = _tree(tmp_path)
    toml = tree / "kmodlint.toml"
    hint = "give rule codes (KM301), prefixes (KM3), names (unresolved-symbol) or ALL"
    for text, key in (
        ('select = [""]\n', "select"),
        ('ignore = ["KM1", " "]\n', "ignore"),
        ('[per-file-ignores]\n"*.c" = [""]\n', "per-file-ignores.*.c"),
    ):
        toml.write_text(text)
        assert cli.main(["check", str(tree), *QUICK]) == 2
        err = capsys.readouterr().err
        assert err.splitlines() == [
            f"kmodlint: error: {toml}: '{key}': an empty rule selector names no rule ({hint})"
        ]
    toml.unlink()
    for option, value in (
        ("--select", ""),
        ("--select", " , "),
        ("--ignore", ""),
        ("--extend-select", ","),
        ("--extend-ignore", ""),
    ):
        assert cli.main(["check", str(tree), *QUICK, option, value]) == 2
        err = capsys.readouterr().err
        assert err.splitlines() == [f"kmodlint: error: {option} '{value}' names no rule ({hint})"]
    # a real selector still works, and a stray comma in a list is tolerated
    assert cli.main(["check", str(tree), *QUICK, "--select", "KM601,", "--isolated"]) == 1
    assert "no-module-exit" in capsys.readouterr().out


def test_the_first_note_names_the_settings_file_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(tmp_path / "cache"))
    tree = _tree(tmp_path)
    parent = tmp_path / "proj"
    toml = parent / "kmodlint.toml"  # a parent folder's file applies: it must be said
    toml.write_text('ignore = ["KM205"]\n')
    parent.chmod(0o755)
    assert cli.main(["check", str(tree), *QUICK]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"kmodlint: settings from {toml}"
    # a closer file governing some of the paths is named too
    (tree / "sub").mkdir()
    closer = tree / "sub" / ".kmodlint.toml"
    closer.write_text('ignore = ["KM601"]\n')
    (tree / "sub" / "other.c").write_text(GOOD_C.replace("good_init", "other_init"))
    assert cli.main(["check", str(tree), str(tree / "sub"), *QUICK]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"kmodlint: settings from {toml}; for files under {tree / 'sub'}: {closer}")
    closer.unlink()
    # one that others can change says so: the file itself, or its folder (no sticky bit)
    for file_mode, folder_mode in ((0o646, 0o755), (0o644, 0o777)):
        toml.chmod(file_mode)
        parent.chmod(folder_mode)
        assert cli.main(["check", str(tree), *QUICK]) == 1
        assert capsys.readouterr().err.splitlines()[0] == (
            f"kmodlint: settings from {toml} (writable by others: anyone on this machine "
            "can change what is checked)"
        )
    parent.chmod(0o1777)  # sticky, as /tmp: others cannot replace the file
    toml.chmod(0o644)
    assert cli.main(["check", str(tree), *QUICK]) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"kmodlint: settings from {toml}"
    parent.chmod(0o755)
    # --isolated, or -q: no such note
    assert cli.main(["check", str(tree), *QUICK, "--isolated"]) == 1
    assert "settings from" not in capsys.readouterr().err
    assert cli.main(["check", str(tree), *QUICK, "-q"]) == 1
    assert capsys.readouterr().err == ""
    # --show-settings names it as its first line
    assert cli.main(["check", str(tree), "--show-settings"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"# settings file: {toml}"


def test_a_usage_error_quoting_the_input_escapes_its_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _tree(tmp_path)
    (tree / "kmodlint.toml").write_text('"\\u001b[2J\\nfake" = 1\n')
    assert cli.main(["check", str(tree), *QUICK]) == 2
    err = capsys.readouterr().err
    assert err == (f"kmodlint: error: {tree / 'kmodlint.toml'}: unknown key '\\x1b[2J\\x0afake'\n")
