"""The C front end's facts that a source module carries into the model
(`model.SourceInfo`): definitions, extern declarations and module parameters.

They live here, not in `kmodlint/cfront/`, so that the model and the rules are typed
against them without importing the C front end: a run over binaries never loads it
(issue 13). `cfront/facts.py` re-exports them with the facts only the front end uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from kmodlint.diagnostics import Location

# Which path of the C front end read a fact: the token scan (every file) or the full
# parse (pycparser, when the preprocessed file parsed). Types are only compared between
# facts read the same way.
Via = Literal["token", "ast"]
TOKEN: Final = "token"
AST: Final = "ast"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    is_static: bool
    is_function: bool
    section: str | None  # "init" (__init/__initdata) or "exit" (__exit/__exitdata)
    loc: Location
    ctype: str | None = None  # normalised C type, from the path named by `via`
    via: Via = TOKEN
    # The token path's spelling of the type, kept when the AST's replaces it, so two
    # declarations can always be compared the same way.
    token_ctype: str | None = None


@dataclass(frozen=True, slots=True)
class ExternDecl:
    """A declaration of a symbol defined elsewhere: `extern int x;`, a prototype."""

    name: str
    is_function: bool
    explicit_extern: bool  # written with the `extern` keyword
    loc: Location
    ctype: str | None = None
    via: Via = TOKEN
    token_ctype: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # the parameter's user-visible name
    variable: str  # the C variable behind it
    type_name: str  # module_param's type argument: int, uint, charp, bool, ...
    perm: str  # the permission expression as written
    loc: Location
    macro: str = "module_param"
