"""Object-like macros of the kernel headers a file includes, for the token path's `#if`s.

The token path does not read kernel headers, so `#ifdef NFS_DEBUG` (defined by
<linux/nfs_fs.h> when CONFIG_SUNRPC_DEBUG is set) would count as off and the exports under
it would be lost. The stub environment's ``headers.txt`` already holds, per real header,
its ``#include`` lines and its macros (config branches resolved when it was generated), so
the answer is there without reading a header: a name not defined by the file is looked up
in the headers reachable from the file's own ``#include <...>`` lines, and only those, as
cpp would see them.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

_INCLUDE = re.compile(r"#include\s*<([^>]+)>")
_DEFINE = re.compile(r"#define\s+([A-Za-z_]\w*)(.*)$")


class HeaderMacros:
    """The include graph and object-like macros of one stub environment."""

    def __init__(self, headers_txt: str) -> None:
        self.includes: dict[str, tuple[str, ...]] = {}
        self.defined_in: dict[str, list[tuple[str, str]]] = {}
        try:
            with open(headers_txt, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            lines = []  # no stub environment: every unknown name stays 0, as before
        header = ""
        includes: list[str] = []
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if not line.startswith("#"):
                if header:
                    self.includes[header] = tuple(includes)
                header, includes = line, []
                continue
            if not header:
                continue
            if m := _INCLUDE.match(line):
                includes.append(m.group(1))
            elif m := _DEFINE.match(line):
                # function-like: known to exist (`#ifdef`), value unknown, as directives.py keys it
                function_like = line[m.end(1) : m.end(1) + 1] == "("
                name = f"{m.group(1)}()" if function_like else m.group(1)
                value = "" if function_like else m.group(2).strip()
                self.defined_in.setdefault(name, []).append((header, value))
        if header:
            self.includes[header] = tuple(includes)
        self._reach: dict[str, frozenset[str]] = {}

    def reachable(self, header: str) -> frozenset[str]:
        """Every header `header` includes, transitively, itself included."""
        found = self._reach.get(header)
        if found is None:
            seen: set[str] = set()
            stack = [header]
            while stack:
                current = stack.pop()
                if current in seen or current not in self.includes:
                    continue
                seen.add(current)
                stack.extend(self.includes[current])
            found = self._reach[header] = frozenset(seen)
        return found

    def lookup(self, name: str, roots: list[str]) -> str | None:
        """The value of `name` as the first reachable header defining it has it, or None."""
        candidates = self.defined_in.get(name)
        if not candidates:
            return None
        for root in roots:
            reach = self.reachable(root)
            for header, value in candidates:
                if header in reach:
                    return value
        return None


@lru_cache(maxsize=4)
def header_macros(stub_env_source: str) -> HeaderMacros:
    """One index per stub environment folder (shipped or generated), per process."""
    return HeaderMacros(os.path.join(stub_env_source, "headers.txt"))
