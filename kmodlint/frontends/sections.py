"""References into sections the kernel discards (`.init.*`, `.exit.*`, `.meminit.*`), read
from a module's relocations as modpost's check_sec_ref() reads them (scripts/mod/modpost.c,
6.1): for each SHT_REL/SHT_RELA section, the section it applies to is `fromsec`, the
relocated symbol's section is `tosec`; a pair modpost's sectioncheck[] table flags is
recorded with the names modpost would print (find_elf_symbol2 for the referrer,
find_elf_symbol for the target), before the allow-list, which the rule applies.

Bounded like the rest of the ELF inspector: each relocation section is decoded once, only
relocation sections whose `fromsec` the table checks and that point at a discarded section
the table flags for it are decoded at all, and names are looked up only for the
references found (a handful per module; modpost-clean modules have none).
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right
from typing import TYPE_CHECKING, Protocol

from kmodlint.sectioncheck import (
    DISCARDED_SECTIONS,
    SECTION_WHITE_LIST,
    SECTIONCHECK,
    match,
    section_mismatch,
)

if TYPE_CHECKING:
    from kmodlint.frontends.elf import Sym, _Image


class SymbolTable(Protocol):
    """The inspector's symbol table: its length and a `Sym` per index."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Sym: ...


# (fromsec, fromsym, tosec, tosym): what modpost prints for one reference.
SectionRef = tuple[str, str, str, str]

_SHT_RELA = 4
_SHT_REL = 9
_STT_FUNC = 2
_STT_SECTION = 3
_SHN_LORESERVE = 0xFF00
_SHN_XINDEX = 0xFFFF
_EM_386 = 3
_EM_MIPS = 8
_R_386_32 = 1
_R_386_PC32 = 2
# References kept per module: a module full of them (or a crafted one) keeps the first.
MAX_REFERENCES = 1000
_FROM_PATTERNS = tuple(p for from_patterns, _bad, _kind in SECTIONCHECK for p in from_patterns)


def _special(shndx: int) -> bool:
    """modpost's is_shndx_special(): SHN_LORESERVE..SHN_HIRESERVE but SHN_XINDEX."""
    return shndx != _SHN_XINDEX and shndx >= _SHN_LORESERVE


def _valid_name(name: str) -> bool:
    """modpost's is_valid_name(): named, and not an ARM mapping symbol ($a, $d.1, ...)."""
    if not name:
        return False
    return not (name[0] == "$" and name[1:2] in ("a", "d", "t", "x") and name[2:3] in ("", "."))


def section_references(image: _Image, symbols: SymbolTable) -> list[SectionRef]:
    sections = image.sections
    discarded = {
        index for index, section in enumerate(sections) if match(section.name, DISCARDED_SECTIONS)
    }
    if not discarded:
        return []
    found: dict[SectionRef, None] = {}
    finder = _Names(image, symbols)
    # a column of section indices when the table keeps one, else read entry by entry
    shndxs = getattr(symbols, "shndxs", None)
    if shndxs is None:
        shndxs = [symbols[n].shndx for n in range(len(symbols))]
    bad_for: dict[frozenset[int], set[int]] = {}
    for index, section in enumerate(sections):
        if section.type not in (_SHT_REL, _SHT_RELA) or not 0 < section.info < len(sections):
            continue
        fromsec = sections[section.info].name
        if not match(fromsec, _FROM_PATTERNS) or match(fromsec, SECTION_WHITE_LIST):
            continue
        targets = frozenset(t for t in discarded if section_mismatch(fromsec, sections[t].name))
        if not targets:
            continue
        if targets not in bad_for:
            bad_for[targets] = {n for n, shndx in enumerate(shndxs) if shndx in targets}
        bad = bad_for[targets]
        if not bad:
            continue
        for offset, symbol, addend in _matching_relocations(image, index, bad):
            sym = symbols[symbol]
            if _special(sym.shndx):
                continue
            tosec = sections[sym.shndx].name if sym.shndx < len(sections) else ""
            if image.sections[index].type == _SHT_REL:
                addend = _rel_addend(image, section.info, offset, addend, sym)
            reference = (fromsec, finder.at(fromsec, offset), tosec, finder.target(sym, addend))
            found.setdefault(reference)
            if len(found) >= MAX_REFERENCES:
                return list(found)
    return list(found)


