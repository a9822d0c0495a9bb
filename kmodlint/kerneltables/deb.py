"""The files of a linux-headers-<release> .deb that make a kernel table, read in memory.

A .deb is an `ar` archive (debian-binary, control.tar.*, data.tar.*); nothing is
extracted to disk and nothing in it is run. Only the members named by `wanted` are kept,
each bounded.
"""

from __future__ import annotations

import io
import lzma
import tarfile
from collections.abc import Callable

from kmodlint.safe_io import TABLE_LIMIT

_AR_MAGIC = b"!<arch>\n"
_HEADER = 60


class DebError(ValueError):
    pass


def ar_members(data: bytes) -> dict[str, bytes]:
    if not data.startswith(_AR_MAGIC):
        raise DebError("not a .deb (no ar archive header)")
    members: dict[str, bytes] = {}
    offset = len(_AR_MAGIC)
    while offset + _HEADER <= len(data):
        header = data[offset : offset + _HEADER]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as exc:
            raise DebError("corrupt ar member header") from exc
        start = offset + _HEADER
        if size < 0 or start + size > len(data):
            raise DebError("truncated ar member")
        members[name] = data[start : start + size]
        offset = start + size + (size & 1)
    return members


def read_members(
    data: bytes, wanted: Callable[[str], bool]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """(data.tar members `wanted` accepts, by path without the leading './'; the control
    file's fields)."""
    members = ar_members(data)
    control = _control_fields(_tar_files(_member(members, "control.tar"), lambda n: n == "control"))
    files = _tar_files(_member(members, "data.tar"), wanted)
    return files, control


def _member(members: dict[str, bytes], stem: str) -> tuple[str, bytes]:
    for name, blob in members.items():
        if name == stem or name.startswith(stem + "."):
            return name, blob
    raise DebError(f"no {stem}.* member")


def _tar_files(member: tuple[str, bytes], wanted: Callable[[str], bool]) -> dict[str, bytes]:
    name, blob = member
    if name.endswith(".zst"):
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob))
        stream: io.RawIOBase | io.BufferedIOBase = io.BufferedReader(reader)
        mode = "r|"
    elif name.endswith(".xz"):
        stream, mode = io.BytesIO(blob), "r|xz"
    elif name.endswith(".gz"):
        stream, mode = io.BytesIO(blob), "r|gz"
    elif name == "data.tar" or name == "control.tar":
        stream, mode = io.BytesIO(blob), "r|"
    else:
        raise DebError(f"unknown compression of {name}")
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=stream, mode=mode) as archive:  # type: ignore[call-overload]
            for info in archive:
                path = info.name[2:] if info.name.startswith("./") else info.name
                if not info.isreg() or not wanted(path):
                    continue
                if info.size > TABLE_LIMIT:
                    raise DebError(f"{path}: larger than {TABLE_LIMIT} bytes")
                handle = archive.extractfile(info)
                if handle is not None:
                    found[path] = handle.read()
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as exc:
        raise DebError(f"{name}: {exc}") from exc
    return found


def _control_fields(files: dict[str, bytes]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in files.get("control", b"").decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith((" ", "\t")):
            fields[key.strip()] = value.strip()
    return fields
