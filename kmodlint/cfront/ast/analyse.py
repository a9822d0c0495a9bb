"""The AST path of the C front end: cpp against the stub kernel, then pycparser.

Facts it adds to the token path: the C type of every definition and declaration (for
extern-mismatch and param-type-mismatch), the section (``__init``/``__exit``) of each
definition, and every export visible after macro expansion. Only facts located in the analysed
file or in real (non-stub) headers are reported; locations point into the original files.
"""

from __future__ import annotations

import re

from pycparser import c_ast, c_parser

from kmodlint.cfront.ast.gnu_to_iso import gnu_to_iso, squeeze_linemarkers
from kmodlint.cfront.ast.pycparser_adapter import kernel_typedefs, parse_c, with_deep_stack
from kmodlint.cfront.ast.walk import (
    AstResult,
    Locator,
    add_asm_definitions,
    asm_globals,
    emitted_references,
    walk_file,
)
from kmodlint.cfront.preprocess.cpp import (
    PreprocessError,
    PreprocessorNotFound,
    preprocess,
    stub_env_dir,
)

TYPEDEF_RETRIES = 4


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
                return parse_c(iso, path, typedefs), asm_globals(text)
            except c_parser.ParseError as exc:
                # A kernel typedef name the file uses as an ordinary identifier (a label,
                # a member, a variable): forget that typedef and parse again.
                match = re.search(r"before: ([A-Za-z_]\w*)$", str(exc))
                if attempt == TYPEDEF_RETRIES or not match or match.group(1) not in typedefs:
                    raise
                typedefs = typedefs - {match.group(1)}
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
    return with_deep_stack(lambda: _analyse(path, defines, include_dirs, stub_env))


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
        locator = Locator(path, env)
        result = walk_file(ast, locator)
        result.references = emitted_references(
            ast, locator, result.body_names, result.section_refs, result.sections
        )
        add_asm_definitions(result, globals_in_asm, path)
        return result
    except Exception as exc:
        return AstResult(False, _one_line(f"ast walk: {type(exc).__name__}: {exc}"))
