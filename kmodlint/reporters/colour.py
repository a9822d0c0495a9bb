"""When to colour text output: the no-color.org convention plus `--color`."""

from __future__ import annotations

import os
from typing import TextIO

RESET = "\033[0m"
BOLD = "\033[1m"
# gcc's palette, so kmodlint lines look like the compiler errors next to them.
SEVERITY_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;35m", "info": "\033[1;36m"}


def use_colour(mode: str, stream: TextIO) -> bool:
    """`always`/`never` are explicit choices; `auto` colours only a terminal and only when
    NO_COLOR is unset or empty (https://no-color.org: an explicit flag beats the variable)."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
