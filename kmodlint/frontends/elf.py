"""ELF inspector: the facts of one `.ko` / `.o`, any machine, ELF32/64, either byte order.

Everything is decoded with `struct` from the image's bytes: the file header, the section
headers, the symbol table and the relocations of the export tables. A distribution tree has
millions of symbols (per-symbol construct parsing would dominate a run), and a module from
a tree kmodlint did not write may be crafted: every loop here is linear in the counts the
file declares (sections, symbols, relocations), every string is read with a bound, and no
section is copied more than once, so a hostile header costs one `invalid-elf` line, never
minutes or gigabytes (issue 11). Where the loader itself refuses a file
(kernel/module/main.c: elf_validity_cache_copy and friends), the reason is the loader's.
"""

from __future__ import annotations

import functools
import itertools
import operator
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kmodlint.frontends.sections import section_references
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
# kernel/module/signing.c: module_sig_check() looks for this marker at the end of the image.
MODULE_SIG_STRING = b"~Module signature appended~\n"

_SHN_UNDEF = 0
_SHN_ABS = 0xFFF1
_SHN_COMMON = 0xFFF2
_STB = {0: "local", 1: "global", 2: "weak"}
_STT = {0: "notype", 1: "object", 2: "func", 3: "section", 4: "file", 5: "common", 6: "tls"}
_STT_SECTION = 3
_SHT_SYMTAB = 2
_SHT_RELA = 4
_SHT_NOBITS = 8
_SHT_REL = 9
_RELOCATION_TYPES = frozenset((_SHT_REL, _SHT_RELA))
_ET_REL = 1
_EM_MIPS = 8

# pyelftools' names (what `symbols` prints and rules key on), decoded as it decodes them.


@functools.cache
def _enum_names() -> tuple[dict[int, str], dict[int, str]]:
    """e_machine and e_type values -> pyelftools' names, imported on the first module read
    (a run answered from the cache never imports pyelftools)."""
    from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE

    machines = {value: name for name, value in ENUM_E_MACHINE.items() if name != "_default_"}
    types = {value: name for name, value in ENUM_E_TYPE.items() if name != "_default_"}
    return machines, types


# Names that are part of the export machinery itself, not symbols of the module's code.
_MACHINERY_PREFIXES = (
    "__ksymtab_",
    "__kstrtab_",
    "__kstrtabns_",
    "__crc_",
    "__export_symbol_",
    "__kcrctab_",
)

# A namespace or licence string of an export is read up to its NUL or this many bytes:
# real ones are a few dozen, and an unterminated one must not cost a scan per export.
_STRING_LIMIT = 4096
# Symbol (and section) names overlap only where the linker merged a name with the tail
# of a longer one. Decoded names totalling more than this many times their string table
# mean names crafted to share one long run (2,000 symbols on one 1 MB name: 2 GB).
_NAME_AMPLIFICATION = 4
_NAME_ALLOWANCE = 1 << 20
# Symbols read at most: an unstripped amdgpu.ko has ~100,000; a million cost ~400 MB and
# ~6 s here, so the 21 million a 512 MB image can hold would cost 8 GB.
MAX_SYMBOLS = 1_000_000
# .modinfo entries and __versions rows read at most: real modules have tens of entries
# plus their aliases (usb-serial's option.ko: ~1,500) and one row per import.
MAX_TABLE_ENTRIES = 100_000
# Export tables carry two or three relocated fields per entry (value, name, namespace),
# and there is at most one entry per symbol.
_RELOCATIONS_PER_SYMBOL = 3


class Sym(NamedTuple):
    name: str
    bind: int
    type: int
    shndx: int
    value: int


class _Section(NamedTuple):
    name: str
    type: int
    offset: int
    size: int
    link: int
    info: int


class ElfProblem(Exception):
    """The file is not a module the loader could read."""


