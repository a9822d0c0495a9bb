"""What the C front end records about one source file.

Two paths fill it: the token path (every file, fast, proves exports, licence, namespace,
init/exit, params, `static`) and the AST path (pycparser on the preprocessed file: C types
for extern-mismatch and param-type-mismatch, and exports that only macro expansion shows).
Each fact says which path found it, so a report can tell what rests on a full parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodlint.diagnostics import Location as Loc

TOKEN = "token"
AST = "ast"

__all__ = ["AST", "TOKEN", "Definition", "ExternDecl", "FileFacts", "Loc", "ModinfoTag"]


@dataclass(frozen=True, slots=True)
class SourceExport:
    symbol: str
    kind: str  # "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL" or "EXPORT_SYMBOL_GPL_FUTURE"
    namespace: str | None
    loc: Loc
    via: str = TOKEN


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    is_static: bool
    is_function: bool
    section: str | None  # "init" (__init/__initdata) or "exit" (__exit/__exitdata)
    loc: Loc
    ctype: str | None = None  # normalised C type, from the path named by `via`
    via: str = TOKEN
    # The token path's spelling of the type, kept when the AST's replaces it, so two
    # declarations can always be compared the same way.
    token_ctype: str | None = None


@dataclass(frozen=True, slots=True)
class ExternDecl:
    """A declaration of a symbol defined elsewhere: `extern int x;`, a prototype."""

    name: str
    is_function: bool
    explicit_extern: bool  # written with the `extern` keyword
    loc: Loc
    ctype: str | None = None
    via: str = TOKEN
    token_ctype: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # the parameter's user-visible name
    variable: str  # the C variable behind it
    type_name: str  # module_param's type argument: int, uint, charp, bool, ...
    perm: str  # the permission expression as written
    loc: Loc
    macro: str = "module_param"


@dataclass(frozen=True, slots=True)
class ModinfoTag:
    tag: str  # license, description, author, import_ns, ...
    value: str
    loc: Loc


@dataclass(slots=True)
class FileFacts:
    path: str
    exports: list[SourceExport] = field(default_factory=list)
    definitions: dict[str, Definition] = field(default_factory=dict)
    externs: list[ExternDecl] = field(default_factory=list)
    # Names used (called or address taken) in code, first occurrence; the module set
    # decides which are imports.
    references: dict[str, Loc] = field(default_factory=dict)
    modinfo: list[ModinfoTag] = field(default_factory=list)
    init: Loc | None = None
    exit: Loc | None = None
    params: list[Param] = field(default_factory=list)
    # Identifiers passed to declaration-like macros the token path cannot expand
    # (DEFINE_MUTEX(lock), DEFINE_PER_CPU(int, x), ...): maybe defined here, so they
    # may silence a finding but never raise one.
    macro_names: set[str] = field(default_factory=set)
    # Set when the AST path could not parse the file: a one-line reason.
    ast_error: str | None = None
    ast_parsed: bool = False
    # What the preprocessed translation unit uses (the AST path), when it parsed: only
    # these can make an "Unknown symbol" error. The token path's uses stay in `references`
    # for dependencies (a use inside a kernel macro's arguments, which the stub kernel
    # headers drop), but a name the compiler never sees (a macro expanding to nothing,
    # a typedef, a member) must not fail a module that builds.
    ast_uses: set[str] = field(default_factory=set)
    # (definition, name, where): uses of names the file marks __init/__exit in each emitted
    # body or initializer (the AST path), for section-mismatch.
    section_refs: list[tuple[str, str, Loc]] = field(default_factory=list)
