"""Bracket matching over tokens: the one matcher of the C front end's token-level passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
OPENING = frozenset("([{")
CLOSING = frozenset(")]}")
PARENTHESES = (frozenset("("), frozenset(")"))


def _text(item: object) -> str:
    return item if isinstance(item, str) else item[1]  # type: ignore[index]


def split_top_level(
    tokens: Sequence[str], separator: str, keep_separator: bool = False
) -> list[list[str]]:
    """*tokens* cut at each *separator* outside every bracket (macro arguments at `,`,
    statements at `;`); with *keep_separator* it ends its piece. *tokens* may be a string:
    its characters are the tokens. Always at least one (maybe empty) piece."""
    pieces: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        if token in OPENING:
            depth += 1
        elif token in CLOSING:
            depth -= 1
        if token == separator and depth == 0:
            if keep_separator:
                pieces[-1].append(token)
            pieces.append([])
        else:
            pieces[-1].append(token)
    return pieces


def closing_index(
    tokens: Sequence[_T],
    start: int,
    text_of: Callable[[_T], str] = _text,
    opening: frozenset[str] = OPENING,
    closing: frozenset[str] = CLOSING,
) -> int | None:
    """The index of the bracket that closes the one at *start*, every kind of bracket
    counted (cpp's view: `(`, `[`, `{` nest alike; or only *opening*/*closing*); None when
    it never closes. *tokens* may be a string: its characters are the tokens."""
    depth = 0
    for index in range(start, len(tokens)):
        text = text_of(tokens[index])
        if text in opening:
            depth += 1
        elif text in closing:
            depth -= 1
            if depth == 0:
                return index
    return None
