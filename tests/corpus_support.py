"""Reading corpus cases: annotations (reference/corpus-format.md §2) and expect.toml (§3)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kmodlint.rule import find_rule

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")

_ANNOTATION = re.compile(
    r"^(expect|todo-expect|todo-ok)(\[src\])?(?:@((?:[^\s:]+:)?\d+))?(?:\s+(\d+))?:\s*"
    r"([\w-]+(?:\s*,\s*[\w-]+)*)\s*(?:\*/)?$"
)
_EXPECT_NONE = re.compile(r"^expect-none\s*(?:\*/)?$")
_C_COMMENT = re.compile(r"/\*(.*?)\*/|//(.*)$")


class CaseError(Exception):
    """The case itself is malformed: it fails before any comparison."""


@dataclass(slots=True)
class Annotation:
    path: str
    line: int  # the line the comment sits on
    kind: str  # expect / todo-expect / todo-ok / expect-none
    src_only: bool = False
    rules: list[str] = field(default_factory=list)
    trailing: bool = False  # code before the comment on its line
    where: str | None = None  # "@L" or "@path:L" target, as written
    count: int = 1
    target: tuple[str, int] | None = None  # (path, line) the annotation applies to


def rule_code(name: str, where: str) -> str:
    found = find_rule(name)
    if found is None:
        raise CaseError(f"{where}: unknown rule '{name}'")
    return found.code


def _comments(path: Path) -> list[tuple[int, str, bool]]:
    """(line, comment body, has code before it) for every comment of a C or Kbuild file."""
    found = []
    is_c = path.suffix in (".c", ".h")
    for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if is_c:
            for match in _C_COMMENT.finditer(text):
                body = match.group(1) if match.group(1) is not None else match.group(2)
                trailing = bool(text[: match.start()].strip())
                found.append((number, body.strip(), trailing))
        elif "#" in text:
            code, _, comment = text.partition("#")
            found.append((number, comment.strip(), bool(code.strip())))
    return found


def read_annotations(case: Path) -> list[Annotation]:
    annotations = []
    for path in sorted(case.iterdir()):
        if not (path.suffix in (".c", ".h") or path.name in ("Kbuild", "Makefile")):
            continue
        for line, body, trailing in _comments(path):
            where = f"{path.name}:{line}"
            if _EXPECT_NONE.match(body):
                annotations.append(Annotation(path.name, line, "expect-none"))
                continue
            if not body.startswith(("expect", "todo-")):
                continue
            match = _ANNOTATION.match(body)
            if match is None:
                raise CaseError(f"{where}: malformed annotation '{body}'")
            rules = [rule_code(r.strip(), where) for r in match.group(5).split(",")]
            annotations.append(
                Annotation(
                    path.name,
                    line,
                    match.group(1),
                    bool(match.group(2)),
                    rules,
                    trailing=trailing,
                    where=match.group(3),
                    count=int(match.group(4) or 1),
                )
            )
    _place(case, annotations)
    return annotations


def _place(case: Path, annotations: list[Annotation]) -> None:
    """Resolve each annotation's target line (corpus-format.md §2, Placement)."""
    lines_of: dict[str, list[str]] = {}

    def lines(name: str) -> list[str]:
        if name not in lines_of:
            file = case / name
            if not file.is_file():
                raise CaseError(f"annotation points into {name}, which is missing")
            lines_of[name] = file.read_text(errors="replace").splitlines()
        return lines_of[name]

    annotation_lines = {(a.path, a.line) for a in annotations if not a.trailing}
    for annotation in annotations:
        if annotation.kind == "expect-none":
            continue
        origin = f"{annotation.path}:{annotation.line}"
        if annotation.where:
            name, _, number = annotation.where.rpartition(":")
            name = name or annotation.path
            if int(number) < 1 or int(number) > len(lines(name)):
                raise CaseError(f"{origin}: @{annotation.where} is past the end of {name}")
            annotation.target = (name, int(number))
            continue
        if annotation.trailing:
            annotation.target = (annotation.path, annotation.line)
            continue
        text = lines(annotation.path)
        number = annotation.line + 1
        while number <= len(text) and (annotation.path, number) in annotation_lines:
            number += 1
        if number > len(text) or not text[number - 1].strip():
            raise CaseError(f"{origin}: dangling annotation (no code line follows it)")
        annotation.target = (annotation.path, number)


Located = Counter[tuple[str, int, str]]


