"""Module file names and kinds: `.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz` (kmod decides the
kind by content). Decompression itself is `kmodlint.extract.inflate`, streamed and
bounded; nothing here inflates data (a plain `lzma.decompress` of a 388 KB bomb is 2 GB).
"""

from __future__ import annotations

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")

XZ_MAGIC = b"\xfd7zXZ\x00"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"


class DecompressError(Exception):
    pass


def module_stem(filename: str) -> str:
    """`foo.ko.xz` -> `foo`; `foo.o` -> `foo`."""
    for suffix in (*MODULE_SUFFIXES, ".o"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def plain_image(raw: bytes, filename: str) -> bytes:
    """`raw`, which carries no compression magic, as the ELF image: a file named as
    compressed that is not is refused (the suffix only decides what it is called)."""
    for suffix, kind in ((".xz", "xz"), (".zst", "zstd"), (".gz", "gzip")):
        if filename.endswith(suffix):
            raise DecompressError(f"not a valid {kind} stream (wrong magic bytes)")
    return raw
