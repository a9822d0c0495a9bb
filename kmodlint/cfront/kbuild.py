"""Group C sources into kernel modules the way Kbuild does, without running make.

A small interpreter for the subset of GNU make that Kbuild files use (assignments of every
flavour, ``$(...)`` references and the common functions, ``ifeq``/``ifdef`` conditionals,
``include``, ``define``), then Kbuild's own reading of the result, as
``scripts/Makefile.lib`` does it: ``obj-m := $(filter-out $(obj-y),$(obj-m))``; ``foo.o`` is
composite when ``foo-objs``, ``foo-y``, ``foo-m`` or ``foo-`` is set (``multi-search``) and
its parts are ``foo-objs foo-y`` (+ ``foo-m`` for a module; ``real-search``); ``dir/`` entries
of ``obj-y``/``obj-m`` are descended (``subdir-ym``); ``Kbuild`` wins over ``Makefile``
(``scripts/Makefile.build``, ``kbuild-file``); ``subdir-ccflags-y`` is inherited and
``EXTRA_CFLAGS`` joins ``ccflags-y``.

Nothing is executed: ``$(shell ...)`` is empty, recipes are skipped. A line that cannot be
understood becomes a problem entry, never an exception.
"""

from __future__ import annotations

import glob
import os
import platform
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TypeVar

from kmodlint.safe_io import MAKEFILE_LIMIT, SOURCE_LIMIT, read_regular_text

_T = TypeVar("_T")

KBUILD_FILES = ("Kbuild", "Makefile")
# Without a configuration every CONFIG_ symbol reads as this value: obj-$(CONFIG_X) becomes a
# module entry and foo-$(CONFIG_X) a part of foo.
_NO_CONFIG_VALUE = "m"
_MAX_DEPTH = 60
# Work one make evaluation (a folder's Kbuild and its includes) may cost, in characters
# read or expanded, with each file read and each expansion costing a little more: a real
# kernel folder needs at most 3 % of it (amdgpu's Makefile, 638k, on linux-6.1), while
# `V1 = $(V0)$(V0)` ... `V30` or a Makefile including itself five times would never end.
MAKE_WORK_BUDGET = 20_000_000
_READ_COST = 4096
_EXPAND_COST = 16


def shipped_copy(folder: str, name: str) -> str | None:
    """``folder/name_shipped`` when it exists: Kbuild makes ``$(obj)/foo.h`` from
    ``$(src)/foo.h_shipped`` (scripts/Makefile.lib's ``$(obj)/%: $(src)/%_shipped`` rule,
    aic7xxx_reg.h), so an unbuilt tree has only that."""
    candidate = os.path.normpath(os.path.join(folder, name + "_shipped"))
    return candidate if os.path.isfile(candidate) else None


@dataclass(frozen=True, slots=True)
class KbuildModule:
    name: str
    directory: str
    kbuild_path: str
    line: int
    sources: tuple[str, ...]
    defines: tuple[tuple[str, str], ...]
    include_dirs: tuple[str, ...]
    # Objects with no .c, .S or _shipped source: made at build time (poly1305's perl
    # generated .S, net/wireless shipped-certs.c) or missing. What they define is unknown.
    generated: tuple[str, ...] = ()


