"""`#if` expressions, evaluated as cpp would with the kernel's configuration macros.

Identifiers cpp does not know are 0, as in cpp. `IS_ENABLED()`, `IS_BUILTIN()`,
`IS_MODULE()` and `IS_REACHABLE()` follow include/linux/kconfig.h; `KERNEL_VERSION()`
follows include/generated/uapi/linux/version.h. Anything else that looks like a call of a
function-like macro cannot be known without the headers: ConditionError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kmodlint.cfront.lex.tokenizer import GAPS, scan_tokens

# What of the C tokenizer's tokens an `#if` reads: integers, one character constants,
# identifiers and these operators.
_INTEGER = re.compile(r"(0[xX][0-9a-fA-F]+|\d+)[uUlL]*")
_CHAR = re.compile(r"'(?:\\.|[^'\\])'")
_OPERATORS = frozenset(("&&", "||", "==", "!=", "<=", ">=", "<<", ">>", *"-+*/%<>&|^!~?:(),"))
_BINARY = {
    "||": 1,
    "&&": 2,
    "|": 3,
    "^": 4,
    "&": 5,
    "==": 6,
    "!=": 6,
    "<": 7,
    ">": 7,
    "<=": 7,
    ">=": 7,
    "<<": 8,
    ">>": 8,
    "+": 9,
    "-": 9,
    "*": 10,
    "/": 10,
    "%": 10,
}
_CONFIG_TESTS = ("IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE", "defined")


class ConditionError(ValueError):
    pass


def evaluate(text: str, macros: Mapping[str, str]) -> bool:
    return value_of(text, macros) != 0


def value_of(text: str, macros: Mapping[str, str]) -> int:
    """The integer value of a constant expression (identifiers from `macros`, else 0)."""
    return _Parser(_tokens(text), macros, depth=0).parse_all()


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of each token of an `#if` expression: num, char, id or op; a token
    an `#if` cannot hold is an error at once, before any is evaluated."""
    tokens: list[tuple[str, str]] = []
    for match in scan_tokens(text):
        kind, found = match.lastgroup, match.group()
        if kind in GAPS or kind == "newline":
            continue
        if kind == "number":
            _integer(found, text, tokens)
        elif kind == "char" and _CHAR.fullmatch(found):
            tokens.append(("char", found))
        elif kind == "char" and found[0] == "L" and _CHAR.fullmatch(found[1:]):
            tokens += [("id", "L"), ("char", found[1:])]  # not a constant cpp reads: fails
        elif kind == "ident" and "$" not in found:
            tokens.append(("id", found))
        elif found in _OPERATORS:
            tokens.append(("op", found))
        elif found in ("++", "--", "->"):
            tokens += [("op", found[0]), ("op", found[1])]
        else:
            raise ConditionError(f"cannot read '{text[match.start() :].strip()}'")
    return tokens


def _integer(found: str, text: str, tokens: list[tuple[str, str]]) -> None:
    """An integer constant, its suffix dropped; a longer pp-number (``0x1e+1``) reads as
    far as an integer goes, the rest as the tokens it makes."""
    number = _INTEGER.match(found)
    if number is None:
        raise ConditionError(f"cannot read '{found}' in '{text.strip()}'")
    tokens.append(("num", number.group(1)))
    if number.end() < len(found):
        tokens += _tokens(found[number.end() :])


def _char_value(literal: str) -> int:
    body = literal[1:-1]
    if body.startswith("\\"):
        escapes = {"n": 10, "t": 9, "0": 0, "\\": 92, "'": 39}
        return escapes.get(body[1:], 0)
    return ord(body)


