"""Build kmodlint's stub kernel environment mechanically from a real kernel tree.

pycparser parses ISO C; kernel headers are GNU C through thousands of macros and are far too
big to parse per file. The AST path therefore preprocesses a driver against a *stub*
environment instead of the real headers:

- every real header path (``linux/module.h``, ``asm/io.h``, ...) resolves to a SHADOW file
  that holds only the header's ``#include`` lines (those outside branches known to be false)
  and the stubs of the macros it defines itself, so a file sees exactly the macros of the
  headers it transitively includes, as with the real kernel: ``free(a)`` of
  linux/decompress/mm.h cannot expand inside ``ops->free(p)`` of a file that never includes
  it. A macro a header defines and #undef's again is its own helper and is left out;
- every typedef name of the real headers is listed (pycparser only needs to know which
  identifiers are types; the AST path declares them ``typedef int u32;``-style);
- one prelude header, ``-include``-d before the file, neutralises GNU syntax
  (``__attribute__``, ``typeof``, ``__extension__``, ...) and includes the shadows of what
  Kbuild itself ``-include``'s (kconfig.h, compiler_types.h). Each macro is stubbed by the
  role its real body plays (one stub per name, the same in every shadow):

  ======== ============================================== ===============================
  class    real body looks like                           stub
  ======== ============================================== ===============================
  empty    attributes / annotations only                  the C keywords it kept (inline)
  loop     ``for (...)``, ``list_for_each... if () else`` ``for (;;)``
  decl     a declaration (``struct mutex name = ...``)    ``int __kmodlint_decl``
  fnhdr    a function header (``long name(args)``)        ``int __kmodlint_fn(void)``
  block    ``{ ... }`` (initialisers, blocks)             ``{ }``
  type     ``typeof(x)``, a type                          ``int`` / the type
  string   string literals                                ``""``
  numeric  integer arithmetic some ``#if`` tests          the real body, and the
           (a header's; --if-sources: a ``.c`` file's)    macros it names
  paste    token pasting helpers                          the real body
  asm      top-level ``asm(...)`` (BTF_ID)                ``__asm__("")`` (then dropped)
  braces   half a block (``do_each_pid_task(...) {``)     the unbalanced ``{``/``}``
  alias    the name of a function-like macro              the real body (``#define A B``)
  expr     anything else                                  ``0``
  ======== ============================================== ===============================

  Function-like stubs take ``(...)`` so any argument (a type, a statement, a bare
  declaration) is swallowed. Exports and section markers are hand-written so the AST path
  can see them after expansion: ``EXPORT_SYMBOL*(sym)`` becomes a declaration of
  ``__kmodlint_export`` whose initialiser carries the kind, the expanded symbol name and the
  namespace as strings, and ``__init``/``__exit``/``__initdata``/``__exitdata`` become
  marker identifiers that :func:`kmodlint.cfront.ast_path.gnu_to_iso` turns into ISO C the
  parser keeps.

Header conditionals are evaluated against the kernel configuration when it is known
(``include/generated/autoconf.h`` or ``--config``), so the x86-64 branch of a macro wins.

Usage: ``python -m kmodlint.cfront.stubgen --from <kernel source or headers dir> [--from
<another dir, e.g. the -amd64 headers with generated/>] [--config .config] [--if-sources
<kernel source tree>] --out <dir>``.
The output directory receives ``prelude.h``, ``headers.txt`` (every header path on a line of
its own, followed by its shadow's directives, lines starting with ``#``) and ``typedefs.txt``
(every typedef name, one a line; the AST path declares them to the parser directly instead of
making it parse 1,500 ``typedef int x;`` lines per file).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kmodlint.cfront.condition import ConditionError, value_of
from kmodlint.cfront.keywords import C_KEYWORDS
from kmodlint.safe_io import SOURCE_LIMIT, TABLE_LIMIT, read_regular, read_regular_text

ARCH = "x86"

# Bumped whenever a generation from the same tree would differ (cache key of --kernel-source).
FORMAT = 2

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

TYPE_KEYWORDS = frozenset(
    [
        "void",
        "char",
        "short",
        "int",
        "long",
        "float",
        "double",
        "signed",
        "unsigned",
        "_Bool",
        "const",
        "volatile",
        "restrict",
        "struct",
        "union",
        "enum",
        "__signed__",
        "__int128",
        "_Complex",
    ]
)
DECL_START = TYPE_KEYWORDS | frozenset(
    [
        "static",
        "extern",
        "typedef",
        "register",
        "inline",
        "__inline",
        "__inline__",
        "typeof",
        "__typeof__",
        "__typeof",
        "__attribute__",
        "__attribute",
        "_Thread_local",
        "__thread",
    ]
)
KEPT_KEYWORDS = frozenset(["inline", "const", "volatile", "static", "extern", "register"])
KEYWORD_SPELLINGS = {
    "__inline": "inline",
    "__inline__": "inline",
    "__volatile__": "volatile",
    "__volatile": "volatile",
    "__const": "const",
}
# _Pragma(...) leaves nothing the parser sees (cpp turns it into a #pragma line, dropped)
ATTRIBUTE_WORDS = frozenset(("__attribute__", "__attribute", "__extension__", "_Pragma"))

# Names the hand-written part of the prelude owns; header definitions of them are ignored.
HANDWRITTEN = frozenset(
    [
        "__attribute__",
        "__attribute",
        "__extension__",
        "__inline",
        "__inline__",
        "__restrict",
        "__restrict__",
        "__volatile__",
        "__volatile",
        "__const",
        "__signed__",
        "__signed",
        "typeof",
        "__typeof__",
        "__typeof",
        "__auto_type",
        "_Static_assert",
        "static_assert",
        "__builtin_offsetof",
        "offsetof",
        "__builtin_types_compatible_p",
        "__builtin_choose_expr",
        "__builtin_va_arg",
        "va_arg",
        "_Generic",
        "__label__",
        "__int128",
        "__alignof__",
        "__alignof",
        "_Alignof",
        "__builtin_expect",
        "asm",
        "__asm__",
        "__asm",
        "__init",
        "__exit",
        "__initdata",
        "__exitdata",
        "__initconst",
        "__exit_call",
        "__init_call",
        "EXPORT_SYMBOL",
        "EXPORT_SYMBOL_GPL",
        "EXPORT_SYMBOL_GPL_FUTURE",
        "EXPORT_SYMBOL_NS",
        "EXPORT_SYMBOL_NS_GPL",
        "EXPORT_SYMBOL_FOR_MODULES",
        "EXPORT_SYMBOL_FOR_MODULES_GPL",
        "_EXPORT_SYMBOL",
        "__EXPORT_SYMBOL",
        "___EXPORT_SYMBOL",
        "IS_ENABLED",
        "IS_BUILTIN",
        "IS_MODULE",
        "IS_REACHABLE",
        "__is_defined",
        "__or",
        "__and",
        "__take_second_arg",
        "__is_defined_paste",
        "__ARG_PLACEHOLDER_1",
        "__LITTLE_ENDIAN",
        "__LITTLE_ENDIAN_BITFIELD",
        "BITS_PER_LONG",
        "__BITS_PER_LONG",
        "KBUILD_MODNAME",
        "KBUILD_BASENAME",
        "__KERNEL__",
        "MODULE",
        "NULL",
    ]
)
EXPORT_MACROS = frozenset(
    n for n in HANDWRITTEN if n.startswith(("EXPORT_SYMBOL", "_EXPORT", "__EXPORT", "___EXP"))
)

# What is known while evaluating header conditionals (besides the kernel configuration).
# MODULE is not one of them: built-in-only code (``postcore_initcall`` from linux/init.h's
# ``#ifndef MODULE`` branch) and modules (linux/module.h's) both need their macros.
KNOWN_TRUE = {
    "__KERNEL__": 1,
    "__x86_64__": 1,
    "__GNUC__": 12,
    "__GNUC_MINOR__": 2,
    "__GNUC_PATCHLEVEL__": 0,
    "__STDC__": 1,
    "__STDC_VERSION__": 201112,
    "__LITTLE_ENDIAN": 1234,
    "__LITTLE_ENDIAN_BITFIELD": 1,
    "__LP64__": 1,
    "__CHAR_BIT__": 8,
    "__SIZEOF_LONG__": 8,
    "__SIZEOF_POINTER__": 8,
    "__SIZEOF_INT128__": 16,
    "__ORDER_LITTLE_ENDIAN__": 1234,
    "__BYTE_ORDER__": 1234,
    "BITS_PER_LONG": 64,
    "__BITS_PER_LONG": 64,
}
KNOWN_FALSE = frozenset(
    [
        "__ASSEMBLY__",
        "__ASSEMBLER__",
        "__cplusplus",
        "__CHECKER__",
        "__GENKSYMS__",
        "BUILD_VDSO",
        "BUILD_VDSO32",
        "BUILD_VDSO32_64",
        "__DISABLE_EXPORTS",
        "__i386__",
        "__clang__",
        "__BIG_ENDIAN",
        "__BIG_ENDIAN_BITFIELD",
        "__CHECK_ENDIAN__",
        "LINKER_SCRIPT",
        "__KVM_NVHE_HYPERVISOR__",
        "__KVM_VHE_HYPERVISOR__",
        "__BPF_TRACING__",
        "__NO_FORTIFY",
        "__EXPORTED_HEADERS__",
        "__USE_MISC",
        "__GLIBC__",
        "__UCLIBC__",
        "__ILP32__",
        "__x86_32__",
        "_LINUX_KCONFIG_H",
        "__clang_major__",
        "__SANITIZE_ADDRESS__",
        "__SANITIZE_THREAD__",
        "__SANITIZE_HWADDRESS__",
        "__COVERITY__",
        "__CUDACC__",
        "STATIC_KEYS_DEBUG",
        "DISABLE_BRANCH_PROFILING",
        "BOOT_COMPRESSED",
    ]
)

_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>L?"(?:\\.|[^"\\\n])*"?)
    |(?P<chr>L?'(?:\\.|[^'\\\n])*'?)
    |(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
    |(?P<id>[A-Za-z_$][\w$]*)
    |(?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:;,.()\[\]{}\#])
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_COMMENT_RE = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL
)
_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)(.*)$")
_DEFINE_RE = re.compile(r"^([A-Za-z_]\w*)(\([^)]*\))?(.*)$", re.DOTALL)


def tokens(text: str) -> list[str]:
    """C tokens of a macro body or a conditional (whitespace and comments dropped)."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        if m.lastgroup != "ws":
            out.append(m.group())
    return out


