"""Rules: metadata, documentation and a pure check function over a module set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet

# What a rule decorates: the module set in, its hits out.
Check = Callable[[ModuleSet], Iterable[Hit]]


class Mode(StrEnum):
    """What a rule can judge: modules read from this kind of input. The values are
    `model.Module.origin`'s, so the engine drops a hit on a module of another origin."""

    BINARY = "binary"  # a .ko/.o file
    SOURCE = "source"  # C sources grouped by Kbuild


class Scope(StrEnum):
    """What a rule's check needs to see (`kmodlint rules --format json` shows it)."""

    MODULE = "module"  # each module on its own
    SET = "set"  # the whole module set: resolution, other modules, the target kernel


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    modes: tuple[Mode, ...]
    scope: Scope
    check: Check
    doc: str
    # False: opt-in, runs only when selected (KM950, as ruff's preview-style rules)
    default_enabled: bool = True

    @property
    def family(self) -> str:
        return self.code[:3]


REGISTRY: dict[str, Rule] = {}

# The severity policy (README "Severity policy"), stated in every rule's documentation.
SEVERITY_POLICY = {
    Severity.ERROR: (
        "`error`: the kernel's build (modpost, `__param_check`, `VERIFY_OCTAL_PERMISSIONS`) "
        "or its loader refuses this, or the module cannot work; the section above cites "
        "where."
    ),
    Severity.WARNING: (
        "`warning`: the module builds and loads, but something is wrong and will bite "
        "later (a user, a reload, a maintainer)."
    ),
    Severity.INFO: "`info`: a note; nothing is wrong with the module itself.",
}


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    modes: tuple[Mode, ...],
    scope: Scope,
    default_enabled: bool = True,
) -> Callable[[Check], Rule]:
    """Registers the decorated check as rule `code`. Everything after `code` and `name`
    is keyword-only and only the opt-in flag has a default: each rule says what it reads
    (`modes`) and what it needs to see (`scope`) rather than inheriting it."""

    def register(check: Check) -> Rule:
        if code in REGISTRY or any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        doc = _dedent(check.__doc__ or "")
        if "## Severity" not in doc:
            doc += "\n\n## Severity\n" + SEVERITY_POLICY[severity]
        registered = Rule(
            code=code,
            name=name,
            severity=severity,
            summary=summary,
            modes=modes,
            scope=scope,
            check=check,
            doc=doc,
            default_enabled=default_enabled,
        )
        REGISTRY[code] = registered
        return registered

    return register


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)


def all_rules() -> list[Rule]:
    import kmodlint.rules  # noqa: F401  (registers every rule family)

    return sorted(REGISTRY.values(), key=lambda r: r.code)


def find_rule(selector: str) -> Rule | None:
    for candidate in all_rules():
        if selector.upper() == candidate.code or selector == candidate.name:
            return candidate
    return None
