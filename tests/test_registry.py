"""The rule catalogue: unique ids, complete documentation that cites the kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kmodlint.diagnostics import Severity
from kmodlint.rule import Mode, Rule, Scope, all_rules

RULES = all_rules()
SECTIONS = ["## What it does", "## Why is this bad?", "## Kernel behaviour", "## Example"]
KERNEL_PATH = re.compile(r"(kernel/module/|scripts/|include/linux/|tools/depmod\.c|libkmod)")

# rules/<file>.py -> the code prefixes of the rules it defines (pylint's check_consistency:
# a checker's messages share one id). Most files hold one family (KM1xx ... KM8xx); the
# module-hygiene family KM6xx is split by topic: KM603 (checkpatch's AVOID_EXTERNS) lives
# beside extern-mismatch in linking.py, the parameter rules in params.py, the rest in
# lifecycle.py. KM9xx is inputs.py's front-end problems (KM90x) and meta.py's own
# conventions (KM95x). A new rule whose code no entry covers, or covers for another file,
# fails until this table says where its code belongs.
CODE_PREFIXES_BY_FILE = {
    "exports": ("KM1",),
    "licensing": ("KM2",),
    "linking": ("KM3", "KM603"),
    "versions": ("KM4",),
    "namespaces": ("KM5",),
    "lifecycle": ("KM601", "KM604"),
    "params": ("KM602", "KM605", "KM606", "KM607"),
    "taints": ("KM7",),
    "sections": ("KM8",),
    "inputs": ("KM90",),
    "meta": ("KM95",),
}


def _defining_file(rule: Rule) -> str:
    return rule.check.__module__.rsplit(".", 1)[-1]  # kmodlint.rules.<file>


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"KM[1-9]\d\d", rule.code), rule.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_code_prefix_matches_the_file_defining_the_rule(rule: Rule) -> None:
    owners = [
        file for file, prefixes in CODE_PREFIXES_BY_FILE.items() if rule.code.startswith(prefixes)
    ]
    assert owners == [_defining_file(rule)], (
        f"{rule.code} {rule.name} is defined in rules/{_defining_file(rule)}.py but its code "
        f"belongs to {owners or 'no file'} (CODE_PREFIXES_BY_FILE)"
    )


def test_code_prefix_table_is_unambiguous_and_complete() -> None:
    """One prefix, one file; every rules file listed; no entry that no rule uses."""
    owned = [
        (file, prefix) for file, prefixes in CODE_PREFIXES_BY_FILE.items() for prefix in prefixes
    ]
    for file, prefix in owned:
        overlapping = [
            (other_file, other)
            for other_file, other in owned
            if other_file != file and (other.startswith(prefix) or prefix.startswith(other))
        ]
        assert not overlapping, f"{prefix} ({file}) overlaps {overlapping}"
        assert any(r.code.startswith(prefix) for r in RULES), f"{prefix} ({file}): no rule uses it"
    package = Path(__file__).resolve().parent.parent / "rules"  # ships as kmodlint.rules
    files = {path.stem for path in package.glob("*.py") if path.stem != "__init__"}
    assert files == set(CODE_PREFIXES_BY_FILE)
    assert {_defining_file(r) for r in RULES} == files


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_metadata_is_complete_and_typed(rule: Rule) -> None:
    assert isinstance(rule.severity, Severity)
    assert isinstance(rule.scope, Scope)
    assert isinstance(rule.default_enabled, bool)
    assert rule.modes and all(isinstance(mode, Mode) for mode in rule.modes)
    # in Mode's order, once each: the README's "reads" column and SARIF tags print them
    assert list(rule.modes) == [mode for mode in Mode if mode in rule.modes], rule.modes
    summary = rule.summary
    assert summary and summary == summary.strip() and "\n" not in summary, rule.code
    assert not summary.endswith("."), f"{rule.code}: a summary is a phrase, not a sentence"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_documentation(rule) -> None:
    positions = [rule.doc.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), f"{rule.code}: missing a section"
    assert positions == sorted(positions), f"{rule.code}: sections out of order"
    kernel = rule.doc.split("## Kernel behaviour", 1)[1].split("\n## ", 1)[0]
    if not rule.code.startswith(("KM903", "KM904")):
        assert KERNEL_PATH.search(kernel), f"{rule.code}: Kernel behaviour cites no kernel file"
    what = rule.doc.split("## What it does", 1)[1].split("\n## ", 1)[0].strip()
    assert 0 < len(what) <= 1024
    assert "Key:" in what or rule.code.startswith("KM9"), f"{rule.code}: key not documented"


def test_readme_rules_table_is_the_registry() -> None:
    """README.md's table is `kmodlint rules --format markdown` (regenerate it when a rule
    changes); a rule added, renamed or re-severitied without it fails here."""
    from pathlib import Path

    from kmodlint.reporters.catalogue import format_rules

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("<!-- rules table:")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- end of rules table -->")
    assert readme[start:end] == format_rules(RULES, "markdown")


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_rules_tables_are_what_tabulate_prints(fmt: str) -> None:
    """`kmodlint rules` draws its tables without importing tabulate (start-up, issue 13):
    byte for byte what tabulate prints for the same rows, and for cells tabulate would
    align or wrap differently (numbers, several lines) it is tabulate."""
    import sys

    from tabulate import tabulate

    from kmodlint.reporters import catalogue

    table = [
        (r.code, r.name, r.severity.value, r.summary + ("" if r.default_enabled else " (opt-in)"))
        for r in RULES
    ]
    if fmt == "markdown":
        rows = [
            (c, n, s, ", ".join(mode.value for mode in r.modes), w)
            for (c, n, s, w), r in zip(table, RULES, strict=True)
        ]
        expected = tabulate(
            rows, headers=["code", "name", "severity", "reads", "fires when"], tablefmt="github"
        )
    else:
        expected = tabulate(table, headers=["code", "name", "severity", "summary"])
    assert catalogue.format_rules(RULES, fmt) == expected + "\n"
    odd = [("1.5", "two\nlines", " padded ", "x")] + [tuple(row) for row in table[:3]]
    headers = ["a", "b", "c", "d"]
    for style in ("simple", "github"):
        assert catalogue._table(odd, headers, style) == tabulate(odd, headers, tablefmt=style)
    assert "tabulate" in sys.modules  # imported by this test, not needed by rules
