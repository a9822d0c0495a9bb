"""pycparser, adapted: the kernel's typedef names seeded into its scope, parse errors
located, and a deep stack for deeply nested code. The one module that knows pycparser's
internals.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn, TypeVar

from pycparser import c_ast, c_parser

PARSE_STACK = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000


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
        scopes: list[dict[str, bool]] = self.__dict__["_kmodlint_scopes"]
        return scopes

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
        super()._parse_error(msg, coord)
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


def parse_c(text: str, filename: str, typedefs: frozenset[str] = frozenset()) -> c_ast.FileAST:
    return _KernelParser(typedefs).parse(text, filename)


_T = TypeVar("_T")


def with_deep_stack(work: Callable[[], _T]) -> _T:
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
