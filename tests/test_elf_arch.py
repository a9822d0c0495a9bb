"""The ELF inspector against binutils' view of real modules of four architectures.

tests/fixtures/arch/<arch>/ holds mod1/mod2/mod3 cross-built against Debian's 6.1 headers of
that architecture (x86_64, i386: ELF32, arm64, s390x: big-endian), and FACTS.json, which
build.py wrote from readelf/nm output only — independent of kmodlint's reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmodlint.extract import extract_binary
from kmodlint.model import ExportKind
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import all_rules

ARCH = Path(__file__).resolve().parent / "fixtures" / "arch"
ARCHES = sorted(p.name for p in ARCH.iterdir() if (p / "FACTS.json").exists())
CASES = [(arch, ko) for arch in ARCHES for ko in ("mod1.ko", "mod2.ko", "mod3.ko")]
KINDS = {"__ksymtab": ExportKind.PLAIN, "__ksymtab_gpl": ExportKind.GPL}


def facts(arch: str) -> dict:
    return json.loads((ARCH / arch / "FACTS.json").read_text())


def test_the_fixtures_cover_32_bit_and_big_endian() -> None:
    seen = {(facts(a)["elf"]["class"], facts(a)["elf"]["endianness"]) for a in ARCHES}
    assert ("ELF32", "little") in seen
    assert ("ELF64", "big") in seen
    assert len(ARCHES) >= 3


@pytest.mark.parametrize(("arch", "ko"), CASES, ids=[f"{a}-{k}" for a, k in CASES])
def test_inspector_matches_binutils(arch: str, ko: str) -> None:
    truth = facts(arch)
    expected = truth["modules"][ko]
    extraction = extract_binary(str(ARCH / arch / ko), ko)
    assert extraction.problems == []
    module = extraction.module
    assert module is not None
    assert module.elf_class == (32 if truth["elf"]["class"] == "ELF32" else 64)
    assert module.big_endian == (truth["elf"]["endianness"] == "big")
    assert module.machine == truth["elf"]["e_machine"]
    assert module.modinfo == [tuple(pair) for pair in expected["modinfo"]]
    assert sorted(module.undefined) == sorted(expected["undefined"])
    versions = {name: f"0x{crc:08x}" for name, crc in (module.versions or {}).items()}
    assert versions == expected["versions"]
    got = [
        (e.symbol, e.kind, e.namespace, f"0x{e.crc:08x}" if e.crc is not None else None)
        for e in module.exports
    ]
    want = [
        (e["symbol"], KINDS[e["section"]], e["namespace"], e["crc"]) for e in expected["exports"]
    ]
    assert got == want
    global_defined = sorted(
        name for letter, name in expected["defined"] if letter.isupper() and letter != "U"
    )
    assert sorted(n for n, d in module.defined.items() if d[0] != "local") == global_defined
    assert module.has_init and module.has_exit


@pytest.mark.parametrize("arch", ARCHES)
def test_each_architecture_set_is_clean(arch: str) -> None:
    """mod2 imports mod1's plain export and mod3's namespaced GPL export, with CRCs that
    match; against no kernel, no rule that runs by default fires (the opt-in taint
    predictions do: every one of these modules is out-of-tree)."""
    modules = [
        extract_binary(str(ARCH / arch / k), k).module for k in ("mod1.ko", "mod2.ko", "mod3.ko")
    ]
    ms = ModuleSet([m for m in modules if m is not None])
    hits = [(r.code, h.message) for r in all_rules() if r.default_enabled for h in r.check(ms)]
    assert hits == []
    assert ms.layers == [["mod1", "mod3"], ["mod2"]]
