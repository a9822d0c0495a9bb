"""The C tokenizer: text as cpp's preprocessing tokens, the one tokenizer of the C front end.

One regular expression reads every C text kmodlint looks at: a driver's file and its own
headers (the token path, :func:`tokenize`), cpp's output (the AST path's GNU-to-ISO
rewriting, :func:`scan_tokens`), kernel headers' macro bodies (the stub generator,
:func:`token_texts`) and ``#if`` expressions (``preprocess/condition.py``). Identifiers may
hold ``$`` (GCC's default, ``-fdollars-in-identifiers``); a character no token starts with
is a token of kind ``other`` of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_C_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>L?"(?:\\.|[^"\\\n])*"?)
  | (?P<char>L?'(?:\\.|[^'\\\n])*'?)
  | (?P<ident>[A-Za-z_$][\w$]*)
  | (?P<number>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<newline>\n)
  | (?P<continuation>\\\r?\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<punct>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|\.\.\.
      |[-+*/%&|^!~<>=?:;,.(){}\[\]\#@\\`])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# What cpp drops between tokens (a comment is one space, a continuation nothing).
GAPS = frozenset(("space", "continuation", "comment"))


class Token(NamedTuple):
    """A tuple, not a dataclass: a large driver file has 100k of them and tuples are
    built several times faster."""

    kind: str  # ident, number, string, char, punct
    text: str
    line: int
    col: int


def scan_tokens(text: str, start: int = 0) -> Iterator[re.Match[str]]:
    """Every token of *text* from *start*, gaps and newlines included (``match.lastgroup``
    is the kind): the text is the concatenation of the matches."""
    return _C_TOKEN.finditer(text, start)


def tokenize(text: str) -> list[Token]:
    """All tokens with 1-based line and column; NEWLINE tokens kept (directives end there),
    gaps and characters no C token starts with dropped."""
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    for match in _C_TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        value = match.group()
        start = match.start()
        if kind == "newline":
            append(Token("newline", "\n", line, start - line_start + 1))
            line += 1
            line_start = start + 1
            continue
        if kind == "other":
            continue
        if kind not in GAPS:
            append(Token(kind, value, line, start - line_start + 1))
        elif "\n" in value:
            line += value.count("\n")
            line_start = start + value.rindex("\n") + 1
    return tokens


def token_texts(text: str) -> list[str]:
    """The texts of the tokens of a macro body or a conditional (gaps and newlines
    dropped)."""
    return [
        m.group()
        for m in _C_TOKEN.finditer(text)
        if m.lastgroup not in GAPS and m.lastgroup != "newline"
    ]
