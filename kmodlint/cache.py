"""Per-file cache of extracted models, outside the analysed tree.

Key: kmodlint version + absolute path (and its spelling) + size + mtime (the fast path the
conventions allow), so a file that changes in any of those is read again. Values are pickles
of `Extraction`, written atomically so parallel runs never see half a file.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from kmodlint import __version__

_SCHEMA = "4"


def default_cache_dir() -> Path:
    explicit = os.environ.get("KMODLINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kmodlint"


class Cache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / f"v{__version__}-{_SCHEMA}"

    def key(self, path: str, salt: str = "") -> str | None:
        """`salt` names the settings the result depends on (configuration, -D, -I)."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        # The spelling too: the extracted facts carry the path as given, and findings must
        # show (and --focus must match) this run's spelling, not the first run's.
        ident = f"{os.path.abspath(path)}\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{salt}"
        return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def load(self, key: str) -> object | None:
        try:
            with open(self._file(key), "rb") as handle:
                return pickle.load(handle)
        except Exception:  # any unreadable cache entry is a miss, never an error
            return None

    def store(self, key: str, value: object) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, target)
        except OSError:
            # A read-only or full cache directory must never fail the run.
            pass