def source_expectations(
    case: Path, annotations: list[Annotation]
) -> tuple[Located, Located, Located]:
    """(expected, known false positives, known false negatives) as (path, line, code)
    multisets; paths are relative to the case."""
    expected: Located = Counter()
    tolerated: Located = Counter()
    absent: Located = Counter()
    config = case_config(case)
    for annotation in annotations:
        if annotation.target is None:
            continue
        for code in annotation.rules:
            rule = find_rule(code)
            origin = f"{annotation.path}:{annotation.line}"
            if rule is not None and "source" not in rule.modes:
                raise CaseError(f"{origin}: {code} does not run on sources")
            binary = rule is not None and "binary" in rule.modes
            needs_reason = annotation.kind == "expect" and annotation.src_only and binary
            if needs_reason and "src-reason" not in config:
                raise CaseError(
                    f"{origin}: [src] for {code}, which has a binary mode, "
                    "needs src-reason in case.toml"
                )
            if annotation.kind == "expect" and not annotation.src_only and not binary:
                raise CaseError(f"{origin}: {code} has no binary mode: write expect[src]")
            entry = (*annotation.target, code)
            if annotation.kind == "expect":
                expected[entry] += annotation.count
            elif annotation.kind == "todo-ok":
                tolerated[entry] += annotation.count
            else:
                absent[entry] += annotation.count
    return expected, tolerated, absent


def check_every_file_annotated(case: Path, annotations: list[Annotation]) -> None:
    annotated = {a.path for a in annotations}
    for path in sorted(case.iterdir()):
        is_input = path.suffix in (".c", ".h") or path.name in ("Kbuild", "Makefile")
        if is_input and path.name not in annotated:
            raise CaseError(f"{path.name}: no annotation and no expect-none")
    for name in annotated:
        kinds = {a.kind for a in annotations if a.path == name}
        if "expect-none" in kinds and len(kinds) > 1:
            raise CaseError(f"{name}: expect-none beside other annotations")


def case_config(case: Path) -> dict:
    config_file = case / "case.toml"
    return tomllib.loads(config_file.read_text()) if config_file.exists() else {}


def built_modules(case: Path) -> dict[str, Path]:
    built = case / "built"
    if not built.is_dir():
        return {}
    found = {}
    for path in sorted(built.iterdir()):
        for suffix in MODULE_SUFFIXES:
            if path.name.endswith(suffix):
                found[path.name[: -len(suffix)]] = path
    return found


Expected = Counter[tuple[str, str, str]]


def binary_expectations(case: Path) -> tuple[Expected, Expected]:
    """(expected, known-false-positive) multisets of (module, code, key) from expect.toml.

    `todo = "expect"` entries are known false negatives: expected absent, so they add
    nothing; `todo = "ok"` entries are known false positives: expected present."""
    expect_file = case / "expect.toml"
    modules = built_modules(case)
    if not expect_file.exists():
        raise CaseError("binary case without expect.toml")
    data = tomllib.loads(expect_file.read_text())
    expected: Expected = Counter()
    tolerated: Expected = Counter()
    mentioned = set(data.get("modules", {}).get("none", []))
    for entry in data.get("finding", []):
        module = entry["module"]
        mentioned.add(module)
        code = rule_code(entry["rule"], "expect.toml")
        key = str(entry.get("symbol", entry.get("key", "")))
        count = int(entry.get("count", 1))
        todo = entry.get("todo")
        if todo == "ok":
            tolerated[(module, code, key)] += count
        elif todo is None:
            expected[(module, code, key)] += count
        elif todo != "expect":
            raise CaseError(f"expect.toml: todo must be 'expect' or 'ok', not {todo!r}")
    unknown = mentioned - set(modules)
    if unknown:
        raise CaseError(f"expect.toml names modules not in built/: {sorted(unknown)}")
    silent = set(modules) - mentioned
    if silent:
        raise CaseError(
            f"built modules in neither [[finding]] nor [modules] none: {sorted(silent)}"
        )
    return expected, tolerated


def check_sources_digest(case: Path) -> None:
    """built/SOURCES.sha256 must match the sources (else: stale binaries)."""
    digest_file = case / "built" / "SOURCES.sha256"
    if not digest_file.exists():
        raise CaseError("built/ without SOURCES.sha256")
    for line in digest_file.read_text().splitlines():
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            continue
        digest, name = parts
        source = case / name.lstrip("*")
        if not source.exists():
            raise CaseError(f"SOURCES.sha256 names {name}, which is missing")
        if hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            raise CaseError(f"stale binaries: {name} changed; run corpus/rebuild.py")
