"""The rule catalogue as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kmodlint.rule import Rule


def format_rules(rules: list[Rule], fmt: str) -> str:
    if fmt == "json":
        rows = [
            {
                "code": r.code,
                "name": r.name,
                "family": r.family,
                "severity": r.severity.value,
                "modes": [mode.value for mode in r.modes],
                "scope": r.scope.value,
                "summary": r.summary,
                "default": r.default_enabled,
            }
            for r in rules
        ]
        return json.dumps({"rules": rows}, indent=2) + "\n"
    table = [
        (r.code, r.name, r.severity.value, r.summary + ("" if r.default_enabled else " (opt-in)"))
        for r in rules
    ]
    if fmt == "markdown":
        # README.md's rules table is this output (tests/test_registry.py checks it)
        with_modes = [
            (c, n, s, ", ".join(mode.value for mode in r.modes), w)
            for (c, n, s, w), r in zip(table, rules, strict=True)
        ]
        headers = ["code", "name", "severity", "reads", "fires when"]
        return _table(with_modes, headers, "github") + "\n"
    return _table(table, ["code", "name", "severity", "summary"], "simple") + "\n"


def _table(rows: Sequence[Sequence[str]], headers: list[str], fmt: str) -> str:
    """What tabulate(rows, headers, tablefmt=fmt) prints for rows of one-line text cells,
    without importing tabulate (it imports importlib.metadata: ~20 ms of a `kmodlint rules`
    that should take well under 0.1 s); anything else goes to tabulate itself.
    tests/test_registry.py checks both formats against tabulate."""
    cells = [[cell.strip() for cell in row] for row in rows]
    if not all(_plain(cell) for row in cells for cell in row):
        from tabulate import tabulate

        return str(tabulate(rows, headers=headers, tablefmt=fmt))
    # tabulate's column width: the widest cell, at least the header plus 2 (MIN_PADDING)
    widths = [
        max([len(header) + 2, *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)
    ]

    def line(row: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        if fmt == "github":
            return "| " + " | ".join(padded) + " |"
        return "  ".join(padded).rstrip()

    rule = (
        "|" + "|".join("-" * (width + 2) for width in widths) + "|"
        if fmt == "github"
        else "  ".join("-" * width for width in widths)
    )
    return "\n".join([line(headers), rule, *map(line, cells)])


def _plain(cell: str) -> bool:
    """A cell tabulate prints as left-aligned text as it is: one line, no tab, not a
    number (a column of numbers is aligned on its decimal point)."""
    if "\n" in cell or "\t" in cell or "\x1b" in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False
