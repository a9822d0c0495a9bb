"""Each macro of the kernel headers classified by the role its body plays (the classes of
the package docstring), which decides its stub.
"""

from __future__ import annotations

import re

from kmodlint.cfront.lex.brackets import closing_index, split_top_level
from kmodlint.cfront.lex.keywords import C_KEYWORDS, TYPE_KEYWORDS
from kmodlint.cfront.stubenv.read_headers import MacroDef

DECL_START = TYPE_KEYWORDS | frozenset(
    [
        "static",
        "extern",
        "typedef",
        "register",
        "inline",
        "__inline",
        "__inline__",
        "typeof",
        "__typeof__",
        "__typeof",
        "__attribute__",
        "__attribute",
        "_Thread_local",
        "__thread",
    ]
)
KEPT_KEYWORDS = frozenset(["inline", "const", "volatile", "static", "extern", "register"])
KEYWORD_SPELLINGS = {
    "__inline": "inline",
    "__inline__": "inline",
    "__volatile__": "volatile",
    "__volatile": "volatile",
    "__const": "const",
}
# _Pragma(...) leaves nothing the parser sees (cpp turns it into a #pragma line, dropped)
ATTRIBUTE_WORDS = frozenset(("__attribute__", "__attribute", "__extension__", "_Pragma"))

# Names the hand-written part of the prelude owns; header definitions of them are ignored.
HANDWRITTEN = frozenset(
    [
        "__attribute__",
        "__attribute",
        "__extension__",
        "__inline",
        "__inline__",
        "__restrict",
        "__restrict__",
        "__volatile__",
        "__volatile",
        "__const",
        "__signed__",
        "__signed",
        "typeof",
        "__typeof__",
        "__typeof",
        "__auto_type",
        "_Static_assert",
        "static_assert",
        "__builtin_offsetof",
        "offsetof",
        "__builtin_types_compatible_p",
        "__builtin_choose_expr",
        "__builtin_va_arg",
        "va_arg",
        "_Generic",
        "__label__",
        "__int128",
        "__alignof__",
        "__alignof",
        "_Alignof",
        "__builtin_expect",
        "asm",
        "__asm__",
        "__asm",
        "__init",
        "__exit",
        "__initdata",
        "__exitdata",
        "__initconst",
        "__exit_call",
        "__init_call",
        "EXPORT_SYMBOL",
        "EXPORT_SYMBOL_GPL",
        "EXPORT_SYMBOL_GPL_FUTURE",
        "EXPORT_SYMBOL_NS",
        "EXPORT_SYMBOL_NS_GPL",
        "EXPORT_SYMBOL_FOR_MODULES",
        "EXPORT_SYMBOL_FOR_MODULES_GPL",
        "_EXPORT_SYMBOL",
        "__EXPORT_SYMBOL",
        "___EXPORT_SYMBOL",
        "IS_ENABLED",
        "IS_BUILTIN",
        "IS_MODULE",
        "IS_REACHABLE",
        "__is_defined",
        "__or",
        "__and",
        "__take_second_arg",
        "__is_defined_paste",
        "__ARG_PLACEHOLDER_1",
        "__LITTLE_ENDIAN",
        "__LITTLE_ENDIAN_BITFIELD",
        "BITS_PER_LONG",
        "__BITS_PER_LONG",
        "KBUILD_MODNAME",
        "KBUILD_BASENAME",
        "__KERNEL__",
        "MODULE",
        "NULL",
    ]
)
EXPORT_MACROS = frozenset(
    n for n in HANDWRITTEN if n.startswith(("EXPORT_SYMBOL", "_EXPORT", "__EXPORT", "___EXP"))
)


# --------------------------------------------------------------------------- classification