@dataclass(slots=True)
class _Image:
    data: bytes
    elf_class: int
    fmt_prefix: str
    machine: int
    sections: list[_Section]
    index_of: dict[str, int]  # name -> index of the first section of that name (find_sec)
    # target section index -> its SHT_REL/SHT_RELA sections, in section order
    relocations_for: dict[int, list[int]] = field(default_factory=dict)
    relocation_bytes: int = 0  # decoded so far, bounded by the file's size
    relocations: int = 0  # entries decoded so far, bounded per symbol

    def bounds(self, index: int) -> tuple[int, int]:
        section = self.sections[index]
        if section.type == _SHT_NOBITS:
            return 0, 0
        return section.offset, section.offset + section.size

    def section_bytes(self, index: int) -> bytes:
        start, end = self.bounds(index)
        return self.data[start:end]

    def named_bytes(self, name: str) -> bytes | None:
        index = self.index_of.get(name)
        return None if index is None else self.section_bytes(index)

    def c_string(self, index: int, offset: int) -> str:
        """The NUL-terminated string at `offset` in section `index`, read at most
        _STRING_LIMIT bytes far ("" outside the section)."""
        start, end = self.bounds(index)
        if not 0 <= offset < end - start:
            return ""
        at = start + offset
        stop = min(end, at + _STRING_LIMIT)
        nul = self.data.find(b"\0", at, stop)
        return self.data[at : stop if nul < 0 else nul].decode("utf-8", "replace")

    def word32(self, index: int, offset: int) -> int | None:
        start, end = self.bounds(index)
        if offset < 0 or start + offset + 4 > end:
            return None
        word: int = struct.unpack_from(self.fmt_prefix + "I", self.data, start + offset)[0]
        return word


def inspect_module(data: bytes, path: str, name: str) -> tuple[Module | None, list[InputProblem]]:
    """Read one decompressed module image. Never raises for bad input: it reports it."""
    try:
        return _inspect(data, path, name), []
    except ElfProblem as exc:
        return None, [InputProblem("invalid-elf", path, str(exc), module=name)]
    except (struct.error, IndexError, ValueError, KeyError, OverflowError) as exc:
        detail = str(exc) or type(exc).__name__
        return None, [InputProblem("invalid-elf", path, f"malformed ELF: {detail}", module=name)]
    except MemoryError:
        return None, [
            InputProblem("invalid-elf", path, "malformed ELF: out of memory", module=name)
        ]


def _inspect(data: bytes, path: str, name: str) -> Module:
    image = _read_image(data)
    symbols = _read_symbols(image)
    module = Module(
        name=name,
        path=path,
        origin="binary",
        elf_class=image.elf_class,
        big_endian=image.fmt_prefix == ">",
        machine=_enum_names()[0].get(image.machine, str(image.machine)),
    )
    module.modinfo = _read_modinfo(image)
    module.versions = _read_versions(image)
    module.has_versions_section = "__versions" in image.index_of
    _read_symbol_facts(image, symbols, module)
    module.exports = _read_exports(image, symbols)
    if not module.exports:
        module.exports = _read_export_symbol_section(image, symbols)
    module.signed = data.endswith(MODULE_SIG_STRING)
    module.section_refs = section_references(image, symbols)
    return module


class _FileHeader(NamedTuple):
    elf_class: int  # 32 or 64
    prefix: str  # struct byte order
    machine: int
    shoff: int
    shnum: int
    shstrndx: int
    entry: str  # struct format of one section header


def _read_file_header(data: bytes) -> _FileHeader:
    """The ELF file header, checked as the loader checks it
    (kernel/module/main.c: elf_validity_cache_copy)."""
    if not data.startswith(b"\x7fELF"):
        raise ElfProblem("not an ELF file (bad magic)")
    if len(data) < 52:
        raise ElfProblem("truncated ELF header")
    elf_class = {1: 32, 2: 64}.get(data[4])
    if elf_class is None:
        raise ElfProblem(f"invalid ELF class {data[4]} (e_ident[EI_CLASS])")
    prefix = {1: "<", 2: ">"}.get(data[5])
    if prefix is None:
        raise ElfProblem(f"invalid ELF byte order {data[5]} (e_ident[EI_DATA])")
    header = prefix + ("HHIQQQIHHHHHH" if elf_class == 64 else "HHIIIIIHHHHHH")
    if len(data) < 16 + struct.calcsize(header):
        raise ElfProblem("truncated ELF header")
    fields = struct.unpack_from(header, data, 16)
    e_type, machine, shoff, shentsize, shnum, shstrndx = (
        fields[0],
        fields[1],
        fields[5],
        fields[10],
        fields[11],
        fields[12],
    )
    if e_type != _ET_REL:
        kind = _enum_names()[1].get(e_type, f"e_type {e_type:#x}")
        raise ElfProblem(f"not a relocatable object ({kind}); modules are ET_REL")
    if shnum == 0:
        raise ElfProblem("no section headers (e_shnum is 0); the loader needs them")
    entry = "IIQQQQIIQQ" if elf_class == 64 else "IIIIIIIIII"
    if shentsize != struct.calcsize(entry):
        raise ElfProblem(
            f"section header entries of {shentsize} bytes (e_shentsize), not "
            f"{struct.calcsize(entry)}: the loader refuses it"
        )
    if shoff + shnum * shentsize > len(data):
        raise ElfProblem("truncated: section header table lies past the end of the file")
    if shstrndx >= shnum:
        raise ElfProblem(f"section name table index {shstrndx} (e_shstrndx) is out of range")
    return _FileHeader(elf_class, prefix, machine, shoff, shnum, shstrndx, entry)


def _read_image(data: bytes) -> _Image:
    """The file header and section headers, checked as the loader checks them
    (kernel/module/main.c: elf_validity_cache_copy, elf_validity_cache_secstrings)."""
    elf_class, prefix, machine, shoff, shnum, shstrndx, entry = _read_file_header(data)
    shentsize = struct.calcsize(entry)
    raw_headers = struct.iter_unpack(prefix + entry, data[shoff : shoff + shnum * shentsize])
    # columns: sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...
    columns = list(zip(*raw_headers, strict=True))
    name_at, types, offsets, sizes, links, infos = (columns[i] for i in (0, 1, 4, 5, 6, 7))
    for number, (sh_type, offset, size) in enumerate(zip(types, offsets, sizes, strict=True)):
        if sh_type != _SHT_NOBITS and offset + size > len(data):
            raise ElfProblem(f"truncated: section {number} lies past the end of the file")
    names_type, names_at, names_size = types[shstrndx], offsets[shstrndx], sizes[shstrndx]
    if names_type == _SHT_NOBITS or names_size == 0 or data[names_at + names_size - 1] != 0:
        raise ElfProblem("the section name table is not NUL-terminated; the loader refuses it")
    if max(name_at) >= names_size:
        raise ElfProblem("a section name lies outside the section name table")
    names = _names(data, names_at, names_size, name_at, "section")
    sections = list(
        map(_Section._make, zip(names, types, offsets, sizes, links, infos, strict=True))
    )
    # the first section of each name: built backwards, so the first one is written last
    index_of = dict(zip(reversed(names), range(len(names) - 1, -1, -1), strict=True))
    relocations_for: dict[int, list[int]] = {}
    relocating = map(_RELOCATION_TYPES.__contains__, types)
    for index in itertools.compress(range(len(types)), relocating):
        relocations_for.setdefault(infos[index], []).append(index)
    return _Image(data, elf_class, prefix, machine, sections, index_of, relocations_for)


def _strings(
    data: bytes, start: int, size: int, offsets: Iterable[int], what: str
) -> dict[int, str]:
    """offset -> the NUL-terminated string there, for a table whose last byte is a NUL
    and offsets inside it. The offsets are visited in order, so each byte of the table is
    scanned once however many names point into the same run; their total length is
    bounded (names sharing one long run would otherwise cost count x length)."""
    found: dict[int, str] = {}
    budget = _NAME_AMPLIFICATION * size + _NAME_ALLOWANCE
    nul = -1
    for offset in sorted(set(offsets)):
        at = start + offset
        if nul < at:
            nul = data.find(b"\0", at, start + size)
        budget -= nul - at
        if budget < 0:
            raise ElfProblem(
                f"{what} names overlap far beyond their string table ({size} bytes): "
                "crafted names, not analysed"
            )
        found[offset] = data[at:nul].decode("utf-8", "replace")
    return found