def _matching_relocations(image: _Image, index: int, bad: set[int]) -> list[tuple[int, int, int]]:
    """(r_offset, symbol index, r_addend or the REL type) of the entries of relocation
    section `index` whose symbol is in `bad`; only the symbol column is decoded for the
    others."""
    section = image.sections[index]
    rela = section.type == _SHT_RELA
    wide = image.elf_class == 64
    words = (3 if rela else 2) * (2 if wide else 1)
    raw = image.section_bytes(index)
    raw = raw[: len(raw) - len(raw) % (4 * words)]
    column = array("I")
    column.frombytes(raw)
    if (image.fmt_prefix == ">") != (sys.byteorder == "big"):
        column.byteswap()
    big = image.fmt_prefix == ">"
    if wide:
        mips64 = image.machine == _EM_MIPS
        # r_info is words 2-3; r_sym is its high half (ELF64_R_SYM), or the first 32-bit
        # word on MIPS64 (its r_info is r_sym, r_ssym, r_type3, r_type2, r_type)
        symbols = column[(2 if big or mips64 else 3) :: words]
    else:
        symbols = array("I", (info >> 8 for info in column[1::words]))
    if bad.isdisjoint(symbols):
        return []
    size = 4 * words
    fmt = image.fmt_prefix + ("QQ" if wide else "II") + (("q" if wide else "i") if rela else "")
    found = []
    for number, symbol in enumerate(symbols):
        if symbol in bad:
            row = struct.unpack_from(fmt, raw, number * size)
            info = row[1]
            extra = row[2] if rela else (info & 0xFF if not wide else info & 0xFFFFFFFF)
            found.append((row[0], symbol, extra))
    return found


def _rel_addend(image: _Image, target: int, offset: int, r_type: int, sym: Sym) -> int:
    """modpost's addend_386_rel() for i386 (other REL machines: 0, as far as the name
    lookup needs; it falls back to the nearest symbol)."""
    if image.machine != _EM_386:
        return 0
    value = image.word32(target, offset)
    if value is None:
        return 0
    if r_type == _R_386_32:
        return value
    if r_type == _R_386_PC32:
        return value + 4
    return 0


class _Names:
    """The names modpost prints for the two ends of a reference."""

    def __init__(self, image: _Image, symbols: SymbolTable) -> None:
        self.image = image
        self.symbols = symbols
        self._by_section_name: dict[str, tuple[list[int], list[str]]] | None = None

    def at(self, fromsec: str, offset: int) -> str:
        """find_elf_symbol2(): the nearest validly named symbol at or before `offset` in a
        section of that name (the last of equals in table order), else "(unknown)"."""
        if self._by_section_name is None:
            rows: dict[str, list[tuple[int, int, str]]] = {}
            sections = self.image.sections
            for order in range(len(self.symbols)):
                sym = self.symbols[order]
                if _special(sym.shndx) or sym.shndx >= len(sections) or not _valid_name(sym.name):
                    continue
                rows.setdefault(sections[sym.shndx].name, []).append((sym.value, order, sym.name))
            self._by_section_name = {}
            for name, entries in rows.items():
                entries.sort()
                self._by_section_name[name] = ([e[0] for e in entries], [e[2] for e in entries])
        values, names = self._by_section_name.get(fromsec, ([], []))
        position = bisect_right(values, offset)
        return names[position - 1] if position else "(unknown)"

    def target(self, sym: Sym, addend: int) -> str:
        """find_elf_symbol(): the relocated symbol when it has a name, else the symbol of
        its section at `addend` (or within 20 bytes of it), else "(unknown)"."""
        if sym.name:
            return sym.name
        near, distance = None, 20
        for number in range(len(self.symbols)):
            candidate = self.symbols[number]
            if candidate.shndx != sym.shndx or candidate.type == _STT_SECTION:
                continue
            if not _valid_name(candidate.name):
                continue
            if candidate.value == addend:
                return candidate.name
            gap = abs(candidate.value - addend)
            if gap < distance:
                near, distance = candidate, gap
        return near.name if near is not None else "(unknown)"
