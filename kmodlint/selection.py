"""Naming rules and settings: rule selectors (`KM203`, a prefix `KM2`, a name
`gpl-only-symbol`, `ALL`) and the one "did you mean" for every place a user writes a rule
or a settings key (`--select`, `select = [...]`, `kmodlint: ignore[...]`, `explain`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from kmodlint.rule import all_rules


class SelectionError(ValueError):
    pass


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to `word` (difflib's ratio, at least `cutoff`), or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def hint(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """ " (did you mean X?)" to end a message with, or "" when nothing is close."""
    near = did_you_mean(word, choices, cutoff)
    return f" (did you mean {near}?)" if near else ""


def rule_words() -> list[str]:
    """What a user may write for a rule: every name and every code."""
    rules = all_rules()
    return [r.name for r in rules] + [r.code for r in rules]


def resolve_selection(selectors: Iterable[str]) -> set[str]:
    """Selectors are codes (`KM203`), prefixes (`KM2`), names (`gpl-only-symbol`) or ALL."""
    rules = all_rules()
    chosen: set[str] = set()
    for raw in selectors:
        selector = raw.strip()
        if not selector:
            continue
        matched = {
            r.code
            for r in rules
            if selector.upper() == "ALL"
            or r.code.startswith(selector.upper())
            or r.name == selector
        }
        if not matched:
            suggestion = hint(selector, rule_words())
            raise SelectionError(f"unknown rule selector '{selector}'{suggestion}")
        chosen |= matched
    return chosen
