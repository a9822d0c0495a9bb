"""The kernel headers' `static inline` functions, by name.

A driver may declare a kernel function itself (`ktime_t ktime_get_real(void);`) instead of
relying on the header; when the kernel defines that name as a `static inline` in a header the
driver includes, the call binds to the inline (C11 6.2.2p4: a later declaration without
`static` keeps the internal linkage), so the object file imports nothing and the loader looks
nothing up. The stub kernel headers the AST path uses carry no bodies, so this list is what
tells kmodlint that such a name is not an "Unknown symbol".

Generated from the Debian headers the stub environment comes from (see stubenv/README):

    python -m kmodlint.cfront.kernel_inlines /usr/src/linux-headers-6.1.0-56-common \\
        > kmodlint/cfront/stubenv/inlines.txt
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from importlib import resources

from kmodlint.cfront.lex.keywords import C_KEYWORDS
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text

# `static inline T name(` on one line, or `static inline T` alone and `name(` on the next;
# attributes with arguments (`__alloc_size(1)`, `__attribute__((x))`) are removed first
_ATTRIBUTE = re.compile(r"\b__\w+\s*\((?:[^()\n]|\([^()\n]*\))*\)")
_ONE_LINE = re.compile(
    r"^static\s+(?:inline|__always_inline|__inline__)\b[^;=(]*?\b([A-Za-z_]\w*)\s*\(",
    re.MULTILINE,
)
_TWO_LINES = re.compile(
    r"^static\s+(?:inline|__always_inline|__inline__)\b[^;=(\n]*\n([A-Za-z_]\w*)\s*\(",
    re.MULTILINE,
)
_INCLUDE_ROOTS = ("include", os.path.join("arch", "x86", "include"))


def generate(tree: str) -> list[str]:
    """Every name a header under `tree`'s include roots defines as a static inline."""
    names: set[str] = set()
    for root in _INCLUDE_ROOTS:
        for folder, _dirs, files in os.walk(os.path.join(tree, root)):
            for name in files:
                if not name.endswith(".h"):
                    continue
                try:  # a regular header of bounded size (safe_io)
                    text = read_regular_text(os.path.join(folder, name), SOURCE_LIMIT)
                except OSError:
                    continue
                text = _ATTRIBUTE.sub(" ", text)
                names.update(m.group(1) for m in _ONE_LINE.finditer(text))
                names.update(m.group(1) for m in _TWO_LINES.finditer(text))
    # what a macro-heavy header leaves in the patterns' place: never a function name
    return sorted(n for n in names if n not in C_KEYWORDS and not n.startswith("__attribute"))


@lru_cache(maxsize=1)
def kernel_inlines() -> frozenset[str]:
    """The shipped list (empty when the file is missing: nothing is then silenced)."""
    try:
        text = (resources.files("kmodlint.cfront") / "stubenv" / "inlines.txt").read_text()
    except (OSError, ValueError):
        return frozenset()
    return frozenset(line for line in text.split() if line and not line.startswith("#"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kmodlint.cfront.kernel_inlines HEADERS_TREE", file=sys.stderr)
        return 2
    print("# static inline functions of the kernel headers (kmodlint.cfront.kernel_inlines)")
    for name in generate(argv[0]):
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
