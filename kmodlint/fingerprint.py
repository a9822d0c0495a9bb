"""A finding's identity that survives edits: sha256 of `code|module|key`.

Line numbers are left out on purpose, so moving code does not turn an old finding into a
new one. SARIF (`partialFingerprints["kmodlint/v1"]`), the JSON report and the baseline all
use this one function, so the three always agree.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kmodlint.diagnostics import Finding

VERSION_TAG = "kmodlint/v1"  # bump the suffix if the recipe below ever changes


def default_root() -> Path:
    """What report paths are relative to: the git work tree holding the current directory
    (code scanning and workflow annotations want repository-relative paths, whichever
    folder the job ran in), else the current directory."""
    here = Path(os.path.realpath(Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def under_root(path: str, root: Path | None = None) -> str | None:
    """`path` relative to `root` (default: :func:`default_root`) with POSIX separators, or
    None when it lies outside. Symlinks are resolved first so two spellings of one file agree.
    os.path.realpath, not Path.resolve: a symlink loop (`self.ko -> self.ko`) stays as
    written there, where Path.resolve raises RuntimeError (Python 3.11).
    """
    base = Path(os.path.realpath(root or default_root()))
    resolved = Path(os.path.realpath(path))
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return None


def relative_form(path: str, root: Path | None = None) -> str:
    """The path under the root, else as given: `..` chains would depend on where the tool
    was started, an absolute path at least names the same file from everywhere."""
    if path == "-":
        return path
    relative = under_root(path, root)
    return relative if relative is not None else Path(path).as_posix()


def identity(finding: Finding, root: Path | None = None) -> tuple[str, str, str]:
    """(code, module or "", key): what the baseline stores and the fingerprint hashes.

    An empty key means the rule has nothing finer than the module to tell findings apart
    (e.g. missing-license): the message stands in, so the same module-level finding made
    from sources (at the Kbuild line) and from the built `.ko` is one finding. A finding
    with no module at all (an unreadable input) is told apart by its path relative to
    `root`, and its message. Neither holds a line number.
    """
    module = finding.module or ""
    key = finding.key
    if key and finding.path != "-" and finding.path in key:
        # a key naming a file (unused-suppression, unparsable-source) names it as typed:
        # spell it from the root, so neither the cwd nor the spelling changes the identity
        key = key.replace(finding.path, relative_form(finding.path, root))
    if not key and module:
        key = finding.message
    elif not key:
        key = f"{relative_form(finding.path, root)}|{finding.message}"
    return (finding.code, module, key)


def fingerprint(finding: Finding, root: Path | None = None) -> str:
    """Hex sha256 of `code|module|key` as :func:`identity` spells them."""
    # surrogatepass: a non-UTF-8 file name (surrogate escapes) hashes too, never raises
    text = "|".join(identity(finding, root))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
