"""`.o` inputs: 6.1 objects (___ksymtab+<sym> input sections) and 6.12 objects (.export_symbol
records), built by tests/fixtures/objects/build.sh; readelf's view is committed beside them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.corpus_support import run_kmodlint

OBJECTS = Path(__file__).resolve().parent / "fixtures" / "objects"
VERSIONS = ["6.1.0", "6.12.117"]


def readelf_exports(path: Path) -> set[tuple[str, str]]:
    """(symbol, kind) from readelf: section names (6.1) or __export_symbol_ labels (6.5+)."""
    text = path.with_name(path.name + ".readelf").read_text()
    found = set()
    for gpl, symbol in re.findall(r"\] ___ksymtab(_gpl)?\+(\w+)", text):
        found.add((symbol, "EXPORT_SYMBOL_GPL" if gpl else "EXPORT_SYMBOL"))
    for symbol in re.findall(r"LOCAL\s+DEFAULT\s+\d+ __export_symbol_(\w+)", text):
        source = (OBJECTS.parent / "arch" / "src").glob("*.c")
        gpl = any(f"EXPORT_SYMBOL_NS_GPL({symbol}" in s.read_text() for s in source)
        found.add((symbol, "EXPORT_SYMBOL_GPL" if gpl else "EXPORT_SYMBOL"))
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_object_exports_match_readelf(version: str) -> None:
    paths = [str(OBJECTS / version / name) for name in ("mod1.o", "mod3.o")]
    result = run_kmodlint("symbols", *paths, "--kernel", "none", "--format", "json", "--no-cache")
    assert result.returncode == 0, result.stderr
    modules = {m["name"]: m for m in json.loads(result.stdout)["modules"]}
    for name in ("mod1", "mod3"):
        got = {(e["symbol"], e["kind"]) for e in modules[name]["exports"]}
        assert got == readelf_exports(OBJECTS / version / f"{name}.o")
    assert modules["mod3"]["exports"][0]["namespace"] == "KMODLINT_NS"
    assert modules["mod1"]["licenses"] == ["GPL"]


@pytest.mark.parametrize("version", VERSIONS)
def test_static_export_in_an_object(version: str) -> None:
    """modpost 6.5+ (check_export_symbol) and check-local-export (5.19-6.4) both refuse it."""
    result = run_kmodlint(
        "check",
        str(OBJECTS / version / "modstatic.o"),
        "--kernel",
        "none",
        "--format",
        "json",
        "--select",
        "KM1",
        "--no-cache",
    )
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["symbol"]) for f in findings] == [("static-export", "modstatic_hidden")]


def test_objects_in_a_folder_are_not_modules(tmp_path: Path) -> None:
    """A build folder holds module parts as .o; only .ko files found by a walk are modules."""
    result = run_kmodlint("symbols", str(OBJECTS), "--kernel", "none", "--format", "json")
    # nothing to report on is a usage error, not an empty success (issue 10)
    assert result.returncode == 2 and result.stdout == ""
    assert "no module found in" in result.stderr
    # and says why the .o files there were not read (it said "no .ko/.o file")
    assert "a folder's .o files are build intermediates: name one to check it" in result.stderr