def _strip_comments(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        s = m.group()
        if s.startswith("/*"):
            return " " + "\n" * s.count("\n")
        if s.startswith("//"):
            return " "
        return s

    return _COMMENT_RE.sub(repl, text)


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


# --------------------------------------------------------------------------- configuration


def read_config(path: str) -> dict[str, str]:
    """CONFIG_* values from an autoconf.h or a .config, in autoconf.h form."""
    values: dict[str, str] = {}
    # the --kernel-source tree's autoconf.h or .config: a regular file of bounded size
    for line in read_regular_text(path, TABLE_LIMIT, universal_newlines=True).splitlines():
        line = line.strip()
        m = re.match(r"#define\s+(CONFIG_\w+)\s+(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
            continue
        m = re.match(r"(CONFIG_\w+)=(.*)$", line)
        if m:
            name, val = m.groups()
            if val == "y":
                values[name] = "1"
            elif val == "m":
                values[name + "_MODULE"] = "1"
            elif val != "n":
                values[name] = val
    return values


class CondEvaluator:
    """Three-valued evaluation of header ``#if`` lines: True, False or None (unknown)."""

    def __init__(
        self, config: dict[str, str] | None, macros: dict[str, list[str]] | None = None
    ) -> None:
        self.config = config
        # object-like macros every header defines the same way (GCC_VERSION,
        # ACPI_MACHINE_WIDTH): their integer value, when the body has one, is known
        self.macros = macros or {}
        self._macro_values: dict[str, int | None] = {}
        self._busy: set[str] = set()

    def _macro_value(self, name: str) -> int | None:
        if name in self._macro_values:
            return self._macro_values[name]
        if name in self._busy or len(self._busy) > 16:
            return None
        self._busy.add(name)
        try:
            value = self.integer(" ".join(self.macros[name]))
        finally:
            self._busy.discard(name)
        self._macro_values[name] = value
        return value

    def integer(self, expr: str) -> int | None:
        """The value of a constant integer expression without unknowns, or None."""
        pieces = self._pieces(tokens(expr))
        if pieces is None or None in pieces or not pieces:
            return None
        return _c_value("".join(p for p in pieces if p is not None))

    def defined(self, name: str) -> bool | None:
        if name in KNOWN_TRUE:
            return True
        if name in KNOWN_FALSE:
            return False
        if name.startswith("CONFIG_") and self.config is not None:
            return name in self.config
        return None

    def _value(self, name: str) -> int | None:
        if name in KNOWN_TRUE:
            return KNOWN_TRUE[name]
        if name in KNOWN_FALSE:
            return 0
        if name.startswith("CONFIG_") and self.config is not None:
            raw = self.config.get(name)
            if raw is None:
                return 0
            try:
                return int(raw, 0)
            except ValueError:
                return 1
        if name in self.macros:
            return self._macro_value(name)
        return None

    def evaluate(self, expr: str) -> bool | None:
        pieces = self._pieces(tokens(expr))
        if pieces is None:
            return None
        # An unknown operand may hold any value: the result is known only when it is the same
        # for 0, 1 and every constant of the line (and its neighbours), so that
        # ``WIDTH == 64`` / ``#elif WIDTH == 32`` with WIDTH unknown stay unknown.
        samples = {0, 1}
        for p in pieces:
            if p is not None and re.fullmatch(r"-?\d\w*", p.strip().strip("()")):
                try:
                    c = int(p.strip().strip("()"), 0)
                except ValueError:
                    continue
                samples |= {c - 1, c, c + 1}
        results = set()
        for unknown in sorted(samples):
            value = _c_value("".join(f"({unknown})" if p is None else p for p in pieces))
            if value is None:
                return None
            results.add(bool(value))
        return results.pop() if len(results) == 1 else None

    def _pieces(self, toks: list[str]) -> list[str | None] | None:
        """C text for each token (None: an unknown operand), or None if the line has
        something this evaluator does not model (function-like macros, ``?:``)."""
        pieces: list[str | None] = []  # None marks an unknown operand
        i = 0
        while i < len(toks):
            t = toks[i]
            if t == "defined":
                if i + 1 < len(toks) and toks[i + 1] == "(":
                    name = toks[i + 2] if i + 2 < len(toks) else ""
                    i += 4
                else:
                    name = toks[i + 1] if i + 1 < len(toks) else ""
                    i += 2
                d = self.defined(name)
                pieces.append(None if d is None else str(int(d)))
                continue
            if t in ("IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE") and (
                i + 3 < len(toks) and toks[i + 1] == "(" and toks[i + 3] == ")"
            ):
                name = toks[i + 2]
                if self.config is None:
                    pieces.append(None)
                else:
                    y = name in self.config
                    m = name + "_MODULE" in self.config
                    val = {"IS_BUILTIN": y, "IS_MODULE": m}.get(t, y or m)
                    pieces.append(str(int(val)))
                i += 4
                continue
            if re.match(r"[A-Za-z_]", t):
                v = self._value(t)
                if i + 1 < len(toks) and toks[i + 1] == "(":
                    return None  # a function-like macro we do not evaluate
                pieces.append(None if v is None else f"({v})")
            elif re.match(r"\.?\d", t):
                pieces.append(re.sub(r"[uUlL]+$", "", t))
            elif t in ("?", ":", "'") or t.startswith(("'", '"')):
                return None
            else:
                pieces.append(f" {t} ")
            i += 1
        return pieces


def _c_value(text: str) -> int | None:
    """A constant expression's value with C's operators and integer semantics (the one
    `#if` evaluator, cfront/condition.py), or None when it cannot be evaluated."""
    try:
        return value_of(text, {})
    except (ConditionError, ValueError, OverflowError, RecursionError):
        return None


# --------------------------------------------------------------------------- header scanning


def _logical_lines(text: str) -> Iterator[str]:
    buf = ""
    for line in text.split("\n"):
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield buf + line
        buf = ""
    if buf:
        yield buf


_INVOCATION_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*;?\s*$", re.M)
_TYPEDEF_NAME_PTR = re.compile(r"\(\s*(?:\*|\^)\s*(?:const\s+|volatile\s+)*([A-Za-z_]\w*)")
_TYPEDEF_NAME_PAREN = re.compile(r"\(\s*([A-Za-z_]\w*)\s*\)\s*\(")
_ATTR_RE = re.compile(r"__attribute(?:__)?\s*\(\(")


def _drop_attributes(text: str) -> str:
    while True:
        m = _ATTR_RE.search(text)
        if not m:
            return text
        depth = 0
        j = m.end() - 2
        while j < len(text):
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        text = text[: m.start()] + " " + text[j + 1 :]


def _split_top(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


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
        m = _TYPEDEF_NAME_PTR.match(part, start) or _TYPEDEF_NAME_PAREN.match(part, start)
        if m:  # typedef int (*name)(...);  typedef void (name)(...);
            return m.group(1)
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
    for m in reversed(list(re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text))):
        if m.group(1) not in fn_macros:
            continue
        depth = 0
        j = m.end() - 1
        while j < len(text):
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out = out[: m.start()] + " " + out[j + 1 :]
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
    scan = HeaderScan()
    try:
        # a header of the --kernel-source tree: regular, bounded (safe_io). Splice
        # continued lines first (translation phase 2), then drop comments: a comment
        # inside a multi-line #define must not cut the definition short
        raw = (
            read_regular_text(path, SOURCE_LIMIT, universal_newlines=True)
            .replace("\\\r\n", "")
            .replace("\\\n", "")
        )
        text = _strip_comments(raw)
    except OSError:
        return scan
    skip_defines = rel.endswith(SKIP_DEFINES_IN)
    # stack of [state, taken]; state True/False/None, taken: True/None/False
    stack: list[list[bool | None]] = []
    code: list[str] = []

    def active() -> bool:
        return all(s[0] is not False for s in stack)

    for line in _logical_lines(text):
        m = _DIRECTIVE_RE.match(line)
        if not m:
            if active():
                code.append(line)
            continue
        directive, rest = m.group(1), m.group(2).strip()
        if directive in ("if", "ifdef", "ifndef", "elif"):
            scan.if_idents.update(t for t in tokens(rest) if re.match(r"[A-Za-z_]", t))
        if directive in ("if", "ifdef", "ifndef"):
            if directive == "if":
                state = evaluator.evaluate(rest)
            else:
                name = rest.split()[0] if rest.split() else ""
                d = evaluator.defined(name)
                state = d if directive == "ifdef" or d is None else not d
            stack.append([state, state])
        elif directive == "elif" and stack:
            top = stack[-1]
            if top[1] is True:
                top[0] = False
            else:
                v = evaluator.evaluate(rest)
                top[0] = None if (top[1] is None and v is not False) else v
                if v is True and top[1] is False:
                    top[1] = True
                elif v is not False:
                    top[1] = None if top[1] is not True else True
        elif directive == "else" and stack:
            top = stack[-1]
            top[0] = {True: False, None: None, False: True}[top[1]]
            top[1] = True if top[0] is True else top[1]
        elif directive == "endif" and stack:
            stack.pop()
        elif directive == "define" and active() and not skip_defines:
            dm = _DEFINE_RE.match(rest)
            if dm:
                name, params, body = dm.groups()
                plist = None
                if params is not None:
                    plist = [p.strip() for p in params[1:-1].split(",") if p.strip()]
                scan.defines.append(MacroDef(name, plist, tokens(body), rel))
                scan.order.append(("define", name))
        elif directive == "define" and not skip_defines:
            dm = _DEFINE_RE.match(rest)
            if dm and dm.group(2) is not None:
                name, params, body = dm.groups()
                plist = [p.strip() for p in params[1:-1].split(",") if p.strip()]
                scan.inactive.append(MacroDef(name, plist, tokens(body), rel))
        elif directive == "undef" and active() and not skip_defines:
            name = rest.split()[0] if rest.split() else ""
            if name:
                scan.order.append(("undef", name))
        elif directive in ("include", "include_next") and active():
            im = re.match(r'(<[^>]+>|"[^"]+")', rest)
            if im:
                scan.order.append(("include", im.group(1)))
    joined = "\n".join(code)
    for m in _INVOCATION_RE.finditer(joined):
        args = [a.strip() for a in _split_top(m.group(2), ",")]
        scan.invocations.append((m.group(1), args))
    for m in re.finditer(r"\btypedef\b", joined):
        depth = 0
        j = m.end()
        while j < len(joined):
            ch = joined[j]
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
            elif ch == ";" and depth <= 0:
                break
            j += 1
        scan.typedefs.update(typedef_names(joined[m.start() : j], fn_macros))
    return scan


def macro_made_typedefs(
    defs: dict[str, list[MacroDef]], invocations: list[tuple[str, list[str]]]
) -> set[str]:
    """Typedef names that macros paste together (``seqcount_##lockname##_t``), instantiated
    with the arguments of the headers' own top-level invocations of those macros."""
    templates: dict[str, list[tuple[list[str], list[str]]]] = {}
    for name, ds in defs.items():
        for d in ds:
            if d.params is None or "typedef" not in d.body:
                continue
            body = d.body
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
                templates.setdefault(name, []).append((d.params, stmt[j:]))
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
            text = _strip_comments(
                read_regular_text(full, SOURCE_LIMIT, universal_newlines=True).replace("\\\n", " ")
            )
        except OSError:
            continue
        for m in _OBJECT_DEFINE.finditer(text):
            if m.group(1).startswith("CONFIG_"):
                continue
            bodies.setdefault(m.group(1), set()).add(tuple(tokens(m.group(2))))
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
                for m in _IF_LINE.finditer(text.replace(b"\\\n", b"")):
                    names.update(t.decode("ascii") for t in _IDENT.findall(m.group(1)))
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


# --------------------------------------------------------------------------- classification

ASM = "asm"  # top-level asm (the AST path drops it)
BRACES = "braces"  # unbalanced braces: one half of a pair of macros around a block
EMPTY, LOOP, DECL, FNHDR, BLOCK, DESIG, TYPE, STRING, NUMERIC, PASTE, EXPR, EXPORTING = (
    "empty",
    "loop",
    "decl",
    "fnhdr",
    "block",
    "designator",
    "type",
    "string",
    "numeric",
    "paste",
    "expr",
    "exporting",
)
# When one name has several definitions, the strongest role wins.
PRIORITY = [
    EXPORTING,
    BRACES,
    LOOP,
    FNHDR,
    DECL,
    BLOCK,
    DESIG,
    TYPE,
    ASM,
    EXPR,
    NUMERIC,
    PASTE,
    STRING,
    EMPTY,
]


def _skip_group(toks: list[str], i: int) -> int:
    """Index after the balanced parenthesised group starting at toks[i] == '('."""
    depth = 0
    while i < len(toks):
        if toks[i] in "([{":
            depth += 1
        elif toks[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _split_statements(toks: list[str]) -> list[list[str]]:
    """Top-level ';'-separated pieces of a body (a lone trailing ';' adds no piece)."""
    items: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        if t == ";" and depth == 0:
            items[-1].append(t)
            items.append([])
        else:
            items[-1].append(t)
    return [it for it in items if it and it != [";"]]


class Classifier:
    def __init__(self, defs: dict[str, list[MacroDef]], typedefs: set[str]) -> None:
        self.defs = defs
        self.typedefs = typedefs
        self.memo: dict[str, tuple[str, list[str]]] = {}
        self.busy: set[str] = set()
        self.depth = 0

    def _expand_paste(self, name: str, arg_toks: list[str]) -> list[str] | None:
        """One expansion of the pasting macro ``name`` with these argument tokens (its
        parameters substituted, ``a ## b`` joined, ``#x`` a string), or None."""
        pdef = next((x for x in self.defs[name] if x.params and "##" in x.body), None)
        if pdef is None or pdef.params is None:
            return None
        args: list[list[str]] = [[]]
        depth = 0
        for t in arg_toks:
            if t in "([{":
                depth += 1
            elif t in ")]}":
                depth -= 1
            if t == "," and depth == 0:
                args.append([])
            else:
                args[-1].append(t)
        params = list(pdef.params)
        if params and params[-1].endswith("..."):
            return None
        if len(args) != len(params):
            return None
        subst = dict(zip(params, args, strict=True))
        out: list[str] = []
        body = pdef.body
        i = 0
        while i < len(body):
            t = body[i]
            if t == "#" and i + 1 < len(body) and body[i + 1] in subst:
                out.append('""')
                i += 2
                continue
            if t == "##" and out and i + 1 < len(body):
                nxt = subst.get(body[i + 1], [body[i + 1]])
                if nxt:
                    out[-1] = out[-1] + nxt[0]
                    out.extend(nxt[1:])
                i += 2
                continue
            out.extend(subst.get(t, [t]))
            i += 1
        return out

    def macro_class(self, name: str) -> tuple[str, list[str]]:
        """(class, keywords kept by an EMPTY stub) of a macro name."""
        if name in self.memo:
            return self.memo[name]
        if name in EXPORT_MACROS:
            return (EXPORTING, [])
        if name in self.busy or name not in self.defs:
            return (EXPR, [])
        self.busy.add(name)
        results = [self.classify(d) for d in self.defs[name]]
        self.busy.discard(name)
        best = min(results, key=lambda r: PRIORITY.index(r[0]))
        if best[0] == EMPTY:
            # several empty definitions: keep the keywords common to all
            kept = [k for k in best[1] if all(k in r[1] for r in results)]
            best = (EMPTY, kept)
        self.memo[name] = best
        return best

    def is_macro(self, name: str) -> bool:
        return name in self.defs or name in EXPORT_MACROS

    def classify(self, d: MacroDef) -> tuple[str, list[str]]:
        toks = d.body
        # GNU named variadics: ``args...`` is the parameter ``args``
        params = {p[:-3].strip() if p.endswith("...") else p for p in d.params or ()}
        params.discard("")
        if "__VA_ARGS__" in toks:
            params.add("__VA_ARGS__")
        if any(t in EXPORT_MACROS for t in toks) or any(
            self.is_macro(t) and self.macro_class(t)[0] == EXPORTING for t in toks if t != d.name
        ):
            return (EXPORTING, [])
        # leading attributes and annotation macros
        kept: list[str] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in ATTRIBUTE_WORDS:
                i += 1
                if i < len(toks) and toks[i] == "(":
                    i = _skip_group(toks, i)
                continue
            if t in KEPT_KEYWORDS or t in KEYWORD_SPELLINGS:
                kept.append(KEYWORD_SPELLINGS.get(t, t))
                i += 1
                continue
            if t in params and t == "__VA_ARGS__" and len(toks) == 1:
                break
            if self.is_macro(t) and t != d.name:
                cls, kw = self.macro_class(t)
                if cls == EMPTY:
                    kept.extend(kw)
                    i += 1
                    if i < len(toks) and toks[i] == "(" and self.defs.get(t, [d])[0].params:
                        i = _skip_group(toks, i)
                    continue
            break
        rest = toks[i:]
        while len(rest) > 1 and rest[0] == ";":
            # ``lockdep_assert_event_ctx(event); if (...) list_for_each_entry(...)``: the
            # statement an annotation macro leaves empty says nothing
            rest = rest[1:]
        if not rest:
            return (EMPTY, kept)
        balance = rest.count("{") - rest.count("}")
        if (balance > 0 and rest[-1] == "{") or balance < 0:
            # half a construct: ``do_each_pid_task(...) {`` ... ``} while_each_pid_task()``
            return (BRACES, [str(balance)])
        if rest[0] in ("asm", "__asm__", "__asm") or (
            self.is_macro(rest[0]) and rest[0] != d.name and self.macro_class(rest[0])[0] == ASM
        ):
            # top-level asm (BTF_ID), perhaps followed by a declaration (BTF_ID_LIST)
            j = 1
            while j < len(rest) and rest[j] in ("volatile", "__volatile__", "goto", "inline"):
                j += 1
            end = _skip_group(rest, j) if j < len(rest) and rest[j] == "(" else j
            tail = rest[end:]
            if not tail or tail == [";"]:
                return (ASM, [])
            return self.classify(MacroDef(d.name, d.params, tail, d.origin))
        items = _split_statements(rest)
        if len(items) > 1:
            classes = [self.classify(MacroDef(d.name, d.params, item, d.origin)) for item in items]
            best = min(classes, key=lambda r: PRIORITY.index(r[0]))
            if classes[-1][0] == FNHDR and rest[-1] not in (";", "}"):
                return (FNHDR, [])  # declarations, then the header of a function
            if best[0] in (DECL, FNHDR, EXPORTING, LOOP):
                if best[0] == DECL or best[0] == FNHDR:
                    semi = rest[-1] in (";", "}") or (
                        classes[-1][0] == DECL and "semi" in classes[-1][1]
                    )
                    return (DECL, ["semi"] if semi else [])
                return best
            return (EXPR, [])
        first = rest[0]
        if first in ("for", "while"):
            return (LOOP, [])
        if first == "if" and rest[-1] == "else":
            return (LOOP, [])
        if first == "if" and len(rest) > 1 and rest[1] == "(" and _skip_group(rest, 1) == len(rest):
            return (LOOP, [])  # ``if (cond)`` whose statement follows: sunrpc's ifdebug(fac)
        if first == "if" and len(rest) > 1 and rest[1] == "(":
            nxt = rest[_skip_group(rest, 1)] if _skip_group(rest, 1) < len(rest) else ""
            if nxt in ("for", "while") or (
                self.is_macro(nxt) and nxt != d.name and self.macro_class(nxt)[0] == LOOP
            ):
                return (LOOP, [])  # if (x) for (...): __rq_for_each_bio
        if first == "do":
            return (EXPR, [])
        if first == "{":
            return (BLOCK, [])
        if first in (".", "["):
            # designated initialisers: `.a = x, .b = y,` (often without the last comma)
            return (DESIG, ["comma"] if rest[-1] == "," else [])
        if self.is_macro(first) and first != d.name:
            cls = self.macro_class(first)[0]
            if cls in (LOOP, BLOCK, EXPORTING):
                return (cls, [])
            if cls == DESIG:
                return (DESIG, ["comma"] if rest[-1] == "," else self.macro_class(first)[1])
            if cls in (DECL, FNHDR, TYPE):
                whole = len(rest) == 1 or (rest[1] == "(" and _skip_group(rest, 1) == len(rest))
                if whole:
                    return self.macro_class(first)
                return self._decl_shape(rest, kept, params)
        if first in DECL_START or first in self.typedefs or kept:
            return self._decl_shape(rest, kept, params)
        if first in params and len(rest) >= 2 and (rest[1] in params or rest[1] == "*"):
            return (DECL, [])
        if (
            self.is_macro(first)
            and first != d.name
            and len(rest) > 1
            and rest[1] == "("
            and _skip_group(rest, 1) == len(rest)
            and self.macro_class(first)[0] == PASTE
            and self.depth < 8
        ):
            # ``__diag_GCC(8, ignore, option)``: what a pasting macro builds from these
            # arguments (``__diag_GCC_8(...)``) says what the invocation is
            expanded = self._expand_paste(first, rest[2:-1])
            if expanded and expanded != rest:
                self.depth += 1
                try:
                    got = self.classify(MacroDef(d.name, d.params, expanded, d.origin))
                finally:
                    self.depth -= 1
                if got[0] not in (EXPR, NUMERIC, PASTE, STRING):
                    return got  # else the invocation stays as it is (kept verbatim)
        if self._is_string(rest, params):
            return (STRING, [])
        if self._is_numeric(rest, params):
            return (NUMERIC, [])
        if self._is_paste(rest, params):
            return (PASTE, [])
        return (EXPR, [])

    def _strip_attrs(self, toks: list[str], name: str) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in ATTRIBUTE_WORDS or (
                t != name and self.is_macro(t) and self.macro_class(t)[0] == EMPTY
            ):
                i += 1
                known = self.defs.get(t)
                first = known[0] if known else None
                fn = t in ATTRIBUTE_WORDS or bool(first is not None and first.params)
                if fn and i < len(toks) and toks[i] == "(":
                    i = _skip_group(toks, i)
                continue
            out.append(t)
            i += 1
        return out

    def _decl_shape(self, rest: list[str], kept: list[str], params: set[str]) -> tuple[str, list]:
        semi = ["semi"] if rest[-1] in (";", "}") else []
        rest = self._strip_attrs(rest, "") or rest
        if rest[0] in ("typeof", "__typeof__", "__typeof") and len(rest) > 1 and rest[1] == "(":
            end = _skip_group(rest, 1)
            if all(t == "*" for t in rest[end:]):
                return (TYPE, [])
        if all(
            t in TYPE_KEYWORDS or t in self.typedefs or t == "*" or t in params for t in rest
        ) and not any(t in params for t in rest):
            return (TYPE, [])
        if rest[-1] == ")":
            # find the opening parenthesis of the last group
            depth = 0
            j = len(rest) - 1
            while j >= 0:
                if rest[j] == ")":
                    depth += 1
                elif rest[j] == "(":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            before = rest[:j]
            if (
                len(before) == 2
                and before[0] in ("struct", "union")
                and self.is_macro(before[1])
                and self.macro_class(before[1])[0] == BLOCK
            ):
                return (TYPE, [])  # struct __STRUCT_KFIFO(...): an anonymous struct type
            if (
                len(before) > 1
                and self.is_macro(before[-1])
                and self.macro_class(before[-1])[0] in (DECL, FNHDR)
            ):
                # ``A(...) B(...)``: declaring macros in a row; the last one says what
                # the code after the invocation must be (a body, or nothing)
                return self.macro_class(before[-1])
            if (
                len(before) > 1
                and self.is_macro(before[-1])
                and self.macro_class(before[-1])[0] in (ASM, EMPTY)
                and any(x.params is not None for x in self.defs.get(before[-1], ()))
            ):
                # ``BTF_ID_LIST(name) BTF_ID(prefix, type)``: the last group holds the
                # arguments of an asm or annotation macro; what precedes it decides
                return self.classify(MacroDef("", None, before[:-1], ""))
            if (
                before
                and (re.match(r"[A-Za-z_]", before[-1]) or before[-1] == "##")
                and not any(t in ("=", "{", ";") for t in before)
                and before[-1] not in ("typeof", "__typeof__", "__attribute__", "sizeof")
            ):
                return (FNHDR, [])
        return (DECL, semi)

    def _is_string(self, rest: list[str], params: set[str]) -> bool:
        saw = False
        i = 0
        while i < len(rest):
            t = rest[i]
            if t.startswith('"'):
                saw = True
            elif t == "#" and i + 1 < len(rest) and rest[i + 1] in params:
                saw = True
                i += 1
            elif t in ("KBUILD_MODNAME", "KBUILD_BASENAME") or t in params:
                pass
            elif (
                re.match(r"[A-Za-z_]", t)
                and i + 2 < len(rest)
                and rest[i + 1] == "##"
                and rest[i + 2] in params
            ):
                i += 2  # PREFIX_##param: a string macro chosen by name
            elif self.is_macro(t) and self.macro_class(t)[0] == STRING:
                saw = True
                if i + 1 < len(rest) and rest[i + 1] == "(":
                    i = _skip_group(rest, i + 1) - 1
            else:
                return False
            i += 1
        return saw

    def _is_numeric(self, rest: list[str], params: set[str]) -> bool:
        for t in rest:
            if (
                re.match(r"\d", t)
                or t in params
                or t in "()+-*/%<>&|^~!?:,"
                or t
                in (
                    "<<",
                    ">>",
                    "<=",
                    ">=",
                    "==",
                    "!=",
                    "&&",
                    "||",
                    "##",
                )
            ):
                continue
            if self.is_macro(t) and self.macro_class(t)[0] in (NUMERIC, PASTE):
                continue
            return False
        return True

    def _is_paste(self, rest: list[str], params: set[str]) -> bool:
        pasted = False
        for i, t in enumerate(rest):
            nxt = rest[i + 1] if i + 1 < len(rest) else ""
            if t == "##":
                prev = rest[i - 1] if i else ""
                if prev != "," and nxt != "__VA_ARGS__":
                    pasted = True
                continue
            if t in params or t in ("(", ")", ","):
                continue
            if re.match(r"[A-Za-z_]", t) and t not in C_KEYWORDS:
                if self.is_macro(t) and self.macro_class(t)[0] in (PASTE, NUMERIC):
                    pasted = pasted or nxt == "("
                elif nxt == "(":
                    return False
                continue
            return False
        return pasted


# --------------------------------------------------------------------------- prelude

HANDWRITTEN_PRELUDE = r"""
/* ---- GNU C neutralisers ---- */
#define __attribute__(x)
#define __attribute(x)
#define __extension__
#define __inline inline
#define __inline__ inline
#define __restrict restrict
#define __restrict__ restrict
#define __volatile__ volatile
#define __volatile volatile
#define __const const
#define __signed__ signed
#define __signed signed
#define typeof(...) int
#define __typeof__(...) int
#define __typeof(...) int
#define __auto_type int
#define _Static_assert(...)
#define static_assert(...)
#define __builtin_offsetof(...) 0
#define offsetof(...) 0
#define __builtin_types_compatible_p(...) 0
#define __builtin_choose_expr(...) 0
#define __builtin_va_arg(...) 0
#define va_arg(...) 0
#define _Generic(...) 0
#define __builtin_expect(x, ...) (x)
#define __label__ int
#define __int128 long
#define __alignof__(...) 8
#define __alignof(...) 8
#define _Alignof(...) 8
#define NULL ((void *)0)
#define __LITTLE_ENDIAN 1234
#define __LITTLE_ENDIAN_BITFIELD
#define BITS_PER_LONG 64
#define __BITS_PER_LONG 64
typedef int __builtin_va_list;

/* ---- configuration tests (include/linux/kconfig.h semantics) ---- */
#define __kmodlint_arg_1 0,
#define __kmodlint_second(ignored, val, ...) val
/* Two levels, as include/linux/kconfig.h's __is_defined/___is_defined: the argument
   (CONFIG_FOO_MODULE after IS_MODULE's paste) must expand to 1 before it is pasted. */
#define __kmodlint_is_defined(x) __kmodlint_is_defined1(x)
#define __kmodlint_is_defined1(val) __kmodlint_is_defined2(__kmodlint_arg_##val)
#define __kmodlint_is_defined2(arg) __kmodlint_second(arg 1, 0, 0)
#define __is_defined(x) __kmodlint_is_defined(x)
#define IS_BUILTIN(option) __kmodlint_is_defined(option)
#define IS_MODULE(option) __kmodlint_is_defined(option##_MODULE)
#define IS_ENABLED(option) (IS_BUILTIN(option) || IS_MODULE(option))
#define IS_REACHABLE(option) (IS_BUILTIN(option) || (IS_MODULE(option) && defined(MODULE)))

/* ---- sections: markers the AST path turns into something pycparser keeps ---- */
#define __init __kmodlint_section_init__
#define __initdata __kmodlint_section_init__
#define __initconst __kmodlint_section_init__
#define __exit __kmodlint_section_exit__
#define __exitdata __kmodlint_section_exit__
#define __exit_call
#define __init_call

/* ---- exports: kind, expanded symbol and namespace survive as strings ---- */
#define __kmodlint_str(...) #__VA_ARGS__
#define __kmodlint_export(kind, sym, ns) \
    static const char *const __kmodlint_export[] = { #kind, __kmodlint_str(sym), \
    __kmodlint_str(ns) }
#define EXPORT_SYMBOL(sym) __kmodlint_export(EXPORT_SYMBOL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_GPL(sym) \
    __kmodlint_export(EXPORT_SYMBOL_GPL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_GPL_FUTURE(sym) \
    __kmodlint_export(EXPORT_SYMBOL_GPL_FUTURE, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_NS(sym, ns) __kmodlint_export(EXPORT_SYMBOL, sym, ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns) __kmodlint_export(EXPORT_SYMBOL_GPL, sym, ns)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods) \
    __kmodlint_export(EXPORT_SYMBOL_GPL, sym, "module:" mods)
#define _EXPORT_SYMBOL(sym, sec) __kmodlint_export(EXPORT_SYMBOL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define __EXPORT_SYMBOL(sym, sec, ns) __kmodlint_export(EXPORT_SYMBOL, sym, ns)
"""


_EXPLAIN: set[str] = set()


@dataclass
class StubEnv:
    headers: list[str]
    prelude: str
    typedefs: list[str]  # typedef names of the real headers (the parser is told about them)
    # the directives of each header's shadow (its stubs and its includes), by header path
    shadows: dict[str, list[str]] = field(default_factory=dict)
    # stubs of the function-like macros only branches known to be false define
    elsewhere: list[str] = field(default_factory=list)


def _stub_for(name: str, d: MacroDef, cls: str, kept: list[str]) -> str | None:
    """The #define line standing for ``d`` (None: leave the macro undefined)."""
    fn = d.params is not None
    head = f"#define {name}(...)" if fn else f"#define {name}"
    verbatim = f"#define {name}" + (f"({', '.join(d.params or [])})" if fn else "")
    body = " ".join(d.body)
    if cls == EMPTY:
        words = [k for k in dict.fromkeys(kept) if k != "semi"]
        return f"{head} {' '.join(words)}".rstrip()
    if cls == LOOP:
        return f"{head} for (;;)"
    if cls == DECL:
        return f"{head} int __kmodlint_decl" + (";" if "semi" in kept else "")
    if cls == FNHDR:
        return f"{head} int __kmodlint_fn(void)"
    if cls == BLOCK:
        return f"{head} {{ }}"
    if cls == DESIG:
        return f"{head} .__kmodlint = 0" + ("," if "comma" in kept else "")
    if cls == TYPE:
        if not fn and not any(t in ("typeof", "__typeof__", "__typeof") for t in d.body):
            return f"{head} {body}"
        return f"{head} int"
    if cls == STRING:
        return f'{head} ""'
    if cls == ASM:
        return f'{head} __asm__("")'
    if cls == BRACES:
        n = int(kept[0]) if kept and kept[0].lstrip("-").isdigit() else 0
        return f"{head} {' '.join('{' * n if n > 0 else '}' * -n)}" if n else None
    if cls in (NUMERIC, PASTE, EXPORTING):
        return f"{verbatim} {body}"
    if cls == EXPR:
        return f"{head} 0" if fn else None
    return None


def build(
    source_dirs: list[str],
    config_path: str | None = None,
    arch: str = ARCH,
    if_sources: Iterable[str] = (),
) -> StubEnv:
    roots = header_roots(source_dirs, arch)
    if not roots:
        raise SystemExit(f"stubgen: no kernel include directories under {source_dirs}")
    if config_path is None:
        for src in source_dirs:
            cand = os.path.join(src, "include/generated/autoconf.h")
            if os.path.isfile(cand):
                config_path = cand
                break
    fn_macros = function_macros(roots)
    evaluator = CondEvaluator(
        read_config(config_path) if config_path else None, object_macros(roots)
    )
    headers: set[str] = set(EXTRA_HEADERS)
    defs: dict[str, list[MacroDef]] = {}
    typedefs: set[str] = set()
    if_idents: set[str] = set()
    invocations: list[tuple[str, list[str]]] = []
    inactive: list[MacroDef] = []
    winners: dict[str, tuple[str, HeaderScan]] = {}  # rel -> the file cpp would find first
    rel_of: dict[str, str] = {}
    for full, rel in iter_headers(roots):
        headers.add(rel)
        scan = scan_header(full, rel, evaluator, fn_macros)
        winners.setdefault(rel, (full, scan))
        rel_of.setdefault(os.path.normpath(full), rel)
        typedefs |= scan.typedefs
        invocations += scan.invocations
        if_idents |= scan.if_idents
        inactive += scan.inactive
        for d in scan.defines:
            if d.name in HANDWRITTEN or d.name in C_KEYWORDS or d.name.startswith("CONFIG_"):
                continue
            # a later identical definition adds nothing
            if any(o.params == d.params and o.body == d.body for o in defs.get(d.name, ())):
                continue
            defs.setdefault(d.name, []).append(d)
    tested = if_idents | tested_names(if_sources)
    typedefs |= macro_made_typedefs(defs, invocations)
    typedefs -= set(HANDWRITTEN)
    typedefs = {t for t in typedefs if t not in C_KEYWORDS}
    classifier = Classifier(defs, typedefs)
    for name in sorted(_EXPLAIN):
        for d in defs.get(name, []):
            print(name, d.params, " ".join(d.body), "->", classifier.classify(d), d.origin)
        print(name, "=>", classifier.macro_class(name), file=sys.stderr)
    lines = []
    needed: set[str] = set()
    chosen: dict[str, tuple[MacroDef, str, list[str]]] = {}
    for name in sorted(defs):
        cls, kept = classifier.macro_class(name)
        # the definition whose own class matches the name's class is the one to keep
        d = next((x for x in defs[name] if classifier.classify(x)[0] == cls), defs[name][0])
        chosen[name] = (d, cls, kept)
    for name, (d, cls, kept) in chosen.items():
        if (
            d.params is None
            and len(d.body) == 1
            and d.body[0] != name
            and any(x.params is not None for x in defs.get(d.body[0], ()))
        ):
            # an alias of a function-like macro (``#define DECLARE_TLV_DB_SCALE
            # SNDRV_CTL_TLVD_DECLARE_DB_SCALE``): its arguments follow it in the code
            lines.append((name, f"#define {name} {d.body[0]}"))
            continue
        if d.params is None and cls == NUMERIC and name not in tested:
            continue
        if d.params is None and cls == DESIG and "comma" not in kept:
            continue
        if d.params is None and cls == PASTE and len(d.body) == 1:
            continue  # plain aliases are only kept when a kept body needs them
        stub = _stub_for(name, d, cls, kept)
        if stub is None:
            continue
        lines.append((name, stub))
        if cls in (PASTE, EXPORTING, NUMERIC):
            # ``#define SNDRV_PCM_INFO_MMAP_IOMEM SNDRV_PCM_INFO_MMAP``: an `#if` needs the
            # value behind the alias as well
            needed.update(t for t in d.body if t in defs)
    # object-like aliases that kept bodies refer to
    emitted = {n for n, _ in lines}
    queue = sorted(needed - emitted)
    while queue:
        name = queue.pop()
        if name in emitted:
            continue
        d, cls, kept = chosen[name]
        if d.params is not None:
            continue
        emitted.add(name)
        lines.append((name, f"#define {name} {' '.join(d.body)}"))
        queue.extend(t for t in d.body if t in defs and t not in emitted)
    stubs = dict(lines)
    # Function-like macros only other architectures or configurations define
    # (for_each_of_allnodes_from without CONFIG_OF): stubbed for the union fallback only,
    # never in a shadow, so a file that builds in this configuration does not see them.
    others: dict[str, list[MacroDef]] = {}
    for d in inactive:
        if (
            d.name in defs
            or d.name in HANDWRITTEN
            or d.name in C_KEYWORDS
            or d.name in typedefs
            or d.name in if_idents
        ):
            continue
        if not any(o.params == d.params and o.body == d.body for o in others.get(d.name, ())):
            others.setdefault(d.name, []).append(d)
    wide = Classifier({**defs, **others}, typedefs)
    elsewhere = []
    for name in sorted(others):
        cls, kept = wide.macro_class(name)
        d = next((x for x in others[name] if wide.classify(x)[0] == cls), others[name][0])
        if cls in (PASTE, EXPORTING, NUMERIC, EXPR):
            # verbatim bodies would need their helpers; and a call of an unknown
            # function parses as it is (mutex_lock() is a macro only with lockdep)
            continue
        stub = _stub_for(name, d, cls, kept)
        if stub is not None:
            elsewhere.append(stub)
    shadows = {
        rel: _shadow(rel, full, scan, stubs, winners, rel_of)
        for rel, (full, scan) in sorted(winners.items())
    }
    out = [
        "/* kmodlint stub kernel prelude: generated by kmodlint.cfront.stubgen; do not edit. */",
        "#ifndef __KMODLINT_PRELUDE_H",
        "#define __KMODLINT_PRELUDE_H",
        HANDWRITTEN_PRELUDE.strip(),
        "",
        "/* ---- what Kbuild -include's before every file (their shadows, next to this file) */",
    ]
    out += [f'#include "include/{h}"' for h in FORCED_INCLUDES if h in winners]
    out += ["", "#endif"]
    # a typedef name that is also an object-like macro (``#define u32 unsigned int`` in a
    # header that #undef's it again) stays a type; function-like ones are scan artefacts
    names = sorted(t for t in typedefs if all(d.params is None for d in defs.get(t, ())))
    return StubEnv(sorted(headers), "\n".join(out) + "\n", names, shadows, elsewhere)


# headers.txt: the line after which the union fallback's extra stubs follow
ELSEWHERE = "?elsewhere"

# Kbuild's c_flags -include these before every file (scripts/Makefile.lib, Makefile).
FORCED_INCLUDES = ("linux/compiler-version.h", "linux/kconfig.h", "linux/compiler_types.h")


def _shadow(
    rel: str,
    full: str,
    scan: HeaderScan,
    stubs: dict[str, str],
    winners: dict[str, tuple[str, HeaderScan]],
    rel_of: dict[str, str],
) -> list[str]:
    """The directives of one header's shadow: its includes (resolved to header paths, so
    ``#include "x.h"`` works from the flat shadow tree) and the stubs of its own macros,
    in the header's order. A macro the header defines and later #undef's is its own helper
    and leaves nothing behind; no other #undef is kept."""
    body: list[tuple[str, str]] = []
    here = os.path.dirname(full)
    for kind, arg in scan.order:
        if kind == "include":
            name = arg[1:-1]
            target = None
            if arg.startswith('"'):
                target = rel_of.get(os.path.normpath(os.path.join(here, name)))
            if target is None and name in winners:
                target = name
            if target is not None and target != rel:
                body.append((kind, f"#include <{target}>"))
        elif kind == "define":
            if arg in stubs:
                body.append((arg, stubs[arg]))
        elif kind == "undef":
            # only cancels the header's own definition: every stub of a name is the same
            # one, and an #undef of another header's macro (trace/define_trace.h's) is
            # undone in the real kernel by re-reading that header, which a shadow never is
            body = [(k, v) for k, v in body if k != arg]
    seen: set[str] = set()
    out = []
    for _, line in body:
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


def generate(
    source_dir: str | list[str],
    out_dir: str,
    config: str | None = None,
    if_sources: Iterable[str] = (),
) -> None:
    """Write ``prelude.h``, ``headers.txt`` (ending with the ``?elsewhere`` section: the
    stubs of function-like macros only false branches define) and ``typedefs.txt``.
    ``if_sources``: source trees whose ``#if`` lines say which numeric macros to keep."""
    dirs = [source_dir] if isinstance(source_dir, str) else list(source_dir)
    env = build(dirs, config, if_sources=if_sources)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "prelude.h"), "w", encoding="utf-8") as fh:
        fh.write(env.prelude)
    with open(os.path.join(out_dir, "headers.txt"), "w", encoding="utf-8") as fh:
        for rel in env.headers:
            fh.write(rel + "\n")
            for line in env.shadows.get(rel, ()):
                fh.write(line + "\n")
        # the union fallback's extra stubs, after a line no header path can be
        fh.write(ELSEWHERE + "\n")
        fh.write("".join(line + "\n" for line in env.elsewhere))
    with open(os.path.join(out_dir, "typedefs.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(env.typedefs) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kmodlint.cfront.stubgen", description=__doc__)
    ap.add_argument(
        "--from",
        dest="sources",
        action="append",
        required=True,
        help="kernel source or headers directory (repeatable)",
    )
    ap.add_argument("--config", help="autoconf.h or .config to evaluate header conditionals")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument(
        "--if-sources",
        action="append",
        default=[],
        metavar="DIR",
        help="kernel source tree whose .c/.h #if lines name the numeric macros to keep "
        "(repeatable; headers packages hold no .c files)",
    )
    ap.add_argument("--explain", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.explain:
        _EXPLAIN.update(args.explain)
    generate(args.sources, args.out, args.config, args.if_sources)
    print(f"stubgen: wrote prelude.h, headers.txt and typedefs.txt to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
