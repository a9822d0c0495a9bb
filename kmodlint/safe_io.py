"""Reading analysed input: regular files only, and never more than a bound.

Every file kmodlint reads comes from a tree it did not write. A FIFO named `foo.c` would
block a plain `open()` for ever, `x.c -> /dev/zero` would be read until memory runs out,
and a 50 MB generated file costs minutes: each reader goes through `read_regular`, which
opens with O_NONBLOCK (a FIFO opens at once instead of waiting for a writer), checks the
open file is a regular one (fstat, so a rename between the check and the read cannot
swap in a device) and reads at most `limit` bytes. A refusal is an OSError (every reader
already turns an unreadable file into its one diagnostic line) whose strerror is the
reason: "not a regular file", "larger than 32 MB".
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import zlib

MB = 1024 * 1024

# Bounds per kind of input, far above what real files need (the largest kernel .c/.h
# files, amdgpu's register headers, are a few MB; a distribution's Module.symvers a few
# MB; an unstripped amdgpu.ko ~300 MB) and far below what would exhaust a CI machine.
SOURCE_LIMIT = 32 * MB  # a .c file, a header, a file cpp read
MAKEFILE_LIMIT = 8 * MB  # Kbuild, Makefile, dkms.conf
SETTINGS_LIMIT = 1 * MB  # kmodlint.toml, pyproject.toml
BASELINE_LIMIT = 128 * MB
TABLE_LIMIT = 256 * MB  # Module.symvers, System.map, modules.builtin, .config
MODULE_LIMIT = 512 * MB  # a .ko as stored, and the image a compressed one inflates to

# Opening must not wait (a FIFO), take a controlling terminal (a tty) or leak to cpp.
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class RefusedInput(OSError):
    """A file kmodlint will not read (not a regular file, too large); `strerror` says
    why in a few words, `filename` names it."""


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit} bytes"


def read_regular(path: str, limit: int) -> bytes:
    """The bytes of the regular file `path` (a symlink to one is fine), at most `limit`;
    RefusedInput for anything else, OSError as `open` gives it."""
    return read_regular_stat(path, limit)[0]


def read_regular_head(path: str, limit: int) -> bytes:
    """The first `limit` bytes of the regular file `path` (all of a smaller one): for a
    reader that only needs the start of a file (a lexical search), a longer file is cut,
    not refused. RefusedInput for anything but a regular file."""
    return read_regular_stat(path, limit, cut=True)[0]


def read_regular_stat(path: str, limit: int, cut: bool = False) -> tuple[bytes, os.stat_result]:
    """`read_regular`, with the stat of the open file taken before reading; with `cut`,
    the first `limit` bytes of a longer file instead of a refusal."""
    # A stat first: a device is not even opened (opening some has effects, a tape rewinds).
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise RefusedInput(errno.EINVAL, "not a regular file", path)
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped for something else since the stat
            raise RefusedInput(errno.EINVAL, "not a regular file", path)
        if info.st_size > limit and not cut:
            raise RefusedInput(errno.EFBIG, f"larger than {_size(limit)}", path)
        chunks: list[bytes] = []
        left = limit if cut else limit + 1  # one byte more tells a file that grew past it
        while left > 0:
            chunk = os.read(fd, min(left, 4 * MB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0 and not cut:
            raise RefusedInput(errno.EFBIG, f"larger than {_size(limit)}", path)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def read_regular_text(path: str, limit: int, universal_newlines: bool = False) -> str:
    """`read_regular` decoded as UTF-8, undecodable bytes replaced (sources, Makefiles,
    kernel tables: a stray Latin-1 byte in a comment must not lose the file); with
    `universal_newlines`, \r\n and \r read as \n, as a text-mode open() gives them."""
    text = read_regular(path, limit).decode("utf-8", "replace")
    if universal_newlines and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def inflate_gzip(data: bytes, limit: int, path: str) -> bytes:
    """The content of the gzip file `data` (every member, as `gzip` reads it), inflated a
    chunk at a time and refused past `limit` bytes: a few hundred KB of a gzip bomb must
    not become gigabytes in memory. RefusedInput when too large, ValueError when corrupt
    or not gzip at all."""
    out: list[bytes] = []
    size = 0
    view = memoryview(data)
    position, end = 0, len(data)
    while position < end:
        if data[position] == 0 and not data[position:].strip(b"\0"):
            break  # padding after the last member, as gzip allows
        inflater = zlib.decompressobj(wbits=31)  # gzip header and trailer
        while not inflater.eof:
            # input in small pieces: what follows a member's end comes back as unused_data,
            # a copy; handing over the whole rest made a file of many tiny members quadratic
            if inflater.unconsumed_tail:
                piece: bytes | memoryview = inflater.unconsumed_tail
            elif position < end:
                piece = view[position : position + _GZIP_PIECE]
                position += len(piece)
            else:
                raise ValueError("truncated gzip data")
            try:
                chunk = inflater.decompress(piece, 4 * MB)
            except zlib.error as exc:
                raise ValueError(f"corrupt gzip data ({exc})") from exc
            size += len(chunk)
            if size > limit:
                raise RefusedInput(errno.EFBIG, f"decompresses to more than {_size(limit)}", path)
            out.append(chunk)
        position -= len(inflater.unused_data)  # the next member starts there
    return b"".join(out)


_GZIP_PIECE = 4096


def describe_failure(exc: BaseException) -> str:
    """One line for an exception that stopped one file's analysis: its type and reason."""
    if isinstance(exc, RecursionError):
        return "analysis stopped (RecursionError: nested too deeply)"
    reason = " ".join(str(exc).split())[:200]
    kind = type(exc).__name__
    return f"analysis stopped ({kind}: {reason})" if reason else f"analysis stopped ({kind})"


def write_atomic(path: str, text: str) -> None:
    """Write `text` (UTF-8) to `path` all at once or not at all: into a temporary file
    beside it, synced, then renamed over it, so a failure (a full disk, an interrupt, a
    crash while rendering) leaves the old file or none, never an empty or partial one.
    The file gets the mode a plain open() would give it (an existing file keeps its own).
    A path that is not a regular file (/dev/stdout, a FIFO) is written in place: it
    cannot be replaced, and a reader may be waiting on it. A symlink is followed: the file
    it names is replaced, the link stays."""
    path = os.path.realpath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        return
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
    else:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    folder = os.path.dirname(os.path.abspath(path))
    import tempfile  # only to write (start-up of every command, issue 13)

    fd, temporary = tempfile.mkstemp(prefix=".kmodlint-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
