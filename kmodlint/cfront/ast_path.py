"""The AST path of the C front end: cpp against the stub kernel, then pycparser.

Facts it adds to the token path: the C type of every definition and declaration (for
extern-mismatch and param-type-mismatch), the section (``__init``/``__exit``) of each
definition, and every export visible after macro expansion. Only facts located in the analysed
file or in real (non-stub) headers are reported; locations point into the original files.
"""

from __future__ import annotations

import copy
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

from pycparser import c_ast, c_generator, c_parser

from kmodlint.cfront.facts import AST, Definition, ExternDecl, Loc, SourceExport
from kmodlint.cfront.preprocess import (
    PreprocessError,
    PreprocessorNotFound,
    preprocess,
    stub_env_dir,
)
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text

INIT_MARK = "__kmodlint_section_init__"
EXIT_MARK = "__kmodlint_section_exit__"
_ALIGN_FOR = {INIT_MARK: "4097", EXIT_MARK: "4099"}
_SECTION_FOR_ALIGN = {"4097": "init", "4099": "exit"}
_SECTION_FOR_MARK = {INIT_MARK: "init", EXIT_MARK: "exit"}
EXPORT_DECL = "__kmodlint_export"
PARSE_STACK = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000
TYPEDEF_RETRIES = 4


@dataclass
class AstResult:
    ok: bool
    error: str | None  # one line, why it failed
    definitions: list[Definition] = field(default_factory=list)
    externs: list[ExternDecl] = field(default_factory=list)
    exports: list[SourceExport] = field(default_factory=list)
    # Names the emitted code uses (macros expanded, through the static inline functions of
    # the driver's own headers that code calls), at their first use.
    references: dict[str, Loc] = field(default_factory=dict)
    # Every identifier the file's own function bodies and initializers show the parse, used
    # or declared there (parameters, locals): where a name is among them but not among the
    # references, the compiler decided it is not a use (a parameter named like an export).
    body_names: set[str] = field(default_factory=set)


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


# --------------------------------------------------------------------------- types

_SIGN = ("signed", "unsigned")
_SIZE = ("short", "long")


def _canonical_names(names: list[str]) -> list[str]:
    """``unsigned`` -> ``unsigned int``, ``long int`` -> ``long``, ``signed int`` -> ``int``."""
    words = list(names)
    if any(w not in _SIGN + _SIZE + ("int", "char", "double") for w in words):
        return words
    sign = [w for w in words if w in _SIGN]
    size = [w for w in words if w in _SIZE]
    base = [w for w in words if w in ("int", "char", "double")]
    if base == ["char"]:
        return sign + base
    if base == ["double"]:
        return size + base
    if sign == ["signed"]:
        sign = []
    if size:
        return sign + size
    return [*sign, "int"]


class _TypeCleaner(c_ast.NodeVisitor):
    """Strip names, section markers and parameter qualifiers from a copied type."""

    def visit_TypeDecl(self, node: c_ast.TypeDecl) -> None:
        node.declname = None
        self.generic_visit(node)

    def visit_IdentifierType(self, node: c_ast.IdentifierType) -> None:
        node.names = _canonical_names(node.names)

    def visit_Struct(self, node: c_ast.Struct) -> None:
        if node.name:
            node.decls = None
        else:
            self.generic_visit(node)

    visit_Union = visit_Struct

    def visit_Enum(self, node: c_ast.Enum) -> None:
        if node.name:
            node.values = None

    def visit_FuncDecl(self, node: c_ast.FuncDecl) -> None:
        params = node.args.params if node.args is not None else []
        new: list[c_ast.Node] = []
        for p in params:
            if isinstance(p, c_ast.EllipsisParam):
                new.append(p)
                continue
            ptype = _strip_markers(p.type)
            if isinstance(ptype, c_ast.TypeDecl):
                ptype.quals = []
            new.append(c_ast.Typename(None, [], None, ptype))
        if not new:
            void = c_ast.TypeDecl(None, [], None, c_ast.IdentifierType(["void"]))
            new = [c_ast.Typename(None, [], None, void)]
        node.args = c_ast.ParamList(new)
        for p in new:
            self.visit(p)
        node.type = _strip_markers(node.type)
        self.visit(node.type)


