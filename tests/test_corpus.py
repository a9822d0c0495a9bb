"""Every corpus case, checked exactly: a missing finding and an extra finding both fail.

Source mode runs the real CLI on the case's C files and Kbuild and compares the
(path, line, rule) multiset with the inline annotations. Binary mode runs it on
`built/*.ko` against the case's target and compares the (module, rule, key) multiset with
expect.toml, which must also hold every finding the source annotations derive for binaries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.corpus_support import (
    CORPUS,
    binary_expectations,
    built_modules,
    case_config,
    check_every_file_annotated,
    check_sources_digest,
    read_annotations,
    source_expectations,
)

CASES = sorted(
    path
    for path in CORPUS.iterdir()
    if path.is_dir() and path.name not in ("targets",) and not path.name.startswith(".")
)
BINARY_CASES = [case for case in CASES if built_modules(case)]


def _source_inputs(case: Path) -> list[Path]:
    return sorted(
        p for p in case.iterdir() if p.suffix in (".c", ".h") or p.name in ("Kbuild", "Makefile")
    )


SOURCE_CASES = [
    case
    for case in CASES
    if _source_inputs(case) and "src" in case_config(case).get("modes", ["src", "bin"])
]


def run_kmodlint(*args: str, cwd: Path | None = None, env_extra: dict | None = None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "kmodlint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def _settings_args(case: Path) -> list[str]:
    """corpus-format.md §1: no user settings, unless the case holds its own kmodlint.toml."""
    own = case / "kmodlint.toml"
    return ["--settings", str(own)] if own.is_file() else ["--isolated"]


def describe(items: Counter, messages: dict) -> str:
    lines = []
    for (module, code, key), count in sorted(items.items()):
        extra = f" — {messages[(module, code, key)]}" if (module, code, key) in messages else ""
        times = f" x{count}" if count > 1 else ""
        lines.append(f"  {module}.ko: {code} [{key}]{times}{extra}")
    return "\n".join(lines)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_annotations_are_well_formed(case: Path) -> None:
    annotations = read_annotations(case)
    check_every_file_annotated(case, annotations)


@pytest.mark.parametrize("case", BINARY_CASES, ids=[c.name for c in BINARY_CASES])
def test_binary_case(case: Path, tmp_path: Path) -> None:
    check_sources_digest(case)
    expected, tolerated = binary_expectations(case)
    config = case_config(case)
    target = (case / config["target"]).resolve() if "target" in config else None
    args = ["check", str(case / "built"), "--format", "json", "--fail-on", "never"]
    args += ["--kernel", str(target) if target else "none", *_settings_args(case)]
    result = run_kmodlint(*args, env_extra={"KMODLINT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    actual = Counter((f["module"], f["code"], f["key"]) for f in findings)
    messages = {(f["module"], f["code"], f["key"]): f["message"] for f in findings}
    want = expected + tolerated
    missing, extra = want - actual, actual - want
    report = []
    if missing:
        report.append("expected but not reported:\n" + describe(missing, messages))
    if extra:
        report.append("reported but not expected:\n" + describe(extra, messages))
    assert not report, "\n".join(report)


def test_every_binary_rule_has_a_firing_case_and_a_near_miss() -> None:
    from kmodlint.rule import all_rules

    fired: set[str] = set()
    for case in BINARY_CASES:
        expected, _ = binary_expectations(case)
        fired |= {code for (_module, code, _key) in expected}
    names = {case.name for case in CASES}
    for rule in all_rules():
        if "binary" not in rule.modes or rule.code.startswith("KM9"):
            continue
        assert rule.code in fired, f"{rule.code} {rule.name}: no corpus case fires it"
        prefix = rule.code.lower()
        near = [n for n in names if n.startswith(prefix) and "near-miss" in n]
        # A case may serve as another rule's near-miss too: case.toml near-miss = [...]
        near += [
            case.name
            for case in CASES
            if rule.name in case_config(case).get("near-miss", [])
            or rule.code in case_config(case).get("near-miss", [])
        ]
        assert near, f"{rule.code} {rule.name}: no near-miss case (corpus/{prefix}-near-miss-*)"


def run_source_case(case: Path, tmp_path: Path) -> list[dict]:
    config = case_config(case)
    target = (case / config["target"]).resolve() if "target" in config else None
    args = ["check", *map(str, _source_inputs(case)), "--format", "json", "--fail-on", "never"]
    args += ["--kernel", str(target) if target else "none"]
    args += ["--config", str(case / config["config"]) if "config" in config else "none"]
    args += _settings_args(case)
    result = run_kmodlint(*args, env_extra={"KMODLINT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.name for c in SOURCE_CASES])
def test_source_case(case: Path, tmp_path: Path) -> None:
    annotations = read_annotations(case)
    check_every_file_annotated(case, annotations)
    expected, tolerated, absent = source_expectations(case, annotations)
    findings = run_source_case(case, tmp_path)
    actual: Counter = Counter()
    messages = {}
    for finding in findings:
        path = os.path.relpath(finding["path"], case)
        entry = (path, finding["line"], finding["code"])
        actual[entry] += 1
        messages[entry] = f" {finding['rule']} — {finding['message']}"
    want = expected + tolerated
    missing, extra = want - actual, actual - want
    wrongly_found = absent & actual
    report = []
    for title, items in (
        ("expected but not reported", missing),
        ("reported but not expected", extra),
        ("todo-expect reported (turn it into expect)", wrongly_found),
    ):
        if items:
            lines = [
                f"  {path}:{line}: {code}{messages.get((path, line, code), '')}"
                for (path, line, code) in sorted(items.elements())
            ]
            report.append(f"{title}:\n" + "\n".join(lines))
    assert not report, "\n".join(report)
    if built_modules(case):
        # Derived expectations: what a non-[src] expect matched must be in binary mode too.
        binary_codes = {
            (a.target, code)
            for a in annotations
            if a.kind == "expect" and not a.src_only and a.target
            for code in a.rules
        }
        derived = Counter(
            (f["module"], f["code"], f["key"])
            for f in findings
            if ((os.path.relpath(f["path"], case), f["line"]), f["code"]) in binary_codes
        )
        in_binary, _ = binary_expectations(case)
        assert not derived - in_binary, f"derived but not in expect.toml: {derived - in_binary}"


def test_every_source_rule_has_a_firing_case_and_a_near_miss() -> None:
    from kmodlint.rule import all_rules

    fired: set[str] = set()
    for case in SOURCE_CASES:
        expected, _, _ = source_expectations(case, read_annotations(case))
        fired |= {code for (_path, _line, code) in expected}
    names = {case.name for case in CASES}
    for rule in all_rules():
        if "source" not in rule.modes or rule.code in (
            "KM902",
            "KM903",
            "KM904",
            "KM905",
            "KM906",
            "KM907",
        ):
            continue
        assert rule.code in fired, f"{rule.code} {rule.name}: no source case fires it"
        prefix = rule.code.lower()
        near = [n for n in names if n.startswith(prefix) and "near-miss" in n]
        near += [
            case.name
            for case in CASES
            if rule.name in case_config(case).get("near-miss", [])
            or rule.code in case_config(case).get("near-miss", [])
        ]
        assert near, f"{rule.code} {rule.name}: no near-miss case (corpus/{prefix}-near-miss-*)"