@dataclass
class KbuildResult:
    modules: list[KbuildModule] = field(default_factory=list)
    builtin_sources: set[str] = field(default_factory=set)
    skipped_by_config: int = 0
    orphan_sources: list[str] = field(default_factory=list)
    problems: list[tuple[str, int, str]] = field(default_factory=list)
    # Orphans found by walking a folder that some Kbuild/Makefile of the same given path
    # governs, in a sub-folder no Kbuild descends into (tests, tools, other-OS ports):
    # kbuild never compiles them.
    unreached_sources: set[str] = field(default_factory=set)
    # CONFIG_ options the configuration does not mention, read as "m" in an out-of-tree
    # driver's Makefiles (its own options, set by `make CONFIG_X=m`).
    assumed_options: list[str] = field(default_factory=list)
    # make command-line variables read from a dkms.conf MAKE line: (dkms.conf, NAME, VALUE)
    dkms_defines: list[tuple[str, str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- make subset


class _MakeError(Exception):
    pass


@dataclass(slots=True)
class _Var:
    value: str
    recursive: bool


@dataclass(slots=True)
class _Cond:
    parent_active: bool
    union: bool  # condition unknown (no configuration): every branch is read
    taken: bool  # a branch was already taken (decided mode)
    active: bool
    earlier: set[str] = field(default_factory=set)  # set in earlier branches (union mode)
    current: set[str] = field(default_factory=set)
    line: int = 0


_ASSIGN_OPS = ("::=", ":=", "+=", "?=", "!=", "=")
_DIRECTIVES_COND = ("ifeq", "ifneq", "ifdef", "ifndef")
_DEFINE = re.compile(r"(?:(?:override|export|private)\s+)*define\s+(.*?)\s*(::=|:=|\+=|\?=|=)?\s*$")
_NAME_TOKEN = re.compile(r"[\w./+-]*(?:\$[({][^)}\s]*[)}][\w./+-]*)*[\w./+-]+")
_C_INCLUDE = re.compile(r'^\s*#\s*include\s*"(?:[^"]*/)?([^"/]+\.c)"', re.MULTILINE)


def _words(text: str) -> list[str]:
    return text.split()


def _pattern_match(pattern: str, word: str) -> str | None:
    """The stem that ``%`` matches in *word*, or None; a pattern without % must equal."""
    if "%" not in pattern:
        return "" if pattern == word else None
    head, _, tail = pattern.partition("%")
    if len(word) >= len(head) + len(tail) and word.startswith(head) and word.endswith(tail):
        return word[len(head) : len(word) - len(tail)]
    return None


def _patsubst(pattern: str, replacement: str, word: str) -> str:
    stem = _pattern_match(pattern, word)
    if stem is None:
        return word
    if "%" in pattern and "%" in replacement:
        return replacement.replace("%", stem, 1)
    return replacement


def _find_close(text: str, start: int, opener: str, closer: str) -> int:
    depth = 1
    i = start
    while i < len(text):
        c = text[i]
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_args(text: str, limit: int | None = None) -> list[str]:
    """Split function arguments on top-level commas (at most *limit* pieces)."""
    args: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == "," and depth == 0 and (limit is None or len(args) < limit - 1):
            args.append(text[start:i])
            start = i + 1
    args.append(text[start:])
    return args


class _Make:
    """One make evaluation: variables, conditionals, includes; reads no recipes."""

    def __init__(
        self,
        variables: dict[str, _Var],
        config: dict[str, str] | None,
        srctree: str,
        problem: Callable[[str, int, str], None],
        overrides: dict[str, str] | None = None,
        out_of_tree: bool = False,
        include_roots: tuple[str, ...] = (),
        kernel_tree: str | None = None,
    ) -> None:
        self.vars = variables
        # the target kernel's own makefiles (include $(srctree)/scripts/...) are not read:
        # kbuild's machinery, not the driver's lists
        self.kernel_tree = kernel_tree
        self.config = config
        self.srctree = srctree
        self.problem = problem
        self.config_touched = False
        # Command-line variables (`make X=v`, --define, dkms.conf MAKE): a makefile's own
        # assignment does not change them (GNU make, "Overriding Variables").
        self.overrides = dict(overrides or {})
        for name, value in self.overrides.items():
            self.vars[name] = _Var(value, recursive=False)
        # Outside a kernel tree an option the configuration does not mention is the
        # driver's own (CONFIG_MYDRV): read as "m", as `make CONFIG_MYDRV=m` would set it.
        self.out_of_tree = out_of_tree
        self.assumed: set[str] = set()
        # Folders to look in for an include whose path a variable nobody set left broken
        # (`include $(TOPSRC)/mconfig` where only the driver's top Makefile sets TOPSRC).
        self.include_roots = include_roots
        self.recipes: list[str] = []  # recipe lines of active rules (plain-make reading)
        self._in_name = False  # expanding the name an assignment sets
        self.exported: set[str] = set()
        # (word, list name) -> where the word first joined that obj- list
        self.obj_lines: dict[tuple[str, str], tuple[str, int]] = {}
        self.files_read: list[str] = []
        self.texts: list[str] = []
        self._depth = 0
        self._where: tuple[str, int] = ("", 0)
        self._include_depth = 0
        self.work = 0
        self._including: list[str] = []  # the files being read, outermost first
        self._said_deep = False
        self._said_cycle = False
        self.exhausted = False  # past MAKE_WORK_BUDGET: said once, the rest reads empty

    def _spend(self, units: int) -> None:
        self.work += units
        if self.work > MAKE_WORK_BUDGET and not self.exhausted:
            self.exhausted = True
            raise _MakeError(
                "too complex to evaluate (self-including files or exponential variable "
                "expansion): analysed partly"
            )

    def where(self, word: str, lists: tuple[str, ...], default: str) -> tuple[str, int]:
        """The line that put *word* in one of *lists* (else in any obj- list)."""
        for name in lists:
            if (word, name) in self.obj_lines:
                return self.obj_lines[(word, name)]
        hits = [loc for (w, _), loc in self.obj_lines.items() if w == word]
        return hits[0] if hits else (default, 0)

    # ---- expansion

    def config_value(self, name: str) -> str:
        if self.config is None:
            return _NO_CONFIG_VALUE
        if name in self.config:
            return self.config[name]
        if self.out_of_tree and self._in_name:
            # only in the name of an assignment (obj-$(CONFIG_X) += ..., drv-$(CONFIG_X)):
            # the lines that build the driver's own parts; an `ifdef CONFIG_BOARD` test of
            # an option nobody set stays false, as in the real build
            self.assumed.add(name)
            return _NO_CONFIG_VALUE
        return ""

    def lookup(self, name: str) -> str:
        var = self.vars.get(name)
        if name.startswith("CONFIG_"):
            self.config_touched = True
            if var is None:
                return self.config_value(name)
        if var is None:
            return ""
        if not var.recursive:
            return var.value
        return self.expand(var.value)

    def is_defined(self, name: str) -> bool:
        if name.startswith("CONFIG_"):
            self.config_touched = True
            if name not in self.vars:
                return bool(self.config_value(name))
        var = self.vars.get(name)
        return var is not None and var.value != ""

    def expand(self, text: str) -> str:
        if "$" not in text:
            return text
        if self.exhausted:
            return ""
        self._spend(len(text) + _EXPAND_COST)
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise _MakeError("variable expansion recurses too deep")
            out: list[str] = []
            i = 0
            n = len(text)
            while i < n:
                j = text.find("$", i)
                if j < 0:
                    out.append(text[i:])
                    break
                out.append(text[i:j])
                if j + 1 >= n:
                    break
                c = text[j + 1]
                if c == "$":
                    out.append("$")
                    i = j + 2
                elif c in "({":
                    closer = ")" if c == "(" else "}"
                    k = _find_close(text, j + 2, c, closer)
                    if k < 0:
                        raise _MakeError(f"unterminated variable reference: {text[j:][:40]}")
                    out.append(self._reference(text[j + 2 : k]))
                    i = k + 1
                else:
                    out.append(self.lookup(c))
                    i = j + 2
            result = "".join(out)
            self._spend(len(result))  # what doubling builds, not only what it reads
            return result
        finally:
            self._depth -= 1

    def _reference(self, inner: str) -> str:
        m = re.match(r"([a-z-]+)[ \t]", inner)
        if m and m.group(1) in _FUNCTIONS:
            return _FUNCTIONS[m.group(1)](self, inner[m.end() :].lstrip(" \t"))
        # substitution reference $(var:a=b)
        depth = 0
        for i, c in enumerate(inner):
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
            elif c == ":" and depth == 0:
                rest = inner[i + 1 :]
                if "=" in rest:
                    name = self.expand(inner[:i]).strip()
                    a, _, b = rest.partition("=")
                    a, b = self.expand(a), self.expand(b)
                    if "%" not in a:
                        a, b = "%" + a, "%" + b
                    return " ".join(_patsubst(a, b, w) for w in _words(self.lookup(name)))
                break
        return self.lookup(self.expand(inner).strip())

    # ---- reading

    def read_file(self, path: str) -> None:
        if self.exhausted:
            return
        try:
            # a FIFO or `Makefile -> /dev/zero` in the tree: one problem, no hang
            text = read_regular_text(path, MAKEFILE_LIMIT)
        except OSError as error:
            self.problem(path, 0, f"cannot read: {error.strerror or error}")
            return
        self._spend(len(text) + _READ_COST)
        self.files_read.append(path)
        self.texts.append(text)
        self._including.append(os.path.abspath(path))
        try:
            self.read_text(text, path)
        finally:
            self._including.pop()

    def read_text(self, text: str, path: str, first_line: int = 1) -> None:
        conds: list[_Cond] = []
        in_rule = False
        define: tuple[str, str, list[str]] | None = None  # name, op, body
        for number, raw in _logical_lines(text, first_line):
            if self.exhausted:
                return
            self._where = (path, number)
            if define is not None:
                if raw.strip().startswith("endef"):
                    name, op, body = define
                    if not conds or conds[-1].active:
                        self._assign(name, op if op else "=", "\n".join(body), conds)
                    define = None
                else:
                    define[2].append(raw)
                continue
            if raw.startswith("\t") and in_rule:
                if not conds or conds[-1].active:
                    self.recipes.append(raw)
                continue  # a recipe
            line = _strip_comment(raw).strip()
            if not line:
                continue
            try:
                keyword = line.split(None, 1)[0]
                if keyword in _DIRECTIVES_COND or keyword in ("else", "endif"):
                    # a conditional inside a recipe does not end the rule (dahdi's
                    # `modules:` recipe runs $(KMAKE) after an ifeq block)
                    self._conditional(keyword, line, conds, path, number)
                    continue
                m = _DEFINE.match(line)
                if m:
                    name = self.expand(m.group(1)).strip()
                    define = (name, m.group(2) or "=", [])
                    continue
                if conds and not conds[-1].active:
                    continue
                in_rule = self._statement(line, conds, path, number, in_rule)
            except _MakeError as error:
                self.problem(path, number, str(error))
            except RecursionError:
                self.problem(path, number, "variable expansion recurses too deep")
        if define is not None:
            self.problem(path, number if text else 0, "missing 'endef'")
        for cond in conds:
            self.problem(path, cond.line, "conditional without 'endif'")

    def _conditional(
        self, keyword: str, line: str, conds: list[_Cond], path: str, number: int
    ) -> None:
        if keyword in _DIRECTIVES_COND:
            parent = not conds or conds[-1].active
            cond = _Cond(parent, union=False, taken=False, active=False, line=number)
            if parent:
                value, union = self._evaluate(keyword, line[len(keyword) :].strip())
                cond.union = union
                cond.active = union or value
                cond.taken = cond.active and not union
            conds.append(cond)
            return
        if not conds:
            raise _MakeError(f"'{keyword}' without a matching 'if'")
        cond = conds[-1]
        if keyword == "endif":
            conds.pop()
            if cond.union and conds:
                conds[-1].current |= cond.earlier | cond.current
            return
        # else [ifeq ...]
        rest = line[len("else") :].strip()
        cond.earlier |= cond.current
        cond.current = set()
        if not cond.parent_active:
            return
        if cond.union:
            cond.active = True
            return
        if cond.taken:
            cond.active = False
            return
        if rest:
            inner = rest.split(None, 1)[0]
            if inner not in _DIRECTIVES_COND:
                raise _MakeError(f"cannot understand: {line[:60]}")
            value, union = self._evaluate(inner, rest[len(inner) :].strip())
            cond.union = union
            cond.active = union or value
            cond.taken = cond.active and not union
        else:
            cond.active = True
            cond.taken = True

    def _evaluate(self, keyword: str, arg: str) -> tuple[bool, bool]:
        """(truth, unknown): unknown when it reads a CONFIG_ symbol and no config is given."""
        self.config_touched = False
        if keyword in ("ifdef", "ifndef"):
            truth = self.is_defined(self.expand(arg).strip())
            if keyword == "ifndef":
                truth = not truth
        else:
            left, right = self._comparison(arg)
            truth = self.expand(left).strip() == self.expand(right).strip()
            if keyword == "ifneq":
                truth = not truth
        unknown = self.config is None and self.config_touched
        return truth, unknown

    @staticmethod
    def _comparison(arg: str) -> tuple[str, str]:
        if arg.startswith("("):
            end = _find_close(arg, 1, "(", ")")
            if end < 0:
                raise _MakeError(f"cannot understand condition: {arg[:60]}")
            parts = _split_args(arg[1:end], 2)
            if len(parts) != 2:
                raise _MakeError(f"cannot understand condition: {arg[:60]}")
            return parts[0], parts[1]
        m = re.fullmatch(r"""(["'])(.*?)\1\s*(["'])(.*?)\3""", arg)
        if not m:
            raise _MakeError(f"cannot understand condition: {arg[:60]}")
        return m.group(2), m.group(4)

    def _statement(
        self, line: str, conds: list[_Cond], path: str, number: int, in_rule: bool
    ) -> bool:
        """Run one directive or assignment; return whether a rule context is open."""
        keyword, _, rest = line.partition(" ")
        keyword = keyword.split("\t", 1)[0]
        rest = line[len(keyword) :].strip()
        if keyword in ("include", "-include", "sinclude"):
            self._include(rest, optional=keyword != "include", path=path, number=number)
            return False
        if keyword in ("export", "unexport", "override", "private"):
            if not rest or keyword == "unexport":
                return False
            found = _find_assignment(rest)
            if keyword == "export":
                # exported variables reach the kernel's make a recipe runs (tp_smapi's
                # `export TP_MODULES`)
                names = rest[: found[0]] if found is not None else rest
                self.exported.update(_words(self.expand(names)))
            if found is None and keyword == "export":
                return False
            return self._statement(rest, conds, path, number, in_rule)
        if keyword in ("vpath", "undefine"):
            if keyword == "undefine":
                self.vars.pop(self.expand(rest).strip(), None)
            return False
        found = _find_assignment(line)
        if found is not None:
            start, op = found
            self._in_name = True
            try:
                name = self.expand(line[:start]).strip()
            finally:
                self._in_name = False
            value = line[start + len(op) :].lstrip(" \t")
            if not name or " " in name:
                raise _MakeError(f"cannot understand assignment: {line[:60]}")
            self._assign(name, op, value, conds)
            return False
        if _is_rule(line):
            return True
        if line.startswith("$("):
            self.expand(line)  # $(eval ...), $(info ...), $(foreach ... $(eval ...))
            return in_rule
        raise _MakeError(f"cannot understand: {line[:60]}")

    def _assign(self, name: str, op: str, value: str, conds: list[_Cond]) -> None:
        if name in self.overrides:
            return  # a command-line variable wins over the makefile's assignment
        union = [c for c in conds if c.union]
        if union and op in ("=", ":=", "::=") and name in union[-1].earlier:
            op = "+="  # no configuration: both branches of an unknown condition count
        for c in union:
            c.current.add(name)
        old = self.vars.get(name)
        if op in ("=", "+=", "?=") and "$" in value:
            # a broken or self-referencing value is reported here, on its own line, and
            # left out, rather than poisoning every later use of the variable
            try:
                self.expand(value)
            except RecursionError as error:
                raise _MakeError("variable expansion recurses too deep") from error
        if op in (":=", "::="):
            new = _Var(self.expand(value), recursive=False)
        elif op == "=":
            new = _Var(value, recursive=True)
        elif op == "?=":
            if old is not None or (name.startswith("CONFIG_") and self._config_set(name)):
                return
            new = _Var(value, recursive=True)
        elif op == "!=":
            new = _Var("", recursive=False)  # a shell command: never run
        else:  # +=
            if old is None:
                new = _Var(value, recursive=True)
            elif old.recursive:
                new = _Var(f"{old.value} {value}" if old.value else value, recursive=True)
            else:
                add = self.expand(value)
                new = _Var(f"{old.value} {add}" if old.value else add, recursive=False)
        self.vars[name] = new
        if name.startswith("obj-"):
            words = self.expand(value) if op in ("=", "+=", "?=") else new.value
            for word in _words(words):
                self.obj_lines.setdefault((word, name), self._where)

    def _config_set(self, name: str) -> bool:
        return self.config is not None and bool(self.config.get(name))

    def _include(self, rest: str, optional: bool, path: str, number: int) -> None:
        if self._include_depth > 8:
            if not self._said_deep:  # once per evaluation, not once per include line
                self._said_deep = True
                raise _MakeError("includes nest too deep")
            return
        for target in _words(self.expand(rest)):
            candidates = [target] if os.path.isabs(target) else []
            if not candidates:
                candidates = [
                    os.path.join(self.srctree, target),
                    os.path.join(os.path.dirname(path), target),
                ]
            found_all: list[str] = []
            for candidate in candidates:
                # make expands wildcards in include names (xtables-addons: ${M}/*.Kbuild)
                hits = sorted(glob.glob(candidate)) if glob.has_magic(candidate) else []
                if hits:
                    found_all = [h for h in hits if os.path.isfile(h)]
                    break
                if os.path.isfile(candidate):
                    found_all = [candidate]
                    break
            if not found_all and target.startswith("/"):
                found_all = self._include_fallback(target)
            if not found_all:
                if not optional and "include/config" not in target:
                    self.problem(path, number, f"included file not found: {target}")
                continue
            for found in found_all:
                if self.kernel_tree and os.path.abspath(found).startswith(
                    self.kernel_tree + os.sep
                ):
                    continue
                found = os.path.normpath(found)
                if os.path.abspath(found) in self._including:
                    # GNU make would include it until it runs out of file descriptors
                    if not self._said_cycle:
                        self._said_cycle = True
                        self.problem(path, number, f"includes itself (through {target})")
                    continue
                self._include_depth += 1
                try:
                    self.read_file(found)
                finally:
                    self._include_depth -= 1

    def _include_fallback(self, target: str) -> list[str]:
        """``include $(TOPDIR)/mconfig`` with TOPDIR set only on the command line that the
        driver's own build passes: the tail of the path, looked up from the including
        folder up to the folder the user gave."""
        tail = target.lstrip("/")
        if not tail or tail.startswith(("usr/", "lib/", "etc/")):
            return []
        for root in self.include_roots:
            candidate = os.path.join(root, tail)
            if os.path.isfile(candidate):
                return [candidate]
        return []


def _logical_lines(text: str, first_line: int = 1) -> Iterable[tuple[int, str]]:
    """Join backslash continuations (make turns them into one space)."""
    pending: list[str] = []
    start = first_line
    for offset, line in enumerate(text.splitlines()):
        if not pending:
            start = first_line + offset
        stripped = line.rstrip("\r")
        trailing = len(stripped) - len(stripped.rstrip("\\"))
        if trailing % 2 == 1:
            piece = stripped[:-1]
            pending.append(piece.strip() if pending else piece.rstrip())
            continue
        pending.append(stripped.strip() if pending else stripped)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _strip_comment(line: str) -> str:
    i = line.find("#")
    while i >= 0:
        if i > 0 and line[i - 1] == "\\":
            i = line.find("#", i + 1)
            continue
        return line[:i]
    return line


def _find_assignment(line: str) -> tuple[int, str] | None:
    depth = 0
    i = 0
    while i < len(line):
        c = line[i]
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif depth == 0:
            if c == ":":
                if line.startswith("::=", i):
                    return i, "::="
                if line.startswith(":=", i):
                    return i, ":="
                return None  # a rule (or a target-specific variable)
            if c == "=":
                if i > 0 and line[i - 1] in "+?!":
                    return i - 1, line[i - 1] + "="
                return i, "="
            if c == ";":
                return None
        i += 1
    return None


def _is_rule(line: str) -> bool:
    depth = 0
    for c in line:
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == ":" and depth == 0:
            return True
    return False


# ---- make functions (each takes the evaluator and the raw argument text)


def _fn_words1(fn: Callable[[list[str]], str]) -> Callable[[_Make, str], str]:
    return lambda mk, raw: fn(_words(mk.expand(raw)))


def _fn_args(n: int, fn: Callable[..., str]) -> Callable[[_Make, str], str]:
    def run(mk: _Make, raw: str) -> str:
        args = [mk.expand(a) for a in _split_args(raw, n)]
        while len(args) < n:
            args.append("")
        return fn(*args)

    return run


def _fn_if(mk: _Make, raw: str) -> str:
    args = _split_args(raw, 3)
    if mk.expand(args[0]).strip():
        return mk.expand(args[1]) if len(args) > 1 else ""
    return mk.expand(args[2]) if len(args) > 2 else ""


def _fn_or(mk: _Make, raw: str) -> str:
    for arg in _split_args(raw):
        value = mk.expand(arg).strip()
        if value:
            return value
    return ""


def _fn_and(mk: _Make, raw: str) -> str:
    value = ""
    for arg in _split_args(raw):
        value = mk.expand(arg).strip()
        if not value:
            return ""
    return value


def _fn_foreach(mk: _Make, raw: str) -> str:
    args = _split_args(raw, 3)
    if len(args) < 3:
        raise _MakeError("foreach needs three arguments")
    name = mk.expand(args[0]).strip()
    saved = mk.vars.get(name)
    out = []
    try:
        for word in _words(mk.expand(args[1])):
            mk.vars[name] = _Var(word, recursive=False)
            out.append(mk.expand(args[2]))
    finally:
        if saved is None:
            mk.vars.pop(name, None)
        else:
            mk.vars[name] = saved
    return " ".join(o for o in out if o.strip())


def _fn_call(mk: _Make, raw: str) -> str:
    args = _split_args(raw)
    name = mk.expand(args[0]).strip()
    if name in _FUNCTIONS:
        return _FUNCTIONS[name](mk, ",".join(args[1:]))
    var = mk.vars.get(name)
    if var is None:
        return ""  # Kbuild.include helpers (cc-option, ...) are not known here
    values = [mk.expand(a) for a in args[1:]]
    saved = {str(i): mk.vars.get(str(i)) for i in range(len(values) + 10)}
    try:
        for i in range(1, len(values) + 10):
            value = values[i - 1] if i <= len(values) else ""
            mk.vars[str(i)] = _Var(value, recursive=False)
        mk.vars["0"] = _Var(name, recursive=False)
        return mk.expand(var.value) if var.recursive else var.value
    finally:
        for key, old in saved.items():
            if old is None:
                mk.vars.pop(key, None)
            else:
                mk.vars[key] = old


def _fn_eval(mk: _Make, raw: str) -> str:
    path, number = mk._where
    mk.read_text(mk.expand(raw), path, number)
    mk._where = (path, number)
    return ""


def _fn_value(mk: _Make, raw: str) -> str:
    var = mk.vars.get(mk.expand(raw).strip())
    return var.value if var else ""


def _fn_origin(mk: _Make, raw: str) -> str:
    return "file" if mk.expand(raw).strip() in mk.vars else "undefined"


def _fn_wildcard(mk: _Make, raw: str) -> str:
    out: list[str] = []
    for pattern in _words(mk.expand(raw)):
        base = "" if os.path.isabs(pattern) else mk.srctree
        for hit in sorted(glob.glob(os.path.join(base, pattern))):
            out.append(hit if os.path.isabs(pattern) else os.path.relpath(hit, mk.srctree))
    return " ".join(out)


def _filter(patterns: str, text: str, keep: bool) -> str:
    pats = _words(patterns)
    return " ".join(
        w for w in _words(text) if any(_pattern_match(p, w) is not None for p in pats) == keep
    )


def _word(n: str, text: str) -> str:
    words = _words(text)
    try:
        index = int(n.strip())
    except ValueError:
        return ""
    return words[index - 1] if 0 < index <= len(words) else ""


def _wordlist(s: str, e: str, text: str) -> str:
    try:
        start, end = int(s.strip()), int(e.strip())
    except ValueError:
        return ""
    return " ".join(_words(text)[start - 1 : end])


def _basename(word: str) -> str:
    stem, ext = os.path.splitext(word)
    return stem if ext and "/" not in ext else word


def _empty(_mk: _Make, _raw: str) -> str:
    return ""


_FUNCTIONS: dict[str, Callable[[_Make, str], str]] = {
    "subst": _fn_args(3, lambda a, b, t: t.replace(a, b) if a else t),
    "patsubst": _fn_args(
        3, lambda p, r, t: " ".join(_patsubst(p.strip(), r.strip(), w) for w in _words(t))
    ),
    "strip": _fn_words1(" ".join),
    "findstring": _fn_args(2, lambda a, t: a if a in t else ""),
    "filter": _fn_args(2, lambda p, t: _filter(p, t, True)),
    "filter-out": _fn_args(2, lambda p, t: _filter(p, t, False)),
    "sort": _fn_words1(lambda ws: " ".join(sorted(set(ws)))),
    "word": _fn_args(2, _word),
    "words": _fn_words1(lambda ws: str(len(ws))),
    "wordlist": _fn_args(3, _wordlist),
    "firstword": _fn_words1(lambda ws: ws[0] if ws else ""),
    "lastword": _fn_words1(lambda ws: ws[-1] if ws else ""),
    "dir": _fn_words1(lambda ws: " ".join((os.path.dirname(w) or ".") + "/" for w in ws)),
    "notdir": _fn_words1(lambda ws: " ".join(w.rsplit("/", 1)[-1] for w in ws)),
    "suffix": _fn_words1(lambda ws: " ".join(os.path.splitext(w)[1] for w in ws)),
    "basename": _fn_words1(lambda ws: " ".join(_basename(w) for w in ws)),
    "addsuffix": _fn_args(2, lambda s, t: " ".join(w + s for w in _words(t))),
    "addprefix": _fn_args(2, lambda p, t: " ".join(p + w for w in _words(t))),
    "join": _fn_args(
        2, lambda a, b: " ".join(map("".join, zip_longest(_words(a), _words(b), fillvalue="")))
    ),
    "abspath": _fn_words1(" ".join),
    "realpath": _fn_words1(" ".join),
    "wildcard": _fn_wildcard,
    "if": _fn_if,
    "or": _fn_or,
    "and": _fn_and,
    "foreach": _fn_foreach,
    "call": _fn_call,
    "eval": _fn_eval,
    "value": _fn_value,
    "origin": _fn_origin,
    "flavor": lambda mk, raw: "recursive" if mk.vars.get(mk.expand(raw).strip()) else "undefined",
    "shell": _empty,
    "info": _empty,
    "warning": _empty,
    "error": _empty,
    "file": _empty,
}


# --------------------------------------------------------------------------- Kbuild reading


_ARCH_BY_CONFIG = (
    ("CONFIG_X86", "x86"),
    ("CONFIG_ARM64", "arm64"),
    ("CONFIG_ARM", "arm"),
    ("CONFIG_PPC", "powerpc"),
    ("CONFIG_S390", "s390"),
    ("CONFIG_RISCV", "riscv"),
    ("CONFIG_MIPS", "mips"),
    ("CONFIG_LOONGARCH", "loongarch"),
    ("CONFIG_SPARC", "sparc"),
    ("CONFIG_PARISC", "parisc"),
    ("CONFIG_ALPHA", "alpha"),
    ("CONFIG_M68K", "m68k"),
)
_ARCH_BY_MACHINE = {
    "x86_64": "x86",
    "amd64": "x86",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "s390x": "s390",
    "riscv64": "riscv",
}


def _srcarch(config: dict[str, str] | None) -> str:
    if config:
        for key, arch in _ARCH_BY_CONFIG:
            if config.get(key) == "y":
                return arch
    return _ARCH_BY_MACHINE.get(platform.machine().lower(), "x86")


def kernel_source_tree(spec: str | None) -> str | None:
    """The kernel tree a --kernel folder builds with: a source tree or headers folder, the
    ``build`` link of /lib/modules/<ver>, Debian's -amd64 headers whose Makefile is
    ``include <the -common folder>/Makefile`` (that folder is kbuild's srctree)."""
    if not spec or not os.path.isdir(spec):
        return None
    candidates = [spec, os.path.join(spec, "build"), os.path.join(spec, "source")]
    for folder in candidates:
        makefile = os.path.join(folder, "Makefile")
        if not os.path.isfile(makefile):
            continue
        try:
            head = read_regular_text(makefile, MAKEFILE_LIMIT)[:4096]
        except OSError:
            continue
        m = re.match(r"\s*include\s+(\S+)/Makefile\s*$", head)
        if m and os.path.isdir(os.path.join(m.group(1), "include", "linux")):
            return os.path.abspath(m.group(1))
        if os.path.isdir(os.path.join(folder, "include", "linux")):
            return os.path.abspath(folder)
    return None


def is_kernel_tree(path: str) -> bool:
    return (
        os.path.isfile(os.path.join(path, "Kbuild"))
        and os.path.isfile(os.path.join(path, "Makefile"))
        and os.path.isdir(os.path.join(path, "arch"))
    )


def _kernel_tree_of(directory: str) -> str | None:
    current = os.path.abspath(directory)
    while True:
        if is_kernel_tree(current):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _kbuild_file(directory: str) -> str | None:
    for name in KBUILD_FILES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _flags(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _parse_flags(text: str, base: str, defines: list[tuple[str, str]], includes: list[str]) -> None:
    tokens = _flags(text)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        value: str | None = None
        for flag in ("-D", "-U", "-I", "-iquote", "-isystem", "-idirafter"):
            if tok == flag and i + 1 < len(tokens):
                value = tokens[i + 1]
                i += 1
                break
            if tok.startswith(flag) and len(tok) > len(flag):
                value = tok[len(flag) :]
                break
        else:
            flag = ""
        i += 1
        if value is None:
            continue
        if flag == "-D":
            name, sep, val = value.partition("=")
            pair = (name, val if sep else "1")
            if name and pair not in defines:
                defines.append(pair)
        elif flag == "-U":
            defines[:] = [d for d in defines if d[0] != value]
        else:
            path = os.path.normpath(value if os.path.isabs(value) else os.path.join(base, value))
            if path not in includes:
                includes.append(path)


def _release_numbers(release: str | None) -> tuple[str, str, str] | None:
    """VERSION, PATCHLEVEL, SUBLEVEL of a kernel release string ("6.1.0-56-amd64")."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release or "")
    return (m.group(1), m.group(2), m.group(3) or "0") if m else None


# Variables of a kernel make command line that say where and how to build, not what: they
# are not the driver's settings.
_NOT_DRIVER_VARS = frozenset(
    {
        "M",
        "KBUILD_EXTMOD",
        "SUBDIRS",
        "O",
        "V",
        "W",
        "C",
        "CC",
        "LD",
        "AR",
        "ARCH",
        "CROSS_COMPILE",
        "KERNELRELEASE",
        "KERNELDIR",
        "KDIR",
        "KSRC",
        "KERNEL_SRC",
        "KERNEL_DIR",
        "KERNEL_TREE",
        "KVER",
        "KVERS",
        "KVERSION",
        "KERNELVER",
        "INSTALL_MOD_PATH",
        "INSTALL_MOD_DIR",
        "DESTDIR",
        "PWD",
        "CURDIR",
        "MAKE",
        "MAKEFLAGS",
    }
)
_VAR_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


def _shell_words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _kernel_make_calls(text: str, here: str) -> list[tuple[str, dict[str, str]]]:
    """The ``make -C <kernel> M=<dir> VAR=value ...`` calls of a recipe or a dkms.conf MAKE
    line: (absolute folder kbuild reads, the driver's VAR=value words)."""
    calls: list[tuple[str, dict[str, str]]] = []
    for command in re.split(r";|&&|\|\||\n", text):
        words = _shell_words(command.strip().lstrip("@+-( "))
        target: str | None = None
        variables: dict[str, str] = {}
        for word in words:
            m = _VAR_WORD.fullmatch(word)
            if not m:
                continue
            name, value = m.group(1), m.group(2).strip()
            if name in ("M", "KBUILD_EXTMOD", "SUBDIRS"):
                target = value
            elif name not in _NOT_DRIVER_VARS:
                variables[name] = value
        if target is None or not words or not words[0].endswith("make"):
            continue
        calls.append((_target_folder(target, here), variables))
    return calls


def _target_folder(value: str, here: str) -> str:
    """M= of a call: `$(PWD)` that `$(shell pwd)` left empty is the Makefile's folder."""
    value = value.rstrip("/")
    if not value:
        return here
    if os.path.isabs(value) and os.path.isdir(value):
        return os.path.normpath(value)
    candidate = os.path.normpath(os.path.join(here, value.lstrip("/")))
    return candidate if os.path.isdir(candidate) else here


_DKMS_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?=(.*)$")
_SHELL_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def find_dkms_conf(root: str) -> str | None:
    """The dkms.conf of the package a given folder belongs to (the folder or two above)."""
    current = os.path.abspath(root)
    for _ in range(3):
        candidate = os.path.join(current, "dkms.conf")
        if os.path.isfile(candidate):
            return candidate
        current = os.path.dirname(current)
    return None


def read_dkms_make(
    path: str, kernel_release: str | None = None, targets: set[str] | None = None
) -> dict[str, str]:
    """The VAR=value words of dkms.conf's ``MAKE[0]=`` (or ``MAKE=``) command: what ``dkms
    build`` gives make on its command line (``HDAPS=1``, ``CONFIG_LTTNG=m``). dkms's own
    variables are filled in where known (the package's build folder is the dkms.conf's
    folder); a value that still needs the shell is left out."""
    try:
        text = read_regular_text(path, MAKEFILE_LIMIT)
    except OSError:
        return {}
    here = os.path.dirname(os.path.abspath(path))
    known: dict[str, str] = {"source_tree": "/usr/src", "dkms_tree": "/var/lib/dkms"}
    if kernel_release:
        known["kernelver"] = kernel_release
    commands: list[str] = []
    for _, line in _logical_lines(text):
        m = _DKMS_ASSIGN.match(line)
        if not m:
            continue
        name, index, raw = m.group(1), m.group(2), m.group(3).strip()
        words = _shell_words(raw)
        value = words[0] if len(words) == 1 else raw.strip("\"'")
        if name == "MAKE" and index in (None, "[0]", "[$i]"):
            commands.append(value)
        elif index is None and "`" not in value and "$(" not in value:
            # unknown parts stay as a NUL marker: the words holding one are dropped below
            known[name] = _shell_expand(value, known, keep=True) or ""
    if not commands:
        return {}
    name, version = known.get("PACKAGE_NAME", ""), known.get("PACKAGE_VERSION", "")
    build_dirs = [
        f"/var/lib/dkms/{name}/{version}/build",
        f"/usr/src/{name}-{version}",
    ]
    command = _shell_expand(commands[0], known, keep=True) or ""

    def local(value: str) -> str:
        # dkms copies the package to its build folder: that is the dkms.conf's folder here
        for prefix in build_dirs:
            if name and value.startswith(prefix):
                return here + value[len(prefix) :]
        return value

    out: dict[str, str] = {}
    # the words of `make -C <kernel> M=<build> VAR=value` and of a plain `make VAR=value`
    # (the driver's Makefile gets them, and passes them on to the kernel's make)
    for piece in re.split(r";|&&|\|\||\n", command):
        for word in _shell_words(piece.strip().lstrip("( ")):
            m = _VAR_WORD.fullmatch(word)
            if not m or any(c in m.group(2) for c in ("\0", "$(", "`")):
                continue  # needs the shell (or a dkms variable not known here)
            var, value = m.group(1), local(m.group(2))
            if var in ("M", "KBUILD_EXTMOD", "SUBDIRS"):
                if targets is not None and os.path.isdir(value):
                    targets.add(os.path.normpath(value))  # the folders kbuild is given
            elif var not in _NOT_DRIVER_VARS:
                out.setdefault(var, value)
    return out


def _shell_expand(value: str, known: dict[str, str], keep: bool = False) -> str | None:
    """$NAME / ${NAME} from *known*; an unknown one makes None (or a NUL marker, *keep*)."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        name = m.group(1) or m.group(2)
        if name in known:
            return known[name]
        missing = True
        return "\0"

    out = _SHELL_VAR.sub(one, value)
    if missing and not keep:
        return None
    return out


@dataclass(slots=True)
class _DirResult:
    kbuild_path: str
    make: _Make
    obj_y: list[str]
    obj_m: list[str]


class _Grouper:
    def __init__(
        self,
        config: dict[str, str] | None,
        defines: dict[str, str] | None = None,
        kernel_release: str | None = None,
        kernel_tree: str | None = None,
    ) -> None:
        self.config = config
        # A kernel's .config (kconfig always writes CONFIG_MODULES, set or "is not set")
        # never mentions an out-of-tree driver's own options: those read as =m. A fragment
        # written for the driver (no CONFIG_MODULES) is its whole configuration: what it
        # does not set is off.
        self.kernel_config = config is not None and "CONFIG_MODULES" in config
        self.kernel_tree = kernel_tree
        self.defines = dict(defines or {})  # --define: highest priority, everywhere
        self.release = kernel_release
        # dkms.conf MAKE variables, by the folder holding the dkms.conf
        self.root_defines: dict[str, dict[str, str]] = {}
        # what a plain-make reading of a driver's Makefile passes to the kernel's make,
        # by target folder: (command-line variables, exported variables)
        self.plans: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        self.walk_roots: list[str] = []
        # folders a driver's own build hands to kbuild (M=/KBUILD_EXTMOD= of its recipes or
        # of its dkms.conf), by the folder of that Makefile/dkms.conf: where a driver names
        # some, its other Makefiles below are not kbuild's
        self.targets: dict[str, set[str]] = {}
        self.result = KbuildResult()
        self.visited: set[str] = set()  # abspaths of directories read
        self.visited_folders: set[tuple[int, int]] = set()  # (st_dev, st_ino) of those
        self.covered: set[str] = set()  # abspaths of directories left out by the config
        self.named: set[str] = set()  # abspaths of .c files some Kbuild names
        self.modules: dict[tuple[str, str], KbuildModule] = {}
        self.arch = _srcarch(config)
        self.assumed: set[str] = set()
        self._problem_keys: set[tuple[str, int, str]] = set()

    def problem(self, path: str, line: int, message: str) -> None:
        key = (path, line, message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self.result.problems.append(key)

    def base_vars(self, srctree: str, directory: str) -> dict[str, _Var]:
        rel = os.path.relpath(directory, srctree)
        tree = srctree
        if not is_kernel_tree(srctree):
            # an external module (make M=/abs/dir): kbuild's $(src) and $(obj) are that
            # absolute folder, so $(wildcard $(src)/*.c) and $(patsubst $(src)/%.c,...) work,
            # and $(srctree) is the target kernel's tree ($(wildcard $(srctree)/include/...)
            # tests of what the kernel has)
            rel = os.path.abspath(directory)
            tree = self.kernel_tree or srctree
        bits = "64" if self.config is None or self.config.get("CONFIG_64BIT") == "y" else "32"
        version = _release_numbers(self.release)
        fixed = {
            "srctree": tree,
            "objtree": tree,
            "src": rel,
            "obj": rel,
            # kbuild reads a module's Makefile with KERNELRELEASE set (the dual Makefile's
            # `ifneq ($(KERNELRELEASE),)` branch) and VERSION/PATCHLEVEL of the target
            "KERNELRELEASE": self.release or "kmodlint",
            "KERNELVERSION": self.release or "kmodlint",
            "VERSION": version[0] if version else "6",
            "PATCHLEVEL": version[1] if version else "0",
            "SRCARCH": self.arch,
            "ARCH": self.arch,
            "BITS": bits,
            "CC": "gcc",
            "HOSTCC": "gcc",
            "CONFIG_SHELL": "sh",
            "comma": ",",
            "empty": "",
            "space": " ",
            "quote": '"',
            "squote": "'",
            "pound": "#",
        }
        if version:
            fixed["SUBLEVEL"] = version[2]
        here = os.path.abspath(directory)
        fixed.update({"PWD": here, "CURDIR": here, "M": here})
        return {k: _Var(v, recursive=False) for k, v in fixed.items()}

    def _nearest(self, table: Mapping[str, _T], directory: str) -> _T | None:
        """The entry of *table* for *directory* or its closest ancestor."""
        current = os.path.abspath(directory)
        while True:
            if current in table:
                return table[current]
            parent = os.path.dirname(current)
            if parent == current:
                return None
            current = parent

    def make_settings(self, directory: str) -> tuple[dict[str, str], dict[str, str]]:
        """(command-line variables, environment) for kbuild's reading of *directory*:
        what the driver's own Makefile passes < its dkms.conf MAKE line < --define."""
        overrides: dict[str, str] = {}
        env: dict[str, str] = {}
        plan = self._nearest(self.plans, directory)
        if plan is not None:
            overrides.update(plan[0])
            env.update(plan[1])
        overrides.update(self._nearest(self.root_defines, directory) or {})
        overrides.update(self.defines)
        return overrides, env

    def _include_roots(self, directory: str) -> tuple[str, ...]:
        here = os.path.abspath(directory)
        roots = [r for r in self.walk_roots if here == r or here.startswith(r + os.sep)]
        out: list[str] = []
        current = here
        while roots:
            out.append(current)
            if current in roots or os.path.dirname(current) == current:
                break
            current = os.path.dirname(current)
        return tuple(out)

    def new_make(self, directory: str, srctree: str, extra: dict[str, str] | None = None) -> _Make:
        variables = self.base_vars(srctree, directory)
        overrides, env = self.make_settings(directory)
        for k, v in env.items():
            variables.setdefault(k, _Var(v, recursive=False))
        for k, v in (extra or {}).items():
            variables[k] = _Var(v, recursive=False)
        return _Make(
            variables,
            self.config,
            srctree,
            self.problem,
            overrides=overrides,
            out_of_tree=not is_kernel_tree(srctree) and self.kernel_config,
            include_roots=self._include_roots(directory),
            kernel_tree=self.kernel_tree,
        )

    def plan_from_makefile(self, directory: str, srctree: str, makefile: str) -> None:
        """Read a driver's Makefile as plain ``make`` does (KERNELRELEASE unset) and keep
        what its recipes pass to the kernel's make (``$(MAKE) -C $(KDIR) M=$(PWD)/drv
        DRV_BUILD_ALL=m``): the variables and the exported ones, for the folder named."""
        variables = self.base_vars(srctree, directory)
        for name in ("KERNELRELEASE", "KERNELVERSION", "M"):
            variables.pop(name, None)
        variables["MAKE"] = _Var("make", recursive=False)
        overrides, env = self.make_settings(directory)
        for k, v in env.items():
            variables.setdefault(k, _Var(v, recursive=False))
        make = _Make(
            variables,
            self.config,
            srctree,
            lambda *_: None,
            overrides=overrides,
            out_of_tree=self.kernel_config,
            include_roots=self._include_roots(directory),
            kernel_tree=self.kernel_tree,
        )
        try:
            make.read_file(makefile)
        except Exception:  # best effort: the kbuild reading reports the file's problems
            return
        here = os.path.abspath(directory)
        exported: dict[str, str] = {}
        for name in sorted(make.exported):
            if name in make.vars and name not in overrides and not name.startswith("obj-"):
                try:
                    exported[name] = make.lookup(name).strip()
                except (_MakeError, RecursionError):
                    continue
        for raw in make.recipes:
            try:
                text = make.expand(raw.strip())
            except (_MakeError, RecursionError):
                continue
            for target, words in _kernel_make_calls(text, here):
                self.targets.setdefault(here, set()).add(target)
                old = self.plans.get(target)
                merged = dict(words)
                merged_env = dict(exported)
                if old is not None:  # several recipes: the first one's value stays
                    merged.update(old[0])
                    merged_env.update(old[1])
                self.plans[target] = (merged, merged_env)

    def read_dir(
        self, directory: str, srctree: str, kbuild: str, extra: dict[str, str] | None = None
    ) -> _DirResult:
        make = self.new_make(directory, srctree, extra)
        try:
            make.read_file(kbuild)
        except Exception as error:  # never let one file stop the run
            self.problem(kbuild, 0, f"cannot read Kbuild file: {type(error).__name__}: {error}")
        obj_y = self._list(make, "obj-y")
        obj_m = self._list(make, "obj-m")
        if self.config is None or make.assumed:
            # obj-$(DRV_BUILD_ALL)$(CONFIG_DRV): with an option read as "m" (none given, or
            # the driver's own) the list may be obj-mm, which the real build has as obj-m
            for name in list(make.vars):
                if name.startswith("obj-") and name not in ("obj-y", "obj-m", "obj-"):
                    suffix = name[4:]
                    if re.fullmatch("[ym]+", suffix):  # obj-$(CONFIG_A)$(CONFIG_B)
                        obj_m += self._list(make, name)
        in_y = set(obj_y)
        obj_m = list(dict.fromkeys(w for w in obj_m if w not in in_y))
        self.assumed.update(make.assumed)
        return _DirResult(kbuild, make, list(dict.fromkeys(obj_y)), obj_m)

    def _list(self, make: _Make, name: str) -> list[str]:
        try:
            return _words(make.lookup(name))
        except (_MakeError, RecursionError) as error:
            self.problem(make.files_read[0] if make.files_read else "", 0, str(error))
            return []

    def visit(
        self,
        directory: str,
        srctree: str,
        inherited: str,
        kbuild: str | None = None,
        extra: dict[str, str] | None = None,
        depth: int = 0,
    ) -> None:
        key = os.path.abspath(directory)
        if key in self.visited:
            return
        self.visited.add(key)
        try:
            info = os.stat(directory)
        except OSError:
            return
        # the folder itself, whatever the path: `obj-m += x/ y/` with x and y links to `.`
        # would otherwise be 2^depth visits of one folder
        if (info.st_dev, info.st_ino) in self.visited_folders:
            return
        self.visited_folders.add((info.st_dev, info.st_ino))
        kbuild = kbuild or _kbuild_file(directory)
        if kbuild is None:
            return
        if depth == 0 and os.path.basename(kbuild) == "Makefile" and not is_kernel_tree(srctree):
            # the top of a driver: `make` there runs its recipes first
            self.plan_from_makefile(directory, srctree, kbuild)
        d = self.read_dir(directory, srctree, kbuild, extra)
        make = d.make
        # flags
        subdir_flags = " ".join([inherited, self._flag_text(make, "subdir-ccflags")]).strip()
        dir_flags = " ".join(
            [subdir_flags, self._flag_text(make, "ccflags"), self._safe(make, "EXTRA_CFLAGS")]
        )

        # skipped by configuration
        if self.config is not None:
            for name in ("obj-", "obj-n"):
                for word in self._list(make, name):
                    if word in d.obj_y or word in d.obj_m:
                        continue
                    self.result.skipped_by_config += 1
                    if word.endswith("/"):
                        self.covered.add(os.path.abspath(os.path.join(directory, word)))

        builtin_suffixes = ("-objs", "-y") + (("-m",) if self.config is None else ())
        for word in d.obj_y:
            if word.endswith("/") or not word.endswith(".o"):
                continue
            for part in self._parts(make, word, builtin_suffixes, directory, set()):
                self.result.builtin_sources.add(part)
                self.named.add(os.path.abspath(part))

        for word in d.obj_m:
            if word.endswith("/") or not word.endswith(".o"):
                continue
            self._add_module(make, word, directory, d.kbuild_path, dir_flags, srctree)

        self._note_named(directory, make)
        for word in d.obj_y + d.obj_m:
            if not word.endswith("/"):
                continue
            sub = os.path.normpath(os.path.join(directory, word))
            if os.path.abspath(sub) in self.visited:
                continue
            if not self._inside_roots(sub, srctree):
                # `obj-m += ../../../../elsewhere/`: kbuild would go there, but what the
                # user did not give is not analysed (nor reported) behind their back
                where = make.where(word, ("obj-y", "obj-m"), d.kbuild_path)
                self.problem(
                    where[0],
                    where[1],
                    f"{word} is outside the paths given: not analysed (give it too to include it)",
                )
                self.visited.add(os.path.abspath(sub))
                continue
            if _kbuild_file(sub) is None:
                where = make.where(word, ("obj-y", "obj-m"), d.kbuild_path)
                self.problem(where[0], where[1], f"no Kbuild or Makefile in {word}")
                self.visited.add(os.path.abspath(sub))
                continue
            if depth > 40:
                self.problem(d.kbuild_path, 0, "directories nest too deep")
                continue
            self.visit(sub, srctree, subdir_flags, depth=depth + 1)

    def _inside_roots(self, folder: str, srctree: str) -> bool:
        """Whether *folder* lies in a path the user gave, or in the kernel tree they gave
        part of (kbuild's descent from the tree's top passes through folders not given)."""
        if not self.walk_roots:
            return True  # a caller that gave no roots (a library use): nothing to hold to
        target = os.path.realpath(folder)
        tops = list(self.walk_roots)
        if is_kernel_tree(srctree):
            tops.append(os.path.abspath(srctree))
        return any(
            target == top or target.startswith(top.rstrip(os.sep) + os.sep)
            for top in (os.path.realpath(t) for t in tops)
        )

    def _note_named(self, directory: str, make: _Make) -> None:
        """Remember the .c files of *directory* that its Kbuild text mentions in any way.

        A file named under a disabled option, a host program, a file #included by a sibling
        (``ehci-hub.c``) or a name built from a variable (``irq_$(BITS).o``) is not an orphan.
        """
        try:
            names = [n for n in os.listdir(directory) if n.endswith(".c")]
        except OSError:
            return
        if all(os.path.abspath(os.path.join(directory, n)) in self.named for n in names):
            return
        texts = list(make.texts) + [v.value for v in make.vars.values()]
        tokens: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for text in texts:
            for token in _NAME_TOKEN.findall(text):
                token = token.rsplit("/", 1)[-1] if "/" in token else token
                if "$" in token:
                    parts = re.split(r"\$[({][^)}]*[)}]|\$.", token)
                    if any(parts):
                        patterns.append(re.compile(".*".join(map(re.escape, parts))))
                else:
                    tokens.add(token)
        left: list[str] = []
        for name in names:
            stem = name[:-2]
            if os.path.abspath(os.path.join(directory, name)) in self.named:
                continue
            if any(t in tokens for t in (stem, stem + ".o", name, stem + ".s")) or any(
                p.fullmatch(stem + ".o") or p.fullmatch(stem) for p in patterns
            ):
                self.named.add(os.path.abspath(os.path.join(directory, name)))
            else:
                left.append(name)
        if not left:
            return
        includes: set[str] = set()
        for name in names:
            try:
                # discovery may have flagged it already (a FIFO, x.c -> /dev/zero): never read
                text = read_regular_text(os.path.join(directory, name), SOURCE_LIMIT)
            except OSError:
                continue
            includes.update(_C_INCLUDE.findall(text))
        for name in left:
            if name in includes:
                self.named.add(os.path.abspath(os.path.join(directory, name)))

    def _safe(self, make: _Make, name: str) -> str:
        try:
            return make.lookup(name)
        except (_MakeError, RecursionError):
            return ""

    def _flag_text(self, make: _Make, stem: str) -> str:
        parts = [self._safe(make, f"{stem}-y")]
        if self.config is None:
            parts.append(self._safe(make, f"{stem}-m"))
        return " ".join(p for p in parts if p)

    def _parts(
        self,
        make: _Make,
        word: str,
        suffixes: tuple[str, ...],
        directory: str,
        stack: set[str],
        parts_out: list[str] | None = None,
        unseen: list[str] | None = None,
    ) -> list[str]:
        """The .c files of object *word* (composite ones expanded, nested ones too); the
        objects with no source at all go to *unseen*."""
        out: list[str] = [] if parts_out is None else parts_out
        stem = word[:-2]
        composite = any(self._safe(make, stem + s).strip() for s in (*suffixes, "-"))
        if composite and word not in stack:
            stack = stack | {word}
            for s in suffixes:
                for part in _words(self._safe(make, stem + s)):
                    if part.endswith(".o"):
                        self._parts(make, part, suffixes, directory, stack, out, unseen)
            return out
        source = os.path.normpath(os.path.join(directory, stem + ".c"))
        if os.path.isfile(source):
            if source not in out:
                out.append(source)
        elif unseen is not None and not any(
            os.path.isfile(os.path.join(directory, stem + ext))
            for ext in (".S", ".c_shipped", ".S_shipped")
        ):
            unseen.append(word)
        return out

    def _add_module(
        self, make: _Make, word: str, directory: str, kbuild: str, flags: str, srctree: str
    ) -> None:
        suffixes = ("-objs", "-y", "-m")
        generated: list[str] = []
        sources = self._parts(make, word, suffixes, directory, set(), unseen=generated)
        path, line = make.where(word, ("obj-m",), kbuild)
        name = os.path.basename(word[:-2])
        if not sources:
            self.problem(
                path,
                line,
                f"module {name}: no C source found (assembler, generated or missing parts)",
            )
        for source in sources:
            self.named.add(os.path.abspath(source))
        rel_words = [word] + [os.path.relpath(s, directory)[:-2] + ".o" for s in sources]
        per_file = " ".join(self._safe(make, f"CFLAGS_{w}") for w in dict.fromkeys(rel_words))
        defines: list[tuple[str, str]] = []
        includes: list[str] = []
        _parse_flags(f"{flags} {per_file}", srctree, defines, includes)
        if self.kernel_tree:
            # -I$(srctree)/... of an external module: the kernel's own headers, which the C
            # front end stands in for with its stub headers
            inside = self.kernel_tree + os.sep
            includes = [i for i in includes if not os.path.abspath(i).startswith(inside)]
        module = KbuildModule(
            name=name,
            directory=directory,
            kbuild_path=path,
            line=line,
            sources=tuple(sources),
            defines=tuple(defines),
            include_dirs=tuple(includes),
            generated=tuple(dict.fromkeys(generated)) if sources else (),
        )
        key = (os.path.abspath(directory), word)
        if key not in self.modules:
            self.modules[key] = module

    # ---- top level of a kernel tree

    def visit_kernel_tree(self, root: str) -> None:
        arch_makefile = os.path.join(root, "arch", self.arch, "Makefile")
        extra = {"ARCH_CORE": "", "ARCH_LIB": "lib/", "ARCH_DRIVERS": ""}
        if os.path.isfile(arch_makefile):
            variables = self.base_vars(root, root)
            variables["core-y"] = _Var("", recursive=False)
            variables["drivers-y"] = _Var("", recursive=False)
            variables["libs-y"] = _Var("lib/", recursive=False)
            make = _Make(variables, self.config, root, lambda *_: None)
            try:
                make.read_file(arch_makefile)
                lib = " ".join(w for w in _words(make.lookup("libs-y")) if w.endswith("/"))
                extra = {
                    "ARCH_CORE": make.lookup("core-y"),
                    "ARCH_LIB": lib,
                    "ARCH_DRIVERS": f"{make.lookup('drivers-y')} {make.lookup('drivers-m')}",
                }
            except Exception:  # the arch Makefile is best effort
                pass
        self.visit(root, root, "", kbuild=os.path.join(root, "Kbuild"), extra=extra)


def _kbuild_tops(directory: str, tree: str, arch: str) -> list[str]:
    """The first directories under a Kbuild-less *directory* of a kernel tree that have one
    (``arch/`` gives ``arch/<SRCARCH>`` only)."""
    tops: list[str] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return tops
    is_arch = os.path.abspath(directory) == os.path.join(tree, "arch")
    for name in names:
        sub = os.path.join(directory, name)
        if not os.path.isdir(sub) or os.path.islink(sub) or (is_arch and name != arch):
            continue
        if _kbuild_file(sub) is not None:
            tops.append(sub)
        else:
            tops.extend(_kbuild_tops(sub, tree, arch))
    return tops


def group_sources(
    roots: list[str],
    config: dict[str, str] | None,
    c_files: list[str] | None = None,
    defines: dict[str, str] | None = None,
    kernel_release: str | None = None,
    kernel_tree: str | None = None,
) -> KbuildResult:
    """Read the Kbuild files under *roots* and say which .c files make which module.

    *defines* are make command-line variables (``make CONFIG_X=m``, kmodlint's --define);
    a ``dkms.conf`` beside a root adds its ``MAKE[0]`` line's. *kernel_release* (the target
    kernel's, e.g. "6.1.0-56-amd64") sets KERNELRELEASE, VERSION, PATCHLEVEL, SUBLEVEL;
    *kernel_tree* (its source or headers tree) is $(srctree) for out-of-tree drivers.
    """
    g = _Grouper(config, defines, kernel_release, kernel_tree)
    candidates: list[str] = [os.path.normpath(c) for c in (c_files or [])]
    in_kernel: dict[str, str | None] = {}

    def tree_of(directory: str) -> str | None:
        key = os.path.abspath(directory)
        if key not in in_kernel:
            in_kernel[key] = _kernel_tree_of(directory)
        return in_kernel[key]

    def srctree_for(directory: str) -> str:
        tree = tree_of(directory)
        if tree is None:
            return directory
        rel = os.path.relpath(tree, os.path.abspath(directory))
        return tree if os.path.isabs(directory) else os.path.normpath(os.path.join(directory, rel))

    def read_dkms(dkms: str | None) -> None:
        if dkms is not None and os.path.dirname(dkms) not in g.root_defines:
            named: set[str] = set()
            found = read_dkms_make(dkms, kernel_release, named)
            if named:
                g.targets.setdefault(os.path.dirname(dkms), set()).update(named)
            g.root_defines[os.path.dirname(dkms)] = found
            # --define wins over the dkms.conf word: the note shows only what applied
            g.result.dkms_defines.extend(
                (dkms, k, v) for k, v in found.items() if k not in g.defines
            )

    walk_dirs: list[str] = []
    for given in roots:
        root = os.path.normpath(given)
        folder = root if os.path.isdir(root) else os.path.dirname(root) or "."
        g.walk_roots.append(os.path.abspath(folder))
        if os.path.isdir(folder) and tree_of(folder) is None:
            read_dkms(find_dkms_conf(folder))
    for given in roots:
        root = os.path.normpath(given)
        try:
            if os.path.isdir(root):
                walk_dirs.append(root)
                if is_kernel_tree(root):
                    g.visit_kernel_tree(root)
                elif _kbuild_file(root) is not None:
                    g.visit(root, srctree_for(root), "")
                elif tree_of(root) is not None:
                    for top in _kbuild_tops(root, tree_of(root) or root, g.arch):
                        g.visit(top, srctree_for(top), "")
            elif os.path.isfile(root):
                directory = os.path.dirname(root) or "."
                if os.path.basename(root) in KBUILD_FILES:
                    g.visit(directory, srctree_for(directory), "", kbuild=root)
                elif root.endswith(".c"):
                    candidates.append(root)
                    if _kbuild_file(directory) is not None:
                        g.visit(directory, srctree_for(directory), "")
            else:
                g.problem(root, 0, "no such file or directory")
        except Exception as error:  # never raise
            g.problem(root, 0, f"cannot group: {type(error).__name__}: {error}")

    # walk: unreached Kbuild directories outside a kernel tree start their own descent;
    # the .c files of read directories, and of directories without any Kbuild, are candidates
    walked: dict[str, str] = {}  # candidate -> the root whose walk found it

    def not_handed(folder: str) -> bool:
        """A Makefile folder below a driver top whose build hands kbuild other folders only
        (dahdi's Makefile: KBUILD_EXTMOD=drivers/dahdi, not drivers/dahdi/datamods)."""
        return any(
            folder.startswith(top + os.sep) and folder not in named
            for top, named in g.targets.items()
        )

    for root in walk_dirs:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            key = os.path.abspath(directory)
            if key in g.covered or any(key.startswith(c + os.sep) for c in g.covered):
                subdirs[:] = []
                continue
            inside_kernel = tree_of(directory) is not None
            if not inside_kernel and "dkms.conf" in files:
                # a package in a folder of packages: its MAKE line before its Makefiles
                read_dkms(os.path.join(os.path.abspath(directory), "dkms.conf"))
            if (
                key not in g.visited
                and not inside_kernel
                and _kbuild_file(directory)
                and not not_handed(key)
            ):
                try:
                    g.visit(directory, srctree_for(directory), "")
                except Exception as error:
                    g.problem(directory, 0, f"cannot group: {type(error).__name__}: {error}")
            if inside_kernel and key not in g.visited:
                continue
            for name in sorted(files):
                # a FIFO or a link to /dev/zero named x.c: discovery said so in one line;
                # as a candidate it would be that file's second line (and a read)
                if name.endswith(".c") and os.path.isfile(os.path.join(directory, name)):
                    candidates.append(os.path.join(directory, name))
                    walked.setdefault(os.path.abspath(candidates[-1]), os.path.abspath(root))

    read_dirs = [v for v in g.visited if _kbuild_file(v) is not None]
    governed_roots: dict[str, bool] = {}

    def governed(root: str, folder: str) -> bool:
        """Whether *folder* (of the walk of *root*) lies in a driver whose build none of its
        Kbuild/Makefiles takes there: a Kbuild/Makefile was read in a folder above it, or a
        folder above it (up to *root*) is a package (a dkms.conf with a Kbuild read in it;
        a configure step that writes the Makefiles). A folder of lone modules beside other
        drivers (a collection) is not governed."""
        if any(folder.startswith(v + os.sep) for v in read_dirs):
            return True
        current = folder
        while current == root or current.startswith(root + os.sep):
            if is_package(current):
                return True
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        return False

    def is_package(top: str) -> bool:
        if top not in governed_roots:
            marks = ("dkms.conf", "configure", "Makefile.in", "Makefile.am", "Kbuild.in")
            found = [m for m in marks if os.path.isfile(os.path.join(top, m))]
            governed_roots[top] = bool(found) and (
                # Makefiles a configure step writes (openafs): none exists before it runs
                found != ["dkms.conf"]
                or any(v == top or v.startswith(top + os.sep) for v in read_dirs)
            )
        return governed_roots[top]

    seen: set[str] = set()
    for source in candidates:
        key = os.path.abspath(source)
        if key in seen or key in g.named:
            continue
        seen.add(key)
        if tree_of(os.path.dirname(key)) is not None and os.path.dirname(key) not in g.visited:
            continue  # a kernel directory the configuration leaves out
        g.result.orphan_sources.append(source)
        walk_root = walked.get(key)
        folder = os.path.dirname(key)
        if walk_root is not None and folder not in g.visited and governed(walk_root, folder):
            g.result.unreached_sources.add(source)
    g.result.orphan_sources.sort()
    g.result.assumed_options = sorted(g.assumed)
    g.result.modules = sorted(g.modules.values(), key=lambda m: (m.directory, m.name))
    return g.result
