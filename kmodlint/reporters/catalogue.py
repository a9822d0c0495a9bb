"""The rule catalogue as a table or JSON."""

from __future__ import annotations

import json

from tabulate import tabulate

from kmodlint.rule import Rule


def format_rules(rules: list[Rule], fmt: str) -> str:
    if fmt == "json":
        rows = [
            {
                "code": r.code,
                "name": r.name,
                "family": r.family,
                "severity": r.severity.value,
                "modes": list(r.modes),
                "scope": r.scope,
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
            (c, n, s, ", ".join(r.modes), w) for (c, n, s, w), r in zip(table, rules, strict=True)
        ]
        headers = ["code", "name", "severity", "reads", "fires when"]
        return tabulate(with_modes, headers=headers, tablefmt="github") + "\n"
    return tabulate(table, headers=["code", "name", "severity", "summary"]) + "\n"