class _Symbols:
    """The symbol table as parallel columns (name, binding, type, section index, value),
    each made by C loops over the whole table: a `Sym` is built only for the few entries
    a caller asks for by index (an export's relocation target)."""

    __slots__ = ("infos", "names", "shndxs", "strings", "values")

    def __init__(
        self,
        names: list[str],
        infos: bytes,
        shndxs: Sequence[int],
        values: Sequence[int],
        strings: bytes = b"",
    ) -> None:
        self.strings = strings  # the string table the names come from
        self.names = names
        self.infos = infos
        self.shndxs = shndxs
        self.values = values

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> Sym:
        info = self.infos[index]
        return Sym(self.names[index], info >> 4, info & 0xF, self.shndxs[index], self.values[index])

    def index_by_name(self) -> dict[str, int]:
        """name -> index of its last entry (as a dict built in table order keeps it)."""
        return dict(zip(self.names, range(len(self.names)), strict=True))


def _read_symbols(image: _Image) -> _Symbols:
    index = image.index_of.get(".symtab")
    if index is None or image.sections[index].type != _SHT_SYMTAB:
        # kernel/module/main.c: elf_validity_cache_index_sym "module has no symbols (stripped?)"
        raise ElfProblem("no symbol table (.symtab); the loader refuses stripped modules")
    raw = image.section_bytes(index)
    link = image.sections[index].link
    if not 0 < link < len(image.sections):
        raise ElfProblem(f"the symbol table's string table index {link} is out of range")
    str_start, str_end = image.bounds(link)
    if str_end == str_start or image.data[str_end - 1] != 0:
        # 6.13+ kernel/module/main.c: elf_validity_cache_strtab refuses it too
        raise ElfProblem("the symbol string table is not NUL-terminated; the loader refuses it")
    entry = 24 if image.elf_class == 64 else 16  # sizeof(Elf64_Sym), sizeof(Elf32_Sym)
    if len(raw) % entry:
        raise ElfProblem(
            f"the symbol table's size ({len(raw)} bytes) is not a whole number of "
            f"{entry}-byte entries"
        )
    if len(raw) // entry > MAX_SYMBOLS:
        raise ElfProblem(
            f"a symbol table of {len(raw) // entry:,} entries, more than "
            f"{MAX_SYMBOLS:,}: not analysed"
        )
    # Each field is a strided slice of the table seen as an array of words (C loops, no
    # tuple per symbol): Elf64_Sym is st_name(4) st_info(1) st_other(1) st_shndx(2)
    # st_value(8) st_size(8); Elf32_Sym st_name(4) st_value(4) st_size(4) st_info(1)
    # st_other(1) st_shndx(2).
    swap = (image.fmt_prefix == ">") != (sys.byteorder == "big")
    words = _words("I", raw, swap)
    halves = _words("H", raw, swap)
    if image.elf_class == 64:
        offsets, infos, shndxs = words[0::6], raw[4::24], halves[3::12]
        values: Sequence[int] = _words("Q", raw, swap)[1::3]
    else:
        offsets, values, infos, shndxs = words[0::4], words[1::4], raw[12::16], halves[7::8]
    size = str_end - str_start
    names = _names(image.data, str_start, size, offsets, "symbol")
    return _Symbols(names, infos, shndxs, values, image.data[str_start:str_end])


def _words(code: str, raw: bytes, swap: bool) -> array[int]:
    """`raw` as an array of unsigned integers of `code`'s width, in the host's order."""
    words = array(code)
    words.frombytes(raw)
    if swap:
        words.byteswap()
    return words


def _names(data: bytes, start: int, size: int, offsets: Sequence[int], what: str) -> list[str]:
    """The NUL-terminated string at each offset of a string table ("" for an offset
    outside it), as `_strings` reads them, faster: an ASCII table (every real one) is
    decoded once and split at its NULs, so a name at the start of a string is a dict
    lookup, and only the names the linker merged into the tail of a longer one are
    sliced out one by one. Other tables go to `_strings`."""
    table = data[start : start + size]
    if not table.isascii():
        found = _strings(data, start, size, (o for o in offsets if o < size), what)
        return list(map(found.get, offsets, itertools.repeat("")))
    text = table.decode("ascii")
    parts = text.split("\0")
    # string k starts one past the NUL ending string k-1: its offset is the length of the
    # strings before it plus k
    before = itertools.accumulate(map(len, parts), initial=0)
    starts = map(operator.add, before, range(len(parts)))
    found = dict(zip(starts, parts, strict=False))
    names = list(map(found.get, offsets))
    if None not in names:
        return names  # type: ignore[return-value]
    missing = list(itertools.compress(range(len(names)), map(operator.is_, names, _NONES)))
    tails = sorted({offset for offset in map(offsets.__getitem__, missing) if offset < size})
    # `_strings`' bound on the total length of the distinct names, checked as each tail
    # is cut; the names at string starts take at most the table's size, so they are
    # summed only when they could matter
    budget = _NAME_AMPLIFICATION * size + _NAME_ALLOWANCE
    pieces = []
    for offset in tails:
        end = text.index("\0", offset)
        budget -= end - offset
        if budget < 0:
            break
        pieces.append(text[offset:end])
    if budget < size:
        distinct = set(offsets) & found.keys()
        budget -= sum(len(found[offset]) for offset in distinct if offset < size)
    if budget < 0:
        raise ElfProblem(
            f"{what} names overlap far beyond their string table ({size} bytes): "
            "crafted names, not analysed"
        )
    found.update(zip(tails, pieces, strict=True))
    for i in missing:
        names[i] = found.get(offsets[i], "")
    return names  # type: ignore[return-value]


_NONES = itertools.repeat(None)


def _rows(fmt: str, raw: bytes, what: str) -> Iterable[tuple[Any, ...]]:
    if len(raw) % struct.calcsize(fmt):
        raise ElfProblem(
            f"the {what} table's size ({len(raw)} bytes) is not a whole number of "
            f"{struct.calcsize(fmt)}-byte entries"
        )
    return struct.iter_unpack(fmt, raw)


def _read_modinfo(image: _Image) -> list[tuple[str, str]]:
    raw = image.named_bytes(".modinfo")
    if raw is None:
        return []
    _bound(raw.count(b"\0"), ".modinfo", "strings")
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
        _bound(len(ext_crcs) // 4, "__version_ext_crcs", "rows")
        usable = len(ext_crcs) - len(ext_crcs) % 4
        crcs = [crc for (crc,) in struct.iter_unpack(image.fmt_prefix + "I", ext_crcs[:usable])]
        names = [n.decode("utf-8", "replace") for n in ext_names.split(b"\0", len(crcs))]
        return dict(zip(names, crcs, strict=False))
    raw = image.named_bytes("__versions")
    if raw is None:
        return None
    _bound(len(raw) // 64, "__versions", "rows")
    word = "Q" if image.elf_class == 64 else "I"
    row = f"{image.fmt_prefix}{word}{64 - struct.calcsize(word)}s"
    versions: dict[str, int] = {}
    for crc, name_bytes in struct.iter_unpack(row, raw[: len(raw) - len(raw) % 64]):
        name = name_bytes[: name_bytes.find(b"\0")].decode("utf-8", "replace")
        # check_version() scans in order and stops at the first entry with the name.
        if name and name not in versions:
            versions[name] = crc & 0xFFFFFFFF
    return versions


def _bound(count: int, section: str, what: str) -> None:
    if count > MAX_TABLE_ENTRIES:
        raise ElfProblem(
            f"{section} holds {count:,} {what}, more than {MAX_TABLE_ENTRIES:,}: not analysed"
        )


def _section_name(image: _Image, shndx: int) -> str:
    if 0 < shndx < len(image.sections):
        return image.sections[shndx].name
    return {_SHN_ABS: "*ABS*", _SHN_COMMON: "*COM*"}.get(shndx, "")


def _read_symbol_facts(image: _Image, symbols: _Symbols, module: Module) -> None:
    undefined = module.undefined
    defined = module.defined
    # What each distinct (st_shndx, st_info) makes of a named symbol, worked out once:
    # _SKIP, an undefined strong/weak reference (False/True), or the defined symbol's
    # (binding, type, section), one tuple shared by the symbols that have it.
    kinds: dict[int, bool | tuple[str, str, str] | None] = {}
    keys = map(operator.or_, map(operator.lshift, symbols.shndxs, _EIGHTS), symbols.infos)
    for name, key in zip(symbols.names, keys, strict=False):
        if not name:
            continue
        kind = kinds.get(key, _UNKNOWN)
        if kind is _UNKNOWN:
            kind = kinds[key] = _symbol_kind(image, key >> 8, key & 0xFF)
        if kind is None:
            continue
        if kind.__class__ is bool:
            undefined[name] = kind
        elif not name.startswith(_MACHINERY_PREFIXES):
            defined[name] = kind  # type: ignore[assignment]
    # module_init()/module_exit() emit the aliases init_module/cleanup_module
    # (include/linux/module.h), which .gnu.linkonce.this_module points at.
    module.has_init = "init_module" in defined
    module.has_exit = "cleanup_module" in defined


_EIGHTS = itertools.repeat(8)
_UNKNOWN = object()


def _symbol_kind(image: _Image, shndx: int, info: int) -> bool | tuple[str, str, str] | None:
    """None: not a symbol of the module's own (a section or file symbol, a local
    undefined one); a bool: an undefined reference, True when weak; else the defined
    symbol's (binding, type, section)."""
    bind, kind = info >> 4, info & 0xF
    if kind == _STT_SECTION or kind == 4:  # STT_FILE
        return None
    if shndx == _SHN_UNDEF:
        return bind == 2 if bind in (1, 2) else None
    return _STB.get(bind, str(bind)), _STT.get(kind, str(kind)), _section_name(image, shndx)


def _relocations_by_offset(
    image: _Image, target_index: int, symbol_count: int
) -> dict[int, tuple[int, int | None]]:
    """r_offset -> (symbol index, addend or None for REL) for the section `target_index`.
    Each relocation section names one target, so each is decoded at most once per file;
    sections overlapping to be decoded more than the file's size over are refused."""
    found: dict[int, tuple[int, int | None]] = {}
    wide = image.elf_class == 64
    mips64 = wide and image.machine == _EM_MIPS
    for index in image.relocations_for.get(target_index, ()):
        section = image.sections[index]
        rela = section.type == _SHT_RELA
        fmt = image.fmt_prefix + ("QQ" if wide else "II") + (("q" if wide else "i") if rela else "")
        raw = image.section_bytes(index)
        image.relocation_bytes += len(raw)
        if image.relocation_bytes > len(image.data):
            raise ElfProblem("relocation sections overlap: they would be read many times over")
        raw = raw[: len(raw) - len(raw) % struct.calcsize(fmt)]
        image.relocations += len(raw) // struct.calcsize(fmt)
        if image.relocations > _RELOCATIONS_PER_SYMBOL * symbol_count + 1024:
            raise ElfProblem(
                f"export tables with {image.relocations:,} relocations for {symbol_count:,} "
                "symbols: not analysed"
            )
        size = struct.calcsize(fmt)
        for number, row in enumerate(struct.iter_unpack(fmt, raw)):
            offset, info = row[0], row[1]
            if mips64:  # the MIPS64 ELF ABI: a 32-bit r_sym first, then 4 type bytes
                (symbol,) = struct.unpack_from(image.fmt_prefix + "I", raw, number * size + 8)
            else:
                symbol = info >> 32 if wide else (info >> 8) & 0xFFFFFF
            found[offset] = (symbol, row[2] if rela else None)
    return found


def _read_exports(image: _Image, symbols: _Symbols) -> list[Export]:
    tables = {
        index: kind
        for index, section in enumerate(image.sections)
        if (kind := _ksymtab_kind(section.name)) is not None
    }
    if not tables:
        return []
    by_name = symbols.index_by_name()
    entries: dict[int, list[tuple[int, str]]] = {}
    for name, shndx, value in zip(symbols.names, symbols.shndxs, symbols.values, strict=True):
        if shndx in tables and name.startswith("__ksymtab_"):
            entries.setdefault(shndx, []).append((value, name[len("__ksymtab_") :]))
    flags = image.named_bytes("__kflagstab")
    exports: list[Export] = []
    for index, rows in sorted(entries.items()):
        rows.sort()
        relocs = _relocations_by_offset(image, index, len(symbols))
        entry_size = image.sections[index].size // max(len(rows), 1)
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
                    namespace=_export_namespace(
                        image, symbols, by_name, label, relocs, offset, entry_size
                    ),
                    crc=_export_crc(image, symbols, by_name.get("__crc_" + symbol)),
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
    image: _Image, symbols: _Symbols, reloc: tuple[int, int | None] | None
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
    symbols: _Symbols,
    by_name: dict[str, int],
    label: str,
    relocs: dict[int, tuple[int, int | None]],
    offset: int,
    entry_size: int,
) -> str:
    """Namespace string: `__kstrtabns_<sym>` in __ksymtab_strings (5.4+), else the entry's
    third field relocation; kernels before 5.4 have two-field entries and no namespaces."""
    label_index = by_name.get("__kstrtabns_" + label)
    label_sym = None if label_index is None else symbols[label_index]
    if label_sym is not None and 0 < label_sym.shndx < len(image.sections):
        return image.c_string(label_sym.shndx, label_sym.value)
    field = 4 if entry_size in (8, 12) else 8
    if entry_size != 3 * field:
        return ""
    reloc = relocs.get(offset + 2 * field)
    if reloc is None or reloc[1] is None or reloc[0] >= len(symbols):
        return ""
    sym = symbols[reloc[0]]
    if not 0 < sym.shndx < len(image.sections):
        return ""
    return image.c_string(sym.shndx, sym.value + reloc[1])


def _export_crc(image: _Image, symbols: _Symbols, crc_index: int | None) -> int | None:
    """`__crc_<sym>`: SHN_ABS value before 5.19, else an offset into __kcrctab* holding it."""
    if crc_index is None:
        return None
    crc_sym = symbols[crc_index]
    if crc_sym.shndx == _SHN_ABS:
        return crc_sym.value & 0xFFFFFFFF
    if not 0 < crc_sym.shndx < len(image.sections):
        return None
    return image.word32(crc_sym.shndx, crc_sym.value)


def _read_export_symbol_section(image: _Image, symbols: _Symbols) -> list[Export]:
    """6.5+ objects (`.o`) carry `.export_symbol` records instead of a ksymtab:
    `__export_symbol_<sym>: .asciz "GPL"|""; .asciz "<namespace>"; pointer to <sym>`
    (include/linux/export.h), read by modpost's check_export_symbol."""
    exports = []
    pointer = 8 if image.elf_class == 64 else 4
    relocs_by_section: dict[int, dict[int, tuple[int, int | None]]] = {}
    if b"__export_symbol_" not in symbols.strings:  # one C scan of the table, usually no
        return []
    for index, name in enumerate(symbols.names):
        if not name.startswith("__export_symbol_"):
            continue
        sym = symbols[index]
        if not 0 < sym.shndx < len(image.sections):
            continue
        licence = image.c_string(sym.shndx, sym.value)
        namespace_at = sym.value + len(licence.encode()) + 1
        namespace = image.c_string(sym.shndx, namespace_at)
        # The strings are followed by a pointer to the symbol, aligned to its size.
        end = namespace_at + len(namespace.encode()) + 1
        pointer_at = (end + pointer - 1) // pointer * pointer
        if sym.shndx not in relocs_by_section:
            relocs_by_section[sym.shndx] = _relocations_by_offset(image, sym.shndx, len(symbols))
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
