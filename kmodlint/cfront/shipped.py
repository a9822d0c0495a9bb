"""Kbuild's ``_shipped`` copies: a file an unbuilt tree has only as ``name_shipped``."""

from __future__ import annotations

import os


def shipped_copy(folder: str, name: str) -> str | None:
    """``folder/name_shipped`` when it exists: Kbuild makes ``$(obj)/foo.h`` from
    ``$(src)/foo.h_shipped`` (scripts/Makefile.lib's ``$(obj)/%: $(src)/%_shipped`` rule,
    aic7xxx_reg.h), so an unbuilt tree has only that."""
    candidate = os.path.normpath(os.path.join(folder, name + "_shipped"))
    return candidate if os.path.isfile(candidate) else None
