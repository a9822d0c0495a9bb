"""ELF inspector: the facts of one `.ko` / `.o`, any machine, ELF32/64, either byte order.

Section and header parsing is pyelftools'; the symbol table and relocations of the export
tables are decoded with `struct` from the section bytes pyelftools hands over, because a
distribution tree has millions of symbols and per-symbol construct parsing dominates a run.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import NamedTuple

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from kmodlint.model import Export, ExportKind, InputProblem, Module, Target

# The loader and modpost accept these as export tables (kernel/module/main.c:
# find_module_sections; 4.x-5.11 also had the _unused and _gpl_future flavours).
_KSYMTAB_KINDS = {
    "__ksymtab": ExportKind.PLAIN,
    "__ksymtab_gpl": ExportKind.GPL,
    "__ksymtab_gpl_future": ExportKind.GPL_FUTURE,
    "__ksymtab_unused": ExportKind.PLAIN,
    "__ksymtab_unused_gpl": ExportKind.GPL,
}
# 7.1+: one __ksymtab plus one flag byte per entry (include/linux/module_symbol.h).
_KSYM_FLAG_GPL_ONLY = 1

_SHN_UNDEF = 0
_SHN_ABS = 0xFFF1
_SHN_COMMON = 0xFFF2
_SHN_XINDEX = 0xFFFF
_STB = {0: "local", 1: "global", 2: "weak"}
_STT = {0: "notype", 1: "object", 2: "func", 3: "section", 4: "file", 5: "common", 6: "tls"}
_STT_SECTION = 3
_SHT_RELA = 4
_SHT_REL = 9

# Names that are part of the export machinery itself, not symbols of the module's code.
_MACHINERY_PREFIXES = (
    "__ksymtab_",
    "__kstrtab_",
    "__kstrtabns_",
    "__crc_",
    "__export_symbol_",
    "__kcrctab_",
)


class Sym(NamedTuple):
    name: str
    bind: int
    type: int
    shndx: int
    value: int


class ElfProblem(Exception):
    """The file is not a module the loader could read."""


@dataclass(slots=True)
class _Image:
    elf: ELFFile
    data: bytes
    fmt_prefix: str
    sections: list  # index -> section
    by_name: dict  # name -> section (the first of that name, as the loader's find_sec)
    index_of: dict  # name -> index of that section

    def section_bytes(self, index: int) -> bytes:
        section = self.sections[index]
        if section["sh_type"] == "SHT_NOBITS":
            return b""
        start = section["sh_offset"]
        return self.data[start : start + section["sh_size"]]

    def named_bytes(self, name: str) -> bytes | None:
        index = self.index_of.get(name)
        return None if index is None else self.section_bytes(index)


def inspect_module(data: bytes, path: str, name: str) -> tuple[Module | None, list[InputProblem]]:
    """Read one decompressed module image. Never raises for bad input: it reports it."""
    try:
        return _inspect(data, path, name), []
    except ElfProblem as exc:
        return None, [InputProblem("invalid-elf", path, str(exc), module=name)]
    except (ELFError, struct.error, IndexError, ValueError, KeyError, AssertionError) as exc:
        detail = str(exc) or type(exc).__name__
        return None, [InputProblem("invalid-elf", path, f"malformed ELF: {detail}", module=name)]
    except Exception as exc:  # hostile headers reach pyelftools paths we cannot list
        detail = f"{type(exc).__name__}: {exc}"
        return None, [InputProblem("invalid-elf", path, f"malformed ELF: {detail}", module=name)]


def _inspect(data: bytes, path: str, name: str) -> Module:
    if not data.startswith(b"\x7fELF"):
        raise ElfProblem("not an ELF file (bad magic)")
    if len(data) < 52:
        raise ElfProblem("truncated ELF header")
    elf = ELFFile(io.BytesIO(data))
    if elf["e_type"] != "ET_REL":
        raise ElfProblem(f"not a relocatable object ({elf['e_type']}); modules are ET_REL")
    shoff, shnum, shentsize = elf["e_shoff"], elf["e_shnum"], elf["e_shentsize"]
    if shnum == 0:
        raise ElfProblem("no section headers (e_shnum is 0); the loader needs them")
    if shoff + shnum * shentsize > len(data):
        raise ElfProblem("truncated: section header table lies past the end of the file")
    sections = list(elf.iter_sections())
    for section in sections:
        if section["sh_type"] != "SHT_NOBITS" and (
            section["sh_offset"] + section["sh_size"] > len(data)
        ):
            raise ElfProblem(f"truncated: section {section.name} lies past the end of the file")
    by_name: dict = {}
    index_of: dict = {}
    for index, section in enumerate(sections):
        by_name.setdefault(section.name, section)
        index_of.setdefault(section.name, index)
    image = _Image(elf, data, "<" if elf.little_endian else ">", sections, by_name, index_of)

    symbols = _read_symbols(image)
    module = Module(
        name=name,
        path=path,
        origin="binary",
        elf_class=elf.elfclass,
        big_endian=not elf.little_endian,
        machine=elf["e_machine"],
    )
    module.modinfo = _read_modinfo(image)
    module.versions = _read_versions(image)
    module.has_versions_section = "__versions" in image.by_name
    _read_symbol_facts(image, symbols, module)
    module.exports = _read_exports(image, symbols)
    if not module.exports:
        module.exports = _read_export_symbol_section(image, symbols)
    return module


def _read_symbols(image: _Image) -> list[Sym]:
    symtab = image.by_name.get(".symtab")
    if symtab is None or symtab["sh_type"] != "SHT_SYMTAB":
        # kernel/module/main.c: elf_validity_cache_index_sym "module has no symbols (stripped?)"
        raise ElfProblem("no symbol table (.symtab); the loader refuses stripped modules")
    raw = image.section_bytes(image.index_of[".symtab"])
    strtab = image.section_bytes(symtab["sh_link"])
    if image.elf.elfclass == 64:
        fmt = image.fmt_prefix + "IBBHQQ"
        rows = ((n, info, sh, val) for n, info, _o, sh, val, _s in struct.iter_unpack(fmt, raw))
    else:
        fmt = image.fmt_prefix + "IIIBBH"
        rows = ((n, info, sh, val) for n, val, _s, info, _o, sh in struct.iter_unpack(fmt, raw))
    symbols = []
    for name_offset, info, shndx, value in rows:
        end = strtab.find(b"\0", name_offset)
        name = strtab[name_offset:end].decode("utf-8", "replace") if end >= 0 else ""
        symbols.append(Sym(name, info >> 4, info & 0xF, shndx, value))
    return symbols


def _read_modinfo(image: _Image) -> list[tuple[str, str]]:
    raw = image.named_bytes(".modinfo")
    if raw is None:
        return []
    pairs = []
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", "replace").partition("=")
        pairs.append((key, value))
    return pairs


def _read_versions(image: _Image) -> dict[str, int] | None:
    """`__versions` (struct modversion_info: unsigned long crc; char name[64 - sizeof(long)]).

    6.14+ modules may carry `__version_ext_crcs`/`__version_ext_names` instead (or as well);
    kernel/module/version.c prefers the extended pair when present.
    """
    ext_crcs = image.named_bytes("__version_ext_crcs")
    ext_names = image.named_bytes("__version_ext_names")
    if ext_crcs is not None and ext_names is not None:
        crcs = [crc for (crc,) in struct.iter_unpack(image.fmt_prefix + "I", ext_crcs)]
        names = [n.decode("utf-8", "replace") for n in ext_names.split(b"\0")]
        return dict(zip(names, crcs, strict=False))
    raw = image.named_bytes("__versions")
    if raw is None:
        return None
    word = "Q" if image.elf.elfclass == 64 else "I"
    width = struct.calcsize(word)
    versions: dict[str, int] = {}
    for start in range(0, len(raw) - 63, 64):
        (crc,) = struct.unpack_from(image.fmt_prefix + word, raw, start)
        name_bytes = raw[start + width : start + 64]
        name = name_bytes[: name_bytes.find(b"\0")].decode("utf-8", "replace")
        # check_version() scans in order and stops at the first entry with the name.
        if name and name not in versions:
            versions[name] = crc & 0xFFFFFFFF
    return versions


def _section_name(image: _Image, shndx: int) -> str:
    if 0 < shndx < len(image.sections):
        return image.sections[shndx].name
    return {_SHN_ABS: "*ABS*", _SHN_COMMON: "*COM*"}.get(shndx, "")


def _read_symbol_facts(image: _Image, symbols: list[Sym], module: Module) -> None:
    for sym in symbols:
        if not sym.name or sym.type in (_STT_SECTION, 4):
            continue
        if sym.shndx == _SHN_UNDEF:
            if sym.bind in (1, 2):
                module.undefined[sym.name] = sym.bind == 2
            continue
        if sym.name.startswith(_MACHINERY_PREFIXES):
            continue
        module.defined[sym.name] = (
            _STB.get(sym.bind, str(sym.bind)),
            _STT.get(sym.type, str(sym.type)),
            _section_name(image, sym.shndx),
        )
    # module_init()/module_exit() emit the aliases init_module/cleanup_module
    # (include/linux/module.h), which .gnu.linkonce.this_module points at.
    module.has_init = "init_module" in module.defined
    module.has_exit = "cleanup_module" in module.defined


def _relocations_by_offset(image: _Image, target_index: int) -> dict[int, tuple[int, int | None]]:
    """r_offset -> (symbol index, addend or None for REL) for the section `target_index`."""
    found: dict[int, tuple[int, int | None]] = {}
    for section in image.sections:
        sh_type = section["sh_type"]
        if sh_type not in ("SHT_REL", "SHT_RELA") or section["sh_info"] != target_index:
            continue
        for reloc in section.iter_relocations():
            addend = reloc["r_addend"] if reloc.is_RELA() else None
            found[reloc["r_offset"]] = (reloc["r_info_sym"], addend)
    return found


def _c_string(raw: bytes, offset: int) -> str:
    end = raw.find(b"\0", offset)
    if end < 0:
        end = len(raw)
    return raw[offset:end].decode("utf-8", "replace")


def _read_exports(image: _Image, symbols: list[Sym]) -> list[Export]:
    tables = {
        index: kind
        for index, section in enumerate(image.sections)
        if (kind := _ksymtab_kind(section.name)) is not None
    }
    if not tables:
        return []
    by_name = {sym.name: sym for sym in symbols if sym.name}
    entries: dict[int, list[tuple[int, str]]] = {}
    for sym in symbols:
        if sym.shndx in tables and sym.name.startswith("__ksymtab_"):
            entries.setdefault(sym.shndx, []).append((sym.value, sym.name[len("__ksymtab_") :]))
    flags = image.named_bytes("__kflagstab")
    exports: list[Export] = []
    for index, rows in sorted(entries.items()):
        rows.sort()
        relocs = _relocations_by_offset(image, index)
        entry_size = image.sections[index]["sh_size"] // max(len(rows), 1)
        for position, (offset, label) in enumerate(rows):
            # 5.4 only: labels read __ksymtab_<NS>.<sym>
            symbol = label.rsplit(".", 1)[-1] if "." in label else label
            kind = tables[index]
            if flags is not None and position < len(flags):
                kind = ExportKind.GPL if flags[position] & _KSYM_FLAG_GPL_ONLY else ExportKind.PLAIN
            target, init_exit = _export_target(image, symbols, relocs.get(offset))
            exports.append(
                Export(
                    symbol=symbol,
                    kind=kind,
                    namespace=_export_namespace(image, by_name, label, relocs, offset, entry_size),
                    crc=_export_crc(image, by_name.get("__crc_" + symbol)),
                    target=target,
                    init_exit=init_exit,
                )
            )
    exports.sort(key=lambda export: export.symbol)
    return exports


def _ksymtab_kind(section_name: str) -> ExportKind | None:
    """`__ksymtab_gpl` in a `.ko`; `___ksymtab_gpl+<sym>` in a 5.4-6.4 `.o`, one input
    section per export that the module linker script merges (scripts/module.lds.S)."""
    if section_name.startswith("___ksymtab"):
        section_name = section_name[1:].split("+", 1)[0]
    return _KSYMTAB_KINDS.get(section_name)


def _export_target(
    image: _Image, symbols: list[Sym], reloc: tuple[int, int | None] | None
) -> tuple[Target, str]:
    """What the entry's value field is relocated against (modpost check_export_symbol)."""
    if reloc is None or reloc[0] >= len(symbols):
        return Target.UNKNOWN, ""
    sym = symbols[reloc[0]]
    if sym.shndx == _SHN_UNDEF:
        return Target.UNDEFINED, ""
    section = _section_name(image, sym.shndx)
    init_exit = section if section.startswith((".init", ".exit")) else ""
    # gas rewrites references to file-local symbols as section symbol + offset.
    if sym.bind == 0 or sym.type == _STT_SECTION:
        return Target.LOCAL, init_exit
    return Target.GLOBAL, init_exit


