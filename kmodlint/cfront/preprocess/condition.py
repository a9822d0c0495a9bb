"""`#if` expressions, the one evaluator: C's preprocessor integer model, three-valued.

Every value of an `#if` is an `intmax_t` or a `uintmax_t` (C11 6.10.1p4), 64 bits on the
kernel's targets: a constant with a `u`/`U` suffix, or too big for `intmax_t`, is unsigned;
when either operand of an arithmetic or comparison operator is unsigned both are (the usual
arithmetic conversions, C11 6.3.1.8); `/` and `%` truncate toward zero (C11 6.5.5); `!`,
the comparisons, `&&` and `||` give a signed 1 or 0; `?:` gives the common type of its arms
(C11 6.5.15p5); a shift has the type of its left operand (C11 6.5.7p3). The operand of
`&&`, `||` and `?:` that C does not evaluate raises no error (`0 && 1 / 0` is 0, as in GCC).

What the identifiers stand for is a `Names`:

- `value_of`/`evaluate` read them as cpp does with a table of macros (`_MacroTable`):
  a name cpp does not know is 0; `IS_ENABLED()`, `IS_BUILTIN()`, `IS_MODULE()` and
  `IS_REACHABLE()` follow include/linux/kconfig.h; a call of any other function-like macro
  cannot be known without the headers: ConditionError.
- `value_or_unknown`/`truth_or_unknown` let the caller say a name's value is UNKNOWN (the
  stub generator reading the headers' `#if` lines, stubenv/conditions.py): the result is
  UNKNOWN unless it is the same whatever the unknown is (`0 && unknown` is 0,
  `1 || unknown` is 1, `unknown ? 3 : 3` is 3).

`KERNEL_VERSION()` follows include/generated/uapi/linux/version.h in both.
"""

from __future__ import annotations

import enum
import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from kmodlint.cfront.lex.tokenizer import GAPS, scan_tokens

# What of the C tokenizer's tokens an `#if` reads: integers, one character constants,
# identifiers and these operators.
# (`0b101` is GCC's, accepted by its cpp.)
_INTEGER = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)([uUlL]*)")
# The suffixes of C11 6.4.4.1 (`lL` and `uu` are not one): u, l, ll and a u with either.
_SUFFIX = re.compile(r"(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?")
_CHAR = re.compile(r"'(?:\\.[^']*|[^'\\])'")
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
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "|": operator.or_,
    "^": operator.xor,
    "&": operator.and_,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}

# intmax_t and uintmax_t on the kernel's targets (GCC: 64 bits on x86-64, arm64, ...)
_WIDTH = 64
_MODULUS = 1 << _WIDTH
_INTMAX_MAX = (1 << (_WIDTH - 1)) - 1
# how deep macro bodies may refer to macros (cpp mode); a chain this long is a loop
_MAX_DEPTH = 20


class ConditionError(ValueError):
    """The expression cannot be evaluated: not C, C leaves it undefined, or it needs what
    the caller does not have (a function-like macro's definition)."""


class UndefinedArithmetic(ConditionError):
    """Division by zero or a negative shift count: undefined in C (C11 6.5.5p5, 6.5.7p3);
    an error only in an operand C evaluates."""


@dataclass(frozen=True, slots=True)
class PPNumber:
    """One `#if` value: `number` is in the range of its type, [-2^63, 2^63) for intmax_t,
    [0, 2^64) for uintmax_t."""

    number: int
    unsigned: bool = False


class Unknown(enum.Enum):
    """A value the caller's `Names` cannot know (a macro only the headers define)."""

    UNKNOWN = "unknown"


UNKNOWN: Final = Unknown.UNKNOWN
Result: TypeAlias = PPNumber | Unknown
_TRUE: Final = PPNumber(1)
_FALSE: Final = PPNumber(0)


class Names(Protocol):
    """What the identifiers of an `#if` expression stand for."""

    def value(self, name: str) -> Result:
        """An identifier not followed by `(` (an object-like macro, or 0)."""

    def is_defined(self, name: str) -> bool | Unknown:
        """`defined NAME` / `defined(NAME)`."""

    def config_test(self, test: str, option: str) -> bool | Unknown:
        """`IS_ENABLED(CONFIG_X)` and its kin from include/linux/kconfig.h."""

    def call(self, name: str) -> Result:
        """A call of a function-like macro (its arguments are skipped unread)."""


def evaluate(text: str, macros: Mapping[str, str]) -> bool:
    return value_of(text, macros) != 0