def _marker_of(node: c_ast.Node) -> str | None:
    if isinstance(node, c_ast.ArrayDecl) and isinstance(node.dim, c_ast.ID):
        return _SECTION_FOR_MARK.get(node.dim.name)
    return None


def _strip_markers(node: c_ast.Node) -> c_ast.Node:
    """Remove ``[marker]`` array suffixes anywhere in a declarator chain."""
    while _marker_of(node):
        node = node.type
    cur = node
    while hasattr(cur, "type") and isinstance(cur.type, c_ast.Node):
        while _marker_of(cur.type):
            cur.type = cur.type.type
        cur = cur.type
    return node


def _section_marks(node: c_ast.Node) -> str | None:
    cur = node
    while isinstance(cur, c_ast.Node):
        mark = _marker_of(cur)
        if mark:
            return mark
        cur = getattr(cur, "type", None)
    return None


_GEN = c_generator.CGenerator()


def _type_copy(node: c_ast.Node) -> c_ast.Node:
    """A copy of the declarator chain `_TypeCleaner` rewrites, sharing what it never
    changes: a named struct, union or enum is copied without its body (the type is its
    tag), expressions (array bounds) are shared. `copy.deepcopy` of a declaration whose
    type carries a whole `struct x { ... }` took 2/3 of the tree walk's time."""
    if isinstance(node, c_ast.Struct | c_ast.Union):
        if node.name:
            return type(node)(node.name, None, coord=node.coord)
        members = [_type_copy(d) for d in node.decls] if node.decls is not None else None
        return type(node)(None, members, coord=node.coord)
    if isinstance(node, c_ast.Enum):
        return c_ast.Enum(node.name, None if node.name else node.values, coord=node.coord)
    new = copy.copy(node)
    if isinstance(node, c_ast.IdentifierType):
        new.names = list(node.names)
    elif isinstance(node, c_ast.ParamList):
        new.params = [_type_copy(p) for p in node.params]
    if isinstance(node, c_ast.TypeDecl | c_ast.Typename | c_ast.Decl):
        new.quals = list(node.quals)
    for attr in ("type", "args"):
        child = getattr(node, attr, None)
        if isinstance(child, c_ast.Node):
            setattr(new, attr, _type_copy(child))
    return new


def ctype_of(type_node: c_ast.Node) -> str:
    """The normalised C type of a declaration: no names, storage, inline or markers."""
    t = _strip_markers(_type_copy(type_node))
    _TypeCleaner().visit(t)
    text = _GEN.visit(c_ast.Typename(None, [], None, t))
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")").strip()


def _section(decl: c_ast.Decl) -> str | None:
    for a in decl.align or []:
        al = getattr(a, "alignment", None)
        if isinstance(al, c_ast.Constant) and al.value in _SECTION_FOR_ALIGN:
            return _SECTION_FOR_ALIGN[al.value]
    return _section_marks(decl.type)


# --------------------------------------------------------------------------- the walk


def _c_string(value: str) -> str:
    """The text of a (possibly stringified) C string literal, quotes removed."""
    v = value.strip()
    if v.startswith("L"):
        v = v[1:]
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    v = v.replace('\\"', '"').replace("\\\\", "\\")
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v


