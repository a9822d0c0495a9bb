"""Pick the reporter for `check --format` and write its output (and `--statistics`)."""

from __future__ import annotations

import sys
from typing import TextIO

from kmodlint.diagnostics import Finding


def render(
    findings: list[Finding],
    modules_checked: int,
    fmt: str,
    colour_mode: str,
    statistics: bool,
    out: TextIO,
) -> None:
    if fmt == "json":
        from kmodlint.reporters.findings import format_json

        out.write(format_json(findings))
    elif fmt == "sarif":
        from kmodlint.reporters.sarif import format_sarif
        from kmodlint.rule import all_rules

        out.write(format_sarif(findings, all_rules()))
    elif fmt == "github":
        from kmodlint.reporters.github import format_github

        out.write(format_github(findings))
    else:
        from kmodlint.reporters.colour import use_colour
        from kmodlint.reporters.findings import format_text

        out.write(format_text(findings, modules_checked, use_colour(colour_mode, out)))
    if statistics:
        from kmodlint.reporters.statistics import format_statistics

        # Machine formats must stay parseable, so their table goes to stderr.
        (out if fmt == "text" else sys.stderr).write(format_statistics(findings))
