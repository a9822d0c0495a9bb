"""Inline suppressions: `/* kmodlint: ignore[static-export, KM104] */`, `// kmodlint: ignore[…]`
in C, `# kmodlint: ignore[…]` in Kbuild/Makefile.

Read from the raw text (before cpp, so they hold whatever `#ifdef` says), each file once.
A trailing comment covers its own line; a comment alone on its line covers the statement
that starts on the next line with code (so one comment covers a multi-line
`EXPORT_SYMBOL_GPL(` or `module_param(`); several own-line comments may stack. The rule
list is mandatory, as in ruff's `ignore[]`: a bare `kmodlint: ignore` silences nothing.
Binary findings have no line and are suppressed only by per-module-ignores or a baseline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kmodlint.diagnostics import Finding
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import find_rule
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text

UNUSED_CODE = "KM950"
_DIRECTIVE = re.compile(r"^\s*kmodlint:\s*ignore\b(\[([^\]]*)\])?")
_KBUILD_PREFIXES = ("Kbuild", "Makefile", "GNUmakefile")
# Bound the statement a comment covers: a runaway (unbalanced) statement must not swallow
# the rest of the file.
_MAX_STATEMENT_LINES = 40


@dataclass(slots=True)
class Suppression:
    path: str
    line: int  # where the comment is
    col: int
    codes: dict[str, str]  # code -> as written
    covers: set[int]
    used: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Outcome:
    kept: list[Finding]
    unused: list[Finding]
    notes: list[str]


def apply(findings: list[Finding], extra_files: Iterable[str], selected: set[str]) -> Outcome:
    """Drop suppressed findings; report the suppressions of selected rules that matched
    nothing (only worth computing when unused-suppression itself is selected)."""
    want_unused = UNUSED_CODE in selected
    # One file may be named two ways ("./a.c", "a.c"): keyed by absolute path so it is
    # read once, shown as its findings show it.
    files: dict[str, str] = {}
    for finding in findings:
        if finding.line is not None:
            files.setdefault(os.path.abspath(finding.path), finding.path)
    if want_unused:
        for path in extra_files:
            files.setdefault(os.path.abspath(path), path)
    notes: list[str] = []
    by_file: dict[str, list[Suppression]] = {}
    for key, shown in sorted(files.items()):
        by_file[key] = scan(shown, notes)
    kept = []
    for finding in findings:
        found = by_file.get(os.path.abspath(finding.path), [])
        if finding.line is not None and _suppressed(finding, found):
            continue
        kept.append(finding)
    unused: list[Finding] = []
    if want_unused:
        for path in sorted(by_file):
            unused.extend(_unused(s, selected) for s in by_file[path] if _is_unused(s, selected))
    return Outcome(kept, unused, notes)


def source_files(ms: ModuleSet) -> list[str]:
    """Every C file and Kbuild of the source modules: where unused suppressions may hide."""
    return [
        path
        for m in ms.modules
        if m.source is not None
        for path in (*m.source.files, m.source.location.path)
    ]


def _suppressed(finding: Finding, suppressions: list[Suppression]) -> bool:
    hit = False
    for suppression in suppressions:
        if finding.line in suppression.covers and finding.code in suppression.codes:
            suppression.used.add(finding.code)
            hit = True  # every matching comment is used, so none of them is reported unused
    return hit


def _is_unused(suppression: Suppression, selected: set[str]) -> bool:
    # A rule that did not run cannot prove its suppression unused.
    return any(c in selected and c not in suppression.used for c in suppression.codes)


def _unused(suppression: Suppression, selected: set[str]) -> Finding:
    rule = find_rule(UNUSED_CODE)
    assert rule is not None
    idle = [c for c in suppression.codes if c in selected and c not in suppression.used]
    written = ", ".join(suppression.codes[c] for c in idle)
    covered = sorted(suppression.covers)
    where = f"line {covered[0]}" if len(covered) == 1 else f"lines {covered[0]}-{covered[-1]}"
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=f"unused suppression: no {written} finding on {where}",
        path=suppression.path,
        line=suppression.line,
        col=suppression.col,
        module=None,
        key=f"{suppression.path}: ignore[{', '.join(idle)}]",
        symbol=None,
    )


def scan(path: str, notes: list[str]) -> list[Suppression]:
    try:
        text = read_regular_text(
            path, SOURCE_LIMIT, universal_newlines=True
        )  # never a FIFO or /dev/zero (safe_io)
    except OSError:
        return []  # the front end already reported an unreadable or refused file
    if "kmodlint:" not in text:
        return []
    if os.path.basename(path).startswith(_KBUILD_PREFIXES):
        comments, code = _make_comments(text)
        extent = _make_extent
    else:
        comments, code = _c_comments(text)
        extent = _c_extent
    found = []
    for line, col, body in comments:
        match = _DIRECTIVE.match(body)
        if match is None:
            continue
        codes = _codes(match.group(2) if match.group(1) else None, f"{path}:{line}", notes)
        if not codes:
            continue
        if line in code:
            covers = {line}  # trailing: its own line
        else:
            # Own line: the next line with code (blank and comment-only lines between
            # are skipped, so several own-line suppressions may stack).
            start, last = line + 1, max(code, default=0)
            while start <= last and start not in code:
                start += 1
            covers = extent(code, start)
        found.append(Suppression(path, line, col, codes, covers))
    return found


def _codes(listed: str | None, where: str, notes: list[str]) -> dict[str, str]:
    if listed is None or not listed.strip():
        notes.append(
            f"{where}: 'kmodlint: ignore' needs a rule list, e.g. ignore[static-export]; "
            "it suppresses nothing"
        )
        return {}
    codes: dict[str, str] = {}
    for written in (part.strip() for part in listed.split(",")):
        if not written:
            continue
        rule = find_rule(written)
        if rule is None:
            from kmodlint.selection import hint, rule_words

            more = hint(written, rule_words())
            notes.append(f"{where}: unknown rule '{written}' in kmodlint: ignore[…]{more}")
            continue
        codes[rule.code] = written
    return codes


def _c_comments(text: str) -> tuple[list[tuple[int, int, str]], dict[int, str]]:
    """Comments (line, column, body) and each line's code with comments and literals
    blanked, from a small lexer: a `/*` inside a string is not a comment."""
    comments: list[tuple[int, int, str]] = []
    code: dict[int, list[str]] = {}
    line, col, i, n = 1, 1, 0, len(text)

    def put(ch: str) -> None:
        code.setdefault(line, []).append(ch)

    while i < n:
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append((line, col, text[i + 2 : end]))
            col += end - i
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            comments.append((line, col, text[i + 2 : end]))
            body = text[i : end + 2]
            newlines = body.count("\n")
            line += newlines
            col = len(body) - body.rfind("\n") if newlines else col + len(body)
            i = end + 2
            continue
        if ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            put(ch + " " * max(0, min(j, n - 1) - i - 1) + ch)
            col += j + 1 - i
            i = j + 1
            continue
        put(ch)
        col, i = col + 1, i + 1
    return comments, {k: "".join(v) for k, v in code.items() if "".join(v).strip()}


def _c_extent(code: dict[int, str], start: int) -> set[int]:
    """The lines of the statement or declaration that starts at *start*."""
    covers: set[int] = set()
    depth = 0
    line = start
    last = max(code, default=start)
    while line <= last and len(covers) < _MAX_STATEMENT_LINES:
        text = code.get(line, "").strip()
        if text:
            covers.add(line)
            if text.startswith("#"):
                if not text.endswith("\\"):
                    break
            else:
                depth += text.count("(") - text.count(")")
                if depth <= 0 and text.endswith((";", "{", "}")):
                    break
        line += 1
    return covers or {start}


def _make_comments(text: str) -> tuple[list[tuple[int, int, str]], dict[int, str]]:
    comments: list[tuple[int, int, str]] = []
    code: dict[int, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        at = _make_comment_start(raw)
        if at >= 0:
            comments.append((number, at + 1, raw[at + 1 :]))
        before = raw if at < 0 else raw[:at]
        if before.strip():
            code[number] = before
    return comments, code


def _make_comment_start(line: str) -> int:
    i = 0
    while True:
        i = line.find("#", i)
        if i <= 0 or line[i - 1] != "\\":
            return i
        i += 1  # make's \# is a literal hash


def _make_extent(code: dict[int, str], start: int) -> set[int]:
    covers = {start}
    line = start
    while code.get(line, "").rstrip().endswith("\\") and len(covers) < _MAX_STATEMENT_LINES:
        line += 1
        covers.add(line)
    return covers
