"""Tokens of one C file as the compiler would see them after `#if` selection.

The token path never expands macros: it keeps the tokens of the branches the configuration
selects (`#if`, `#ifdef`, `IS_ENABLED()`, ...), records object-like `#define`s of the file
itself (for later `#if`s and for DEFAULT_SYMBOL_NAMESPACE) and the quoted `#include`s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kmodlint.cfront.lex.comments import JOINED, blank_comments
from kmodlint.cfront.lex.tokenizer import Token, tokenize
from kmodlint.cfront.preprocess.condition import ConditionError, evaluate
from kmodlint.cfront.preprocess.header_macros import HeaderMacros


@dataclass(slots=True)
class LexedFile:
    tokens: list[Token]  # active code tokens, directives removed
    # DEFAULT_SYMBOL_NAMESPACE through the file (and its own headers): the token index a
    # #define/#undef takes effect at, the value ("" when undefined), and whether it came
    # before the file's first `#include <...>` (6.1's export.h reads it there, once).
    namespace_defines: list[tuple[int, str, bool]] = field(default_factory=list)
    local_includes: list[str] = field(default_factory=list)
    # Function-like macros of the file and its own headers: name -> (parameters, body).
    functions: dict[str, tuple[list[str], list[Token]]] = field(default_factory=dict)
    # Object-like macro values at the end of the file (file, own headers, predefined).
    table: dict[str, str] = field(default_factory=dict)
    seen_system_include: bool = False  # the file itself met an `#include <...>`
    # `#if` expressions that could not be evaluated: (line, text); counted as false.
    unevaluated: list[tuple[int, str]] = field(default_factory=list)
    # `#include <...>` met so far (the file's and its own headers'), and the kernel headers'
    # macros they make visible to `#if` (None: not known, unknown names are 0).
    system_includes: list[str] = field(default_factory=list)
    # Quoted includes applied so far: bounded (MAX_INCLUDES), since a file including itself
    # k times (no guard) is k^9 applications at the depth limit; past it, the rest is not
    # applied and `include_budget_hit` says so.
    includes_applied: int = 0
    include_budget_hit: bool = False
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


IncludeReader = Callable[[str], str | None]
# Quoted includes one file may apply, nested ones counted: real drivers apply a few dozen
# (i40e's files ~30, with their guards); a self-including file without a guard would
# otherwise apply k^9 of them (8 self-includes: > 200 s).
MAX_INCLUDES = 2000


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
    _lex_file(text, table, result, read_include)
    return result


def _lex_file(
    text: str, table: dict[str, str], result: LexedFile, read_include: IncludeReader | None
) -> None:
    """The file itself: its active code tokens are kept, its directives applied."""
    # Each frame: (this branch active, some branch already taken, parent active)
    stack: list[tuple[bool, bool, bool]] = []
    active = True
    tokens = tokenize(text)
    for is_directive, start, end in _lines(tokens):
        if not is_directive:
            if active:
                result.tokens.extend(tokens[start:end])
            continue
        words = tokens[start + 1 : end]
        active = _directive(words, tokens[start].line, table, stack, active, result)
        if active and len(words) > 1 and words[0].text == "include":
            _include(words[1:], table, result, read_include, depth=0)


def _lines(tokens: list[Token]) -> Iterator[tuple[bool, int, int]]:
    """(is a directive, start, end) of each line's tokens, NEWLINE tokens left out: a line
    whose first token is '#' is a directive, as cpp has it."""
    index, count = 0, len(tokens)
    while index < count:
        end = index
        while end < count and tokens[end].kind != "newline":
            end += 1
        if end > index:
            yield tokens[index].text == "#", index, end
        index = end + 1


def _include(
    words: list[Token],
    table: dict[str, str],
    result: LexedFile,
    read_include: IncludeReader | None,
    depth: int,
) -> None:
    if words[0].text == "<":
        if depth == 0:
            result.seen_system_include = True
        name = "".join(t.text for t in words[1:]).split(">", 1)[0]
        if name and name not in result.system_includes:
            result.system_includes.append(name)
        return
    if words[0].kind != "string" or read_include is None or depth > 8:
        return
    if result.includes_applied >= MAX_INCLUDES:
        result.include_budget_hit = True
        return
    result.includes_applied += 1
    included = read_include(words[0].text.strip('"'))
    if included is not None:
        _apply_header(_PROGRAMS.get(included), table, result, read_include, depth + 1)


# A driver's own headers are #included by most of its files (i40e_register.h by all of
# i40e, amdgpu's register headers of 100k #defines by dozens of files). Only their
# directives matter where they are included, so each is compiled once per process to a
# short program: runs of plain #defines become one dict, applied with one update.
_COND, _DEFINES, _FUNCTION, _UNDEF, _INCLUDE_OP = range(5)
_CONDITIONALS = frozenset(("if", "ifdef", "ifndef", "elif", "elifdef", "elifndef", "else", "endif"))
Program = list[tuple[Any, ...]]  # (opcode, operands...): see _ProgramBuilder


def _compile_header(text: str) -> Program:
    """The header's directives as a program. Read line by line, with comments blanked and
    continuations joined first, so the plain ``#define NAME 0x1234`` lines that make up
    register headers need no tokenizing; any other directive line is tokenized alone."""
    blanked = blank_comments(text)
    if blanked is None:
        return _compile_tokens(tokenize(text))
    builder = _ProgramBuilder()
    line_no = 1
    for physical in blanked.split("\n"):
        line = physical.replace(JOINED, " ") if JOINED in physical else physical
        here = line_no
        line_no += 1 + physical.count(JOINED)
        stripped = line.lstrip(" \t\r\f\v")
        if not stripped.startswith("#"):
            continue
        simple = _SIMPLE_DEFINE.match(stripped)
        if simple:
            builder.define(simple.group(1), simple.group(2) or "")
            continue
        tokens = tokenize(stripped)
        if tokens and tokens[0].text == "#":
            builder.directive([Token(t.kind, t.text, here, t.col) for t in tokens[1:]], here)
    return builder.finish()


# One token after the name, a number or a name: its value is that token as it stands.
_SIMPLE_DEFINE = re.compile(
    r"#[ \t\r\f\v]*define[ \t\r\f\v]+([A-Za-z_]\w*)"
    r"(?:[ \t\r\f\v]+((?:0[xX][0-9A-Fa-f]+|\d+)[uUlL]*|[A-Za-z_]\w*))?[ \t\r\f\v]*$"
)


def _compile_tokens(tokens: list[Token]) -> Program:
    builder = _ProgramBuilder()
    for is_directive, start, end in _lines(tokens):
        if is_directive:
            builder.directive(tokens[start + 1 : end], tokens[start].line)
    return builder.finish()


class _ProgramBuilder:
    def __init__(self) -> None:
        self.program: Program = []
        self.batch: dict[str, str] = {}

    def define(self, name: str, value: str) -> None:
        self.batch.pop(name, None)  # keep the order of a redefinition
        self.batch[name] = value

    def flush(self) -> None:
        if self.batch:
            self.program.append((_DEFINES, self.batch))
            self.batch = {}

    def directive(self, words: list[Token], line: int) -> None:
        if not words:
            return
        name, rest = words[0].text, words[1:]
        if name == "define" and rest and rest[0].kind == "ident":
            parsed = _parse_define(rest)
            if isinstance(parsed, str):
                self.define(rest[0].text, parsed)
                return
            self.flush()
            self.program.append((_FUNCTION, rest[0].text, parsed))
            return
        self.flush()
        if name in _CONDITIONALS:
            self.program.append((_COND, line, name, rest))
        elif name == "undef" and rest:
            self.program.append((_UNDEF, rest[0].text))
        elif name == "include" and rest:
            self.program.append((_INCLUDE_OP, rest))

    def finish(self) -> Program:
        self.flush()
        return self.program


class _ProgramCache:
    """Compiled headers, least recently used first out, bounded by the size of their text
    (a count bound let amdgpu's register headers hold gigabytes). Keyed by the text's hash
    and length, so the cache does not keep the text itself alive."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.entries: dict[tuple[int, int], Program] = {}

    def get(self, text: str) -> Program:
        key = (hash(text), len(text))
        program = self.entries.pop(key, None)
        if program is None:
            program = _compile_header(text)
            self.used += len(text)
            while self.used > self.budget and self.entries:
                oldest = next(iter(self.entries))
                del self.entries[oldest]
                self.used -= oldest[1]
        self.entries[key] = program  # most recent last
        return program


# A compiled program takes about 1.5x its text; 96 MB of headers is ~150 MB per worker.
_PROGRAMS = _ProgramCache(budget=96 * 1024 * 1024)


def _apply_header(
    program: Program,
    table: dict[str, str],
    result: LexedFile,
    read_include: IncludeReader | None,
    depth: int,
) -> None:
    stack: list[tuple[bool, bool, bool]] = []
    active = True
    for op in program:
        kind = op[0]
        if kind == _COND:
            active = _conditional(op[2], op[3], op[1], table, stack, active, result)
        elif not active:
            continue
        elif kind == _DEFINES:
            table.update(op[1])
            if "DEFAULT_SYMBOL_NAMESPACE" in op[1]:
                _namespace_change(result, op[1]["DEFAULT_SYMBOL_NAMESPACE"])
        elif kind == _FUNCTION:
            _define_function(table, result, op[1], op[2])
        elif kind == _UNDEF:
            _undef(table, result, op[1])
        else:
            _include(op[1], table, result, read_include, depth)


def _parse_define(rest: list[Token]) -> str | tuple[list[str], list[Token]] | None:
    """``#define`` after the word: the value of an object-like macro, or the parameters
    and body of a function-like one (a '(' right after the name; None when its parameter
    list never closes)."""
    macro = rest[0].text
    if len(rest) > 1 and rest[1].text == "(" and rest[1].col == rest[0].col + len(macro):
        close = next((i for i, t in enumerate(rest) if t.text == ")"), None)
        if close is None:
            return None
        params = [t.text for t in rest[2:close] if t.kind == "ident" or t.text == "..."]
        return (params, rest[close + 1 :])
    return " ".join(t.text for t in rest[1:])


def _define_function(
    table: dict[str, str],
    result: LexedFile,
    macro: str,
    parsed: tuple[list[str], list[Token]] | None,
) -> None:
    table.pop(macro, None)
    table[f"{macro}()"] = ""  # known to exist, value unknown
    if parsed is not None:
        result.functions[macro] = parsed


def _undef(table: dict[str, str], result: LexedFile, name: str) -> None:
    table.pop(name, None)
    result.undefined.add(name)
    result.functions.pop(name, None)
    if name == "DEFAULT_SYMBOL_NAMESPACE":
        _namespace_change(result, "")


def _namespace_change(result: LexedFile, value: str) -> None:
    result.namespace_defines.append((len(result.tokens), value, not result.seen_system_include))


def _conditional(
    name: str,
    rest: list[Token],
    line: int,
    table: dict[str, str],
    stack: list[tuple[bool, bool, bool]],
    active: bool,
    result: LexedFile,
) -> bool:
    if name in ("if", "ifdef", "ifndef"):
        if not active:
            stack.append((False, True, False))
            return False
        taken = _condition(name, rest, line, table, result)
        stack.append((taken, taken, True))
        return taken
    if not stack:
        return active
    if name == "endif":
        return stack.pop()[2]
    _, done, parent = stack.pop()
    if name == "else":
        taken = parent and not done
        stack.append((taken, True, parent))
        return taken
    kind = {"elif": "if", "elifdef": "ifdef", "elifndef": "ifndef"}[name]
    taken = parent and not done and _condition(kind, rest, line, table, result)
    stack.append((taken, done or taken, parent))
    return taken


def _directive(
    words: list[Token],
    line: int,
    table: dict[str, str],
    stack: list[tuple[bool, bool, bool]],
    active: bool,
    result: LexedFile,
) -> bool:
    """One directive of the file itself."""
    if not words:
        return active
    name = words[0].text
    rest = words[1:]
    if name in _CONDITIONALS:
        return _conditional(name, rest, line, table, stack, active, result)
    if not active:
        return active
    if name == "define" and rest and rest[0].kind == "ident":
        parsed = _parse_define(rest)
        if isinstance(parsed, str):
            table[rest[0].text] = parsed
            if rest[0].text == "DEFAULT_SYMBOL_NAMESPACE":
                _namespace_change(result, parsed)
        else:
            _define_function(table, result, rest[0].text, parsed)
    elif name == "undef" and rest:
        _undef(table, result, rest[0].text)
    elif name == "include" and rest and rest[0].kind == "string":
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
