"""C type compatibility (C11 6.2.7) on the type spellings both C front-end paths write.

The front ends write types as text (`int(int, char *)`, `struct ieee80211_rate [12]`,
`u32`). Two declarations of one object or function must have *compatible* types, which is
looser than equal spelling, and a linter that calls every spelling difference a mismatch
raises false errors on code the compiler accepts:

- an array of unknown bound is compatible with one of known bound (6.7.6.2p6):
  `extern struct ieee80211_rate mt76_rates[];` vs `... mt76_rates[12] = {...}`;
- top-level qualifiers of a parameter are not part of the function's type (6.7.6.3p15):
  `const char *__restrict tag` vs `const char *tag`, `const int n` vs `int n`;
- a parameter declared as an array or a function is adjusted to a pointer (6.7.6.3p7-8);
- typedef names stand for their types (6.7.8p3): `u32` is `unsigned int` everywhere Linux
  builds, `uint` (include/linux/types.h) too.

`compatible()` answers False only when the two spellings are *provably* incompatible: a name
neither table resolves (a driver's own typedef, a macro) makes it answer True unless the
other side spells the very same name, since a finding that rests on a guess is a false error.
"""

from __future__ import annotations

import re

from kmodlint.cfront.lex.brackets import PARENTHESES, closing_index, split_top_level

# Kernel typedefs that name the same C type on every architecture Linux supports:
# include/uapi/asm-generic/int-ll64.h (u8..s64, __u8..__s64), include/linux/types.h (uint,
# ulong, ushort, unchar, u_char, uintN_t, u_intN_t, bool) and include/uapi/linux/types.h
# (__le32 & co. are __u32 & co. for the compiler: sparse's __bitwise is empty in a build).
KERNEL_TYPEDEFS: dict[str, str] = {
    "u8": "unsigned char",
    "__u8": "unsigned char",
    "uint8_t": "unsigned char",
    "u_int8_t": "unsigned char",
    "unchar": "unsigned char",
    "u_char": "unsigned char",
    "s8": "signed char",
    "__s8": "signed char",
    "int8_t": "signed char",
    "u16": "unsigned short",
    "__u16": "unsigned short",
    "__le16": "unsigned short",
    "__be16": "unsigned short",
    "uint16_t": "unsigned short",
    "u_int16_t": "unsigned short",
    "ushort": "unsigned short",
    "u_short": "unsigned short",
    "s16": "short",
    "__s16": "short",
    "int16_t": "short",
    "u32": "unsigned int",
    "__u32": "unsigned int",
    "__le32": "unsigned int",
    "__be32": "unsigned int",
    "uint32_t": "unsigned int",
    "u_int32_t": "unsigned int",
    "uint": "unsigned int",
    "u_int": "unsigned int",
    "s32": "int",
    "__s32": "int",
    "int32_t": "int",
    "u64": "unsigned long long",
    "__u64": "unsigned long long",
    "__le64": "unsigned long long",
    "__be64": "unsigned long long",
    "uint64_t": "unsigned long long",
    "u_int64_t": "unsigned long long",
    "s64": "long long",
    "__s64": "long long",
    "int64_t": "long long",
    "ulong": "unsigned long",
    "u_long": "unsigned long",
    "_Bool": "bool",
    # include/linux/types.h on the 64-bit ABIs (__kernel_size_t is __kernel_ulong_t there);
    # on 32-bit ones size_t is unsigned int, so these only ever make two spellings equal
    # that are equal on the ABI kmodlint's stub headers describe (x86_64).
    "size_t": "unsigned long",
    "__kernel_size_t": "unsigned long",
    "ssize_t": "long",
    "__kernel_ssize_t": "long",
    "__kernel_ulong_t": "unsigned long",
    "__kernel_long_t": "long",
    "uintptr_t": "unsigned long",
    "ptrdiff_t": "long",
}
# The words C's base types are written with (C11 6.7.2p2).
BASE_WORDS = frozenset(
    ["signed", "unsigned", "char", "short", "int", "long", "bool", "void", "float", "double"]
)
# Qualifiers and spellings of them the kernel uses; `restrict` only matters to the optimiser.
_QUALIFIERS = frozenset(
    ["const", "volatile", "restrict", "__restrict", "__restrict__", "__const", "__volatile__"]
)
_TOKEN = re.compile(r"[A-Za-z_]\w*|\.\.\.|[0-9][\w]*|\S")


