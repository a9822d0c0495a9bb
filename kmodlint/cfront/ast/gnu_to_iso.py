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
        found = m.group()
        if found[0] == "#" and (start == 0 or text[start - 1] == "\n"):
            line_end = text.find("\n", start)
            if line_end < 0:
                line_end = len(text)
            line = text[start:line_end]
            out.append(("line", line if re.match(r"#\s*\d", line) else ""))
            continue
        out.append((_KINDS[m.lastgroup or "other"], found))
    return out


def _next_sig(tokens: list[tuple[str, str]], i: int) -> int:
    while i < len(tokens) and tokens[i][0] in ("ws", "nl", "line"):
        i += 1
    return i


def _match(tokens: list[tuple[str, str]], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (the last token when none does)."""
    end = closing_index(tokens, i)
    return len(tokens) - 1 if end is None else end


def _newlines(tokens: list[tuple[str, str]], a: int, b: int) -> str:
    """The newlines (and linemarkers) in tokens[a:b+1], so line numbers stay right."""
    return "".join(text if k in ("nl", "line") else "" for k, text in tokens[a : b + 1])


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

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.n = len(tokens)
        self.i = 0
        self.out: list[str] = []
        self.brackets: list[str] = []
        self.last_sig = ""
        self.case_pending = False
        self.designator_ends: set[int] = set()
        self.paren_prev: list[str] = []  # the token before each open '('
        self.closed_prev = ""  # ... and before the '(' of the last ')'

    def run(self) -> str:
        tokens, out = self.tokens, self.out
        while self.i < self.n:
            kind, text = tokens[self.i]
            if kind in ("ws", "nl", "line"):
                out.append(text)
                self.i += 1
                continue
            if self.i in self.designator_ends:
                out.append("] =")
                self.brackets.pop()
                self.last_sig = "="
                self.i += 1
                continue
            if self._gnu_construct(kind, text):
                continue
            if kind == "p":
                if self._gnu_operator(text):
                    continue
                text = self._punctuator(text)
            out.append(text)
            self.last_sig = text
            self.i += 1
        return "".join(out)

    def _gnu_construct(self, kind: str, text: str) -> bool:
        if (
            text == "["
            and kind == "p"
            and self.last_sig in ("{", ",")
            and self.brackets[-1:] == ["{"]
        ):
            self._note_old_designator()
        if kind == "p" and text == "(":
            return self._statement_expression()
        if kind != "id":
            return False
        if text in _ASM_WORDS and self._asm_statement():
            return True
        if text in _ALIGN_FOR:
            self._section_marker(text)
            return True
        if text == "case":
            self.case_pending = True
        return False

    def _note_old_designator(self) -> None:
        """GNU's obsolete ``[index] value`` designator (no '='): ISO wants ``[index] =``."""
        tokens, n = self.tokens, self.n
        end = _match(tokens, self.i)
        j = _next_sig(tokens, end + 1)
        if j < n and tokens[j][1] not in ("=", "[", "."):
            self.designator_ends.add(end)

    def _statement_expression(self) -> bool:
        tokens, n, i = self.tokens, self.n, self.i
        j = _next_sig(tokens, i + 1)
        if not (j < n and tokens[j][1] == "{"):
            return False
        end = _match(tokens, i)
        k = _next_sig(tokens, end + 1)
        # ``({ ... }).field`` (rt2x00's FIELD16(mask).bit_mask): ``0.`` would lex
        # as a floating constant
        zero = "(0)" if k < n and tokens[k][1] == "." else "0"
        self.out.append(zero + _newlines(tokens, i, end))
        self.i = end + 1
        self.last_sig = ")" if zero == "(0)" else "0"
        return True

    def _asm_statement(self) -> bool:
        tokens, n, i = self.tokens, self.n, self.i
        j = _next_sig(tokens, i + 1)
        while j < n and tokens[j][1] in _ASM_QUALS:
            j = _next_sig(tokens, j + 1)
        if not (j < n and tokens[j][1] == "("):
            return False
        end = _match(tokens, j)
        self.out.append(" " + _newlines(tokens, i, end))
        self.i = end + 1
        return True

    def _section_marker(self, text: str) -> None:
        j = _next_sig(self.tokens, self.i + 1)
        nxt = self.tokens[j][1] if j < self.n else ";"
        if nxt in ("=", ";", ",", "{", ")", ":"):
            self.out.append(f"[{text}]")
        elif self.last_sig != "*":
            self.out.append(f"_Alignas({_ALIGN_FOR[text]})")
        self.i += 1

    def _gnu_operator(self, text: str) -> bool:
        """``a ?: b`` and the ranges ``case 1 ... 3:`` / ``[0 ... 7] =``."""
        tokens, n = self.tokens, self.n
        if text == "?":
            j = _next_sig(tokens, self.i + 1)
            if j < n and tokens[j][1] == ":":
                self.out.append("? 0 ")
                self.last_sig = "?"
                self.i += 1
                return True
        if text == "...":
            inner = self.brackets[-1] if self.brackets else ""
            if self.case_pending or inner == "[":
                # drop the upper bound: up to ':' (case) or the closing ']'
                j = self._range_end()
                self.out.append(" " + _newlines(tokens, self.i, j - 1))
                self.i = j
                return True
        return False

    def _range_end(self) -> int:
        tokens, n = self.tokens, self.n
        j = self.i + 1
        depth = 0
        while j < n:
            kind2, text2 = tokens[j]
            if kind2 == "p":
                if text2 in _OPEN:
                    depth += 1
                elif text2 in (")", "]", "}"):
                    if depth == 0:
                        break
                    depth -= 1
                elif text2 == ":" and depth == 0 and self.case_pending:
                    break
            j += 1
        return j

    def _punctuator(self, text: str) -> str:
        """Bookkeeping of an ordinary punctuator; the text to write for it."""
        if text == ":" and self.case_pending:
            self.case_pending = False
        if text == "(":
            self.paren_prev.append(self.last_sig)
        elif text == ")":
            self.closed_prev = self.paren_prev.pop() if self.paren_prev else ""
        if text == "{" and self.last_sig == ")" and self.closed_prev in _EXPR_BEFORE:
            j = _next_sig(self.tokens, self.i + 1)
            if j < self.n and self.tokens[j][1] == "}":
                # an empty compound literal ``(unsigned[n]) { }`` (GNU, C23): ISO C
                # needs one initialiser
                text = "{ 0"
        if text in _OPEN or text == "{ 0":
            self.brackets.append(text[0])
        elif text in (")", "]", "}") and self.brackets:
            self.brackets.pop()
        if text in (";", "{", "}", "{ 0"):
            self.case_pending = False
        return text