class _Locator:
    """Maps pycparser coordinates to locations in the original files."""

    def __init__(self, path: str, stub_root: str) -> None:
        self.path = path
        self.abspath = os.path.abspath(path)
        self.stub_root = os.path.abspath(stub_root) + os.sep
        self.lines: dict[str, list[str] | None] = {}
        self.keep_cache: dict[str, str | None] = {}

    def report_path(self, file: str) -> str | None:
        """The path to report for a coordinate's file, or None if it is not ours."""
        if file in self.keep_cache:
            return self.keep_cache[file]
        result: str | None
        if not file or file.startswith("<"):
            result = None
        else:
            full = os.path.abspath(file)
            if full == self.abspath:
                result = self.path
            elif full.startswith(self.stub_root):
                result = None
            else:
                result = os.path.normpath(file)
        self.keep_cache[file] = result
        return result

    def _source(self, path: str) -> list[str] | None:
        if path not in self.lines:
            try:
                # a linemarker can name any path (`#line 1 "/dev/zero"`): regular files only
                self.lines[path] = read_regular_text(path, SOURCE_LIMIT).split("\n")
            except OSError:
                self.lines[path] = None
        return self.lines[path]

    def loc(self, coord: object, word: str | None) -> Loc | None:
        file = getattr(coord, "file", None)
        path = self.report_path(file or "")
        if path is None:
            return None
        line = int(getattr(coord, "line", 0) or 0)
        col = int(getattr(coord, "column", 0) or 0) or 1
        src = self._source(path)
        if src is not None and 0 < line <= len(src):
            text = src[line - 1]
            m = re.search(rf"\b{re.escape(word)}\b", text) if word else None
            col = m.start() + 1 if m else len(text) - len(text.lstrip()) + 1
        return Loc(path, line, col)


def _walk(ast: c_ast.FileAST, loc: _Locator) -> AstResult:
    result = AstResult(ok=True, error=None)
    defined: set[str] = set()
    sections: dict[str, str] = {}
    pending_defs: list[tuple[c_ast.Decl, bool, Loc]] = []
    pending_externs: list[tuple[c_ast.Decl, bool, Loc]] = []
    for ext in ast.ext:
        if isinstance(ext, c_ast.FuncDef):
            decl = ext.decl
            defined.add(decl.name)
            sec = _section(decl)
            if sec:
                sections.setdefault(decl.name, sec)
            where = loc.loc(decl.coord, decl.name)
            if where is not None and not decl.name.startswith("__kmodlint"):
                pending_defs.append((decl, True, where))
            continue
        if not isinstance(ext, c_ast.Decl) or not ext.name:
            continue
        if "typedef" in (ext.storage or []):
            continue
        if ext.name == EXPORT_DECL:
            _record_export(ext, loc, result)
            continue
        if ext.name.startswith("__kmodlint"):
            continue
        sec = _section(ext)
        if sec:
            sections.setdefault(ext.name, sec)
        is_fn = isinstance(_strip_markers(ext.type), c_ast.FuncDecl)
        storage = ext.storage or []
        where = loc.loc(ext.coord, ext.name)
        if is_fn or ("extern" in storage and ext.init is None):
            if "static" in storage or where is None:
                continue
            pending_externs.append((ext, is_fn, where))
        else:
            defined.add(ext.name)
            if where is not None:
                pending_defs.append((ext, False, where))
    seen_defs: set[tuple[str, Loc]] = set()
    for decl, is_fn, where in pending_defs:
        if (decl.name, where) in seen_defs:
            continue
        seen_defs.add((decl.name, where))
        result.definitions.append(
            Definition(
                name=decl.name,
                is_static="static" in (decl.storage or []),
                is_function=is_fn,
                section=_section(decl) or sections.get(decl.name),
                loc=where,
                ctype=_safe_ctype(decl.type),
                via=AST,
            )
        )
    seen_ext: set[tuple[str, Loc]] = set()
    for decl, is_fn, where in pending_externs:
        if decl.name in defined or (decl.name, where) in seen_ext:
            continue
        seen_ext.add((decl.name, where))
        result.externs.append(
            ExternDecl(
                name=decl.name,
                is_function=is_fn,
                explicit_extern="extern" in (decl.storage or []),
                loc=where,
                ctype=_safe_ctype(decl.type),
                via=AST,
            )
        )
    return result


