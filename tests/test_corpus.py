"""Every corpus case, checked exactly: a missing finding and an extra finding both fail.

Binary mode runs the real CLI on `built/*.ko` against the case's target and compares the
(module, rule, key) multiset with expect.toml. Source-mode expectations (the C annotations)
are parsed and validated here; comparing them needs the C front end.
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
)

CASES = sorted(
    path
    for path in CORPUS.iterdir()
    if path.is_dir() and path.name not in ("targets",) and not path.name.startswith(".")
)
BINARY_CASES = [case for case in CASES if built_modules(case)]


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
    args += ["--kernel", str(target) if target else "none"]
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