class _Parser:
    def __init__(
        self,
        tokens: list[tuple[str, str]],
        macros: Mapping[str, str],
        depth: int,
        memo: dict[str, int] | None = None,
    ):
        self.tokens = tokens
        self.position = 0
        self.macros = macros
        self.depth = depth
        # A macro's value, once per evaluation: `#define A1 (A0 + A0)` ... `A19` is
        # 2^19 evaluations without it (a 109 s `#if`), 20 with it; the table does not
        # change while one expression is evaluated, so the value is the same each time.
        self.memo: dict[str, int] = {} if memo is None else memo

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ConditionError("unexpected end")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise ConditionError(f"expected '{text}'")

    def parse_all(self) -> int:
        value = self.ternary()
        if self.position != len(self.tokens):
            raise ConditionError("trailing tokens")
        return value

    def ternary(self) -> int:
        condition = self.binary(1)
        if self.peek() == "?":
            self.take()
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return yes if condition else no
        return condition

    def binary(self, level: int) -> int:
        left = self.unary()
        while True:
            op = self.peek()
            precedence = _BINARY.get(op or "")
            if precedence is None or precedence < level:
                return left
            self.take()
            right = self.binary(precedence + 1)
            left = _apply(op or "", left, right)

    def unary(self) -> int:
        kind, text = self.take()
        if text == "!":
            return int(not self.unary())
        if text == "~":
            return ~self.unary()
        if text == "-":
            return -self.unary()
        if text == "+":
            return self.unary()
        if text == "(":
            value = self.ternary()
            self.expect(")")
            return value
        if kind == "num":
            return int(text, 0) if not re.fullmatch(r"0\d+", text) else int(text, 8)
        if kind == "char":
            return _char_value(text)
        if kind == "id":
            return self.identifier(text)
        raise ConditionError(f"unexpected '{text}'")

    def identifier(self, name: str) -> int:
        if name in _CONFIG_TESTS:
            parenthesised = self.peek() == "("
            if parenthesised:
                self.take()
            _, option = self.take()
            if parenthesised:
                self.expect(")")
            return self.config_test(name, option)
        if name == "KERNEL_VERSION":
            self.expect("(")
            parts = [self.ternary()]
            while self.peek() == ",":
                self.take()
                parts.append(self.ternary())
            self.expect(")")
            if len(parts) != 3:
                raise ConditionError("KERNEL_VERSION takes three arguments")
            a, b, c = parts
            return (a << 16) + (b << 8) + (c if c < 255 else 255)
        if name == "__has_include" or self.peek() == "(":
            raise ConditionError(f"function-like macro {name}() needs the headers")
        if name not in self.macros:
            return 0
        value = self.macros[name]
        if not value.strip():
            return 0
        if name in self.memo:
            return self.memo[name]
        if self.depth > 20:
            raise ConditionError(f"{name} expands too deeply")
        result = _Parser(_tokens(value), self.macros, self.depth + 1, self.memo).parse_all()
        self.memo[name] = result
        return result

    def config_test(self, test: str, option: str) -> int:
        builtin = self.macros.get(option, "") not in ("", "0") or option in self.macros
        module = f"{option}_MODULE" in self.macros
        if test == "defined":
            return int(option in self.macros or f"{option}()" in self.macros)
        if test == "IS_BUILTIN":
            return int(builtin)
        if test == "IS_MODULE":
            return int(module)
        if test == "IS_REACHABLE":
            return int(builtin or (module and "MODULE" in self.macros))
        return int(builtin or module)


def _apply(op: str, left: int, right: int) -> int:
    if op == "||":
        return int(bool(left) or bool(right))
    if op == "&&":
        return int(bool(left) and bool(right))
    if op in ("/", "%") and right == 0:
        raise ConditionError("division by zero")
    if op in ("<<", ">>") and right < 0:
        raise ConditionError("negative shift count")
    if op in ("/", "%"):
        # C truncates toward zero (C11 6.5.5): -7 / 2 == -3 and -7 % 2 == -1, where
        # Python's // and % floor (-4 and 1)
        quotient = abs(left) // abs(right)
        if (left < 0) != (right < 0):
            quotient = -quotient
        return quotient if op == "/" else left - right * quotient
    results = {
        "|": lambda: left | right,
        "^": lambda: left ^ right,
        "&": lambda: left & right,
        "==": lambda: int(left == right),
        "!=": lambda: int(left != right),
        "<": lambda: int(left < right),
        ">": lambda: int(left > right),
        "<=": lambda: int(left <= right),
        ">=": lambda: int(left >= right),
        "<<": lambda: left << min(right, 64),
        ">>": lambda: left >> min(right, 64),
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
    }
    return results[op]()
