"""The C tokenizer: a file's text as C tokens (cpp's preprocessing tokens), with line and
column, comments and line continuations dropped as cpp drops them."""

from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>L?"(?:\\.|[^"\\\n])*"?)
  | (?P<char>L?'(?:\\.|[^'\\\n])*'?)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<number>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<newline>\n)
  | (?P<continuation>\\\r?\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<punct>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|\.\.\.
      |[-+*/%&|^!~<>=?:;,.(){}\[\]\#@\\$`])
    """,
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    """A tuple, not a dataclass: a large driver file has 100k of them and tuples are
    built several times faster."""

    kind: str  # ident, number, string, char, punct
    text: str
    line: int
    col: int


def tokenize(text: str) -> list[Token]:
    """All tokens with 1-based line and column; NEWLINE tokens kept (directives end there)."""
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    skipped = ("space", "continuation", "comment")
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        value = match.group()
        start = match.start()
        if kind == "newline":
            append(Token("newline", "\n", line, start - line_start + 1))
            line += 1
            line_start = start + 1
            continue
        if kind not in skipped:
            append(Token(kind, value, line, start - line_start + 1))
        elif "\n" in value:
            line += value.count("\n")
            line_start = start + value.rindex("\n") + 1
    return tokens


_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>L?"(?:\\.|[^"\\\n])*"?)
    |(?P<chr>L?'(?:\\.|[^'\\\n])*'?)
    |(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
    |(?P<id>[A-Za-z_$][\w$]*)
    |(?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:;,.()\[\]{}\#])
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def token_texts(text: str) -> list[str]:
    """C tokens of a macro body or a conditional (whitespace and comments dropped)."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        if m.lastgroup != "ws":
            out.append(m.group())
    return out
