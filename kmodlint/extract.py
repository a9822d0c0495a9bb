"""Read one input file once and hand it to the front end that understands it.

Top-level functions only, so a process pool can run them on a whole tree.
"""

from __future__ import annotations

import lzma
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

from kmodlint.cache import discard_recording, read_recorded
from kmodlint.frontends.compressed import (
    GZIP_MAGIC,
    XZ_MAGIC,
    ZSTD_MAGIC,
    DecompressError,
    module_stem,
    plain_image,
)
from kmodlint.model import InputProblem, Module
from kmodlint.safe_io import MB, MODULE_LIMIT, describe_failure

# A module compresses 3-10x (xz of an unstripped .ko); 64x leaves room and still stops a
# bomb (a 388 KB .ko.xz inflating to 2 GB) long before it costs memory. A small image is
# cheap to hold whatever its ratio, and a module made mostly of zeroed tables compresses far
# more (Debian 6.12's test_bpf.ko.xz: 45 KB -> 4.9 MB, 110x; 65x as .gz): up to
# SMALL_IMAGE, 256x is allowed. MODULE_LIMIT is the ceiling whatever the compressed size.
INFLATE_RATIO = 64
SMALL_RATIO = 256
SMALL_IMAGE = 8 * MB
_CHUNK = 4 * MB


@dataclass(slots=True)
class Extraction:
    module: Module | None
    problems: list[InputProblem] = field(default_factory=list)


def module_name_for(path: str) -> str:
    return module_stem(os.path.basename(path))


def extract_binary(path: str, display: str) -> Extraction:
    """`path` is read; `display` is what findings and tables call it. Never raises (but
    KeyboardInterrupt): a failure on one module becomes its diagnostic here, in the
    worker, so the run keeps every other module's findings."""
    name = module_name_for(path)
    try:
        return _extract(path, display, name)
    except Exception as exc:  # the point: one file's failure stays that file's
        discard_recording()  # and is not cached: the next run tries again
        problem = InputProblem("invalid-elf", display, describe_failure(exc), module=name)
        return Extraction(None, [problem])


def _extract(path: str, display: str, name: str) -> Extraction:
    try:
        # recorded: a cached model is reused only while these exact bytes are on disk
        raw, _ = read_recorded(path, always_hash=False, limit=MODULE_LIMIT)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Extraction(None, [InputProblem("unreadable-path", display, reason, module=name)])
    if not raw:
        return Extraction(None, [InputProblem("invalid-elf", display, "empty file", module=name)])
    try:
        image = inflate(raw, path)
    except DecompressError as exc:
        return Extraction(None, [InputProblem("invalid-elf", display, str(exc), module=name)])
    from kmodlint.frontends.elf import inspect_module  # a run of C files never needs it

    module, problems = inspect_module(image, display, name)
    return Extraction(module, problems)


def inflate(raw: bytes, filename: str) -> bytes:
    """The ELF image of a module file as stored: decompressed by content, as kmod does,
    streamed and stopped at `inflate_cap` of the compressed size.
    Input is fed a bounded piece at a time, so a file of thousands of tiny streams or
    members costs time linear in its size (handing a decoder the whole rest of the file
    for each stream copied it once per stream)."""
    cap = inflate_cap(len(raw))
    for magic, kind, suffix in _FORMATS:
        if raw.startswith(magic):
            try:
                if kind == "xz":
                    return _inflate_xz(raw, cap)
                if kind == "gzip":
                    return _inflate_gzip(raw, cap)
                return _inflate_zstd(raw, cap)
            except _Truncated as exc:
                raise DecompressError(
                    f"corrupt compressed module: truncated {kind} stream (the file ends "
                    f"before its end-of-stream marker{exc})"
                ) from exc
            except (lzma.LZMAError, _ZstdError, OSError, EOFError, zlib.error) as exc:
                raise DecompressError(f"corrupt compressed module: {exc}") from exc
        if filename.endswith(suffix) and raw and magic.startswith(raw):
            raise DecompressError(
                f"corrupt compressed module: truncated {kind} stream (the file is "
                f"{len(raw)} of the {len(magic)} bytes of its magic)"
            )
    return plain_image(raw, filename)  # not compressed: the image, or a wrong-magic error


