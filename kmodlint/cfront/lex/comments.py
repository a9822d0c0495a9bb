"""Comments and line continuations, handled as cpp's translation phases 2-3 do: a comment is
one space, a backslash-newline joins two lines."""

from __future__ import annotations

import re

# cpp turns a comment into one space and a backslash-newline into nothing: the lines they
# join are marked with this character, which counts as a line for numbering.
JOINED = "\x01"
# (an L prefix is left out: it changes nothing here, and an optional first character
# makes the regex engine try every position of the text, 10x slower)
_COMMENT_OR_LITERAL = re.compile(
    r"""/(?:/[^\n]*|\*.*?(?:\*/|\Z))|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|\\\r?\n""",
    re.DOTALL,
)


class _LiteralAcrossLines(Exception):
    pass


def blank_comments(text: str) -> str | None:
    """Comments become a space, continuations disappear (both marked where they swallowed
    a newline); None when a string or character literal spans lines, which only the
    tokenizer reads as it should."""
    if "/" not in text and "\\" not in text:
        return text

    def blank(match: re.Match[str]) -> str:
        found = match.group()
        first = found[0]
        if first == "/":
            return " " + JOINED * found.count("\n")
        if first == "\\":
            return JOINED
        if "\n" in found:
            raise _LiteralAcrossLines
        return found

    try:
        return _COMMENT_OR_LITERAL.sub(blank, text)
    except _LiteralAcrossLines:
        return None


def strip_comments(text: str) -> str:
    """Comments become one space (a block comment keeps its newlines, so line numbers
    hold); literals and continuations stay as written."""

    def blank(match: re.Match[str]) -> str:
        found = match.group()
        if found[0] == "/":
            return " " + "\n" * found.count("\n")
        return found

    return _COMMENT_OR_LITERAL.sub(blank, text)


def splice_lines(text: str) -> str:
    """cpp's translation phase 2: a backslash-newline joins two lines."""
    return text.replace("\\\r\n", "").replace("\\\n", "")
