"""Walking up the file system: the one loop that every "nearest X above this path" uses."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator


def ancestors(folder: str, levels: int | None = None) -> Iterator[str]:
    """*folder* (made absolute), its parent, ... up to the file system root, or at most
    *levels* folders. Callers stop early with `break` or `return` when they find theirs."""
    current = os.path.abspath(folder)
    for _ in itertools.count() if levels is None else range(levels):
        yield current
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent
