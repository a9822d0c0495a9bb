"""Build small ELF64 relocatable objects from parts, for crafted-input tests and fuzzing.

Not a linker: sections are laid out one after the other, the section name table last but
one and the section headers at the end, with exactly the fields the inspector reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_REL = 9


@dataclass
class Part:
    name: str
    type: int = SHT_PROGBITS
    data: bytes = b""
    link: int = 0
    info: int = 0
    entsize: int = 0
    # Where the header says the data is, when not where it was written (overlaps).
    offset: int | None = None
    size: int | None = None


@dataclass
class Builder:
    parts: list[Part] = field(default_factory=list)

    def add(self, part: Part) -> int:
        """Append a section; its index (the null section is 0)."""
        self.parts.append(part)
        return len(self.parts)

    def build(self, shstrtab: bytes | None = None) -> bytes:
        names = bytearray(b"\0")
        name_at = []
        for part in [*self.parts, Part(".shstrtab")]:
            name_at.append(len(names))
            names += part.name.encode() + b"\0"
        body = bytearray(b"\0" * 64)
        offsets = []
        for part in self.parts:
            offsets.append(len(body))
            body += part.data
            body += b"\0" * (-len(body) % 8)
        names_offset = len(body)
        table = bytes(names) if shstrtab is None else shstrtab
        body += table
        body += b"\0" * (-len(body) % 8)
        shoff = len(body)
        headers = [bytes(64)]
        for part, at, offset in zip(self.parts, name_at, offsets, strict=False):
            headers.append(
                struct.pack(
                    "<IIQQQQIIQQ",
                    at,
                    part.type,
                    0,
                    0,
                    offset if part.offset is None else part.offset,
                    len(part.data) if part.size is None else part.size,
                    part.link,
                    part.info,
                    1,
                    part.entsize,
                )
            )
        headers.append(
            struct.pack(
                "<IIQQQQIIQQ", name_at[-1], SHT_STRTAB, 0, 0, names_offset, len(table), 0, 0, 1, 0
            )
        )
        shnum = len(headers)
        body += b"".join(headers)
        ident = b"\x7fELF\x02\x01\x01" + bytes(9)
        header = ident + struct.pack(
            "<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, shnum, shnum - 1
        )
        body[:64] = header
        return bytes(body)


def symbol(name_offset: int, bind: int, kind: int, shndx: int, value: int = 0) -> bytes:
    return struct.pack("<IBBHQQ", name_offset, (bind << 4) | kind, 0, shndx, value, 0)


def module(
    symbols: list[tuple[str, int, int, int, int]],
    extra: list[Part] | None = None,
    strtab: bytes | None = None,
    name_offsets: list[int] | None = None,
    modinfo: bytes = b"license=GPL\0name=crafted\0",
) -> bytes:
    """An object with `.modinfo`, the `extra` sections (indexes 3...) and a `.symtab` of
    (name, bind, type, shndx, value) rows, its `.strtab` built from the names unless
    `strtab` and `name_offsets` are given."""
    builder = Builder()
    builder.add(Part(".modinfo", data=modinfo))
    strtab_index = builder.add(Part(".strtab", SHT_STRTAB))
    for part in extra or []:
        builder.add(part)
    table = bytearray(b"\0")
    rows = [symbol(0, 0, 0, 0)]
    for number, (name, bind, kind, shndx, value) in enumerate(symbols):
        if name_offsets is None:
            offset = len(table)
            table += name.encode() + b"\0"
        else:
            offset = name_offsets[number]
        rows.append(symbol(offset, bind, kind, shndx, value))
    builder.parts[strtab_index - 1].data = bytes(table) if strtab is None else strtab
    builder.add(Part(".symtab", SHT_SYMTAB, b"".join(rows), link=strtab_index, entsize=24))
    return builder.build()


def relocate_headers(data: bytes, name: str) -> bytes:
    """Every section called `name` made to claim the file range of the first of them."""
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shnum = int.from_bytes(data[0x3C:0x3E], "little")
    shstrndx = int.from_bytes(data[0x3E:0x40], "little")
    names_at = int.from_bytes(
        data[shoff + shstrndx * 64 + 24 : shoff + shstrndx * 64 + 32], "little"
    )
    out = bytearray(data)
    first: bytes | None = None
    for i in range(shnum):
        at = shoff + i * 64
        name_offset = int.from_bytes(data[at : at + 4], "little")
        start = names_at + name_offset
        if data[start : data.index(b"\0", start)] != name.encode():
            continue
        if first is None:
            first = data[at + 24 : at + 40]  # sh_offset, sh_size
        else:
            out[at + 24 : at + 40] = first
    return bytes(out)