ASM = "asm"  # top-level asm (the AST path drops it)
BRACES = "braces"  # unbalanced braces: one half of a pair of macros around a block
EMPTY, LOOP, DECL, FNHDR, BLOCK, DESIG, TYPE, STRING, NUMERIC, PASTE, EXPR, EXPORTING = (
    "empty",
    "loop",
    "decl",
    "fnhdr",
    "block",
    "designator",
    "type",
    "string",
    "numeric",
    "paste",
    "expr",
    "exporting",
)
# When one name has several definitions, the strongest role wins.
PRIORITY = [
    EXPORTING,
    BRACES,
    LOOP,
    FNHDR,
    DECL,
    BLOCK,
    DESIG,
    TYPE,
    ASM,
    EXPR,
    NUMERIC,
    PASTE,
    STRING,
    EMPTY,
]


def _skip_group(tokens: list[str], i: int) -> int:
    """Index after the balanced parenthesised group starting at tokens[i] == '('."""
    end = closing_index(tokens, i)
    return len(tokens) if end is None else end + 1


def _split_statements(tokens: list[str]) -> list[list[str]]:
    """Top-level ';'-separated pieces of a body (a lone trailing ';' adds no piece)."""
    items = split_top_level(tokens, ";", keep_separator=True)
    return [it for it in items if it and it != [";"]]


def _parameter_names(definition: MacroDef) -> set[str]:
    # GNU named variadics: ``args...`` is the parameter ``args``
    params = {p[:-3].strip() if p.endswith("...") else p for p in definition.params or ()}
    params.discard("")
    if "__VA_ARGS__" in definition.body:
        params.add("__VA_ARGS__")
    return params


