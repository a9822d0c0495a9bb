"""Every corpus case, checked exactly: a missing finding and an extra finding both fail.

Source mode runs the real CLI on the case's C files and Kbuild and compares the
(path, line, rule) multiset with the inline annotations. Binary mode runs it on
`built/*.ko` against the case's target and compares the (module, rule, key) multiset with
expect.toml, which must also hold every finding the source annotations derive for binaries.

Each case checks its own rules (own_rules: those its annotations and expect.toml name, the
rule of its kmNNN prefix, its case.toml near-miss rules, and the KM9xx input diagnostics):
the others are ignored, so a new rule touches its own cases only. ALL_RULES_CASES, and the
cases with their own settings, run and check every rule.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kmodlint.rule import Mode, all_rules, find_rule
from tests.corpus_support import (
    CORPUS,
    binary_expectations,
    binary_rule_codes,
    built_modules,
    case_config,
    check_every_file_annotated,
    check_sources_digest,
    read_annotations,
    rule_code,
    run_kmodlint,
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


def _settings_args(case: Path) -> list[str]:
    """corpus/README.md: no user settings, unless the case holds its own kmodlint.toml."""
    own = case / "kmodlint.toml"
    return ["--settings", str(own)] if own.is_file() else ["--isolated"]


# Cases that check every rule: a net for whatever a new rule finds in ordinary drivers.
ALL_RULES_CASES = frozenset(
    {"km000-seeds-mod1-mod2", "km203-gpl-only-symbol", "km302-dependency-cycle"}
)


def own_rules(case: Path) -> set[str] | None:
    """The codes of the rules `case` is about; None: every rule."""
    if case.name in ALL_RULES_CASES or (case / "kmodlint.toml").is_file():
        return None
    own = {code for a in read_annotations(case) for code in a.rules}
    own |= binary_rule_codes(case)
    prefix = find_rule(case.name.split("-", 1)[0].upper())
    if prefix is not None:
        own.add(prefix.code)
    own |= {rule_code(name, "case.toml") for name in case_config(case).get("near-miss", [])}
    return own


def _rule_args(case: Path) -> list[str]:
    """--extend-ignore of every rule but the case's own and the KM9xx input diagnostics
    (a case must still be read whole)."""
    own = own_rules(case)
    if own is None:
        return []
    others = sorted(r.code for r in all_rules() if r.code not in own and r.code[:3] != "KM9")
    return ["--extend-ignore", ",".join(others)] if others else []


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
    args = ["check", str(case / "built"), "--format", "json", "--fail-on", "never"]
    args += ["--kernel", _kernel(case, config), *_settings_args(case)]
    args += _rule_args(case)
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
    fired: set[str] = set()
    for case in BINARY_CASES:
        expected, _ = binary_expectations(case)
        fired |= {code for (_module, code, _key) in expected}
    names = {case.name for case in CASES}
    for rule in all_rules():
        if Mode.BINARY not in rule.modes or rule.code.startswith("KM9"):
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


def _kernel(case: Path, config: dict) -> str:
    """case.toml `target`: a folder relative to the case, or a kernel table's name
    (`debian-12/6.12.118+deb12-amd64`, kmodlint kernels list); none without one."""
    if "target" not in config:
        return "none"
    path = case / config["target"]
    return str(path.resolve()) if path.exists() else config["target"]


def run_source_case(case: Path, cache_dir: Path) -> list[dict]:
    config = case_config(case)
    args = ["check", *map(str, _source_inputs(case)), "--format", "json", "--fail-on", "never"]
    args += ["--kernel", _kernel(case, config)]
    args += ["--config", str(case / config["config"]) if "config" in config else "none"]
    args += [*_settings_args(case), *_rule_args(case)]
    result = run_kmodlint(*args, env_extra={"KMODLINT_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.name for c in SOURCE_CASES])
def test_source_case(case: Path, cache_dir: Path) -> None:
    annotations = read_annotations(case)
    check_every_file_annotated(case, annotations)
    expected, tolerated, absent = source_expectations(case, annotations)
    findings = run_source_case(case, cache_dir)
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
    fired: set[str] = set()
    for case in SOURCE_CASES:
        expected, _, _ = source_expectations(case, read_annotations(case))
        fired |= {code for (_path, _line, code) in expected}
    names = {case.name for case in CASES}
    for rule in all_rules():
        if Mode.SOURCE not in rule.modes or rule.code in (
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


# ---------------------------------------------------------------------------------------
# The runner: run_kmodlint runs the CLI in this process. A few runs for real, compared
# with the same run in this process, and a check that a run leaves this process as it was.

SMOKE_CASE = CORPUS / "km203-gpl-only-symbol"


def _same_run(*args: str, **options) -> subprocess.CompletedProcess[str]:
    """ARGS in a real `python -m kmodlint` and in this process: the same exit status,
    stdout and stderr."""
    real = run_kmodlint(*args, real_subprocess=True, **options)
    here = run_kmodlint(*args, **options)
    assert (here.returncode, here.stdout, here.stderr) == (
        real.returncode,
        real.stdout,
        real.stderr,
    )
    return real


def test_version_in_a_real_process() -> None:
    from kmodlint import __version__

    result = _same_run("--version")
    assert (result.returncode, result.stdout) == (0, f"kmodlint {__version__}\n")


def test_check_with_jobs_in_a_real_process(cache_dir: Path) -> None:
    """A source case with -j 2 as JSON and as text, and its binaries (findings: exit 1)."""
    target = str((SMOKE_CASE / case_config(SMOKE_CASE)["target"]).resolve())
    env = {"KMODLINT_CACHE_DIR": str(cache_dir)}
    common = ["--kernel", target, "--isolated", "-j", "2"]
    runs = [
        ["check", *map(str, _source_inputs(SMOKE_CASE)), *common, "--format", "json"],
        ["check", *map(str, _source_inputs(SMOKE_CASE)), *common],
        ["check", str(SMOKE_CASE / "built"), *common, "--format", "json"],
    ]
    for args in runs:
        result = _same_run(*args, env_extra=env)
        assert result.returncode == 1, result.stderr
        assert "KM203" in result.stdout


def test_usage_errors_in_a_real_process(tmp_path: Path) -> None:
    """Exit status 2 from argparse (SystemExit) and from kmodlint's own usage errors."""
    assert _same_run("check", "--no-such-option").returncode == 2
    assert _same_run("check", str(tmp_path / "missing"), "--kernel", "none").returncode == 2
    assert _same_run("explain", "gpl-only").returncode == 2


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "--format", "json"],
        ["deps", str(CORPUS / "km302-dependency-cycle" / "built"), "--format", "dot"],
        # --no-cache: this process keeps its temporary work folder (and the stub
        # environment in it) from run to run; a new process starts with none
        ["symbols", str(SMOKE_CASE), "--kernel", "none", "--no-cache", "--format", "json"],
        ["check", "--focus", "modprop.c", "--kernel", "none", "--config", "none"],
    ],
    ids=["rules", "deps", "symbols-no-cache", "focus-in-cwd"],
)
def test_in_process_run_is_a_real_run(args: list[str], cache_dir: Path) -> None:
    result = _same_run(*args, cwd=SMOKE_CASE, env_extra={"KMODLINT_CACHE_DIR": str(cache_dir)})
    assert result.returncode == (1 if args[0] == "check" else 0), result.stderr
    assert result.stdout


