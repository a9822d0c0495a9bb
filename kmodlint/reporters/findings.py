"""Findings as gcc-style text or JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from kmodlint import __version__
from kmodlint.engine import Finding
from kmodlint.fingerprint import fingerprint
from kmodlint.reporters.colour import BOLD, RESET, SEVERITY_COLOURS


def _where(finding: Finding) -> str:
    if finding.line is None:
        return finding.path
    if finding.col is None:
        return f"{finding.path}:{finding.line}"
    return f"{finding.path}:{finding.line}:{finding.col}"


def _line(finding: Finding, colour: bool) -> str:
    severity, code = finding.severity.value, finding.code
    if colour:
        severity = f"{SEVERITY_COLOURS[severity]}{severity}{RESET}"
        code = f"{BOLD}{code}{RESET}"
    return f"{_where(finding)}: {severity}: {finding.message} [{code} {finding.name}]"


def format_text(findings: list[Finding], modules_checked: int, colour: bool = False) -> str:
    lines = [_line(f, colour) for f in findings]
    lines.append(summary_line(findings, modules_checked))
    return "\n".join(lines) + "\n"


def summary_line(findings: list[Finding], modules_checked: int) -> str:
    counts = Counter(f.severity.value for f in findings)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return (
        f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
        f"{counts['info']} info in {plural(modules_checked, 'module')}"
    )


def format_json(findings: list[Finding], root: Path | None = None) -> str:
    # Fields are only ever added here: scripts written against version 1 keep working.
    document = {
        "version": 1,
        "tool": {"name": "kmodlint", "version": __version__},
        "findings": [
            {
                "rule": f.name,
                "code": f.code,
                "severity": f.severity.value,
                "message": f.message,
                "path": f.path,
                "line": f.line,
                "column": f.col,
                "module": f.module,
                "symbol": f.symbol,
                "key": f.key,
                "fingerprint": fingerprint(f, root),
            }
            for f in findings
        ],
    }
    return json.dumps(document, indent=2) + "\n"