class _Uses(c_ast.NodeVisitor):
    """The identifiers one function body or initializer uses as values: calls, addresses,
    reads. Member names (`a->b`, `.b = `), labels and the body's own declarations
    (parameters, locals: shadowing a global is rare and only hides a use) are not uses."""

    def __init__(self, static_init: bool = False) -> None:
        self.used: list[c_ast.ID] = []
        self.local: set[str] = set()
        self.static_init = static_init

    def visit_FuncCall(self, node: c_ast.FuncCall) -> None:
        # A static-storage initializer must be a constant expression (C11 6.7.9p4): a call
        # in one that compiles sits in a branch constant folding removes, as in nl80211.c's
        # `(x == A) ? A_SEL : ... : __missing_selector()` link-time assertion.
        if not self.static_init:
            self.generic_visit(node)

    def visit_Switch(self, node: c_ast.Switch) -> None:
        # `switch (sizeof(x)) { case 1: ... default: __buggy_use_of_MLX4_GET(); }`: the
        # controlling expression is a constant, gcc keeps only the matching case, and the
        # default's call to a function defined nowhere is the idiom's link-time assertion
        # (mlx4/fw.c MLX4_GET; __bad_size_call_parameter in the kernel's own headers). A
        # size no case matches fails the link; this cannot be told without the type sizes.
        if not _is_sizeof(node.cond) or not isinstance(node.stmt, c_ast.Compound):
            self.generic_visit(node)
            return
        self.visit(node.cond)
        for item in node.stmt.block_items or ():
            if not isinstance(item, c_ast.Default):
                self.visit(item)

    def visit_ID(self, node: c_ast.ID) -> None:
        self.used.append(node)

    def visit_StructRef(self, node: c_ast.StructRef) -> None:
        self.visit(node.name)  # node.field names a member

    def visit_NamedInitializer(self, node: c_ast.NamedInitializer) -> None:
        self.visit(node.expr)  # node.name is the designator

    def visit_Decl(self, node: c_ast.Decl) -> None:
        if node.name:
            self.local.add(node.name)
        self.generic_visit(node)

    def visit_Enumerator(self, node: c_ast.Enumerator) -> None:
        self.local.add(node.name)
        if node.value is not None:
            self.visit(node.value)


def _is_sizeof(node: c_ast.Node | None) -> bool:
    """`sizeof x`, `sizeof(type)`, possibly cast or parenthesised: a constant."""
    while isinstance(node, c_ast.Cast):
        node = node.expr
    return isinstance(node, c_ast.UnaryOp) and node.op == "sizeof"


