"""Read one input file once and hand it to the front end that understands it.

Top-level functions only, so a process pool can run them on a whole tree.
"""

from __future__ import annotations

import lzma
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import zstandard

from kmodlint.cache import discard_recording, read_recorded
from kmodlint.frontends.compressed import DecompressError, decompress, module_stem
from kmodlint.frontends.elf import inspect_module
from kmodlint.model import InputProblem, Module
from kmodlint.safe_io import MB, MODULE_LIMIT, describe_failure

# A module compresses 3-10x (xz of an unstripped .ko); 64x leaves room and still stops a
# bomb (a 388 KB .ko.xz inflating to 2 GB) long before it costs memory. MODULE_LIMIT is
# the ceiling whatever the compressed size.
INFLATE_RATIO = 64
_CHUNK = 4 * MB
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"
_TRUNCATED = "Compressed data ended before the end-of-stream marker was reached"


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
    module, problems = inspect_module(image, display, name)
    return Extraction(module, problems)


def inflate(raw: bytes, filename: str) -> bytes:
    """The ELF image of a module file as stored: decompressed by content, as kmod does,
    streamed and stopped at INFLATE_RATIO times the compressed size (or MODULE_LIMIT)."""
    cap = min(len(raw) * INFLATE_RATIO, MODULE_LIMIT)
    try:
        if raw.startswith(_XZ_MAGIC):
            return _inflate_streams(raw, cap, lzma.LZMADecompressor)
        if raw.startswith(_GZIP_MAGIC):
            return _inflate_gzip(raw, cap)
        if raw.startswith(_ZSTD_MAGIC):
            return _inflate_zstd(raw, cap)
    except (lzma.LZMAError, zstandard.ZstdError, OSError, EOFError, zlib.error) as exc:
        raise DecompressError(f"corrupt compressed module: {exc}") from exc
    return decompress(raw, filename)  # not compressed: the image, or a wrong-magic error


def _too_large(cap: int) -> DecompressError:
    return DecompressError(
        f"decompresses to more than {cap // MB if cap >= MB else cap} "
        f"{'MB' if cap >= MB else 'bytes'} ({INFLATE_RATIO}x its size, at most "
        f"{MODULE_LIMIT // MB} MB): not analysed"
    )


def _inflate_streams(raw: bytes, cap: int, new: Callable[[], lzma.LZMADecompressor]) -> bytes:
    """xz: every stream of the file (as lzma.decompress), a chunk of output at a time."""
    out = bytearray()
    data = raw
    while data:
        decoder = new()
        try:
            chunk = decoder.decompress(data, max_length=_CHUNK)
        except lzma.LZMAError:
            if out:
                break  # trailing data that is not a stream: ignored, as lzma.decompress does
            raise
        while True:
            out += chunk
            if len(out) > cap:
                raise _too_large(cap)
            if decoder.eof:
                break
            if decoder.needs_input:
                raise EOFError(_TRUNCATED)
            chunk = decoder.decompress(b"", max_length=_CHUNK)
        data = decoder.unused_data
    return bytes(out)


def _inflate_gzip(raw: bytes, cap: int) -> bytes:
    """gzip: every member (as gzip.decompress), a chunk of output at a time."""
    out = bytearray()
    data = raw
    while data.strip(b"\0"):  # zero padding after the last member is allowed
        decoder = zlib.decompressobj(wbits=31)
        pending = data
        while not decoder.eof:
            chunk = decoder.decompress(pending, _CHUNK)
            pending = decoder.unconsumed_tail
            out += chunk
            if len(out) > cap:
                raise _too_large(cap)
            if not chunk and not pending:
                raise EOFError(_TRUNCATED)
        data = decoder.unused_data
    return bytes(out)


def _inflate_zstd(raw: bytes, cap: int) -> bytes:
    """zstd: the first frame (as kmod), measured in chunks before it is decompressed at
    once (the one-shot decoder says whether the frame was complete; the chunked one,
    bounded, whether it fits)."""
    size = 0
    for chunk in zstandard.ZstdDecompressor().read_to_iter(raw, write_size=_CHUNK):
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
    decoder = zstandard.ZstdDecompressor().decompressobj()
    image = decoder.decompress(raw)
    if not decoder.eof:
        raise EOFError(_TRUNCATED)
    return image