def _export_namespace(
    image: _Image,
    by_name: dict[str, Sym],
    label: str,
    relocs: dict[int, tuple[int, int | None]],
    offset: int,
    entry_size: int,
) -> str:
    """Namespace string: `__kstrtabns_<sym>` in __ksymtab_strings (5.4+), else the entry's
    third field relocation; kernels before 5.4 have two-field entries and no namespaces."""
    label_sym = by_name.get("__kstrtabns_" + label)
    if label_sym is not None and 0 < label_sym.shndx < len(image.sections):
        return _c_string(image.section_bytes(label_sym.shndx), label_sym.value)
    field = 4 if entry_size in (8, 12) else 8
    if entry_size != 3 * field:
        return ""
    reloc = relocs.get(offset + 2 * field)
    if reloc is None or reloc[1] is None:
        return ""
    return _string_at_reloc(image, reloc)


def _string_at_reloc(image: _Image, reloc: tuple[int, int | None]) -> str:
    symtab = image.by_name[".symtab"]
    raw = image.section_bytes(image.index_of[".symtab"])
    entsize = symtab["sh_entsize"] or (24 if image.elf.elfclass == 64 else 16)
    start = reloc[0] * entsize
    if image.elf.elfclass == 64:
        _n, _i, _o, shndx, value, _s = struct.unpack_from(image.fmt_prefix + "IBBHQQ", raw, start)
    else:
        _n, value, _s, _i, _o, shndx = struct.unpack_from(image.fmt_prefix + "IIIBBH", raw, start)
    if not 0 < shndx < len(image.sections):
        return ""
    return _c_string(image.section_bytes(shndx), value + (reloc[1] or 0))


