"""GNU C to ISO C, on cpp's output: what pycparser cannot read is rewritten or dropped,
line numbers kept.
"""

from __future__ import annotations

import re

INIT_MARK = "__kmodlint_section_init__"
EXIT_MARK = "__kmodlint_section_exit__"
_ALIGN_FOR = {INIT_MARK: "4097", EXIT_MARK: "4099"}


# --------------------------------------------------------------------------- GNU clean-up

_PP_TOKEN = re.compile(
    r"""(?P<line>^\#[^\n]*)
    |(?P<nl>\n)
    |(?P<ws>[ \t\r\f\v]+)
    |(?P<str>L?"(?:\\.|[^"\\\n])*")
    |(?P<chr>L?'(?:\\.|[^'\\\n])*')
    |(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
    |(?P<id>[A-Za-z_$][\w$]*)
    |(?P<p>\.\.\.|->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.()\[\]{}])
    |(?P<other>.)""",
    re.VERBOSE | re.MULTILINE | re.DOTALL,
)
_ASM_WORDS = frozenset(("asm", "__asm__", "__asm"))
_ASM_QUALS = frozenset(("volatile", "__volatile__", "__volatile", "inline", "__inline__", "goto"))
_OPEN = {"(": ")", "[": "]", "{": "}"}
# What can precede the '(' of a cast or a compound literal (not a call, a declarator, if)
_EXPR_BEFORE = frozenset(
    [
        "=",
        ",",
        "(",
        "[",
        "{",
        ";",
        "?",
        ":",
        "return",
        "+",
        "-",
        "*",
        "/",
        "%",
        "&",
        "|",
        "^",
        "!",
        "~",
        "<",
        ">",
        "&&",
        "||",
        "==",
        "!=",
        "<=",
        ">=",
        "+=",
        "-=",
        "*=",
        "/=",
        "|=",
        "&=",
        "<<",
        ">>",
        "<<=",
        ">>=",
    ]
)


