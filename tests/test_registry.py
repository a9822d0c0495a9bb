"""The rule catalogue: unique ids, complete documentation that cites the kernel."""

from __future__ import annotations

import re

import pytest

from kmodlint.rule import all_rules

RULES = all_rules()
SECTIONS = ["## What it does", "## Why is this bad?", "## Kernel behaviour", "## Example"]
KERNEL_PATH = re.compile(r"(kernel/module/|scripts/|include/linux/|tools/depmod\.c|libkmod)")


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"KM[1-9]\d\d", rule.code), rule.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name


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
            (c, n, s, ", ".join(r.modes), w) for (c, n, s, w), r in zip(table, RULES, strict=True)
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
