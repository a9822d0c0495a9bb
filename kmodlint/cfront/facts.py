"""What the C front end records about one source file.

Two paths fill it: the token path (every file, fast, proves exports, licence, namespace,
init/exit, params, `static`) and the AST path (pycparser on the preprocessed file: C types
for extern-mismatch and param-type-mismatch, and exports that only macro expansion shows).
Each fact says which path found it, so a report can tell what rests on a full parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodlint.diagnostics import Location as Loc

# The facts a module carries into the model live outside the C front end (the model is
# typed against them; a binary run never imports cfront): re-exported here for its code.
from kmodlint.source_facts import AST, TOKEN, Definition, ExternDecl, Param, Via

__all__ = [
    "AST",
    "TOKEN",
    "Definition",
    "ExternDecl",
    "FileFacts",
    "Loc",
    "ModinfoTag",
    "Param",
    "SourceExport",
    "Via",
]


@dataclass(frozen=True, slots=True)
class SourceExport:
    symbol: str
    kind: str  # "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL" or "EXPORT_SYMBOL_GPL_FUTURE"
    namespace: str | None
    loc: Loc
    via: Via = TOKEN


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