def _lex(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _PP_TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        tok = m.group()
        if kind == "line":
            # linemarkers stay; pragmas and other directives go (keep the line count)
            if not re.match(r"#\s*\d", tok):
                tok = ""
            kind = "line"
        out.append((kind, tok))
    return out


def _next_sig(toks: list[tuple[str, str]], i: int) -> int:
    while i < len(toks) and toks[i][0] in ("ws", "nl", "line"):
        i += 1
    return i


def _match(toks: list[tuple[str, str]], i: int) -> int:
    """Index of the bracket closing the one at ``i``."""
    depth = 0
    while i < len(toks):
        kind, t = toks[i]
        if kind == "p":
            if t in _OPEN:
                depth += 1
            elif t in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return i
        i += 1
    return len(toks) - 1


def _newlines(toks: list[tuple[str, str]], a: int, b: int) -> str:
    """The newlines (and linemarkers) in toks[a:b+1], so line numbers stay right."""
    return "".join(t if k in ("nl", "line") else "" for k, t in toks[a : b + 1])


# A run of linemarkers and blank lines that another linemarker follows says nothing: the
# last marker alone sets the position. The shadow headers make hundreds of such runs.
_IDLE_LINES = re.compile(r"(?:^(?:#[^\n]*|[ \t]*)\n)+(?=# \d)", re.M)


def squeeze_linemarkers(text: str) -> str:
    """Drop what a following linemarker overrides, so the lexers see less (same positions)."""
    return _IDLE_LINES.sub("", text)


def gnu_to_iso(text: str) -> str:
    """Rewrite what cpp left of GNU C into ISO C pycparser accepts.

    Statement expressions become ``0``, ``asm`` statements disappear, ``a ?: b`` gains its
    middle operand, case ranges and array range designators keep their first bound, and the
    section markers become ``_Alignas(4097/4099)`` (before a declarator) or an array
    suffix ``[marker]`` (after one), which the walker recognises and removes.
    """
    toks = _lex(text)
    out: list[str] = []
    brackets: list[str] = []
    last_sig = ""
    case_pending = False
    designator_ends: set[int] = set()
    paren_prev: list[str] = []  # the token before each open '('
    closed_prev = ""  # ... and before the '(' of the last ')'
    i = 0
    n = len(toks)
    while i < n:
        kind, t = toks[i]
        if kind in ("ws", "nl", "line"):
            out.append(t)
            i += 1
            continue
        if i in designator_ends:
            out.append("] =")
            brackets.pop()
            last_sig = "="
            i += 1
            continue
        if t == "[" and kind == "p" and last_sig in ("{", ",") and brackets[-1:] == ["{"]:
            # GNU's obsolete ``[index] value`` designator (no '='): ISO wants ``[index] =``
            end = _match(toks, i)
            j = _next_sig(toks, end + 1)
            if j < n and toks[j][1] not in ("=", "[", "."):
                designator_ends.add(end)
        if kind == "p" and t == "(":
            j = _next_sig(toks, i + 1)
            if j < n and toks[j][1] == "{":
                end = _match(toks, i)
                k = _next_sig(toks, end + 1)
                # ``({ ... }).field`` (rt2x00's FIELD16(mask).bit_mask): ``0.`` would lex
                # as a floating constant
                zero = "(0)" if k < n and toks[k][1] == "." else "0"
                out.append(zero + _newlines(toks, i, end))
                i = end + 1
                last_sig = ")" if zero == "(0)" else "0"
                continue
        if kind == "id" and t in _ASM_WORDS:
            j = _next_sig(toks, i + 1)
            while j < n and toks[j][1] in _ASM_QUALS:
                j = _next_sig(toks, j + 1)
            if j < n and toks[j][1] == "(":
                end = _match(toks, j)
                out.append(" " + _newlines(toks, i, end))
                i = end + 1
                continue
        if kind == "id" and t in _ALIGN_FOR:
            j = _next_sig(toks, i + 1)
            nxt = toks[j][1] if j < n else ";"
            if nxt in ("=", ";", ",", "{", ")", ":"):
                out.append(f"[{t}]")
            elif last_sig != "*":
                out.append(f"_Alignas({_ALIGN_FOR[t]})")
            i += 1
            continue
        if kind == "id" and t == "case":
            case_pending = True
        if kind == "p":
            if t == "?":
                j = _next_sig(toks, i + 1)
                if j < n and toks[j][1] == ":":
                    out.append("? 0 ")
                    last_sig = "?"
                    i += 1
                    continue
            if t == "...":
                inner = brackets[-1] if brackets else ""
                if case_pending or inner == "[":
                    # drop the upper bound: up to ':' (case) or the closing ']'
                    j = i + 1
                    depth = 0
                    while j < n:
                        k2, t2 = toks[j]
                        if k2 == "p":
                            if t2 in _OPEN:
                                depth += 1
                            elif t2 in (")", "]", "}"):
                                if depth == 0:
                                    break
                                depth -= 1
                            elif t2 == ":" and depth == 0 and case_pending:
                                break
                        j += 1
                    out.append(" " + _newlines(toks, i, j - 1))
                    i = j
                    continue
            if t == ":" and case_pending:
                case_pending = False
            if t == "(":
                paren_prev.append(last_sig)
            elif t == ")":
                closed_prev = paren_prev.pop() if paren_prev else ""
            if t == "{" and last_sig == ")" and closed_prev in _EXPR_BEFORE:
                j = _next_sig(toks, i + 1)
                if j < n and toks[j][1] == "}":
                    # an empty compound literal ``(unsigned[n]) { }`` (GNU, C23): ISO C
                    # needs one initialiser
                    t = "{ 0"
            if t in _OPEN or t == "{ 0":
                brackets.append(t[0])
            elif t in (")", "]", "}") and brackets:
                brackets.pop()
            if t in (";", "{", "}", "{ 0"):
                case_pending = False
        out.append(t)
        last_sig = t
        i += 1
    return "".join(out)
