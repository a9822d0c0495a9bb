"""Reading the kernel headers: the include roots, each header's directives, macros and
typedef names (``scan_header``), and the macros the whole tree defines or tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kmodlint.cfront.lex.brackets import PARENTHESES, closing_index, split_top_level
from kmodlint.cfront.lex.comments import splice_lines, strip_comments
from kmodlint.cfront.lex.keywords import C_KEYWORDS, TYPE_KEYWORDS
from kmodlint.cfront.lex.tokenizer import token_texts
from kmodlint.cfront.stubenv.conditions import CondEvaluator
from kmodlint.safe_io import SOURCE_LIMIT, read_regular, read_regular_text

ARCH = "x86"

# Include roots relative to a kernel tree, in the order Kbuild searches them.
ROOTS = (
    "arch/{arch}/include",
    "arch/{arch}/include/generated",
    "include",
    "arch/{arch}/include/uapi",
    "arch/{arch}/include/generated/uapi",
    "include/uapi",
    "include/generated/uapi",
)

# Headers whose macros must not leak into the stubs (wrong endianness, config itself).
SKIP_DEFINES_IN = (
    "linux/byteorder/big_endian.h",
    "generated/autoconf.h",
    "autoconf.h",
)

# System headers some kernel code still names; they get empty shadows as well.
EXTRA_HEADERS = ("stdarg.h", "stddef.h", "stdbool.h", "stdint.h", "float.h", "limits.h")
_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)(.*)$")
_DEFINE_RE = re.compile(r"^([A-Za-z_]\w*)(\([^)]*\))?(.*)$", re.DOTALL)


@dataclass
class MacroDef:
    name: str
    params: list[str] | None  # None for object-like
    body: list[str]
    origin: str


@dataclass
class HeaderScan:
    defines: list[MacroDef] = field(default_factory=list)
    typedefs: set[str] = field(default_factory=set)
    if_idents: set[str] = field(default_factory=set)
    # top-level macro invocations with simple arguments (for macros that make typedefs)
    invocations: list[tuple[str, list[str]]] = field(default_factory=list)
    # the header's own directives in order: ("define", name), ("undef", name),
    # ("include", "<name>" or '"name"'); only those outside branches known to be false
    order: list[tuple[str, str]] = field(default_factory=list)
    # function-like macros defined in branches known to be false (another arch or config)
    inactive: list[MacroDef] = field(default_factory=list)


_INVOCATION_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*;?\s*$", re.M)
_TYPEDEF_NAME_PTR = re.compile(r"\(\s*(?:\*|\^)\s*(?:const\s+|volatile\s+)*([A-Za-z_]\w*)")
_TYPEDEF_NAME_PAREN = re.compile(r"\(\s*([A-Za-z_]\w*)\s*\)\s*\(")
_ATTR_RE = re.compile(r"__attribute(?:__)?\s*\(\(")


def _closing_parenthesis(text: str, start: int) -> int:
    """The index of the ')' closing the '(' at *start* (the text's length when none)."""
    end = closing_index(text, start, opening=PARENTHESES[0], closing=PARENTHESES[1])
    return len(text) if end is None else end


def _drop_attributes(text: str) -> str:
    while True:
        match = _ATTR_RE.search(text)
        if not match:
            return text
        j = _closing_parenthesis(text, match.end() - 2)
        text = text[: match.start()] + " " + text[j + 1 :]


def _split_top(text: str, sep: str) -> list[str]:
    return ["".join(part) for part in split_top_level(text, sep)]


def _top_groups(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level parenthesised group of ``text``."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i + 1))
    return out


def _declarator_name(part: str) -> str | None:
    """The name one declarator of a typedef declares: ``(*name)(...)``, ``(name)(...)``,
    ``name(...)``, ``name[...]`` or plain ``name``; groups after a macro name that more
    text follows (``__printf(2, 3) void (*name)(...)``) are not declarators."""
    for start, end in _top_groups(part):
        match = _TYPEDEF_NAME_PTR.match(part, start) or _TYPEDEF_NAME_PAREN.match(part, start)
        if match:  # typedef int (*name)(...);  typedef void (name)(...);
            return match.group(1)
        before = re.search(r"([A-Za-z_]\w*)\s*$", part[:start])
        rest = part[end:].strip()
        if before and before.group(1) not in C_KEYWORDS and (not rest or rest[0] in "(["):
            return before.group(1)  # typedef int name(...);
    head = part.split("(", 1)[0] if not _top_groups(part) else part[: _top_groups(part)[0][0]]
    ids = re.findall(r"[A-Za-z_]\w*", head.split("[", 1)[0])
    return ids[-1] if ids else None


def _drop_macro_calls(text: str, fn_macros: frozenset[str]) -> str:
    """``text`` without the invocations of function-like macros (``__aligned(8)``)."""
    out = text
    for match in reversed(list(re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text))):
        if match.group(1) not in fn_macros:
            continue
        j = _closing_parenthesis(text, match.end() - 1)
        out = out[: match.start()] + " " + out[j + 1 :]
    return out


def typedef_names(statement: str, fn_macros: frozenset[str] = frozenset()) -> list[str]:
    """Names declared by one ``typedef ...;`` statement (without the semicolon).
    Invocations of ``fn_macros`` (attribute macros: ``call_single_data_t
    __aligned(...)``) are no declarators."""
    if fn_macros:
        plain = _drop_macro_calls(statement, fn_macros)
        if plain != statement:
            names = typedef_names(plain)
            if names:
                return names
    text = _drop_attributes(statement)
    close = text.rfind("}")
    text = text[close + 1 :] if close >= 0 else re.sub(r"^\s*typedef\b", "", text)
    names = []
    for part in _split_top(text, ","):
        name = _declarator_name(part)
        if name:
            names.append(name)
    return [n for n in names if n not in C_KEYWORDS and n not in TYPE_KEYWORDS]


def scan_header(
    path: str, rel: str, evaluator: CondEvaluator, fn_macros: frozenset[str] = frozenset()
) -> HeaderScan:
    try:
        # a header of the --kernel-source tree: regular, bounded (safe_io). Splice
        # continued lines first (translation phase 2), then drop comments: a comment
        # inside a multi-line #define must not cut the definition short
        text = strip_comments(
            splice_lines(read_regular_text(path, SOURCE_LIMIT, universal_newlines=True))
        )
    except OSError:
        return HeaderScan()
    reader = _HeaderReader(rel, evaluator)
    for line in text.split("\n"):
        reader.line(line)
    joined = "\n".join(reader.code)
    _read_code(reader.scan, joined, fn_macros)
    return reader.scan


class _HeaderReader:
    """One header's lines: its directives applied (conditionals three-valued), its code
    outside branches known to be false kept."""

    def __init__(self, rel: str, evaluator: CondEvaluator) -> None:
        self.rel = rel
        self.evaluator = evaluator
        self.skip_defines = rel.endswith(SKIP_DEFINES_IN)
        self.scan = HeaderScan()
        # stack of [state, taken]; state True/False/None, taken: True/None/False
        self.stack: list[list[bool | None]] = []
        self.code: list[str] = []

    def active(self) -> bool:
        return all(s[0] is not False for s in self.stack)

    def line(self, line: str) -> None:
        match = _DIRECTIVE_RE.match(line)
        if not match:
            if self.active():
                self.code.append(line)
            return
        directive, rest = match.group(1), match.group(2).strip()
        if directive in ("if", "ifdef", "ifndef", "elif"):
            self.scan.if_idents.update(t for t in token_texts(rest) if re.match(r"[A-Za-z_]", t))
        if directive in ("if", "ifdef", "ifndef", "elif", "else", "endif"):
            self._conditional(directive, rest)
        elif directive == "define" and not self.skip_defines:
            self._define(rest)
        elif directive == "undef" and self.active() and not self.skip_defines:
            name = rest.split()[0] if rest.split() else ""
            if name:
                self.scan.order.append(("undef", name))
        elif directive in ("include", "include_next") and self.active():
            im = re.match(r'(<[^>]+>|"[^"]+")', rest)
            if im:
                self.scan.order.append(("include", im.group(1)))

    def _conditional(self, directive: str, rest: str) -> None:
        stack, evaluator = self.stack, self.evaluator
        if directive in ("if", "ifdef", "ifndef"):
            if directive == "if":
                state = evaluator.evaluate(rest)
            else:
                name = rest.split()[0] if rest.split() else ""
                definition = evaluator.defined(name)
                state = definition if directive == "ifdef" or definition is None else not definition
            stack.append([state, state])
        elif not stack:
            return
        elif directive == "elif":
            top = stack[-1]
            if top[1] is True:
                top[0] = False
            else:
                v = evaluator.evaluate(rest)
                top[0] = None if (top[1] is None and v is not False) else v
                if v is True and top[1] is False:
                    top[1] = True
                elif v is not False:
                    top[1] = None  # top[1] is not True here (the branch above)
        elif directive == "else":
            top = stack[-1]
            top[0] = {True: False, None: None, False: True}[top[1]]
            top[1] = True if top[0] is True else top[1]
        else:
            stack.pop()

    def _define(self, rest: str) -> None:
        dm = _DEFINE_RE.match(rest)
        if self.active():
            if dm:
                name, params, body = dm.groups()
                plist = None
                if params is not None:
                    plist = [p.strip() for p in params[1:-1].split(",") if p.strip()]
                self.scan.defines.append(MacroDef(name, plist, token_texts(body), self.rel))
                self.scan.order.append(("define", name))
        elif dm and dm.group(2) is not None:
            name, params, body = dm.groups()
            plist = [p.strip() for p in params[1:-1].split(",") if p.strip()]
            self.scan.inactive.append(MacroDef(name, plist, token_texts(body), self.rel))


def _read_code(scan: HeaderScan, joined: str, fn_macros: frozenset[str]) -> None:
    """The top-level macro invocations and the typedef names of the header's active code."""
    for match in _INVOCATION_RE.finditer(joined):
        args = [a.strip() for a in _split_top(match.group(2), ",")]
        scan.invocations.append((match.group(1), args))
    for match in re.finditer(r"\btypedef\b", joined):
        depth = 0
        j = match.end()
        while j < len(joined):
            ch = joined[j]
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
            elif ch == ";" and depth <= 0:
                break
            j += 1
        scan.typedefs.update(typedef_names(joined[match.start() : j], fn_macros))


def macro_made_typedefs(
    defs: dict[str, list[MacroDef]], invocations: list[tuple[str, list[str]]]
) -> set[str]:
    """Typedef names that macros paste together (``seqcount_##lockname##_t``), instantiated
    with the arguments of the headers' own top-level invocations of those macros."""
    templates: dict[str, list[tuple[list[str], list[str]]]] = {}
    for name, ds in defs.items():
        for definition in ds:
            if definition.params is None or "typedef" not in definition.body:
                continue
            body = definition.body
            start = body.index("typedef")
            end, depth = start, 0
            while end < len(body) and not (body[end] == ";" and depth == 0):
                depth += {"{": 1, "}": -1}.get(body[end], 0)
                end += 1
            stmt = body[start:end]
            if "}" in stmt:
                stmt = stmt[len(stmt) - stmt[::-1].index("}") :]
            if "##" in stmt and "(" not in stmt:
                # the declarator: the last run of identifiers joined by ##
                j = len(stmt) - 1
                while j > 0 and stmt[j - 1] == "##":
                    j -= 2
                templates.setdefault(name, []).append((definition.params, stmt[j:]))
    out: set[str] = set()
    for name, args in invocations:
        for params, tmpl in templates.get(name, ()):
            if len(params) != len(args):
                continue
            subst = dict(zip(params, args, strict=True))
            text = "".join(subst.get(t, t) for t in tmpl if t != "##")
            if re.fullmatch(r"[A-Za-z_]\w*", text):
                out.add(text)
    return out


_OBJECT_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])(.*)$", re.M)


