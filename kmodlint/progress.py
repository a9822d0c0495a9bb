"""A progress bar on stderr for long runs, and nothing at all otherwise.

Shown only when stderr is a terminal, the run is not --quiet and a phase has at least
KMODLINT_PROGRESS_MIN items (default 200): a CI log or a pipe never gets carriage returns,
and stdout, which may carry JSON or modules.dep, is never touched.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_MIN_ITEMS = 200
_REDRAW_SECONDS = 0.1  # a pool finishes items faster than a terminal wants to repaint
_BAR = 30


class Progress:
    """Callable as `progress(phase, done, total)` from wherever work items complete."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.min_items = _min_items()
        self._drawn = False
        self._last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled or total < self.min_items:
            return
        now = time.monotonic()
        if done < total and now - self._last < _REDRAW_SECONDS:
            return
        self._last = now
        filled = _BAR * done // total if total else _BAR
        bar = "#" * filled + "." * (_BAR - filled)
        self.stream.write(f"\r\x1b[Kkmodlint: {phase} [{bar}] {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def phase(self, name: str) -> Callable[[int, int], None]:
        """The (done, total) callback of one phase, for code that knows only its own work."""
        return lambda done, total: self(name, done, total)

    def close(self) -> None:
        """Erase the bar, so notes and findings printed next start on a clean line."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def _min_items() -> int:
    try:
        return max(1, int(os.environ.get("KMODLINT_PROGRESS_MIN", DEFAULT_MIN_ITEMS)))
    except ValueError:
        return DEFAULT_MIN_ITEMS
