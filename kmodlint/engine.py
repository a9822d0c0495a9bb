"""Run the rules over a module set and turn their hits into sorted findings."""

from __future__ import annotations

from collections.abc import Iterable

from kmodlint.diagnostics import Finding
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Rule, all_rules


def run_rules(
    ms: ModuleSet, select: set[str] | None = None, ignore: set[str] | None = None
) -> list[Finding]:
    findings: list[Finding] = []
    for rule in all_rules():
        if select is not None and rule.code not in select:
            continue
        if ignore and rule.code in ignore:
            continue
        findings.extend(_findings_of(rule, ms))
    findings.sort(key=Finding.sort_key)
    return findings


def _findings_of(rule: Rule, ms: ModuleSet) -> Iterable[Finding]:
    for hit in rule.check(ms):
        if hit.module is not None and hit.module.origin not in rule.modes:
            continue  # e.g. CRC rules on a module that has no binary yet
        location = hit.location
        if location is None and hit.module is not None and hit.module.source is not None:
            # Module-level findings point at the module's obj-m line (or line 1).
            location = hit.module.source.location
        path = location.path if location else (hit.path or (hit.module.path if hit.module else "-"))
        if path.startswith("./"):
            path = path[2:]  # `check .` shows `Kbuild`, as `check moda.c` shows `moda.c`
        yield Finding(
            code=rule.code,
            name=rule.name,
            severity=rule.severity,
            message=hit.message,
            path=path,
            line=location.line if location else None,
            col=location.col if location else None,
            module=hit.module.name if hit.module else None,
            key=hit.key,
            symbol=hit.symbol,
        )
