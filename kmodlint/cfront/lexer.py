"""Tokens of one C file as the compiler would see them after `#if` selection.

The token path never expands macros: it keeps the tokens of the branches the configuration
selects (`#if`, `#ifdef`, `IS_ENABLED()`, ...), records object-like `#define`s of the file
itself (for later `#if`s and for DEFAULT_SYMBOL_NAMESPACE) and the quoted `#include`s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from kmodlint.cfront.condition import ConditionError, evaluate
from kmodlint.cfront.header_macros import HeaderMacros

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


@dataclass(slots=True)
class LexedFile:
    tokens: list[Token]  # active code tokens, directives removed
    # Object-like macros defined by the file, with the token index they take effect at.
    defines: list[tuple[int, str, str]] = field(default_factory=list)
    local_includes: list[str] = field(default_factory=list)
    # Function-like macros of the file and its own headers: name -> (parameters, body).
    functions: dict[str, tuple[list[str], list[Token]]] = field(default_factory=dict)
    # Object-like macro values at the end of the file (file, own headers, predefined).
    table: dict[str, str] = field(default_factory=dict)
    # How many `defines` came before the first `#include <...>`: 6.1's export.h reads
    # DEFAULT_SYMBOL_NAMESPACE when it is included, i.e. at that point.
    first_system_include: int | None = None
    # `#if` expressions that could not be evaluated: (line, text); counted as false.
    unevaluated: list[tuple[int, str]] = field(default_factory=list)
    # `#include <...>` met so far (the file's and its own headers'), and the kernel headers'
    # macros they make visible to `#if` (None: not known, unknown names are 0).
    system_includes: list[str] = field(default_factory=list)
    headers: HeaderMacros | None = None
    undefined: set[str] = field(default_factory=set)  # #undef'd by the file: not a header's


class _WithHeaders(Mapping[str, str]):
    """The file's macro table, then the macros of the kernel headers it includes. CONFIG_*
    names are the configuration's alone, and a name the file #undef'd stays undefined."""

    def __init__(self, table: dict[str, str], lexed: LexedFile) -> None:
        self.table = table
        self.lexed = lexed

    def __getitem__(self, name: str) -> str:
        if name in self.table:
            return self.table[name]
        lexed = self.lexed
        if (
            lexed.headers is None
            or not lexed.system_includes
            or name.startswith("CONFIG_")
            or name.removesuffix("()") in lexed.undefined
        ):
            raise KeyError(name)
        value = lexed.headers.lookup(name, lexed.system_includes)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


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


IncludeReader = Callable[[str], str | None]


@lru_cache(maxsize=512)
def _header_tokens(text: str) -> list[Token]:
    return tokenize(text)


def lex(
    text: str,
    macros: dict[str, str],
    read_include: IncludeReader | None = None,
    headers: HeaderMacros | None = None,
) -> LexedFile:
    """Select the active tokens. `macros` holds the predefined values (configuration,
    Kbuild -D); the file's own #define/#undef update a copy as they are met.
    `read_include` returns the text of a quoted include (the driver's own headers), whose
    directives then take effect where it is included, as in cpp."""
    table = dict(macros)
    result = LexedFile(tokens=[], table=table, headers=headers)
    _lex_into(text, table, result, read_include, depth=0, keep_tokens=True)
    return result


def _lex_into(
    text: str,
    table: dict[str, str],
    result: LexedFile,
    read_include: IncludeReader | None,
    depth: int,
    keep_tokens: bool,
) -> None:
    # Each frame: (this branch active, some branch already taken, parent active)
    stack: list[tuple[bool, bool, bool]] = []
    active = True
    # A driver's own headers are #included by most of its files (i40e_register.h by all of
    # i40e): tokenize each once per process. The text is the reader's cached string, so the
    # lookup hashes it once.
    tokens = tokenize(text) if depth == 0 else _header_tokens(text)
    index, count = 0, len(tokens)
    at_line_start = True
    while index < count:
        token = tokens[index]
        if token.kind == "newline":
            at_line_start = True
            index += 1
            continue
        if at_line_start and token.text == "#":
            end = index + 1
            while end < count and tokens[end].kind != "newline":
                end += 1
            words = tokens[index + 1 : end]
            active = _directive(words, token.line, table, stack, active, result, keep_tokens)
            if active and len(words) > 1 and words[0].text == "include":
                _include(words[1:], table, result, read_include, depth, keep_tokens)
            index = end
            continue
        at_line_start = False
        if active and keep_tokens:
            result.tokens.append(token)
        index += 1


def _include(
    words: list[Token],
    table: dict[str, str],
    result: LexedFile,
    read_include: IncludeReader | None,
    depth: int,
    keep_tokens: bool,
) -> None:
    if words[0].text == "<":
        if keep_tokens and result.first_system_include is None:
            result.first_system_include = len(result.defines)
        name = "".join(t.text for t in words[1:]).split(">", 1)[0]
        if name and name not in result.system_includes:
            result.system_includes.append(name)
        return
    if words[0].kind != "string" or read_include is None or depth > 8:
        return
    included = read_include(words[0].text.strip('"'))
    if included is not None:
        _lex_into(included, table, result, read_include, depth + 1, keep_tokens=False)


def _directive(
    words: list[Token],
    line: int,
    table: dict[str, str],
    stack: list[tuple[bool, bool, bool]],
    active: bool,
    result: LexedFile,
    own_file: bool = True,
) -> bool:
    if not words:
        return active
    name = words[0].text
    rest = words[1:]
    if name in ("if", "ifdef", "ifndef"):
        if not active:
            stack.append((False, True, False))
            return False
        taken = _condition(name, rest, line, table, result)
        stack.append((taken, taken, True))
        return taken
    if name == "elif":
        if not stack:
            return active
        _, done, parent = stack.pop()
        taken = parent and not done and _condition("if", rest, line, table, result)
        stack.append((taken, done or taken, parent))
        return taken
    if name in ("elifdef", "elifndef"):
        if not stack:
            return active
        _, done, parent = stack.pop()
        kind = "ifdef" if name == "elifdef" else "ifndef"
        taken = parent and not done and _condition(kind, rest, line, table, result)
        stack.append((taken, done or taken, parent))
        return taken
    if name == "else":
        if not stack:
            return active
        _, done, parent = stack.pop()
        taken = parent and not done
        stack.append((taken, True, parent))
        return taken
    if name == "endif":
        if not stack:
            return active
        _, _, parent = stack.pop()
        return parent
    if not active:
        return active
    if name == "define" and rest and rest[0].kind == "ident":
        macro = rest[0].text
        function_like = (
            len(rest) > 1 and rest[1].text == "(" and rest[1].col == (rest[0].col + len(macro))
        )
        if not function_like:
            value = " ".join(t.text for t in rest[1:])
            table[macro] = value
            result.defines.append((len(result.tokens), macro, value))
        else:
            table.pop(macro, None)
            table[f"{macro}()"] = ""  # known to exist, value unknown
            close = next((i for i, t in enumerate(rest) if t.text == ")"), None)
            if close is not None:
                params = [t.text for t in rest[2:close] if t.kind == "ident" or t.text == "..."]
                result.functions[macro] = (params, rest[close + 1 :])
    elif name == "undef" and rest:
        table.pop(rest[0].text, None)
        result.undefined.add(rest[0].text)
        result.functions.pop(rest[0].text, None)
        result.defines.append((len(result.tokens), rest[0].text, ""))
    elif name == "include" and rest and rest[0].kind == "string" and own_file:
        result.local_includes.append(rest[0].text.strip('"'))
    return active


def _condition(
    kind: str, words: list[Token], line: int, table: dict[str, str], result: LexedFile
) -> bool:
    visible = _WithHeaders(table, result)
    if kind in ("ifdef", "ifndef"):
        defined = bool(words) and (words[0].text in visible or f"{words[0].text}()" in visible)
        return defined if kind == "ifdef" else not defined
    text = " ".join(t.text for t in words)
    try:
        return evaluate(text, visible)
    except ConditionError:
        pass
    try:
        # a header's value the evaluator cannot read (a cast, a function-like macro):
        # decide as before, with unknown names 0
        return evaluate(text, table)
    except ConditionError:
        result.unevaluated.append((line, text))
        return False
