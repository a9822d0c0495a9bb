"""From a loaded module set to the findings a run reports, before --focus and baselines.

rules (selection) -> per-file/per-module ignores -> severity -> inline suppressions. The
one sequence `check` runs (cli._check) and the benchmarks reproduce in process.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmodlint.diagnostics import Finding
from kmodlint.moduleset import ModuleSet
from kmodlint.settings import Settings


@dataclass(slots=True)
class RuleFindings:
    findings: list[Finding]  # sorted; unused suppressions (KM950) included
    notes: list[str]  # what the suppressions have to say (malformed comments)


def rule_findings(module_set: ModuleSet, options: Settings) -> RuleFindings:
    from kmodlint import settings, suppress
    from kmodlint.engine import run_rules

    selected = options.all_selected()
    findings = run_rules(module_set, selected, None)
    findings = settings.apply_selection(findings, options)
    findings = settings.apply_severity(settings.apply_ignores(findings, options), options)
    outcome = suppress.apply(findings, suppress.source_files(module_set), selected)
    unused = settings.apply_severity(settings.apply_ignores(outcome.unused, options), options)
    kept = sorted(outcome.kept + unused, key=lambda f: f.sort_key())
    return RuleFindings(kept, list(outcome.notes))