def base_name(words: list[str]) -> str | None:
    """The one spelling of a run of base-type words (`long unsigned int` -> `unsigned
    long`), or None when a word is not one."""
    if not words or any(word not in BASE_WORDS for word in words):
        return None
    unsigned = "unsigned" in words
    if "bool" in words:
        return "bool"
    if "void" in words:
        return "void"
    if "float" in words:
        return "float"
    if "double" in words:
        return "long double" if "long" in words else "double"
    if "char" in words:
        # plain char is a type of its own (C11 6.2.5p15)
        if unsigned:
            return "unsigned char"
        return "signed char" if "signed" in words else "char"
    if "short" in words:
        core = "short"
    elif words.count("long") >= 2:
        core = "long long"
    elif "long" in words:
        core = "long"
    else:
        core = "int"
    return f"unsigned {core}" if unsigned else core


def _tokens(ctype: str) -> list[str]:
    """The type's tokens, typedefs resolved and base-type runs written one way."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(base_name(run) or " ".join(run))
            run.clear()

    for token in _TOKEN.findall(ctype):
        resolved = KERNEL_TYPEDEFS.get(token, token)
        if resolved != token:
            flush()
            out.append(resolved)
        elif token in BASE_WORDS:
            run.append(token)
        else:
            flush()
            out.append(token)
    flush()
    return out


def _parameter(tokens: list[str]) -> list[str]:
    """A parameter's type as the function type sees it: top-level qualifiers dropped, an
    array adjusted to a pointer (6.7.6.3p7)."""
    tokens = list(tokens)
    # `T [N]` / `T []` as the last declarator: a pointer to T.
    if tokens and tokens[-1] == "]" and "[" in tokens:
        start = len(tokens) - 1 - tokens[::-1].index("[")
        tokens = [*tokens[:start], "*"]
    # Qualifiers after the last `*` qualify the parameter itself; with no `*`, all do.
    if "*" in tokens:
        last = len(tokens) - 1 - tokens[::-1].index("*")
        tokens = tokens[: last + 1] + [t for t in tokens[last + 1 :] if t not in _QUALIFIERS]
    else:
        tokens = [t for t in tokens if t not in _QUALIFIERS]
    return [t for t in tokens if t not in ("restrict", "__restrict", "__restrict__")]


def _shape(ctype: str) -> list[str]:
    """The tokens with every function parameter list normalised as above."""
    tokens = _tokens(ctype)
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "(":
            end = closing_index(tokens, index, opening=PARENTHESES[0], closing=PARENTHESES[1])
            if end is None:  # unbalanced: the list runs to the last token
                end = len(tokens) - 1
            inner = tokens[index + 1 : end]
            # a parameter list follows a type; a declarator group `(*)` does not matter here
            params = [_parameter(p) for p in split_top_level(inner, ",")]
            if params == [["void"]] or params == [[]]:
                params = [["void"]]
            out.append("(")
            for number, param in enumerate(params):
                if number:
                    out.append(",")
                out.extend(_shape(" ".join(param)) if "(" in param else param)
            out.append(")")
            index = end + 1
            continue
        out.append(token)
        index += 1
    return out


def _unresolved_names(tokens: list[str]) -> set[str]:
    keywords = {"struct", "union", "enum", *BASE_WORDS, *_QUALIFIERS}
    return {
        t for t in tokens if (t[0].isalpha() or t[0] == "_") and t not in keywords and " " not in t
    }


def compatible(declared: str, defined: str) -> bool:
    """False only when the two types are provably incompatible (see the module doc)."""
    if declared == defined:
        return True
    left, right = _shape(declared), _shape(defined)
    if _same(left, right):
        return True
    # Names that are neither keywords nor struct/union/enum tags: typedefs or macros this
    # table does not know. Unless both sides spell exactly the same ones, the difference
    # may be one of them, so it proves nothing.
    tags = {
        tokens[i + 1]
        for tokens in (left, right)
        for i, t in enumerate(tokens[:-1])
        if t in ("struct", "union", "enum")
    }
    unknown_left = _unresolved_names(left) - tags
    unknown_right = _unresolved_names(right) - tags
    return unknown_left != unknown_right


def _same(left: list[str], right: list[str]) -> bool:
    """Equal, with an array bound on one side matching no bound on the other."""
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = left[i], right[j]
        if a == "[" and b == "[":
            end_a, end_b = left.index("]", i), right.index("]", j)
            bound_a, bound_b = left[i + 1 : end_a], right[j + 1 : end_b]
            if bound_a and bound_b and bound_a != bound_b:
                return False
            i, j = end_a + 1, end_b + 1
            continue
        if a != b:
            return False
        i += 1
        j += 1
    return i == len(left) and j == len(right)
