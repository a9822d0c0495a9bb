"""The arguments of a macro call on the token path, and the names and strings they hold."""

from __future__ import annotations

from kmodlint.cfront.facts import (
    Loc,
)
from kmodlint.cfront.lex.tokenizer import Token, tokenize


def macro_arguments(tokens: list[Token], open_index: int) -> tuple[list[list[Token]], int]:
    """Split the parenthesised argument list starting at `open_index`; return the
    arguments and the index after the closing parenthesis."""
    args: list[list[Token]] = [[]]
    depth = 0
    index = open_index
    while index < len(tokens):
        text = tokens[index].text
        if text in "([{" and len(text) == 1:
            depth += 1
            if depth > 1:
                args[-1].append(tokens[index])
        elif text in ")]}" and len(text) == 1:
            depth -= 1
            if depth == 0:
                return args, index + 1
            args[-1].append(tokens[index])
        elif text == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(tokens[index])
        index += 1
    return args, index


def string_value(arg: list[Token]) -> str | None:
    """Adjacent string literals concatenated, as the compiler does; None if not a string."""
    if not arg or any(t.kind != "string" for t in arg):
        return None
    return "".join(_unescape(t.text.lstrip("L")[1:-1]) for t in arg)


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body


def name_of(arg: list[Token]) -> str | None:
    return arg[0].text if len(arg) == 1 and arg[0].kind == "ident" else None


def location(path: str, token: Token) -> Loc:
    return Loc(path, token.line, token.col)


def resolve_name(arg: list[Token], table: dict[str, str]) -> str | None:
    """An identifier argument, followed through object-like renames of the file and its
    own headers (`#define ieee80211_rx ieee80211_rx_rsl`)."""
    name = name_of(arg)
    for _ in range(8):
        if name is None or name not in table:
            return name
        value = table[name].strip()
        if not value.isidentifier() or value == name:
            return name
        name = value
    return name


def tokenize_value(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.kind != "newline"]
