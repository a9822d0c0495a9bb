"""Findings as GitHub Actions workflow commands, which become annotations on the PR diff."""

from __future__ import annotations

from pathlib import Path

from kmodlint.diagnostics import Finding
from kmodlint.fingerprint import relative_form
from kmodlint.reporters.escape import printable

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """The message part (actions/toolkit `escapeData`): `%` first, or the escapes would be
    escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A `key=value` property (actions/toolkit `escapeProperty`): `,` ends the property and
    `:` ends the property list, so both are escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: list[Finding], root: Path | None = None) -> str:
    return "".join(_command(f, root) + "\n" for f in findings)


def _command(finding: Finding, root: Path | None) -> str:
    # Annotations only attach to files named relative to the repository (the workspace).
    # printable: a file or symbol name's control characters (ESC in the job log) and
    # non-UTF-8 bytes are shown as \x escapes, then the workflow-command escaping applies
    properties = [("file", printable(relative_form(finding.path, root)))]
    if finding.line is not None:  # binaries: file= only
        properties.append(("line", str(finding.line)))
        if finding.col is not None:
            properties.append(("col", str(finding.col)))
    properties.append(("title", f"kmodlint ({finding.code} {finding.name})"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = escape_data(printable(finding.message))
    return f"::{COMMANDS[finding.severity.value]} {rendered}::{message}"
