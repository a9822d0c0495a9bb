"""Bracket matching over tokens: the one matcher of the C front end's token-level passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
OPENING = frozenset("([{")
CLOSING = frozenset(")]}")


def _text(item: object) -> str:
    return item if isinstance(item, str) else item[1]  # type: ignore[index]


def closing_index(
    tokens: Sequence[_T], start: int, text_of: Callable[[_T], str] = _text
) -> int | None:
    """The index of the bracket that closes the one at *start*, any kind of bracket
    counted (cpp's view: `(`, `[`, `{` nest alike); None when it never closes."""
    depth = 0
    for index in range(start, len(tokens)):
        text = text_of(tokens[index])
        if text in OPENING:
            depth += 1
        elif text in CLOSING:
            depth -= 1
            if depth == 0:
                return index
    return None