def value_of(text: str, macros: Mapping[str, str]) -> int:
    """The integer value of a constant expression (identifiers from `macros`, else 0), as a
    Python int: an unsigned result is in [0, 2^64), a signed one in [-2^63, 2^63)."""
    result = value_or_unknown(text, _MacroTable(macros, depth=0, memo={}))
    if isinstance(result, Unknown):  # a _MacroTable knows every name
        raise ConditionError(f"unknown value in '{text.strip()}'")
    return result.number


def value_or_unknown(text: str, names: Names) -> Result:
    """The value of an `#if` expression whose identifiers `names` resolves, or UNKNOWN when
    it depends on a value `names` does not know. ConditionError when it is no expression or
    its evaluation is undefined in C."""
    return _Parser(_tokens(text), names).parse_all()


def truth_or_unknown(text: str, names: Names) -> bool | Unknown:
    """Whether cpp takes the `#if` (nonzero), or UNKNOWN."""
    return _truth(value_or_unknown(text, names))


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
    """An integer constant with its suffix; a longer pp-number (``0x1e+1``) reads as far
    as an integer goes, the rest as the tokens it makes."""
    number = _INTEGER.match(found)
    if number is None:
        raise ConditionError(f"cannot read '{found}' in '{text.strip()}'")
    tokens.append(("num", number.group()))
    if number.end() < len(found):
        tokens += _tokens(found[number.end() :])


def _constant(text: str) -> PPNumber:
    """An integer constant's value and type. Unsigned with a `u` suffix, or when it does not
    fit intmax_t (C11 6.4.4.1p5; GCC: "integer constant is so large that it is unsigned");
    a value past uintmax_t keeps its low 64 bits, as GCC does after "integer constant is too
    large for its type"."""
    number = _INTEGER.fullmatch(text)
    if number is None or not _SUFFIX.fullmatch(number.group(2)):
        raise ConditionError(f"invalid integer constant '{text}'")
    digits = number.group(1)
    if digits[:2] in ("0x", "0X", "0b", "0B") or digits == "0":
        value = int(digits, 0)
    elif digits.startswith("0"):
        if not re.fullmatch(r"[0-7]+", digits):
            raise ConditionError(f"invalid digit in octal constant '{text}'")
        value = int(digits, 8)
    else:
        value = int(digits)
    unsigned = "u" in number.group(2).lower() or value > _INTMAX_MAX
    return _typed(value, unsigned)


_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27}


def _char_constant(literal: str) -> PPNumber:
    """A one-character constant: an int; a byte above 127 is negative, as `char` is signed
    on x86 and GCC's cpp reads it so (`'\\377' == -1`)."""
    body = literal[1:-1]
    if not body.startswith("\\") and not body.isascii():
        # more than one byte in the source's UTF-8: GCC reads a multi-character constant
        raise ConditionError(f"multi-byte character constant {literal}")
    if not body.startswith("\\"):
        code = ord(body)
    elif re.fullmatch(r"\\[0-7]{1,3}", body):
        code = int(body[1:], 8)
    elif re.fullmatch(r"\\x[0-9a-fA-F]+", body):
        code = int(body[2:], 16)
    elif len(body) == 2:
        code = _ESCAPES.get(body[1], ord(body[1]))  # \\ \' \" \? are the character itself
    else:
        raise ConditionError(f"cannot read the character constant {literal}")
    if code > 0xFF:
        raise ConditionError(f"character constant {literal} out of range")
    return PPNumber(code - 0x100 if code > 0x7F else code)


def _typed(value: int, unsigned: bool) -> PPNumber:
    """`value` converted to intmax_t or uintmax_t: modulo 2^64 (C11 6.3.1.3p2 for unsigned).
    Signed overflow is undefined in C (C11 6.5p5); this wraps it to 64 bits as GCC's cpp
    does (with "integer overflow in preprocessor expression")."""
    value %= _MODULUS
    if not unsigned and value > _INTMAX_MAX:
        value -= _MODULUS
    return PPNumber(value, unsigned)


def _truth(result: Result) -> bool | Unknown:
    return result if isinstance(result, Unknown) else result.number != 0


def _flag(truth: bool | Unknown) -> Result:
    """A signed 1 or 0 (`!`, comparisons, `&&`, `||`, `defined`: C11 6.5.3.3p5, 6.5.8p6)."""
    return truth if isinstance(truth, Unknown) else (_TRUE if truth else _FALSE)