def _process_state() -> dict:
    """What kmodlint's modules hold at module level (sizes of containers and caches, plain
    values), and the process-wide settings a run could change."""
    from tests.corpus_support import kmodlint_modules

    state: dict = {
        "cwd": os.getcwd(),
        "environ": dict(os.environ),
        "recursion": sys.getrecursionlimit(),
        "signals": {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)},
    }
    for module in kmodlint_modules():
        for name, value in vars(module).items():
            where = f"{module.__name__}.{name}"
            info = getattr(value, "cache_info", None)
            if callable(info) and getattr(value, "__module__", None) == module.__name__:
                state[where] = info().currsize
            elif isinstance(value, dict | list | set):
                state[where] = len(value)
            elif value is None or isinstance(value, str | int | float):
                state[where] = value
    return state


def test_in_process_runs_leave_no_state_behind(tmp_path: Path, cache_dir: Path) -> None:
    """Each in-process run starts as a new process would: every per-process table kmodlint
    keeps is emptied around it (tests/corpus_support.py PROCESS_TABLES). A table added to
    kmodlint that this does not know about fails here, not as a flaky corpus case."""
    from tests.corpus_support import KEPT_CACHES, forget_process_state

    source = [*map(str, _source_inputs(SMOKE_CASE)), "--config", "none", "--isolated"]
    binary = [str(SMOKE_CASE / "built"), "--isolated"]
    runs = [
        ["check", *source, "--kernel", "none"],
        ["check", *source, "--kernel", "none", "--no-cache", "--focus"],
        ["symbols", *binary, "--kernel", "none", "--no-cache", "--format", "json"],
        ["deps", *binary, "--kernel", "none", "--format", "json"],
    ]
    env = {"KMODLINT_CACHE_DIR": str(cache_dir)}
    for args in runs:  # every module those runs import, imported
        run_kmodlint(*args, env_extra=env)
    forget_process_state(all_caches=True)
    before = _process_state()
    for args in runs:
        result = run_kmodlint(*args, env_extra=env)
        assert result.returncode in (0, 1), result.stderr
    after = _process_state()
    kept = {f".{name}" for name in KEPT_CACHES} | {".cache._TEMP_DIRS"}
    changed = sorted(
        key
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key) and not key.endswith(tuple(kept))
    )
    assert not changed, f"left behind by an in-process run (add to PROCESS_TABLES): {changed}"
