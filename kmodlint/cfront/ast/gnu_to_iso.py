"""GNU C to ISO C, on cpp's output: what pycparser cannot read is rewritten or dropped,
line numbers kept.
"""

from __future__ import annotations

import re

from kmodlint.cfront.lex.brackets import closing_index
from kmodlint.cfront.lex.tokenizer import scan_tokens

INIT_MARK = "__kmodlint_section_init__"
EXIT_MARK = "__kmodlint_section_exit__"
_ALIGN_FOR = {INIT_MARK: "4097", EXIT_MARK: "4099"}


# --------------------------------------------------------------------------- GNU clean-up

# The tokenizer's kinds, as the rewriting names them; a comment or a continuation (none in
# cpp's output) is copied as a gap.
_KINDS = {
    "newline": "nl",
    "space": "ws",
    "comment": "ws",
    "continuation": "ws",
    "string": "str",
    "char": "chr",
    "number": "num",
    "ident": "id",
    "punct": "p",
    "other": "other",
}
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
    """cpp's output as (kind, text) pairs whose texts make the text again; a line that
    starts with '#' is one ``line`` pair: linemarkers stay, pragmas and other directives
    go (keeping the line count)."""
    out = []
    line_end = -1
    for m in scan_tokens(text):
        start = m.start()
        if start < line_end:
            continue  # the rest of a directive line
        tok = m.group()
        if tok[0] == "#" and (start == 0 or text[start - 1] == "\n"):
            line_end = text.find("\n", start)
            if line_end < 0:
                line_end = len(text)
            line = text[start:line_end]
            out.append(("line", line if re.match(r"#\s*\d", line) else ""))
            continue
        out.append((_KINDS[m.lastgroup or "other"], tok))
    return out


def _next_sig(toks: list[tuple[str, str]], i: int) -> int:
    while i < len(toks) and toks[i][0] in ("ws", "nl", "line"):
        i += 1
    return i


def _match(toks: list[tuple[str, str]], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (the last token when none does)."""
    end = closing_index(toks, i)
    return len(toks) - 1 if end is None else end


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
    return _IsoRewriter(_lex(text)).run()


class _IsoRewriter:
    """One pass over cpp's tokens; each GNU construct is a method that writes its ISO
    replacement and moves past it (True), or leaves the token to be copied (False)."""

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.n = len(toks)
        self.i = 0
        self.out: list[str] = []
        self.brackets: list[str] = []
        self.last_sig = ""
        self.case_pending = False
        self.designator_ends: set[int] = set()
        self.paren_prev: list[str] = []  # the token before each open '('
        self.closed_prev = ""  # ... and before the '(' of the last ')'

    def run(self) -> str:
        toks, out = self.toks, self.out
        while self.i < self.n:
            kind, t = toks[self.i]
            if kind in ("ws", "nl", "line"):
                out.append(t)
                self.i += 1
                continue
            if self.i in self.designator_ends:
                out.append("] =")
                self.brackets.pop()
                self.last_sig = "="
                self.i += 1
                continue
            if self._gnu_construct(kind, t):
                continue
            if kind == "p":
                if self._gnu_operator(t):
                    continue
                t = self._punctuator(t)
            out.append(t)
            self.last_sig = t
            self.i += 1
        return "".join(out)

    def _gnu_construct(self, kind: str, t: str) -> bool:
        if t == "[" and kind == "p" and self.last_sig in ("{", ",") and self.brackets[-1:] == ["{"]:
            self._note_old_designator()
        if kind == "p" and t == "(":
            return self._statement_expression()
        if kind != "id":
            return False
        if t in _ASM_WORDS and self._asm_statement():
            return True
        if t in _ALIGN_FOR:
            self._section_marker(t)
            return True
        if t == "case":
            self.case_pending = True
        return False

    def _note_old_designator(self) -> None:
        """GNU's obsolete ``[index] value`` designator (no '='): ISO wants ``[index] =``."""
        toks, n = self.toks, self.n
        end = _match(toks, self.i)
        j = _next_sig(toks, end + 1)
        if j < n and toks[j][1] not in ("=", "[", "."):
            self.designator_ends.add(end)

    def _statement_expression(self) -> bool:
        toks, n, i = self.toks, self.n, self.i
        j = _next_sig(toks, i + 1)
        if not (j < n and toks[j][1] == "{"):
            return False
        end = _match(toks, i)
        k = _next_sig(toks, end + 1)
        # ``({ ... }).field`` (rt2x00's FIELD16(mask).bit_mask): ``0.`` would lex
        # as a floating constant
        zero = "(0)" if k < n and toks[k][1] == "." else "0"
        self.out.append(zero + _newlines(toks, i, end))
        self.i = end + 1
        self.last_sig = ")" if zero == "(0)" else "0"
        return True

    def _asm_statement(self) -> bool:
        toks, n, i = self.toks, self.n, self.i
        j = _next_sig(toks, i + 1)
        while j < n and toks[j][1] in _ASM_QUALS:
            j = _next_sig(toks, j + 1)
        if not (j < n and toks[j][1] == "("):
            return False
        end = _match(toks, j)
        self.out.append(" " + _newlines(toks, i, end))
        self.i = end + 1
        return True

    def _section_marker(self, t: str) -> None:
        j = _next_sig(self.toks, self.i + 1)
        nxt = self.toks[j][1] if j < self.n else ";"
        if nxt in ("=", ";", ",", "{", ")", ":"):
            self.out.append(f"[{t}]")
        elif self.last_sig != "*":
            self.out.append(f"_Alignas({_ALIGN_FOR[t]})")
        self.i += 1

    def _gnu_operator(self, t: str) -> bool:
        """``a ?: b`` and the ranges ``case 1 ... 3:`` / ``[0 ... 7] =``."""
        toks, n = self.toks, self.n
        if t == "?":
            j = _next_sig(toks, self.i + 1)
            if j < n and toks[j][1] == ":":
                self.out.append("? 0 ")
                self.last_sig = "?"
                self.i += 1
                return True
        if t == "...":
            inner = self.brackets[-1] if self.brackets else ""
            if self.case_pending or inner == "[":
                # drop the upper bound: up to ':' (case) or the closing ']'
                j = self._range_end()
                self.out.append(" " + _newlines(toks, self.i, j - 1))
                self.i = j
                return True
        return False

    def _range_end(self) -> int:
        toks, n = self.toks, self.n
        j = self.i + 1
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
                elif t2 == ":" and depth == 0 and self.case_pending:
                    break
            j += 1
        return j

    def _punctuator(self, t: str) -> str:
        """Bookkeeping of an ordinary punctuator; the text to write for it."""
        if t == ":" and self.case_pending:
            self.case_pending = False
        if t == "(":
            self.paren_prev.append(self.last_sig)
        elif t == ")":
            self.closed_prev = self.paren_prev.pop() if self.paren_prev else ""
        if t == "{" and self.last_sig == ")" and self.closed_prev in _EXPR_BEFORE:
            j = _next_sig(self.toks, self.i + 1)
            if j < self.n and self.toks[j][1] == "}":
                # an empty compound literal ``(unsigned[n]) { }`` (GNU, C23): ISO C
                # needs one initialiser
                t = "{ 0"
        if t in _OPEN or t == "{ 0":
            self.brackets.append(t[0])
        elif t in (")", "]", "}") and self.brackets:
            self.brackets.pop()
        if t in (";", "{", "}", "{ 0"):
            self.case_pending = False
        return t
