"""Usage edges from a clean-clone review: every bad setting is one line and exit 2, never a
traceback or a silently ignored file; identities do not depend on how a path was typed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.corpus_support import CORPUS, run_kmodlint

OPTIONS = ("--kernel", "none", "--config", "none", "--no-ast", "-q")
_NOT_SOURCES = shutil.ignore_patterns("built", "*.toml")


def _tree(tmp_path: Path) -> Path:
    drv = tmp_path / "drv"
    shutil.copytree(CORPUS / "km101-static-export", drv, ignore=_NOT_SOURCES)
    return drv


def _usage_error(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0]


def test_broken_settings_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    drv = _tree(tmp_path)
    (tmp_path / ".kmodlint.toml").write_text('select = ["KM101"]\n')
    (drv / "pyproject.toml").write_text("[tool.kmodlint\n")
    # not skipped in favour of the settings further up
    _usage_error(run_kmodlint("check", str(drv), *OPTIONS), "pyproject.toml", "invalid TOML")
    (drv / "pyproject.toml").write_text("tool = 3\n")
    assert run_kmodlint("check", str(drv), *OPTIONS).returncode == 1  # not ours: skipped
    (drv / "pyproject.toml").unlink()
    (drv / ".kmodlint.toml").write_bytes(b"\xff\xfe select = 1\n")
    _usage_error(run_kmodlint("check", str(drv), *OPTIONS), ".kmodlint.toml", "UTF-8")


def test_contradictory_or_impossible_options(tmp_path: Path) -> None:
    drv = _tree(tmp_path)
    (tmp_path / "s.toml").write_text("")
    _usage_error(
        run_kmodlint("check", str(drv), "--isolated", "--settings", str(tmp_path / "s.toml")),
        "--isolated",
    )
    result = run_kmodlint("check", str(drv), "-j", "0", *OPTIONS)
    assert result.returncode == 2 and ">= 1" in result.stderr
    _usage_error(run_kmodlint("explain", "gpl-only"), "did you mean gpl-only-symbol?")


def test_bad_baselines_are_errors(tmp_path: Path) -> None:
    drv = _tree(tmp_path)
    base = tmp_path / "b.json"
    base.write_text(json.dumps({"version": 1, "findings": {}}))
    _usage_error(run_kmodlint("check", str(drv), "--baseline", str(base), *OPTIONS), "list")
    base.write_bytes(b"\xff\xfe{}")
    _usage_error(run_kmodlint("check", str(drv), "--baseline", str(base), *OPTIONS), "UTF-8")


def test_identity_does_not_depend_on_the_spelling_of_a_path(tmp_path: Path) -> None:
    """unparsable-source's key is the file: typed relative or absolute, one fingerprint."""
    drv = tmp_path / "drv"
    shutil.copytree(CORPUS / "km901-unparsable-source", drv, ignore=_NOT_SOURCES)
    base = tmp_path / "b.json"
    written = run_kmodlint(
        "check",
        "drv",
        "--kernel",
        "none",
        "--config",
        "none",
        "--write-baseline",
        str(base),
        cwd=tmp_path,
    )
    assert written.returncode == 0, written.stderr
    assert '"code": "KM901"' in base.read_text()
    again = run_kmodlint(
        "check",
        str(drv),
        "--kernel",
        "none",
        "--config",
        "none",
        "--baseline",
        str(base),
        "--format",
        "json",
        cwd=drv,
    )
    assert json.loads(again.stdout)["findings"] == [], again.stdout


def test_focus_on_a_missing_file_says_so(tmp_path: Path) -> None:
    drv = _tree(tmp_path)
    result = run_kmodlint("check", "--focus", "nope.c", "--kernel", "none", cwd=drv)
    assert result.returncode == 2
    assert result.stderr.strip() == "kmodlint: error: nope.c: no such file or directory"


def test_opt_in_rules_are_marked_in_the_catalogue_and_sarif() -> None:
    rules = json.loads(run_kmodlint("rules", "--format", "json").stdout)["rules"]
    opt_in = [
        "proprietary-taint",
        "out-of-tree-taint",
        "unsigned-module-taint",
        "staging-taint",
        "unused-suppression",
    ]
    assert [r["name"] for r in rules if not r["default"]] == opt_in
    sarif = run_kmodlint(
        "check",
        str(CORPUS / "km101-static-export" / "built"),
        "--kernel",
        "none",
        "--format",
        "sarif",
    )
    described = json.loads(sarif.stdout)["runs"][0]["tool"]["driver"]["rules"]
    disabled = [r["name"] for r in described if r["defaultConfiguration"].get("enabled") is False]
    assert disabled == opt_in


def test_sarif_keeps_two_findings_of_one_identity_apart() -> None:
    """The same `extern` declared in two files of one module: one baseline identity (counted),
    two code-scanning alerts."""
    from kmodlint.diagnostics import Finding, Severity
    from kmodlint.reporters.sarif import format_sarif
    from kmodlint.rule import all_rules

    def extern_in(path: str) -> Finding:
        message = "externs should be avoided in .c files: 'far_away' belongs in a header"
        return Finding(
            "KM603",
            "extern-in-source",
            Severity.WARNING,
            message,
            path,
            3,
            1,
            "mod",
            "far_away",
            "far_away",
        )

    log = json.loads(format_sarif([extern_in("one.c"), extern_in("two.c")], all_rules()))
    prints = [r["partialFingerprints"]["kmodlint/v1"] for r in log["runs"][0]["results"]]
    assert prints[1] == prints[0] + ":2"