def _references(
    ast: c_ast.FileAST, loc: _Locator, body_names: set[str] | None = None
) -> dict[str, Loc]:
    """What the object file will reference, as the compiler sees it: the uses in every
    function and initializer of the file and its own headers, where a `static inline`
    function counts only when something that is emitted uses it (gcc emits no unused
    inline, so its references are not the module's); enumerators and typedef names are
    not symbols. The stub kernel headers have no bodies, so kernel inlines do not
    appear: a call to one is a use of its name, as on the token path."""
    enumerators: set[str] = set()
    for node in ast.ext:
        decl_type = node.type if isinstance(node, c_ast.Decl | c_ast.Typedef) else None
        for enum in _enums_in(decl_type):
            if enum.values is not None:  # `enum foo x;` names an enum defined elsewhere
                enumerators.update(e.name for e in enum.values.enumerators)
    # name -> (body or initializer, parameters, where, is a file-scope initializer)
    bodies: dict[str, list[tuple[c_ast.Node, c_ast.Node | None, object, bool]]] = {}
    roots: list[str] = []
    for node in ast.ext:
        if isinstance(node, c_ast.FuncDef):
            decl = node.decl
            if loc.report_path(getattr(decl.coord, "file", "") or "") is None:
                continue  # a body in the stub environment (none today)
            params = decl.type.args if isinstance(decl.type, c_ast.FuncDecl) else None
            bodies.setdefault(decl.name, []).append((node.body, params, decl.coord, False))
            if not ("static" in (decl.storage or []) and "inline" in (decl.funcspec or [])):
                roots.append(decl.name)
        elif isinstance(node, c_ast.Decl) and node.init is not None and node.name:
            if loc.report_path(getattr(node.coord, "file", "") or "") is None:
                continue
            bodies.setdefault(node.name, []).append((node.init, None, node.coord, True))
            roots.append(node.name)
    # each body's uses once: the names of every body, reached or not, go to body_names
    uses: dict[int, list[c_ast.ID]] = {}
    for entries in bodies.values():
        for body, params, _coord, static_init in entries:
            finder = _Uses(static_init)
            if params is not None:
                finder.visit(params)
                finder.used.clear()  # array bounds of parameters are not uses worth recording
            finder.visit(body)
            uses[id(body)] = [i for i in finder.used if i.name not in finder.local]
            if body_names is not None:
                body_names.update(i.name for i in finder.used)
                body_names.update(finder.local)
    found: dict[str, Loc] = {}
    done: set[str] = set()
    # (name, where the emitted code calls it): a use inside an inline helper is reported
    # where the file calls the helper, which is the line the user can change.
    pending: list[tuple[str, Loc | None]] = [(name, None) for name in dict.fromkeys(roots)]
    pending.reverse()
    while pending:
        name, via = pending.pop()
        if name in done:
            continue
        done.add(name)
        for body, _params, coord, _static_init in bodies.get(name, ()):
            for ident in uses[id(body)]:
                used = ident.name
                if used in enumerators or used.startswith("__kmodlint") or used == name:
                    continue
                where = via or loc.loc(ident.coord, used) or loc.loc(coord, name)
                if where is None:
                    continue
                found.setdefault(used, where)
                if used in bodies and used not in done:
                    pending.append((used, where))
    return found


# A C string literal, and the gaps cpp leaves between adjacent ones (whitespace, newlines,
# linemarkers): adjacent literals are one string to the assembler.
_STRING = re.compile(r'"((?:\\.|[^"\\\n])*)"')
_GAP = re.compile(r"(?:\s|^#[^\n]*\n)*", re.MULTILINE)
_ASM_GLOBAL = re.compile(r"\.glob(?:a)?l\s+([A-Za-z_][\w$]*)")


def asm_globals(text: str) -> set[str]:
    """Names a file's inline assembly makes global (`.global em_add`, pasted by a macro as
    ".global em_" "add" - arch/x86/kvm/emulate.c's fastops): defined by this object, though
    no C definition shows them."""
    if ".glob" not in text:
        return set()
    found: set[str] = set()
    position, joined = 0, ""
    for match in _STRING.finditer(text):
        between = text[position : match.start()]
        if position and _GAP.fullmatch(between) is None:
            found.update(_ASM_GLOBAL.findall(joined))
            joined = ""
        joined += match.group(1)
        position = match.end()
    found.update(_ASM_GLOBAL.findall(joined))
    return found


def _add_asm_definitions(result: AstResult, names: set[str], path: str) -> None:
    known = {definition.name for definition in result.definitions}
    for name in sorted(names - known):
        result.definitions.append(
            Definition(name, False, True, None, Loc(path, 1, 1), ctype=None, via=AST)
        )


def _enums_in(node: c_ast.Node | None) -> list[c_ast.Enum]:
    """The enum definitions a file-scope declaration's type holds (also inside structs)."""
    found: list[c_ast.Enum] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, c_ast.Enum):
            found.append(current)
            continue
        stack.extend(child for _, child in current.children())
    return found


def _safe_ctype(node: c_ast.Node) -> str | None:
    try:
        return ctype_of(node)
    except Exception:
        return None


