"""Findings as gcc-style text or JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from kmodlint import __version__
from kmodlint.diagnostics import Finding
from kmodlint.fingerprint import fingerprint
from kmodlint.reporters.colour import BOLD, RESET, SEVERITY_COLOURS
from kmodlint.reporters.escape import printable, valid_unicode


def _where(finding: Finding) -> str:
    path = printable(finding.path)
    if finding.line is None:
        return path
    if finding.col is None:
        return f"{path}:{finding.line}"
    return f"{path}:{finding.line}:{finding.col}"


def _line(finding: Finding, colour: bool) -> str:
    severity, code = finding.severity.value, finding.code
    if colour:
        severity = f"{SEVERITY_COLOURS[severity]}{severity}{RESET}"
        code = f"{BOLD}{code}{RESET}"
    # path and message come from the input (file and symbol names): escaped, so a name
    # with ESC or a newline can neither drive the terminal nor fake a finding line
    message = printable(finding.message)
    return f"{_where(finding)}: {severity}: {message} [{code} {finding.name}]"


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


def _optional(text: str | None) -> str | None:
    return None if text is None else valid_unicode(text)


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
                "message": valid_unicode(f.message),
                "path": valid_unicode(f.path),
                "line": f.line,
                "column": f.col,
                "module": _optional(f.module),
                "symbol": _optional(f.symbol),
                "key": valid_unicode(f.key),
                "fingerprint": fingerprint(f, root),
            }
            # a kernel matrix (several --kernel): the kernel the finding is about
            | ({"kernel": f.kernel} if f.kernel is not None else {})
            for f in findings
        ],
    }
    return json.dumps(document, indent=2) + "\n"
