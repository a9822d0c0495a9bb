"""`--statistics`: how many findings each rule produced."""

from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from kmodlint.diagnostics import Finding


def format_statistics(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.code, finding)
    # Most frequent first (what to fix or configure first), ties by code for a stable order.
    order = sorted(counts, key=lambda code: (-counts[code], code))
    rows = [(code, first[code].name, first[code].severity.value, counts[code]) for code in order]
    return tabulate(rows, headers=["code", "name", "severity", "count"]) + "\n"