def _export_crc(image: _Image, crc_sym: Sym | None) -> int | None:
    """`__crc_<sym>`: SHN_ABS value before 5.19, else an offset into __kcrctab* holding it."""
    if crc_sym is None:
        return None
    if crc_sym.shndx == _SHN_ABS:
        return crc_sym.value & 0xFFFFFFFF
    if not 0 < crc_sym.shndx < len(image.sections):
        return None
    raw = image.section_bytes(crc_sym.shndx)
    if crc_sym.value + 4 > len(raw):
        return None
    return struct.unpack_from(image.fmt_prefix + "I", raw, crc_sym.value)[0]


def _read_export_symbol_section(image: _Image, symbols: list[Sym]) -> list[Export]:
    """6.5+ objects (`.o`) carry `.export_symbol` records instead of a ksymtab:
    `__export_symbol_<sym>: .asciz "GPL"|""; .asciz "<namespace>"; pointer to <sym>`
    (include/linux/export.h), read by modpost's check_export_symbol."""
    exports = []
    pointer = 8 if image.elf.elfclass == 64 else 4
    relocs_by_section: dict[int, dict[int, tuple[int, int | None]]] = {}
    for sym in symbols:
        if not sym.name.startswith("__export_symbol_") or not 0 < sym.shndx < len(image.sections):
            continue
        raw = image.section_bytes(sym.shndx)
        licence = _c_string(raw, sym.value)
        namespace_at = sym.value + len(licence.encode()) + 1
        namespace = _c_string(raw, namespace_at)
        # The strings are followed by a pointer to the symbol, aligned to its size.
        end = namespace_at + len(namespace.encode()) + 1
        pointer_at = (end + pointer - 1) // pointer * pointer
        if sym.shndx not in relocs_by_section:
            relocs_by_section[sym.shndx] = _relocations_by_offset(image, sym.shndx)
        target, init_exit = _export_target(
            image, symbols, relocs_by_section[sym.shndx].get(pointer_at)
        )
        exports.append(
            Export(
                symbol=sym.name[len("__export_symbol_") :],
                kind=ExportKind.GPL if licence == "GPL" else ExportKind.PLAIN,
                namespace=namespace,
                target=target,
                init_exit=init_exit,
            )
        )
    exports.sort(key=lambda export: export.symbol)
    return exports
