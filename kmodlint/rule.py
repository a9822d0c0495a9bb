"""Rules: metadata, documentation and a pure check function over a module set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    modes: tuple[str, ...]
    scope: str  # "module" or "set"
    check: Callable[[ModuleSet], Iterable[Hit]]
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
    severity: str,
    summary: str,
    modes: tuple[str, ...] = ("binary",),
    scope: str = "module",
    default_enabled: bool = True,
) -> Callable[[Callable[[ModuleSet], Iterable[Hit]]], Rule]:
    def register(check: Callable[[ModuleSet], Iterable[Hit]]) -> Rule:
        if code in REGISTRY or any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        doc = _dedent(check.__doc__ or "")
        if "## Severity" not in doc:
            doc += "\n\n## Severity\n" + SEVERITY_POLICY[Severity(severity)]
        registered = Rule(
            code, name, Severity(severity), summary, modes, scope, check, doc, default_enabled
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
