#!/usr/bin/env python3
"""Are two `kmodlint symbols --format json` documents the same model? (issue 12's proof that a
restructure of the C front end changed nothing: the same tree read by two commits).

Modules are matched by (Kbuild path, name); each field of each module is compared, and the
``files`` counters. Prints, per field, how many modules differ with a few examples, and the
modules found by one side only. Exit 0 when identical (after ``--ignore``), 1 otherwise.

Example (the raw outputs of benchmarks/realworld_findings.py at two commits)::

    python3 benchmarks/compare_symbols.py /work/cache/findings/before/raw/source-symbols.json \\
        /work/cache/findings/after/raw/source-symbols.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def _modules(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.get("path") or "", m.get("name") or ""): m for m in document.get("modules", [])}


def _difference(before: Any, after: Any) -> str:
    """A short description of how two values of one field differ."""
    if isinstance(before, list) and isinstance(after, list):
        old = {json.dumps(item, sort_keys=True) for item in before}
        new = {json.dumps(item, sort_keys=True) for item in after}
        gone, added = sorted(old - new)[:2], sorted(new - old)[:2]
        if gone or added:
            return f"-{len(old - new)} {gone} +{len(new - old)} {added}"
        return "same items, other order"
    text = (
        f"{json.dumps(before, sort_keys=True)[:200]} -> {json.dumps(after, sort_keys=True)[:200]}"
    )
    return text


def compare(
    before: dict[str, Any], after: dict[str, Any], ignore: set[str], shared_only: bool = False
) -> list[str]:
    """The report's lines; empty when the documents agree."""
    lines: list[str] = []
    old, new = _modules(before), _modules(after)
    for side, only in (("before", old.keys() - new.keys()), ("after", new.keys() - old.keys())):
        if only and not shared_only:
            examples = ", ".join(f"{p}:{n}" for p, n in sorted(only)[:5])
            lines.append(f"{len(only)} modules only {side}: {examples}")
    fields: dict[str, list[str]] = defaultdict(list)
    for key in sorted(old.keys() & new.keys()):
        for field in sorted((old[key].keys() | new[key].keys()) - ignore):
            if old[key].get(field, "<absent>") != new[key].get(field, "<absent>"):
                detail = _difference(old[key].get(field), new[key].get(field))
                fields[field].append(f"{key[0]}:{key[1]}: {detail}")
    for field, examples in sorted(fields.items()):
        lines.append(f"field {field!r} differs in {len(examples)} modules, e.g.")
        lines.extend(f"    {example}" for example in examples[:3])
    if before.get("files") != after.get("files") and "files" not in ignore and not shared_only:
        lines.append(f"files: {before.get('files')} -> {after.get('files')}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--ignore", action="append", default=[], help="a module field not to compare"
    )
    parser.add_argument(
        "--shared-only",
        action="store_true",
        help="compare the modules both hold (one side a subset run: a folder of the other's tree)",
    )
    args = parser.parse_args()
    before, after = (json.loads(p.read_text("utf-8")) for p in (args.before, args.after))
    lines = compare(before, after, set(args.ignore), args.shared_only)
    shared = len(_modules(before).keys() & _modules(after).keys())
    print(f"{args.before} ({len(before.get('modules', []))} modules)")
    print(f"{args.after} ({len(after.get('modules', []))} modules), {shared} in both")
    print("\n".join(lines) if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
