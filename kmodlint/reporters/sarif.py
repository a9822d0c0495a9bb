"""Findings as SARIF 2.1.0, shaped for GitHub code scanning.

GitHub rejects empty strings in required properties and truncates descriptions above 1024
characters, neither of which the JSON schema checks, so both are handled here
(GitHub's SARIF support for code scanning).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kmodlint import __version__
from kmodlint.diagnostics import Finding
from kmodlint.fingerprint import VERSION_TAG, default_root, fingerprint, under_root
from kmodlint.reporters.escape import raw_bytes, valid_unicode
from kmodlint.rule import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
MAX_DESCRIPTION = 1024  # GitHub's limit for shortDescription and fullDescription
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def format_sarif(findings: list[Finding], rules: list[Rule], root: Path | None = None) -> str:
    base = Path(os.path.realpath(root or default_root()))  # no RuntimeError on a loop
    index = {rule.code: i for i, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "kmodlint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        # Columns count characters of the decoded line, not UTF-16 units (SARIF's default).
        "columnKind": "unicodeCodePoints",
        "results": _results(findings, index, base),
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.doc.strip() or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _cut(rule.summary or rule.name)},
        "fullDescription": {"text": _cut(what_it_does(rule.doc) or rule.summary or rule.name)},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": _default_configuration(rule),
        "properties": {"tags": _tags(rule)},
    }


def _default_configuration(rule: Rule) -> dict[str, Any]:
    configuration: dict[str, Any] = {"level": LEVELS[rule.severity.value]}
    if not rule.default_enabled:
        configuration["enabled"] = False  # runs only when selected
    return configuration


def what_it_does(doc: str) -> str:
    """The `## What it does` section, its lines joined into one paragraph."""
    match = re.search(r"^## What it does[ \t]*\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    if not match:
        return ""
    return " ".join(line.strip() for line in match.group(1).splitlines() if line.strip())


def _cut(text: str, limit: int = MAX_DESCRIPTION) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # Cut at a word boundary when one is near, so the ellipsis does not split a word.
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip() + "…"


def _tags(rule: Rule) -> list[str]:
    family = rule.check.__module__.rsplit(".", 1)[-1]  # rules/<family>.py
    return ["kernel-module", family, *(mode.value for mode in rule.modes)]


def _results(findings: list[Finding], index: dict[str, int], base: Path) -> list[dict[str, Any]]:
    """One result per finding. Two findings with one identity (the same `extern` in two
    files of a module) get `:2`, `:3`… after the fingerprint, in report order, so code
    scanning keeps them as separate alerts (as its own line-hash fingerprints do)."""
    seen: dict[str, int] = {}
    results = []
    for finding in findings:
        result = _result(finding, index, base)
        value = result["partialFingerprints"][VERSION_TAG]
        seen[value] = seen.get(value, 0) + 1
        if seen[value] > 1:
            result["partialFingerprints"][VERSION_TAG] = f"{value}:{seen[value]}"
        results.append(result)
    return results


def _result(finding: Finding, index: dict[str, int], base: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.code}
    if finding.code in index:  # always, unless a rule was registered after the catalogue
        result["ruleIndex"] = index[finding.code]
    result |= {
        "level": LEVELS[finding.severity.value],
        "message": {"text": valid_unicode(finding.message) or finding.name},
        "locations": [{"physicalLocation": _physical(finding, base)}],
        "partialFingerprints": {VERSION_TAG: fingerprint(finding, base)},
    }
    # Extra context for people reading the raw log; empty values are left out (GitHub).
    properties = {
        name: valid_unicode(value)
        for name, value in (("module", finding.module), ("symbol", finding.symbol))
        if value
    }
    if finding.key:
        properties["key"] = valid_unicode(finding.key)
    if finding.kernel is not None:  # a kernel matrix (several --kernel)
        properties["kernel"] = valid_unicode(finding.kernel)
    if properties:
        result["properties"] = properties
    return result


def _physical(finding: Finding, base: Path) -> dict[str, Any]:
    relative = None if finding.path == "-" else under_root(finding.path, base)
    # URIs percent-encode the file name's own bytes (a non-UTF-8 name as it is on disk)
    if relative is not None:
        artifact = {"uri": quote(raw_bytes(relative), safe="/"), "uriBaseId": SRCROOT}
    elif finding.path != "-":
        # Outside the root (e.g. a /lib/modules tree): an absolute file URI still opens it.
        # realpath: a symlink loop stays as written (Path.resolve raises on one)
        absolute = raw_bytes(Path(os.path.realpath(finding.path)).as_posix())
        artifact = {"uri": "file://" + quote(absolute, safe="/")}
    else:
        artifact = {"uri": "-"}  # a finding tied to no input file at all
    # A .ko has no lines, but GitHub requires a region: point at the file's start.
    region = {"startLine": finding.line or 1, "startColumn": finding.col or 1}
    return {"artifactLocation": artifact, "region": region}
