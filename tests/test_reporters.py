"""`check` output formats, run for real as a subprocess on corpus cases: SARIF (against the
OASIS schema and GitHub's extra rules), GitHub workflow commands, colour, --statistics,
--output and the fingerprint the JSON, SARIF and baseline share."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kmodlint.reporters.github import escape_data, escape_property
from kmodlint.reporters.sarif import MAX_DESCRIPTION, _cut, what_it_does
from tests.corpus_support import CORPUS
from tests.test_corpus import run_kmodlint

REPO_ROOT = CORPUS.parent
# The official schema lives beside the project, not in it (it is not ours to vendor).
SARIF_SCHEMA = Path(REPO_ROOT).parent / "shared/data/sarif-schema-2.1.0.json"
TARGET = str(CORPUS / "targets" / "deb-6.1.0-56")
# Source findings with lines and columns (KM203 errors, KM205 warning), a line-less binary
# finding with an empty key (KM201) and an info finding (KM901): every branch of every
# reporter. (km203's built/*.ko are its sources' build products, not duplicates.)
MIXED = [
    "corpus/km203-gpl-only-symbol",
    "corpus/km205-missing-description",
    "corpus/km201-missing-license/built",
    "corpus/km901-unparsable-source",
]
OLD_JSON_FIELDS = {
    "rule",
    "code",
    "severity",
    "message",
    "path",
    "line",
    "column",
    "module",
    "symbol",
    "key",
}
ANSI = "\x1b["


def check(*args: str, cwd: Path = REPO_ROOT, env: dict | None = None):
    extra = {"PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return run_kmodlint("check", *args, "--kernel", TARGET, "-q", cwd=cwd, env_extra=extra)


@pytest.fixture(scope="module")
def mixed_json() -> list[dict]:
    result = check(*MIXED, "--format", "json")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)["findings"]


@pytest.fixture(scope="module")
def mixed_sarif() -> dict:
    result = check(*MIXED, "--format", "sarif")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return json.loads(run_kmodlint("rules", "--format", "json").stdout)["rules"]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [key, *_strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


# --- SARIF -----------------------------------------------------------------------------


def test_sarif_validates_against_the_oasis_schema(mixed_sarif: dict) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SARIF_SCHEMA} (kept outside the repo)")
    jsonschema = pytest.importorskip("jsonschema", reason="pip install -e '.[test]'")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(mixed_sarif)]
    assert not errors, "\n".join(errors)


def test_sarif_has_what_github_requires(mixed_sarif: dict, catalogue: list[dict]) -> None:
    assert mixed_sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert mixed_sarif["version"] == "2.1.0"
    assert len(mixed_sarif["runs"]) == 1
    run = mixed_sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kmodlint"
    # no informationUri: the project has no published home to point at, and an invented
    # address would send users nowhere
    assert driver["version"] and "informationUri" not in driver
    # Every rule of the catalogue, not only those that fired, so GitHub can show them all.
    assert [r["id"] for r in driver["rules"]] == [r["code"] for r in catalogue]
    by_code = {r["code"]: r for r in catalogue}
    for descriptor in driver["rules"]:
        rule = by_code[descriptor["id"]]
        assert descriptor["name"] == rule["name"]
        assert descriptor["shortDescription"]["text"] == rule["summary"]
        assert 0 < len(descriptor["shortDescription"]["text"]) <= MAX_DESCRIPTION
        assert 0 < len(descriptor["fullDescription"]["text"]) <= MAX_DESCRIPTION
        assert "## What it does" in descriptor["help"]["text"]
        assert descriptor["help"]["markdown"] == descriptor["help"]["text"]
        level = {"error": "error", "warning": "warning", "info": "note"}[rule["severity"]]
        assert descriptor["defaultConfiguration"]["level"] == level
        assert "kernel-module" in descriptor["properties"]["tags"]
    # GitHub: "The empty string is not supported."
    assert "" not in _strings(mixed_sarif)
    assert run["results"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        # Relative to the directory kmodlint ran in, so alerts keep their identity.
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith("corpus/"), artifact["uri"]
        assert physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
        assert re.fullmatch(r"[0-9a-f]{64}", result["partialFingerprints"]["kmodlint/v1"])


def test_sarif_results_match_json_findings(mixed_sarif: dict, mixed_json: list[dict]) -> None:
    results = mixed_sarif["runs"][0]["results"]
    assert len(results) == len(mixed_json)
    for result, finding in zip(results, mixed_json, strict=True):
        assert result["ruleId"] == finding["code"]
        assert result["message"]["text"] == finding["message"]
        assert result["partialFingerprints"]["kmodlint/v1"] == finding["fingerprint"]
        region = result["locations"][0]["physicalLocation"]["region"]
        if finding["line"] is None:  # a .ko: GitHub still needs a region
            assert (region["startLine"], region["startColumn"]) == (1, 1)
        else:
            assert (region["startLine"], region["startColumn"]) == (
                finding["line"],
                finding["column"],
            )
    levels = {r["level"] for r in results}
    assert levels == {"error", "warning", "note"}


def test_full_description_is_the_what_it_does_paragraph(mixed_sarif: dict) -> None:
    driver = mixed_sarif["runs"][0]["tool"]["driver"]
    descriptor = next(r for r in driver["rules"] if r["id"] == "KM203")
    explained = run_kmodlint("explain", "KM203").stdout
    paragraph = explained.split("## What it does\n", 1)[1].split("\n\n## ", 1)[0]
    assert descriptor["fullDescription"]["text"] == " ".join(paragraph.split())


def test_descriptions_are_cut_to_githubs_limit() -> None:
    long = "word " * 500
    cut = _cut(long)
    assert len(cut) <= MAX_DESCRIPTION and cut.endswith("word…")
    assert _cut("short") == "short"
    doc = "## What it does\nOne\nparagraph.\n\n## Why is this bad?\nNo."
    assert what_it_does(doc) == "One paragraph."
    assert what_it_does("no sections") == ""


# --- fingerprints ----------------------------------------------------------------------


def test_json_keeps_every_old_field_and_adds_the_fingerprint(mixed_json: list[dict]) -> None:
    for finding in mixed_json:
        assert set(finding) == OLD_JSON_FIELDS | {"fingerprint"}
    keyed = next(f for f in mixed_json if f["key"] and f["code"] == "KM203")
    recipe = f"{keyed['code']}|{keyed['module']}|{keyed['key']}"
    assert keyed["fingerprint"] == hashlib.sha256(recipe.encode()).hexdigest()


def test_fingerprints_are_stable_across_runs_and_path_spellings(mixed_json: list[dict]) -> None:
    again = json.loads(check(*MIXED, "--format", "json").stdout)["findings"]
    assert [f["fingerprint"] for f in again] == [f["fingerprint"] for f in mixed_json]
    # An empty key falls back to the path: typed absolute or relative, it is one file.
    absolute = [str(REPO_ROOT / "corpus/km201-missing-license/built")]
    spelled = json.loads(check(*absolute, "--format", "json").stdout)["findings"]
    km201 = next(f for f in mixed_json if f["code"] == "KM201")
    assert km201["key"] == ""
    assert [f["fingerprint"] for f in spelled if f["code"] == "KM201"] == [km201["fingerprint"]]


def test_fingerprints_survive_a_line_move(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(CORPUS / "km203-gpl-only-symbol", case)
    before = json.loads(check(".", "--format", "json", cwd=case).stdout)["findings"]
    source = case / "modprop.c"
    source.write_text("\n\n\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
    after = json.loads(check(".", "--format", "json", cwd=case).stdout)["findings"]
    # built/modprop.ko is now older than its edited source: that is a note of its own
    stale = [f for f in after if f["code"] == "KM907"]
    assert [f["path"] for f in stale] == ["built/modprop.ko"]
    after = [f for f in after if f["code"] != "KM907"]
    moved = [(f["line"], a["line"]) for f, a in zip(before, after, strict=True)]
    assert any(old is not None and new == old + 3 for old, new in moved), moved
    assert Counter(f["fingerprint"] for f in after) == Counter(f["fingerprint"] for f in before)


# --- GitHub workflow commands ----------------------------------------------------------

GITHUB_LINE = re.compile(
    r"::(error|warning|notice) file=([^,:]+)(?:,line=(\d+)(?:,col=(\d+))?)?"
    r",title=kmodlint \((KM\d{3}) ([a-z-]+)\)::(.+)"
)


def test_github_commands(mixed_json: list[dict]) -> None:
    result = check(*MIXED, "--format", "github")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(mixed_json)  # nothing but commands
    for line, finding in zip(lines, mixed_json, strict=True):
        match = GITHUB_LINE.fullmatch(line)
        assert match, line
        command, path, row, col, code, name, message = match.groups()
        expected = {"error": "error", "warning": "warning", "info": "notice"}
        assert command == expected[finding["severity"]]
        assert (path, code, name) == (finding["path"], finding["code"], finding["rule"])
        assert message == escape_data(finding["message"])
        if finding["line"] is None:  # binaries: file= only
            assert row is None and col is None
        else:
            assert (int(row), int(col)) == (finding["line"], finding["column"])


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_data("a, b: c") == "a, b: c"  # the message may hold , and :
    assert escape_property("dir,x/a:b.c%") == "dir%2Cx/a%3Ab.c%25"


# --- text, colour, statistics, --output -------------------------------------------------


def _run_on_a_tty(args: list[str], env: dict[str, str | None]) -> str:
    """Run kmodlint with stdout on a pseudo-terminal and return what it printed; a None in
    `env` removes that variable."""
    master, slave = os.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    with subprocess.Popen(
        [sys.executable, "-m", "kmodlint", "check", *args, "--kernel", TARGET, "-q"],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        env={k: v for k, v in full_env.items() if v is not None},
    ) as process:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=300)
    os.close(master)
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    args = ["corpus/km201-missing-license/built"]
    on_tty = _run_on_a_tty(args, {"NO_COLOR": None})
    assert f"{ANSI}1;31merror{ANSI}0m" in on_tty and f"{ANSI}1mKM201{ANSI}0m" in on_tty
    assert ANSI in _run_on_a_tty(args, {"NO_COLOR": ""})  # empty means unset (no-color.org)
    assert ANSI not in _run_on_a_tty(args, {"NO_COLOR": "1"})
    assert ANSI not in _run_on_a_tty([*args, "--color", "never"], {"NO_COLOR": None})
    piped = check(*args, env={"NO_COLOR": ""})
    assert ANSI not in piped.stdout and "error: missing MODULE_LICENSE()" in piped.stdout
    # An explicit --color always is the user's choice and beats both.
    forced = check(*args, "--color", "always", env={"NO_COLOR": "1"})
    assert f"{ANSI}1;31merror{ANSI}0m" in forced.stdout


def _table_counts(lines: list[str]) -> list[tuple[str, str, str, int]]:
    assert lines[0].split() == ["code", "name", "severity", "count"]
    assert set(lines[1]) <= {"-", " "}
    rows = [line.split() for line in lines[2:] if line.strip()]
    return [(code, name, severity, int(count)) for code, name, severity, count in rows]


def test_statistics_after_text_match_the_findings(mixed_json: list[dict]) -> None:
    result = check(*MIXED, "--statistics")
    lines = result.stdout.splitlines()
    summary = next(
        i for i, line in enumerate(lines) if re.fullmatch(r"\d+ errors?, .* in \d+ modules?", line)
    )
    assert lines[summary - 1].endswith("[KM901 unparsable-source]")
    rows = _table_counts(lines[summary + 1 :])
    counts = Counter(f["code"] for f in mixed_json)
    assert {code: count for code, _, _, count in rows} == dict(counts)
    assert [(-count, code) for code, _, _, count in rows] == sorted(
        (-count, code) for code, _, _, count in rows
    )
    severities = {f["code"]: f["severity"] for f in mixed_json}
    assert all(severities[code] == severity for code, _, severity, _ in rows)


def test_statistics_with_a_machine_format_go_to_stderr(mixed_json: list[dict]) -> None:
    result = check(*MIXED, "--format", "json", "--statistics")
    assert json.loads(result.stdout)["findings"] == mixed_json  # stdout still pure JSON
    rows = _table_counts(result.stderr.splitlines())
    assert sum(count for *_, count in rows) == len(mixed_json)


def test_output_writes_the_report_to_a_file(tmp_path: Path, mixed_sarif: dict) -> None:
    target = tmp_path / "report.sarif"
    result = check(*MIXED, "--format", "sarif", "--output", str(target))
    assert result.returncode == 1
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == mixed_sarif
    missing = check(*MIXED, "--output", str(tmp_path / "no" / "such" / "dir.txt"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