def object_macros(roots: Iterable[str]) -> dict[str, list[str]]:
    """The body of every object-like macro that all headers define alike (the values
    header conditionals compare: ``#if GCC_VERSION >= 80000``)."""
    bodies: dict[str, set[tuple[str, ...]]] = {}
    for full, _ in iter_headers(roots):
        try:
            text = strip_comments(
                splice_lines(read_regular_text(full, SOURCE_LIMIT, universal_newlines=True))
            )
        except OSError:
            continue
        for match in _OBJECT_DEFINE.finditer(text):
            if match.group(1).startswith("CONFIG_"):
                continue
            bodies.setdefault(match.group(1), set()).add(tuple(token_texts(match.group(2))))
    return {k: list(next(iter(v))) for k, v in bodies.items() if len(v) == 1}


_FN_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(", re.M)


def function_macros(roots: Iterable[str]) -> frozenset[str]:
    """The name of every function-like macro of the headers."""
    names: set[str] = set()
    for full, _ in iter_headers(roots):
        try:
            names.update(
                _FN_DEFINE.findall(read_regular_text(full, SOURCE_LIMIT, universal_newlines=True))
            )
        except OSError:
            continue
    return frozenset(names)


_IF_LINE = re.compile(rb"^[ \t]*#[ \t]*(?:if|elif|ifdef|ifndef)\b(.*)$", re.M)
_IDENT = re.compile(rb"[A-Za-z_]\w*")


def tested_names(dirs: Iterable[str]) -> set[str]:
    """Every identifier a ``#if``/``#elif``/``#ifdef``/``#ifndef`` line of a ``.c`` or ``.h``
    file under ``dirs`` names. A numeric object-like macro is only worth a stub where some
    ``#if`` tests it (``#if SNDRV_PCM_INFO_MMAP_IOMEM`` in sound/core/pcm_native.c guards an
    export); the headers' own tests are not enough, a driver's ``.c`` tests a header's
    macro as often."""
    names: set[str] = set()
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for fn in filenames:
                if not fn.endswith((".c", ".h")):
                    continue
                try:
                    text = read_regular(os.path.join(dirpath, fn), SOURCE_LIMIT)
                except OSError:
                    continue  # a generator input, not a checked file: unreadable adds nothing
                if b"#" not in text:
                    continue
                for match in _IF_LINE.finditer(text.replace(b"\\\n", b"")):
                    names.update(t.decode("ascii") for t in _IDENT.findall(match.group(1)))
    return names


def header_roots(source_dirs: Iterable[str], arch: str = ARCH) -> list[str]:
    roots = []
    for root in ROOTS:
        for src in source_dirs:
            path = os.path.join(src, root.format(arch=arch))
            if os.path.isdir(path):
                roots.append(path)
    return roots


def iter_headers(roots: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(absolute path, path relative to its include root) of every header."""
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith(".h"):
                    full = os.path.join(dirpath, fn)
                    yield full, os.path.relpath(full, root)
