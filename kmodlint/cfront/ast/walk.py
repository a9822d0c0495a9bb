"""The walk of pycparser's tree: definitions, declarations, exports, C types and the
references the emitted code makes, located in the original files.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field

from pycparser import c_ast, c_generator

from kmodlint.cfront.ast.gnu_to_iso import EXIT_MARK, INIT_MARK
from kmodlint.cfront.facts import AST, Definition, ExternDecl, Loc, SourceExport
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text

_SECTION_FOR_ALIGN = {"4097": "init", "4099": "exit"}
_SECTION_FOR_MARK = {INIT_MARK: "init", EXIT_MARK: "exit"}
EXPORT_DECL = "__kmodlint_export"


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
    # Names the file declares or defines __init/__exit ("init"/"exit"), and the uses of
    # them in each emitted function body or initializer: (definition, name, where), for
    # section-mismatch (rules/sections.py).
    sections: dict[str, str] = field(default_factory=dict)
    section_refs: list[tuple[str, str, Loc]] = field(default_factory=list)


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
        # copied, not rebuilt: pycparser 3.12's Enum takes a C23 underlying type as a third
        # argument, and Enum(name, values, coord=...) raised there (the type was lost)
        enum = copy.copy(node)
        if node.name:
            enum.values = None
        return enum
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
    cleaned = _strip_markers(_type_copy(type_node))
    _TypeCleaner().visit(cleaned)
    text = _GEN.visit(c_ast.Typename(None, [], None, cleaned))
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


class Locator:
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
            match = re.search(rf"\b{re.escape(word)}\b", text) if word else None
            col = match.start() + 1 if match else len(text) - len(text.lstrip()) + 1
        return Loc(path, line, col)


def walk_file(ast: c_ast.FileAST, loc: Locator) -> AstResult:
    result = AstResult(ok=True, error=None)
    found = _FileScope(loc, result)
    for ext in ast.ext:
        if isinstance(ext, c_ast.FuncDef):
            found.function(ext.decl)
        elif isinstance(ext, c_ast.Decl) and ext.name:
            found.declaration(ext)
    _add_definitions(result, found.pending_defs)
    _add_externs(result, found.pending_externs, found.defined)
    return result


class _FileScope:
    """The file-scope definitions and declarations of one file, before duplicates go."""

    def __init__(self, loc: Locator, result: AstResult) -> None:
        self.loc = loc
        self.result = result
        self.sections = result.sections
        self.defined: set[str] = set()
        self.pending_defs: list[tuple[c_ast.Decl, bool, Loc]] = []
        self.pending_externs: list[tuple[c_ast.Decl, bool, Loc]] = []

    def function(self, decl: c_ast.Decl) -> None:
        self.defined.add(decl.name)
        sec = _section(decl)
        if sec:
            self.sections.setdefault(decl.name, sec)
        where = self.loc.loc(decl.coord, decl.name)
        if where is not None and not decl.name.startswith("__kmodlint"):
            self.pending_defs.append((decl, True, where))

    def declaration(self, ext: c_ast.Decl) -> None:
        if "typedef" in (ext.storage or []):
            return
        if ext.name == EXPORT_DECL:
            _record_export(ext, self.loc, self.result)
            return
        if ext.name.startswith("__kmodlint"):
            return
        sec = _section(ext)
        if sec:
            self.sections.setdefault(ext.name, sec)
        is_fn = isinstance(_strip_markers(ext.type), c_ast.FuncDecl)
        storage = ext.storage or []
        where = self.loc.loc(ext.coord, ext.name)
        if is_fn or ("extern" in storage and ext.init is None):
            if "static" in storage or where is None:
                return
            self.pending_externs.append((ext, is_fn, where))
        else:
            self.defined.add(ext.name)
            if where is not None:
                self.pending_defs.append((ext, False, where))


def _add_definitions(result: AstResult, pending: list[tuple[c_ast.Decl, bool, Loc]]) -> None:
    seen_defs: set[tuple[str, Loc]] = set()
    for decl, is_fn, where in pending:
        if (decl.name, where) in seen_defs:
            continue
        seen_defs.add((decl.name, where))
        result.definitions.append(
            Definition(
                name=decl.name,
                is_static="static" in (decl.storage or []),
                is_function=is_fn,
                section=_section(decl) or result.sections.get(decl.name),
                loc=where,
                ctype=_safe_ctype(decl.type),
                via=AST,
            )
        )


def _add_externs(
    result: AstResult, pending: list[tuple[c_ast.Decl, bool, Loc]], defined: set[str]
) -> None:
    seen_ext: set[tuple[str, Loc]] = set()
    for decl, is_fn, where in pending:
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


def emitted_references(
    ast: c_ast.FileAST,
    loc: Locator,
    body_names: set[str] | None = None,
    section_refs: list[tuple[str, str, Loc]] | None = None,
    marked: dict[str, str] | None = None,
) -> dict[str, Loc]:
    """What the object file will reference, as the compiler sees it: the uses in every
    function and initializer of the file and its own headers, where a `static inline`
    function counts only when something that is emitted uses it (gcc emits no unused
    inline, so its references are not the module's); enumerators and typedef names are
    not symbols. The stub kernel headers have no bodies, so kernel inlines do not
    appear: a call to one is a use of its name, as on the token path."""
    enumerators = _enumerators(ast)
    bodies, roots = _bodies(ast, loc)
    uses = _uses_of(bodies, body_names)
    if section_refs is not None and marked:
        _section_uses(bodies, roots, uses, marked, loc, section_refs)
    return _reached(bodies, roots, uses, enumerators, loc)


# name -> (body or initializer, parameters, where, is a file-scope initializer)
_Bodies = dict[str, list[tuple[c_ast.Node, c_ast.Node | None, object, bool]]]


def _enumerators(ast: c_ast.FileAST) -> set[str]:
    enumerators: set[str] = set()
    for node in ast.ext:
        decl_type = node.type if isinstance(node, c_ast.Decl | c_ast.Typedef) else None
        for enum in _enums_in(decl_type):
            if enum.values is not None:  # `enum foo x;` names an enum defined elsewhere
                enumerators.update(e.name for e in enum.values.enumerators)
    return enumerators


def _bodies(ast: c_ast.FileAST, loc: Locator) -> tuple[_Bodies, list[str]]:
    """Every function body and file-scope initializer of the file and its own headers, and
    the names of those that are emitted (not a `static inline` function)."""
    bodies: _Bodies = {}
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
    return bodies, roots


def _uses_of(bodies: _Bodies, body_names: set[str] | None) -> dict[int, list[c_ast.ID]]:
    """Each body's uses, once; the names of every body, reached or not, go to body_names."""
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
    return uses


def _reached(
    bodies: _Bodies,
    roots: list[str],
    uses: dict[int, list[c_ast.ID]],
    enumerators: set[str],
    loc: Locator,
) -> dict[str, Loc]:
    """The names the emitted bodies use, through the inline helpers they call, each at
    its first use (a use inside an inline helper is reported where the file calls the
    helper, which is the line the user can change)."""
    found: dict[str, Loc] = {}
    done: set[str] = set()
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


def _section_uses(
    bodies: dict[str, list[tuple[c_ast.Node, c_ast.Node | None, object, bool]]],
    roots: list[str],
    uses: dict[int, list[c_ast.ID]],
    marked: dict[str, str],
    loc: Locator,
    out: list[tuple[str, str, Loc]],
) -> None:
    """The first use, in each emitted body or initializer, of each name the file marks
    __init/__exit (a use inside an inline helper is not followed: a false negative). A
    definition written with a section the stub kernel spells as nothing (on its line or the
    one before) is skipped: `__ref*` (.ref.*), `__ro_after_init`, `__read_mostly`,
    `__section(...)` go where modpost does not check, and an `__init`/`__exit` the parse
    did not attach (`struct x * __init\nf(...)`) is not .text."""
    emitted = set(roots)
    for name in dict.fromkeys(roots):
        for body, _params, coord, _static_init in bodies.get(name, ()):
            if _written_elsewhere(loc, coord, name, name in marked):
                continue
            seen: set[str] = set()
            for ident in uses[id(body)]:
                used = ident.name
                if used == name or used in seen or used not in marked:
                    continue
                if used in bodies and used not in emitted:
                    continue  # a static inline (__always_inline __init): no reference left
                seen.add(used)
                where = loc.loc(ident.coord, used) or loc.loc(coord, name)
                if where is not None:
                    out.append((name, used, where))


_OTHER_SECTION = re.compile(
    r"\b(?:__ref(?:data|const)?|__ro_after_init|__read_mostly|__section|__meminit\w*)\b"
    r"|__attribute__\s*\(\(\s*(?:__)?section"
)
_INIT_EXIT = re.compile(r"\b(?:__init|__exit)\w*\b")


def _written_elsewhere(loc: Locator, coord: object, name: str, attached: bool) -> bool:
    where = loc.loc(coord, name)
    lines = loc._source(where.path) if where is not None and where.line else None
    if where is None or where.line is None or lines is None:
        return False
    text = "\n".join(lines[max(0, where.line - 2) : where.line])
    return bool(_OTHER_SECTION.search(text) or (not attached and _INIT_EXIT.search(text)))


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


def add_asm_definitions(result: AstResult, names: set[str], path: str) -> None:
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


def _record_export(decl: c_ast.Decl, loc: Locator, result: AstResult) -> None:
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
        match = re.search(r"\bEXPORT_\w+", text)
        col = match.start() + 1 if match else len(text) - len(text.lstrip()) + 1
        where = Loc(where.path, where.line, col)
    result.exports.append(SourceExport(sym, kind, namespace, where, via=AST))