def _record_export(decl: c_ast.Decl, loc: _Locator, result: AstResult) -> None:
    init = decl.init
    if not isinstance(init, c_ast.InitList) or len(init.exprs) != 3:
        return
    values = []
    for e in init.exprs:
        if not isinstance(e, c_ast.Constant) or e.type != "string":
            return
        values.append(_c_string(e.value))
    kind, sym, ns = values
    if not sym or not re.fullmatch(r"[A-Za-z_$][\w$]*", sym):
        return
    namespace = None if ns in ("", "DEFAULT_SYMBOL_NAMESPACE") else ns
    where = loc.loc(decl.coord, None)
    if where is None:
        return
    src = loc._source(where.path)
    line = where.line or 0
    if src is not None and 0 < line <= len(src):
        text = src[line - 1]
        m = re.search(r"\bEXPORT_\w+", text)
        col = m.start() + 1 if m else len(text) - len(text.lstrip()) + 1
        where = Loc(where.path, where.line, col)
    result.exports.append(SourceExport(sym, kind, namespace, where, via=AST))


# --------------------------------------------------------------------------- entry point


_TYPEDEFS: dict[str, frozenset[str]] = {}


def kernel_typedefs(env: str) -> frozenset[str]:
    """The typedef names of the stub environment (``typedefs.txt``)."""
    if env not in _TYPEDEFS:
        try:
            with open(os.path.join(env, "typedefs.txt"), encoding="utf-8") as fh:
                _TYPEDEFS[env] = frozenset(x.strip() for x in fh if x.strip())
        except OSError:
            _TYPEDEFS[env] = frozenset()
    return _TYPEDEFS[env]


class _KernelParser(c_parser.CParser):
    """pycparser with the kernel's typedef names already in an outer scope.

    Seeding the scope is ~50x cheaper than parsing 1,500 ``typedef int x;`` lines per file.
    ``parse`` of pycparser 3.x starts by resetting ``self._scope_stack = [{}]``; the property
    below turns that reset into ``[kernel typedefs, {}]``, so the public ``parse`` runs
    unchanged whatever the lexer and token-stream internals of the release are. A release
    that stops resetting the scope that way gets the declarations as text instead.
    """

    _seed_works: bool | None = None  # found out once per process

    def __init__(self, typedefs: frozenset[str]) -> None:
        self._kernel_types = typedefs
        super().__init__()
        self._seeded = False

    @property
    def _scope_stack(self) -> list[dict[str, bool]]:
        return self.__dict__["_kmodlint_scopes"]

    @_scope_stack.setter
    def _scope_stack(self, value: list[dict[str, bool]]) -> None:
        if len(value) == 1 and not value[0]:
            # the reset at the start of a parse: the kernel's types sit outside file scope
            value = [dict.fromkeys(self._kernel_types, True), value[0]]
            self._seeded = True
        self.__dict__["_kmodlint_scopes"] = value

    def _parse_error(self, msg: str, coord: object) -> NoReturn:
        # some pycparser errors carry only the file name: use the current token's position
        if getattr(coord, "line", None) is None or isinstance(coord, str):
            try:
                tok = self._peek()
                if tok is not None:
                    coord = self._tok_coord(tok)
            except Exception:
                pass
        super()._parse_error(msg, coord)  # type: ignore[arg-type]
        raise AssertionError("pycparser's _parse_error returned")  # it always raises

    @classmethod
    def seeding_works(cls) -> bool:
        """Whether this pycparser resets ``_scope_stack`` at the start of ``parse`` (a
        declaration using a seeded type name parses)."""
        if cls._seed_works is None:
            probe = cls(frozenset({"__kmodlint_probe_t"}))
            try:
                c_parser.CParser.parse(probe, "__kmodlint_probe_t __kmodlint_v;\n", "<probe>")
                cls._seed_works = probe._seeded
            except Exception:
                cls._seed_works = False
        return cls._seed_works

    def parse(self, text: str, filename: str = "", debug: bool = False) -> c_ast.FileAST:
        if self.seeding_works():
            return super().parse(text, filename)
        types, self._kernel_types = self._kernel_types, frozenset()
        decls = "".join(f"typedef int {t};\n" for t in sorted(types))
        return super().parse(decls + text, filename)


def _parse(text: str, filename: str, typedefs: frozenset[str] = frozenset()) -> c_ast.FileAST:
    return _KernelParser(typedefs).parse(text, filename)