_FORMATS = ((XZ_MAGIC, "xz", ".xz"), (GZIP_MAGIC, "gzip", ".gz"), (ZSTD_MAGIC, "zstd", ".zst"))
_FEED = 64 * 1024  # compressed bytes handed to a decoder at a time


class _Truncated(Exception):
    """The data ended inside a stream; str() is empty or ", in stream N"."""


def _where(stream: int) -> str:
    return f", in stream {stream + 1}" if stream else ""


def inflate_cap(size: int) -> int:
    """What a module file of `size` bytes may decompress to."""
    return min(max(size * INFLATE_RATIO, min(size * SMALL_RATIO, SMALL_IMAGE)), MODULE_LIMIT)


def _too_large(cap: int) -> DecompressError:
    return DecompressError(
        f"decompresses to more than {cap // MB if cap >= MB else cap} "
        f"{'MB' if cap >= MB else 'bytes'} ({INFLATE_RATIO}x its size, {SMALL_RATIO}x up to "
        f"{SMALL_IMAGE // MB} MB, at most {MODULE_LIMIT // MB} MB): not analysed"
    )


def _inflate_xz(raw: bytes, cap: int) -> bytes:
    """xz: every stream of the file (as lzma.decompress: trailing data that is not a
    stream is ignored once one was read), a chunk of output at a time."""
    out = bytearray()
    view = memoryview(raw)
    at = 0
    stream = 0
    while at < len(raw):
        decoder = lzma.LZMADecompressor()
        fresh = True
        while not decoder.eof:
            if decoder.needs_input:
                if at >= len(raw):
                    raise _Truncated(_where(stream))
                piece = view[at : at + _FEED]
                at += len(piece)
            else:
                piece = view[0:0]
            try:
                out += decoder.decompress(piece, max_length=_CHUNK)
            except lzma.LZMAError:
                if fresh and stream:
                    return bytes(out)
                raise
            fresh = False
            if len(out) > cap:
                raise _too_large(cap)
        at -= len(decoder.unused_data)
        stream += 1
    return bytes(out)


def _inflate_gzip(raw: bytes, cap: int) -> bytes:
    """gzip: every member (as gzip.decompress; zero padding after the last is allowed),
    a chunk of output at a time."""
    out = bytearray()
    view = memoryview(raw)
    end = len(raw.rstrip(b"\0"))
    at = 0
    member = 0
    while at < end:
        decoder = zlib.decompressobj(wbits=31)
        while not decoder.eof:
            piece: bytes | memoryview = decoder.unconsumed_tail
            if not piece:
                if at >= len(raw):
                    raise _Truncated(_where(member))
                piece = view[at : at + _FEED]
                at += len(piece)
            out += decoder.decompress(piece, _CHUNK)
            if len(out) > cap:
                raise _too_large(cap)
        at -= len(decoder.unused_data)
        member += 1
    return bytes(out)


class _ZstdError(Exception):
    """zstandard.ZstdError, raised as this (zstandard is imported for .zst modules only)."""


def _inflate_zstd(raw: bytes, cap: int) -> bytes:
    """zstd: the first frame (as kmod), measured in chunks before it is decompressed at
    once (the one-shot decoder says whether the frame was complete; the chunked one,
    bounded, whether it fits)."""
    import zstandard

    try:
        return _inflate_zstd_with(zstandard, raw, cap)
    except zstandard.ZstdError as exc:
        raise _ZstdError(str(exc)) from exc


def _inflate_zstd_with(zstandard: Any, raw: bytes, cap: int) -> bytes:
    size = 0
    for chunk in zstandard.ZstdDecompressor().read_to_iter(raw, write_size=_CHUNK):
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
    decoder = zstandard.ZstdDecompressor().decompressobj()
    image = decoder.decompress(raw)
    if not decoder.eof:
        raise _Truncated("")
    inflated: bytes = image
    return inflated
