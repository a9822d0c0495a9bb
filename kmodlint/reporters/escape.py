"""What input puts into a report, made safe to print.

Paths, symbol names and messages come from the analysed tree: an ELF symbol named
"\\x1b[2J" would clear the terminal, one with a newline would start a line that looks like
a finding of its own, a file name that is not UTF-8 (a surrogate-escaped str here) cannot
be written to a UTF-8 stream at all. Text reports show each such character as an escape
(`\\x1b`, `\\x0a`, a non-UTF-8 byte as `\\xe9`), so every finding stays one line and the
terminal only ever receives printable text.
"""

from __future__ import annotations

import codecs
import re

# C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, the bidi
# overrides and isolates (a reordered line can show other text than it holds) and lone
# surrogates (the bytes of a non-UTF-8 file name, os.fsdecode's surrogateescape).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte surrogateescape could not decode: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep_bytes: bool = False) -> str:
    """`text` with every control character, line separator, bidi control and lone
    surrogate shown as a backslash escape: one line of printable characters. With
    `keep_bytes`, a non-UTF-8 file name's bytes are left for the stream to write as they
    are (surrogateescape: modules.dep names files as depmod does, byte for byte)."""
    return (_CONTROL if keep_bytes else _UNSAFE).sub(_escape, text)


def printable_lines(text: str) -> str:
    """`printable`, keeping newlines (and tabs): for a block of several lines whose line
    breaks are the report's own."""
    return "\n".join(
        "\t".join(printable(part) for part in line.split("\t")) for line in text.split("\n")
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with its lone surrogates (a non-UTF-8 file name's bytes) shown as `\\xe9`
    escapes, the rest as it is: JSON and SARIF strings must be valid Unicode for strict
    readers (a lone surrogate is an error to serde_json and to GitHub's upload)."""
    return _SURROGATE.sub(_escape, text)


def valid_unicode_document(value: object) -> object:
    """A JSON document (dicts, lists, strings, numbers) with `valid_unicode` applied to
    every string, keys included: for reports that carry names from the input in many
    places (`symbols --format json`: module, symbol, file and section names)."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {valid_unicode_document(k): valid_unicode_document(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_unicode_document(item) for item in value]
    return value


def raw_bytes(text: str) -> bytes:
    """The bytes `text` stands for: a file name's own bytes for its surrogate escapes
    (os.fsencode), any other lone surrogate kept as UTF-8 would spell it."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _unencodable(error: UnicodeError) -> tuple[str | bytes, int]:
    """Codec error handler for a stream whose encoding cannot hold every character (a
    latin-1 or ASCII locale): a non-UTF-8 file name's bytes go out as they are (what
    surrogateescape does) and any other character kmodlint prints ("—", "→") becomes a
    backslash escape, so a report on such a terminal never fails half-way."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    code = ord(error.object[error.start])
    if 0xDC80 <= code <= 0xDCFF:
        return bytes([code - 0xDC00]), error.start + 1
    return (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"), error.start + 1


STREAM_ERRORS = "kmodlint-escape"
codecs.register_error(STREAM_ERRORS, _unencodable)


def lenient_stream(stream: object) -> str | None:
    """Make `stream` (stdout, stderr) write what its encoding cannot hold as escapes
    instead of raising; return its former `errors` setting to restore, or None when it
    was left as it was (not a text stream, or already lenient)."""
    errors = getattr(stream, "errors", None)
    reconfigure = getattr(stream, "reconfigure", None)
    if errors != "strict" or reconfigure is None:
        return None
    try:
        reconfigure(errors=STREAM_ERRORS)
    except (OSError, ValueError):
        return None
    return str(errors)