class Classifier:
    def __init__(self, defs: dict[str, list[MacroDef]], typedefs: set[str]) -> None:
        self.defs = defs
        self.typedefs = typedefs
        self.memo: dict[str, tuple[str, list[str]]] = {}
        self.busy: set[str] = set()
        self.depth = 0

    def _expand_paste(self, name: str, arg_toks: list[str]) -> list[str] | None:
        """One expansion of the pasting macro ``name`` with these argument tokens (its
        parameters substituted, ``a ## b`` joined, ``#x`` a string), or None."""
        pdef = next((x for x in self.defs[name] if x.params and "##" in x.body), None)
        if pdef is None or pdef.params is None:
            return None
        args = split_top_level(arg_toks, ",")
        params = list(pdef.params)
        if params and params[-1].endswith("..."):
            return None
        if len(args) != len(params):
            return None
        subst = dict(zip(params, args, strict=True))
        out: list[str] = []
        body = pdef.body
        i = 0
        while i < len(body):
            token = body[i]
            if token == "#" and i + 1 < len(body) and body[i + 1] in subst:
                out.append('""')
                i += 2
                continue
            if token == "##" and out and i + 1 < len(body):
                nxt = subst.get(body[i + 1], [body[i + 1]])
                if nxt:
                    out[-1] = out[-1] + nxt[0]
                    out.extend(nxt[1:])
                i += 2
                continue
            out.extend(subst.get(token, [token]))
            i += 1
        return out

    def macro_class(self, name: str) -> tuple[str, list[str]]:
        """(class, keywords kept by an EMPTY stub) of a macro name."""
        if name in self.memo:
            return self.memo[name]
        if name in EXPORT_MACROS:
            return (EXPORTING, [])
        if name in self.busy or name not in self.defs:
            return (EXPR, [])
        self.busy.add(name)
        results = [self.classify(definition) for definition in self.defs[name]]
        self.busy.discard(name)
        best = min(results, key=lambda r: PRIORITY.index(r[0]))
        if best[0] == EMPTY:
            # several empty definitions: keep the keywords common to all
            kept = [k for k in best[1] if all(k in r[1] for r in results)]
            best = (EMPTY, kept)
        self.memo[name] = best
        return best

    def is_macro(self, name: str) -> bool:
        return name in self.defs or name in EXPORT_MACROS

    def classify(self, definition: MacroDef) -> tuple[str, list[str]]:
        tokens = definition.body
        params = _parameter_names(definition)
        if any(t in EXPORT_MACROS for t in tokens) or any(
            self.is_macro(t) and self.macro_class(t)[0] == EXPORTING
            for t in tokens
            if t != definition.name
        ):
            return (EXPORTING, [])
        kept, start = self._leading_annotations(definition, params)
        rest = tokens[start:]
        while len(rest) > 1 and rest[0] == ";":
            # ``lockdep_assert_event_ctx(event); if (...) list_for_each_entry(...)``: the
            # statement an annotation macro leaves empty says nothing
            rest = rest[1:]
        if not rest:
            return (EMPTY, kept)
        for step in (self._construct, self._statement, self._by_macro_or_type):
            found = step(definition, rest, kept, params)
            if found is not None:
                return found
        found = self._pasted_invocation(definition, rest)
        if found is not None:
            return found
        if self._is_string(rest, params):
            return (STRING, [])
        if self._is_numeric(rest, params):
            return (NUMERIC, [])
        if self._is_paste(rest, params):
            return (PASTE, [])
        return (EXPR, [])

    def _leading_annotations(self, definition: MacroDef, params: set[str]) -> tuple[list[str], int]:
        """The C keywords the body's leading attributes and annotation macros keep, and the
        index of the first token after them."""
        tokens = definition.body
        kept: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token in ATTRIBUTE_WORDS:
                i += 1
                if i < len(tokens) and tokens[i] == "(":
                    i = _skip_group(tokens, i)
                continue
            if token in KEPT_KEYWORDS or token in KEYWORD_SPELLINGS:
                kept.append(KEYWORD_SPELLINGS.get(token, token))
                i += 1
                continue
            if token in params and token == "__VA_ARGS__" and len(tokens) == 1:
                break
            if self.is_macro(token) and token != definition.name:
                cls, kw = self.macro_class(token)
                if cls == EMPTY:
                    kept.extend(kw)
                    i += 1
                    if (
                        i < len(tokens)
                        and tokens[i] == "("
                        and self.defs.get(token, [definition])[0].params
                    ):
                        i = _skip_group(tokens, i)
                    continue
            break
        return kept, i

    def _construct(
        self, definition: MacroDef, rest: list[str], kept: list[str], params: set[str]
    ) -> tuple[str, list[str]] | None:
        """Half a block, top-level asm, or several statements."""
        balance = rest.count("{") - rest.count("}")
        if (balance > 0 and rest[-1] == "{") or balance < 0:
            # half a construct: ``do_each_pid_task(...) {`` ... ``} while_each_pid_task()``
            return (BRACES, [str(balance)])
        if rest[0] in ("asm", "__asm__", "__asm") or (
            self.is_macro(rest[0])
            and rest[0] != definition.name
            and self.macro_class(rest[0])[0] == ASM
        ):
            # top-level asm (BTF_ID), perhaps followed by a declaration (BTF_ID_LIST)
            j = 1
            while j < len(rest) and rest[j] in ("volatile", "__volatile__", "goto", "inline"):
                j += 1
            end = _skip_group(rest, j) if j < len(rest) and rest[j] == "(" else j
            tail = rest[end:]
            if not tail or tail == [";"]:
                return (ASM, [])
            return self.classify(
                MacroDef(definition.name, definition.params, tail, definition.origin)
            )
        items = _split_statements(rest)
        if len(items) > 1:
            return self._statements(definition, rest, items)
        return None

    def _statements(
        self, definition: MacroDef, rest: list[str], items: list[list[str]]
    ) -> tuple[str, list[str]]:
        classes = [
            self.classify(MacroDef(definition.name, definition.params, item, definition.origin))
            for item in items
        ]
        best = min(classes, key=lambda r: PRIORITY.index(r[0]))
        if classes[-1][0] == FNHDR and rest[-1] not in (";", "}"):
            return (FNHDR, [])  # declarations, then the header of a function
        if best[0] in (DECL, FNHDR):
            semi = rest[-1] in (";", "}") or (classes[-1][0] == DECL and "semi" in classes[-1][1])
            return (DECL, ["semi"] if semi else [])
        if best[0] in (EXPORTING, LOOP):
            return best
        return (EXPR, [])

    def _statement(
        self, definition: MacroDef, rest: list[str], kept: list[str], params: set[str]
    ) -> tuple[str, list[str]] | None:
        """A body that starts like a statement: a loop, an if, do, a block, designators."""
        first = rest[0]
        if first in ("for", "while"):
            return (LOOP, [])
        if first == "if":
            return self._if_statement(definition, rest)
        if first == "do":
            return (EXPR, [])
        if first == "{":
            return (BLOCK, [])
        if first in (".", "["):
            # designated initialisers: `.a = x, .b = y,` (often without the last comma)
            return (DESIG, ["comma"] if rest[-1] == "," else [])
        return None

    def _if_statement(self, definition: MacroDef, rest: list[str]) -> tuple[str, list[str]] | None:
        if rest[-1] == "else":
            return (LOOP, [])
        if len(rest) > 1 and rest[1] == "(" and _skip_group(rest, 1) == len(rest):
            return (LOOP, [])  # ``if (cond)`` whose statement follows: sunrpc's ifdebug(fac)
        if len(rest) > 1 and rest[1] == "(":
            nxt = rest[_skip_group(rest, 1)] if _skip_group(rest, 1) < len(rest) else ""
            if nxt in ("for", "while") or (
                self.is_macro(nxt) and nxt != definition.name and self.macro_class(nxt)[0] == LOOP
            ):
                return (LOOP, [])  # if (x) for (...): __rq_for_each_bio
        return None

    def _by_macro_or_type(
        self, definition: MacroDef, rest: list[str], kept: list[str], params: set[str]
    ) -> tuple[str, list[str]] | None:
        """A body that starts with another macro, a type or a parameter."""
        first = rest[0]
        if self.is_macro(first) and first != definition.name:
            cls = self.macro_class(first)[0]
            if cls in (LOOP, BLOCK, EXPORTING):
                return (cls, [])
            if cls == DESIG:
                return (DESIG, ["comma"] if rest[-1] == "," else self.macro_class(first)[1])
            if cls in (DECL, FNHDR, TYPE):
                whole = len(rest) == 1 or (rest[1] == "(" and _skip_group(rest, 1) == len(rest))
                if whole:
                    return self.macro_class(first)
                return self._decl_shape(rest, kept, params)
        if first in DECL_START or first in self.typedefs or kept:
            return self._decl_shape(rest, kept, params)
        if first in params and len(rest) >= 2 and (rest[1] in params or rest[1] == "*"):
            return (DECL, [])
        return None

    def _pasted_invocation(
        self, definition: MacroDef, rest: list[str]
    ) -> tuple[str, list[str]] | None:
        """``__diag_GCC(8, ignore, option)``: what a pasting macro builds from these
        arguments (``__diag_GCC_8(...)``) says what the invocation is."""
        first = rest[0]
        if not (
            self.is_macro(first)
            and first != definition.name
            and len(rest) > 1
            and rest[1] == "("
            and _skip_group(rest, 1) == len(rest)
            and self.macro_class(first)[0] == PASTE
            and self.depth < 8
        ):
            return None
        expanded = self._expand_paste(first, rest[2:-1])
        if not expanded or expanded == rest:
            return None
        self.depth += 1
        try:
            got = self.classify(
                MacroDef(definition.name, definition.params, expanded, definition.origin)
            )
        finally:
            self.depth -= 1
        if got[0] not in (EXPR, NUMERIC, PASTE, STRING):
            return got
        return None  # the invocation stays as it is (kept verbatim)

    def _strip_attrs(self, tokens: list[str], name: str) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token in ATTRIBUTE_WORDS or (
                token != name and self.is_macro(token) and self.macro_class(token)[0] == EMPTY
            ):
                i += 1
                known = self.defs.get(token)
                first = known[0] if known else None
                fn = token in ATTRIBUTE_WORDS or bool(first is not None and first.params)
                if fn and i < len(tokens) and tokens[i] == "(":
                    i = _skip_group(tokens, i)
                continue
            out.append(token)
            i += 1
        return out

    def _decl_shape(
        self, rest: list[str], kept: list[str], params: set[str]
    ) -> tuple[str, list[str]]:
        semi = ["semi"] if rest[-1] in (";", "}") else []
        rest = self._strip_attrs(rest, "") or rest
        if rest[0] in ("typeof", "__typeof__", "__typeof") and len(rest) > 1 and rest[1] == "(":
            end = _skip_group(rest, 1)
            if all(token == "*" for token in rest[end:]):
                return (TYPE, [])
        if all(
            token in TYPE_KEYWORDS or token in self.typedefs or token == "*" or token in params
            for token in rest
        ) and not any(token in params for token in rest):
            return (TYPE, [])
        if rest[-1] == ")":
            # find the opening parenthesis of the last group
            depth = 0
            j = len(rest) - 1
            while j >= 0:
                if rest[j] == ")":
                    depth += 1
                elif rest[j] == "(":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            before = rest[:j]
            if (
                len(before) == 2
                and before[0] in ("struct", "union")
                and self.is_macro(before[1])
                and self.macro_class(before[1])[0] == BLOCK
            ):
                return (TYPE, [])  # struct __STRUCT_KFIFO(...): an anonymous struct type
            if (
                len(before) > 1
                and self.is_macro(before[-1])
                and self.macro_class(before[-1])[0] in (DECL, FNHDR)
            ):
                # ``A(...) B(...)``: declaring macros in a row; the last one says what
                # the code after the invocation must be (a body, or nothing)
                return self.macro_class(before[-1])
            if (
                len(before) > 1
                and self.is_macro(before[-1])
                and self.macro_class(before[-1])[0] in (ASM, EMPTY)
                and any(x.params is not None for x in self.defs.get(before[-1], ()))
            ):
                # ``BTF_ID_LIST(name) BTF_ID(prefix, type)``: the last group holds the
                # arguments of an asm or annotation macro; what precedes it decides
                return self.classify(MacroDef("", None, before[:-1], ""))
            if (
                before
                and (re.match(r"[A-Za-z_]", before[-1]) or before[-1] == "##")
                and not any(t in ("=", "{", ";") for t in before)
                and before[-1] not in ("typeof", "__typeof__", "__attribute__", "sizeof")
            ):
                return (FNHDR, [])
        return (DECL, semi)

    def _is_string(self, rest: list[str], params: set[str]) -> bool:
        saw = False
        i = 0
        while i < len(rest):
            token = rest[i]
            if token.startswith('"'):
                saw = True
            elif token == "#" and i + 1 < len(rest) and rest[i + 1] in params:
                saw = True
                i += 1
            elif token in ("KBUILD_MODNAME", "KBUILD_BASENAME") or token in params:
                pass
            elif (
                re.match(r"[A-Za-z_]", token)
                and i + 2 < len(rest)
                and rest[i + 1] == "##"
                and rest[i + 2] in params
            ):
                i += 2  # PREFIX_##param: a string macro chosen by name
            elif self.is_macro(token) and self.macro_class(token)[0] == STRING:
                saw = True
                if i + 1 < len(rest) and rest[i + 1] == "(":
                    i = _skip_group(rest, i + 1) - 1
            else:
                return False
            i += 1
        return saw

    def _is_numeric(self, rest: list[str], params: set[str]) -> bool:
        for token in rest:
            if (
                re.match(r"\d", token)
                or token in params
                or token in "()+-*/%<>&|^~!?:,"
                or token
                in (
                    "<<",
                    ">>",
                    "<=",
                    ">=",
                    "==",
                    "!=",
                    "&&",
                    "||",
                    "##",
                )
            ):
                continue
            if self.is_macro(token) and self.macro_class(token)[0] in (NUMERIC, PASTE):
                continue
            return False
        return True

    def _is_paste(self, rest: list[str], params: set[str]) -> bool:
        pasted = False
        for i, token in enumerate(rest):
            nxt = rest[i + 1] if i + 1 < len(rest) else ""
            if token == "##":
                prev = rest[i - 1] if i else ""
                if prev != "," and nxt != "__VA_ARGS__":
                    pasted = True
                continue
            if token in params or token in ("(", ")", ","):
                continue
            if re.match(r"[A-Za-z_]", token) and token not in C_KEYWORDS:
                if self.is_macro(token) and self.macro_class(token)[0] in (PASTE, NUMERIC):
                    pasted = pasted or nxt == "("
                elif nxt == "(":
                    return False
                continue
            return False
        return pasted