def _unary(op: str, operand: Result) -> Result:
    if isinstance(operand, Unknown):
        return UNKNOWN
    if op == "!":
        return _flag(operand.number == 0)
    if op == "-":
        return _typed(-operand.number, operand.unsigned)
    if op == "~":
        return _typed(~operand.number, operand.unsigned)
    return operand


def _logical(op: str, left: Result, right: Result) -> Result:
    """`&&`/`||`: known as soon as one side decides it, whatever the other (an unknown
    `x && 0` is 0 too)."""
    decides = op == "||"  # the side's truth that decides alone
    sides = (_truth(left), _truth(right))
    if decides in sides:
        return _flag(decides)
    if UNKNOWN in sides:
        return UNKNOWN
    return _flag(not decides)


def _choose(condition: bool | Unknown, yes: Result, no: Result) -> Result:
    """`condition ? yes : no` in the common type of both arms (C11 6.5.15p5: `1 ? -1 : 0u`
    is 2^64 - 1); with an unknown condition, known only when both arms are equal."""
    if isinstance(yes, Unknown) or isinstance(no, Unknown):
        return UNKNOWN
    unsigned = yes.unsigned or no.unsigned
    yes, no = _typed(yes.number, unsigned), _typed(no.number, unsigned)
    if isinstance(condition, Unknown):
        return yes if yes == no else UNKNOWN
    return yes if condition else no


def _arithmetic(op: str, left: PPNumber, right: PPNumber) -> PPNumber:
    """A binary operator other than `&&`/`||` on known values. UndefinedArithmetic for a
    zero divisor or a negative shift count (GCC shifts the other way; C leaves it
    undefined, and this evaluator does not guess)."""
    if op in ("<<", ">>"):
        # the type of the left operand (C11 6.5.7p3); a count of 64 or more leaves 0 (or -1
        # for a negative signed value shifted right), as GCC's cpp does
        if right.number < 0:
            raise UndefinedArithmetic("negative shift count")
        count = min(right.number, _WIDTH)
        if op == "<<":
            return _typed(left.number << count, left.unsigned)
        return _typed(left.number >> count, left.unsigned)
    unsigned = left.unsigned or right.unsigned  # C11 6.3.1.8: both unsigned if either is
    a, b = _typed(left.number, unsigned).number, _typed(right.number, unsigned).number
    if op in _COMPARISONS:
        return _TRUE if _COMPARISONS[op](a, b) else _FALSE
    if op in ("/", "%"):
        if b == 0:
            raise UndefinedArithmetic("division by zero")
        # C truncates toward zero (C11 6.5.5p6): -7 / 2 == -3 and -7 % 2 == -1, where
        # Python's // and % floor (-4 and 1); INTMAX_MIN / -1 wraps, as in GCC
        quotient = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            quotient = -quotient
        return _typed(quotient if op == "/" else a - b * quotient, unsigned)
    return _typed(_ARITHMETIC[op](a, b), unsigned)


