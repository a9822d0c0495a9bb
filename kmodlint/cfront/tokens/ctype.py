"""C types written out from tokens, normalised so two spellings of one type compare equal.

`extern int myadd(int a, int b)` and `int myadd(int, int)` both give `int(int, int)`.
Storage classes, `inline`, section and sparse annotations (`__init`, `__must_check`, ...)
are not part of the type; typedef names stay as written (the token path has no headers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kmodlint.cfront.lex.keywords import BASE_TYPE_WORDS
from kmodlint.cfront.lex.tokenizer import Token

_DROPPED = frozenset(
    [
        "static",
        "extern",
        "inline",
        "register",
        "auto",
        "asmlinkage",
        "notrace",
        "noinline",
        "__always_inline",
    ]
)
_BASE = BASE_TYPE_WORDS | {"bool"}
_QUALIFIERS = frozenset(["const", "volatile", "restrict"])


def _is_annotation(word: str) -> bool:
    return word.startswith("__") or (word.isupper() and len(word) > 1)


def type_words(tokens: Sequence[Token]) -> list[str]:
    """The type-relevant words of a declaration prefix, annotations and their argument
    lists removed."""
    words: list[str] = []
    skipping = 0  # depth inside an annotation's (...) group
    pending_group = False
    for token in tokens:
        text = token.text
        if skipping:
            skipping += {"(": 1, ")": -1}.get(text, 0)
            continue
        if pending_group:
            pending_group = False
            if text == "(":
                skipping = 1
                continue
        if token.kind == "ident" and (text in _DROPPED or _is_annotation(text)):
            pending_group = True
            continue
        words.append(text)
    return words


def normalise(words: list[str]) -> str:
    """`unsigned` -> `unsigned int`, `long int` -> `long`, `_Bool` -> `bool`; one space
    between words; a run of stars written ` **`."""
    base = [w for w in words if w in _BASE]
    out: list[str] = []
    placed = False
    for word in words:
        if word in _BASE:
            if not placed:
                out.append(_base_name(base))
                placed = True
            continue
        out.append(word)
    text = " ".join(out)
    return re.sub(r"\s*(\*+)\s*", r" \1", text).strip()


def _base_name(base: list[str]) -> str:
    unsigned = "unsigned" in base
    longs = base.count("long")
    if "char" in base:
        core = "char"
        if "signed" in base and not unsigned:
            return "signed char"
    elif "short" in base:
        core = "short"
    elif longs >= 2:
        core = "long long"
    elif longs == 1 and "double" in base:
        return "long double"
    elif longs == 1:
        core = "long"
    elif any(w in base for w in ("void", "float", "double", "bool")):
        return next(w for w in base if w in ("void", "float", "double", "bool"))
    elif "_Bool" in base:
        return "bool"
    else:
        core = "int"
    return f"unsigned {core}" if unsigned else core


def parameter_type(tokens: Sequence[Token]) -> str:
    """One parameter's type: its name (the last identifier, when something precedes it
    that is not only a base-type keyword run) dropped."""
    tokens = list(tokens)
    idents = [t for t in tokens if t.kind == "ident"]
    if len(tokens) >= 2 and idents:
        last_plain = next(
            (t for t in reversed(tokens) if t.kind == "ident" and not _is_annotation(t.text)), None
        )
        if (
            last_plain is not None
            and last_plain.text not in _BASE
            and last_plain.text not in (_QUALIFIERS)
        ):
            position = tokens.index(last_plain)
            # `const struct nfs_client_initdata *`: a tag, not the parameter's name
            if position and tokens[position - 1].text in ("struct", "union", "enum"):
                return normalise(type_words(tokens))
            before = [t for t in tokens[:position] if t.kind == "ident" or t.text == "*"]
            type_like = [t for t in before if t.text not in _QUALIFIERS]
            if type_like:
                tokens = tokens[:position] + tokens[position + 1 :]
    words = type_words(tokens)
    return normalise(words)


def function_type(prefix: Sequence[Token], params: list[list[Token]]) -> str:
    returned = normalise(type_words(prefix))
    rendered = [parameter_type(p) for p in params if p]
    if not rendered or rendered == ["void"]:
        rendered = ["void"]
    return f"{returned}({', '.join(rendered)})"


def variable_type(prefix: Sequence[Token], suffix: Sequence[Token]) -> str:
    text = normalise(type_words(prefix))
    if any(t.text == "[" for t in suffix):
        text += "[]"
    return text