_T = TypeVar("_T")


def _deep(work: Callable[[], _T]) -> _T:
    """Run `work` in a thread with a deep stack and a high recursion limit: pycparser and
    the walks of its tree recurse once per nesting level (long `case` chains, 5,000 nested
    parentheses). The limit is raised only while that thread runs (the caller is blocked
    in join meanwhile) and restored after, so no other code runs with a limit its 8 MB
    stack cannot honour (a segfault instead of a RecursionError)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    try:
        sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
        threading.stack_size(PARSE_STACK)
        worker = threading.Thread(target=run, name="kmodlint-pycparser")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def _preprocess_and_parse(
    path: str,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None,
    env: str,
    union: bool,
) -> tuple[c_ast.FileAST, set[str]] | AstResult:
    try:
        text = preprocess(
            path, defines=defines, include_dirs=include_dirs, stub_env=stub_env, union=union
        )
    except PreprocessorNotFound:
        raise
    except PreprocessError as exc:
        return AstResult(False, _one_line(str(exc)))
    except Exception as exc:
        return AstResult(False, _one_line(f"cpp: {type(exc).__name__}: {exc}"))
    try:
        iso = gnu_to_iso(squeeze_linemarkers(text))
        typedefs = kernel_typedefs(env)
        for attempt in range(TYPEDEF_RETRIES + 1):
            try:
                return _parse(iso, path, typedefs), asm_globals(text)
            except c_parser.ParseError as exc:
                # A kernel typedef name the file uses as an ordinary identifier (a label,
                # a member, a variable): forget that typedef and parse again.
                m = re.search(r"before: ([A-Za-z_]\w*)$", str(exc))
                if attempt == TYPEDEF_RETRIES or not m or m.group(1) not in typedefs:
                    raise
                typedefs = typedefs - {m.group(1)}
    except c_parser.ParseError as exc:
        return AstResult(False, _one_line(f"pycparser: {exc}"))
    except RecursionError:
        return AstResult(False, "pycparser: nesting too deep")
    except Exception as exc:
        return AstResult(False, _one_line(f"pycparser: {type(exc).__name__}: {exc}"))
    raise AssertionError("unreachable")


def analyse_ast(
    path: str,
    *,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None = None,
) -> AstResult:
    """Preprocess ``path`` against the stub kernel, parse it, and collect its typed facts.

    Never raises for a bad file: any failure gives ``ok=False`` with a one-line ``error``.
    PreprocessorNotFound (no cpp at all) is the one exception that propagates, since it is
    about the machine, not the file.
    """
    return _deep(lambda: _analyse(path, defines, include_dirs, stub_env))


def _analyse(
    path: str, defines: dict[str, str], include_dirs: list[str], stub_env: str | None
) -> AstResult:
    try:
        env = stub_env_dir(stub_env)
    except Exception as exc:
        return AstResult(False, _one_line(f"cpp: {type(exc).__name__}: {exc}"))
    first: AstResult | None = None
    ast: c_ast.FileAST | None = None
    globals_in_asm: set[str] = set()
    # First the faithful environment (each #include brings its own header's stubs); if
    # pycparser refuses that, once more with every stub visible (a .c fragment another file
    # #include's, a header behind a Makefile -I nobody told us about).
    for union in (False, True):
        got = _preprocess_and_parse(path, defines, include_dirs, stub_env, env, union)
        if isinstance(got, tuple):
            ast, globals_in_asm = got
            break
        if first is None:
            first = got
        if not got.error or not got.error.startswith("pycparser: "):
            break
    if ast is None:
        assert first is not None
        return first
    try:
        locator = _Locator(path, env)
        result = _walk(ast, locator)
        result.references = _references(ast, locator, result.body_names)
        _add_asm_definitions(result, globals_in_asm, path)
        return result
    except Exception as exc:
        return AstResult(False, _one_line(f"ast walk: {type(exc).__name__}: {exc}"))
