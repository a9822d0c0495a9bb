"""The keywords of ISO C11: never a symbol, a macro argument name or a typedef."""

from __future__ import annotations

C_KEYWORDS = frozenset(
    [
        "_Alignas",
        "_Alignof",
        "_Atomic",
        "_Bool",
        "_Complex",
        "_Generic",
        "_Imaginary",
        "_Noreturn",
        "_Static_assert",
        "_Thread_local",
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
    ]
)

# The words of a base type (C11 6.7.2) ...
BASE_TYPE_WORDS = frozenset(
    ["void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool"]
)
# ... and those that make a type with them (stubenv's classifier reads declarations by them).
TYPE_KEYWORDS = BASE_TYPE_WORDS | frozenset(
    [
        "const",
        "volatile",
        "restrict",
        "struct",
        "union",
        "enum",
        "__signed__",
        "__int128",
        "_Complex",
    ]
)
