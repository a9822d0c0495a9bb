"""Baseline: accept today's findings, report only new ones.

Entries are fingerprints without line numbers, with counts (bandit's `-b` matches without
lines; counts as in ESLint RFC 119), so editing above a baselined finding does not
resurrect it, while a second occurrence of the same finding is new.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kmodlint.diagnostics import Finding
from kmodlint.fingerprint import identity as fingerprint_identity
from kmodlint.safe_io import BASELINE_LIMIT, read_regular, write_atomic

FORMAT_VERSION = 1
Identity = tuple[str, str, str]


class BaselineError(ValueError):
    pass


def identity(finding: Finding, base: str) -> Identity:
    """The fingerprint's identity, paths relative to the baseline file's folder so the file
    means the same whatever the working directory."""
    return fingerprint_identity(finding, Path(base))


def write(path: str, findings: list[Finding]) -> int:
    base = _folder(path)
    counts = Counter(identity(f, base) for f in findings)
    names = {f.code: f.name for f in findings}
    entries = [
        {"code": code, "rule": names[code], "module": module, "key": key, "count": count}
        for (code, module, key), count in sorted(counts.items())
    ]
    document = {"version": FORMAT_VERSION, "tool": "kmodlint", "findings": entries}
    try:  # all or nothing: a failed write leaves the old baseline, not half of a new one
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from exc
    return len(findings)


@dataclass(slots=True)
class Filtered:
    new: list[Finding]
    gone: int  # baselined occurrences that no longer occur

    def note(self, path: str) -> str:
        # Said every run, so the file only shrinks (conventions: Baseline).
        entries = "entry no longer occurs" if self.gone == 1 else "entries no longer occur"
        return f"{self.gone} baseline {entries}; rewrite {path} with --write-baseline to shrink it"


def read(path: str) -> Counter[Identity]:
    try:
        # --baseline /dev/zero, a FIFO, a huge file: refused with a reason (safe_io)
        document = json.loads(read_regular(path, BASELINE_LIMIT).decode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BaselineError(f"baseline {path} is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from exc
    except RecursionError as exc:  # json recurses per nesting level ([[[[...]]]])
        raise BaselineError(f"baseline {path} is not JSON: nested too deeply") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise BaselineError(f"baseline {path}: not a version {FORMAT_VERSION} kmodlint baseline")
    if not isinstance(document.get("findings", []), list):
        raise BaselineError(f"baseline {path}: 'findings' must be a list")
    counts: Counter[Identity] = Counter()
    for entry in document.get("findings", []):
        try:
            ident = (str(entry["code"]), str(entry["module"]), str(entry["key"]))
            counts[ident] += int(entry.get("count", 1))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # "count": 1e999
            raise BaselineError(f"baseline {path}: malformed entry {entry!r}") from exc
    return counts


def apply(path: str, findings: list[Finding]) -> Filtered:
    """Keep what the baseline does not account for; a count that grew keeps the extra
    occurrences (the last ones in report order)."""
    remaining = read(path)
    base = _folder(path)
    new = []
    for finding in findings:
        ident = identity(finding, base)
        if remaining[ident] > 0:
            remaining[ident] -= 1
        else:
            new.append(finding)
    return Filtered(new, sum(remaining.values()))


def _folder(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))