class _Parser:
    """Recursive descent over one expression's tokens, evaluating as it reads."""

    def __init__(self, tokens: list[tuple[str, str]], names: Names):
        self.tokens = tokens
        self.position = 0
        self.names = names
        # > 0 while reading an operand C does not evaluate (the right of `0 &&`, `1 ||`,
        # the arm of `?:` not chosen): it is read for its type, and undefined arithmetic
        # in it is no error (C11 6.5.13p4, 6.5.14p4, 6.5.15p4; GCC: `#if 0 && 1 / 0` is 0)
        self.skipping = 0

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

    def parse_all(self) -> Result:
        value = self.ternary()
        if self.position != len(self.tokens):
            raise ConditionError("trailing tokens")
        return value

    def operand(self, read: Callable[[], Result], skipped: bool) -> Result:
        self.skipping += skipped
        try:
            return read()
        finally:
            self.skipping -= skipped

    def ternary(self) -> Result:
        condition = self.binary(1)
        if self.peek() != "?":
            return condition
        self.take()
        truth = _truth(condition)
        yes = self.operand(self.ternary, skipped=truth is False)
        self.expect(":")
        no = self.operand(self.ternary, skipped=truth is True)
        return _choose(truth, yes, no)

    def binary(self, level: int) -> Result:
        left = self.unary()
        while True:
            op = self.peek() or ""
            precedence = _BINARY.get(op)
            if precedence is None or precedence < level:
                return left
            self.take()
            truth = _truth(left)
            skipped = (op == "&&" and truth is False) or (op == "||" and truth is True)
            right = self.operand(functools.partial(self.binary, precedence + 1), skipped)
            left = self.apply(op, left, right)

    def apply(self, op: str, left: Result, right: Result) -> Result:
        if op in ("&&", "||"):
            return _logical(op, left, right)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return UNKNOWN
        try:
            return _arithmetic(op, left, right)
        except UndefinedArithmetic:
            if not self.skipping:
                raise
            # an operand C does not evaluate: only its type counts (for `?:`)
            unsigned = left.unsigned or (right.unsigned and op not in ("<<", ">>"))
            return PPNumber(0, unsigned)

    def unary(self) -> Result:
        kind, text = self.take()
        if text in ("!", "~", "-", "+"):
            return _unary(text, self.unary())
        if text == "(":
            value = self.ternary()
            self.expect(")")
            return value
        if kind == "num":
            return _constant(text)
        if kind == "char":
            return _char_constant(text)
        if kind == "id":
            return self.identifier(text)
        raise ConditionError(f"unexpected '{text}'")

    def identifier(self, name: str) -> Result:
        if name in _CONFIG_TESTS:
            return self.config_test(name)
        if name == "KERNEL_VERSION" and self.peek() == "(":
            return self.kernel_version()
        if name == "__has_include" or self.peek() == "(":
            value = self.names.call(name)
            self.skip_arguments()
            return value
        try:
            return self.names.value(name)
        except UndefinedArithmetic:
            if not self.skipping:
                raise
            return _FALSE  # a macro whose body divides by zero, where C does not evaluate

    def config_test(self, test: str) -> Result:
        parenthesised = self.peek() == "("
        if parenthesised:
            self.take()
        _, option = self.take()
        if parenthesised:
            self.expect(")")
        if test == "defined":
            return _flag(self.names.is_defined(option))
        return _flag(self.names.config_test(test, option))

    def kernel_version(self) -> Result:
        """include/generated/uapi/linux/version.h: `#define KERNEL_VERSION(a, b, c) (((a) <<
        16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))`."""
        self.expect("(")
        parts = [self.ternary()]
        while self.peek() == ",":
            self.take()
            parts.append(self.ternary())
        self.expect(")")
        if len(parts) != 3:
            raise ConditionError("KERNEL_VERSION takes three arguments")
        major, minor, patch = parts
        capped = _choose(_truth(self.apply(">", patch, PPNumber(255))), PPNumber(255), patch)
        shifted = self.apply("<<", major, PPNumber(16)), self.apply("<<", minor, PPNumber(8))
        return self.apply("+", self.apply("+", *shifted), capped)

    def skip_arguments(self) -> None:
        """Past a call's parenthesised arguments (a macro's arguments need not be
        expressions: `__has_attribute(__fallthrough__)`)."""
        if self.peek() != "(":
            return
        depth = 0
        while True:
            text = self.take()[1]
            depth += {"(": 1, ")": -1}.get(text, 0)
            if depth == 0:
                return


class _MacroTable:
    """cpp's view of the identifiers: the macros of a table (name -> body; a function-like
    macro as `name()`), every other name 0 (C11 6.10.1p4)."""

    def __init__(self, macros: Mapping[str, str], depth: int, memo: dict[str, Result]):
        self.macros = macros
        self.depth = depth
        # A macro's value, once per evaluation: `#define A1 (A0 + A0)` ... `A19` is
        # 2^19 evaluations without it (a 109 s `#if`), 20 with it; the table does not
        # change while one expression is evaluated, so the value is the same each time.
        self.memo = memo

    def value(self, name: str) -> Result:
        body = self.macros.get(name, "")
        if not body.strip():
            return _FALSE
        if name in self.memo:
            return self.memo[name]
        if self.depth > _MAX_DEPTH:
            raise ConditionError(f"{name} expands too deeply")
        inner = _MacroTable(self.macros, self.depth + 1, self.memo)
        result = value_or_unknown(body, inner)
        self.memo[name] = result
        return result

    def is_defined(self, name: str) -> bool:
        return name in self.macros or f"{name}()" in self.macros

    def config_test(self, test: str, option: str) -> bool:
        builtin = self.macros.get(option, "") not in ("", "0") or option in self.macros
        module = f"{option}_MODULE" in self.macros
        if test == "IS_BUILTIN":
            return builtin
        if test == "IS_MODULE":
            return module
        if test == "IS_REACHABLE":
            return builtin or (module and "MODULE" in self.macros)
        return builtin or module

    def call(self, name: str) -> Result:
        raise ConditionError(f"function-like macro {name}() needs the headers")
