"""Read a module file into memory, decompressing .xz/.zst/.gz the way kmod does (by content)."""

from __future__ import annotations

import gzip
import lzma
import zlib

import zstandard

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"


class DecompressError(Exception):
    pass


def module_stem(filename: str) -> str:
    """`foo.ko.xz` -> `foo`; `foo.o` -> `foo`."""
    for suffix in (*MODULE_SUFFIXES, ".o"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def decompress(raw: bytes, filename: str) -> bytes:
    """Return the ELF image; the suffix only decides what a wrong magic is called."""
    try:
        if raw.startswith(_XZ_MAGIC):
            return lzma.decompress(raw)
        if raw.startswith(_ZSTD_MAGIC):
            # Streams written without a content size need the streaming reader.
            return zstandard.ZstdDecompressor().decompressobj().decompress(raw)
        if raw.startswith(_GZIP_MAGIC):
            return gzip.decompress(raw)
    except (lzma.LZMAError, zstandard.ZstdError, OSError, EOFError, zlib.error) as exc:
        raise DecompressError(f"corrupt compressed module: {exc}") from exc
    for suffix, kind in ((".xz", "xz"), (".zst", "zstd"), (".gz", "gzip")):
        if filename.endswith(suffix):
            raise DecompressError(f"not a valid {kind} stream (wrong magic bytes)")
    return raw
