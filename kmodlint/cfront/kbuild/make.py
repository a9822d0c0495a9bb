"""The subset of GNU make that Kbuild files use, interpreted without running make.

Assignments of every flavour, ``$(...)`` references and the common functions,
``ifeq``/``ifdef`` conditionals, ``include``, ``define``. Nothing is executed: ``$(shell ...)``
is empty, recipes are skipped. A line that cannot be understood becomes a problem entry,
never an exception; each evaluation has a work budget (MAKE_WORK_BUDGET), and all the
evaluations of one run share a larger one (MAKE_RUN_BUDGET, a RunBudget).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest

from kmodlint.safe_io import MAKEFILE_LIMIT, read_regular_text

# Without a configuration every CONFIG_ symbol reads as this value: obj-$(CONFIG_X) becomes a
# module entry and foo-$(CONFIG_X) a part of foo.
_NO_CONFIG_VALUE = "m"
_MAX_DEPTH = 60
# Work one make evaluation (a folder's Kbuild and its includes) may cost, in characters
# read or expanded, with each file read and each expansion costing a little more: a real
# kernel folder needs at most 3 % of it (amdgpu's Makefile, 638k, on linux-6.1), while
# `V1 = $(V0)$(V0)` ... `V30` or a Makefile including itself five times would never end.
MAKE_WORK_BUDGET = 20_000_000
# Work all evaluations of one run may cost together: reading every Kbuild file of
# linux-6.1 with Debian's .config (1,360 evaluations, 4,023 modules) costs 8.3 million, so
# this is 7 such trees; without it a tree of N folders that each spend just under
# MAKE_WORK_BUDGET costs N times what one does (6-12 s on this project's machines).
MAKE_RUN_BUDGET = 3 * MAKE_WORK_BUDGET
_READ_COST = 4096
_EXPAND_COST = 16


# --------------------------------------------------------------------------- make subset


class MakeError(Exception):
    pass


@dataclass(slots=True)
class RunBudget:
    """The make work the rest of a run may spend (shared by its evaluations)."""

    left: int = field(default_factory=lambda: MAKE_RUN_BUDGET)


@dataclass(slots=True)
class MakeVariable:
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
MAKE_NAME = re.compile(r"[\w./+-]*(?:\$[({][^)}\s]*[)}][\w./+-]*)*[\w./+-]+")


def make_words(text: str) -> list[str]:
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


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """Each character of *text* outside every `$(...)`/`${...}` (and plain bracket) group,
    with its index: where make looks for a function's commas, an assignment's operator, a
    rule's colon. The one bracket counter of the make interpreter."""
    depth = 0
    for index, char in enumerate(text):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif depth == 0:
            yield index, char


def _split_args(text: str, limit: int | None = None) -> list[str]:
    """Split function arguments on top-level commas (at most *limit* pieces)."""
    args: list[str] = []
    start = 0
    for i, c in _top_level(text):
        if c == "," and (limit is None or len(args) < limit - 1):
            args.append(text[start:i])
            start = i + 1
    args.append(text[start:])
    return args


class MakeEvaluator:
    """One make evaluation: variables, conditionals, includes; reads no recipes."""

    def __init__(
        self,
        variables: dict[str, MakeVariable],
        config: dict[str, str] | None,
        srctree: str,
        problem: Callable[[str, int, str], None],
        overrides: dict[str, str] | None = None,
        out_of_tree: bool = False,
        include_roots: tuple[str, ...] = (),
        kernel_tree: str | None = None,
        run_budget: RunBudget | None = None,
    ) -> None:
        self.vars = variables
        self.run_budget = RunBudget() if run_budget is None else run_budget
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
            self.vars[name] = MakeVariable(value, recursive=False)
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
        self.run_budget.left -= units
        if self.exhausted:
            return
        if self.work > MAKE_WORK_BUDGET:
            self.exhausted = True
            raise MakeError(
                "too complex to evaluate (self-including files or exponential variable "
                "expansion): analysed partly"
            )
        if self.run_budget.left < 0:
            self.exhausted = True
            raise MakeError(
                "not evaluated: the Kbuild files read before it spent this run's make "
                "budget (seven times what all of Linux's cost): analysed partly"
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
                raise MakeError("variable expansion recurses too deep")
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
                        raise MakeError(f"unterminated variable reference: {text[j:][:40]}")
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
        match = re.match(r"([a-z-]+)[ \t]", inner)
        if match and match.group(1) in _FUNCTIONS:
            return _FUNCTIONS[match.group(1)](self, inner[match.end() :].lstrip(" \t"))
        # substitution reference $(var:a=b)
        for i, c in _top_level(inner):
            if c == ":":
                rest = inner[i + 1 :]
                if "=" in rest:
                    name = self.expand(inner[:i]).strip()
                    a, _, b = rest.partition("=")
                    a, b = self.expand(a), self.expand(b)
                    if "%" not in a:
                        a, b = "%" + a, "%" + b
                    return " ".join(_patsubst(a, b, w) for w in make_words(self.lookup(name)))
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
        for number, raw in makefile_lines(text, first_line):
            if self.exhausted:
                return
            self._where = (path, number)
            if define is not None:
                define = self._define_line(raw, define, conds)
                continue
            if raw.startswith("\t") and in_rule:
                if not conds or conds[-1].active:
                    self.recipes.append(raw)
                continue  # a recipe
            line = _strip_comment(raw).strip()
            if not line:
                continue
            try:
                in_rule, define = self._line(line, conds, path, number, in_rule)
            except MakeError as error:
                self.problem(path, number, str(error))
            except RecursionError:
                self.problem(path, number, "variable expansion recurses too deep")
        if define is not None:
            self.problem(path, number if text else 0, "missing 'endef'")
        for cond in conds:
            self.problem(path, cond.line, "conditional without 'endif'")

    def _define_line(
        self, raw: str, define: tuple[str, str, list[str]], conds: list[_Cond]
    ) -> tuple[str, str, list[str]] | None:
        """A line of a `define NAME ... endef` body; None once `endef` assigned it."""
        if not raw.strip().startswith("endef"):
            define[2].append(raw)
            return define
        name, op, body = define
        if not conds or conds[-1].active:
            self._assign(name, op if op else "=", "\n".join(body), conds)
        return None

    def _line(
        self, line: str, conds: list[_Cond], path: str, number: int, in_rule: bool
    ) -> tuple[bool, tuple[str, str, list[str]] | None]:
        """One logical line outside a recipe and a define body: (in a rule now, the
        define it opens)."""
        keyword = line.split(None, 1)[0]
        if keyword in _DIRECTIVES_COND or keyword in ("else", "endif"):
            # a conditional inside a recipe does not end the rule (dahdi's
            # `modules:` recipe runs $(KMAKE) after an ifeq block)
            self._conditional(keyword, line, conds, path, number)
            return in_rule, None
        match = _DEFINE.match(line)
        if match:
            name = self.expand(match.group(1)).strip()
            return in_rule, (name, match.group(2) or "=", [])
        if conds and not conds[-1].active:
            return in_rule, None
        return self._statement(line, conds, path, number, in_rule), None

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
            raise MakeError(f"'{keyword}' without a matching 'if'")
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
                raise MakeError(f"cannot understand: {line[:60]}")
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
                raise MakeError(f"cannot understand condition: {arg[:60]}")
            parts = _split_args(arg[1:end], 2)
            if len(parts) != 2:
                raise MakeError(f"cannot understand condition: {arg[:60]}")
            return parts[0], parts[1]
        match = re.fullmatch(r"""(["'])(.*?)\1\s*(["'])(.*?)\3""", arg)
        if not match:
            raise MakeError(f"cannot understand condition: {arg[:60]}")
        return match.group(2), match.group(4)

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
                self.exported.update(make_words(self.expand(names)))
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
                raise MakeError(f"cannot understand assignment: {line[:60]}")
            self._assign(name, op, value, conds)
            return False
        if _is_rule(line):
            return True
        if line.startswith("$("):
            self.expand(line)  # $(eval ...), $(info ...), $(foreach ... $(eval ...))
            return in_rule
        raise MakeError(f"cannot understand: {line[:60]}")

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
                raise MakeError("variable expansion recurses too deep") from error
        if op in (":=", "::="):
            new = MakeVariable(self.expand(value), recursive=False)
        elif op == "=":
            new = MakeVariable(value, recursive=True)
        elif op == "?=":
            if old is not None or (name.startswith("CONFIG_") and self._config_set(name)):
                return
            new = MakeVariable(value, recursive=True)
        elif op == "!=":
            new = MakeVariable("", recursive=False)  # a shell command: never run
        else:  # +=
            if old is None:
                new = MakeVariable(value, recursive=True)
            elif old.recursive:
                new = MakeVariable(f"{old.value} {value}" if old.value else value, recursive=True)
            else:
                add = self.expand(value)
                new = MakeVariable(f"{old.value} {add}" if old.value else add, recursive=False)
        self.vars[name] = new
        if name.startswith("obj-"):
            words = self.expand(value) if op in ("=", "+=", "?=") else new.value
            for word in make_words(words):
                self.obj_lines.setdefault((word, name), self._where)

    def _config_set(self, name: str) -> bool:
        return self.config is not None and bool(self.config.get(name))

    def _include(self, rest: str, optional: bool, path: str, number: int) -> None:
        if self._include_depth > 8:
            if not self._said_deep:  # once per evaluation, not once per include line
                self._said_deep = True
                raise MakeError("includes nest too deep")
            return
        for target in make_words(self.expand(rest)):
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


def makefile_lines(text: str, first_line: int = 1) -> Iterable[tuple[int, str]]:
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
    for i, c in _top_level(line):
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
    return None


def _is_rule(line: str) -> bool:
    return any(c == ":" for _, c in _top_level(line))


# ---- make functions (each takes the evaluator and the raw argument text)


def _fn_words1(fn: Callable[[list[str]], str]) -> Callable[[MakeEvaluator, str], str]:
    return lambda mk, raw: fn(make_words(mk.expand(raw)))


def _fn_args(n: int, fn: Callable[..., str]) -> Callable[[MakeEvaluator, str], str]:
    def run(mk: MakeEvaluator, raw: str) -> str:
        args = [mk.expand(a) for a in _split_args(raw, n)]
        while len(args) < n:
            args.append("")
        return fn(*args)

    return run


def _fn_if(mk: MakeEvaluator, raw: str) -> str:
    args = _split_args(raw, 3)
    if mk.expand(args[0]).strip():
        return mk.expand(args[1]) if len(args) > 1 else ""
    return mk.expand(args[2]) if len(args) > 2 else ""


def _fn_or(mk: MakeEvaluator, raw: str) -> str:
    for arg in _split_args(raw):
        value = mk.expand(arg).strip()
        if value:
            return value
    return ""


def _fn_and(mk: MakeEvaluator, raw: str) -> str:
    value = ""
    for arg in _split_args(raw):
        value = mk.expand(arg).strip()
        if not value:
            return ""
    return value


def _fn_foreach(mk: MakeEvaluator, raw: str) -> str:
    args = _split_args(raw, 3)
    if len(args) < 3:
        raise MakeError("foreach needs three arguments")
    name = mk.expand(args[0]).strip()
    saved = mk.vars.get(name)
    out = []
    try:
        for word in make_words(mk.expand(args[1])):
            mk.vars[name] = MakeVariable(word, recursive=False)
            out.append(mk.expand(args[2]))
    finally:
        if saved is None:
            mk.vars.pop(name, None)
        else:
            mk.vars[name] = saved
    return " ".join(o for o in out if o.strip())


def _fn_call(mk: MakeEvaluator, raw: str) -> str:
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
            mk.vars[str(i)] = MakeVariable(value, recursive=False)
        mk.vars["0"] = MakeVariable(name, recursive=False)
        return mk.expand(var.value) if var.recursive else var.value
    finally:
        for key, old in saved.items():
            if old is None:
                mk.vars.pop(key, None)
            else:
                mk.vars[key] = old


def _fn_eval(mk: MakeEvaluator, raw: str) -> str:
    path, number = mk._where
    mk.read_text(mk.expand(raw), path, number)
    mk._where = (path, number)
    return ""


def _fn_value(mk: MakeEvaluator, raw: str) -> str:
    var = mk.vars.get(mk.expand(raw).strip())
    return var.value if var else ""


def _fn_origin(mk: MakeEvaluator, raw: str) -> str:
    return "file" if mk.expand(raw).strip() in mk.vars else "undefined"


def _fn_wildcard(mk: MakeEvaluator, raw: str) -> str:
    out: list[str] = []
    for pattern in make_words(mk.expand(raw)):
        base = "" if os.path.isabs(pattern) else mk.srctree
        for hit in sorted(glob.glob(os.path.join(base, pattern))):
            out.append(hit if os.path.isabs(pattern) else os.path.relpath(hit, mk.srctree))
    return " ".join(out)


def _filter(patterns: str, text: str, keep: bool) -> str:
    pats = make_words(patterns)
    return " ".join(
        w for w in make_words(text) if any(_pattern_match(p, w) is not None for p in pats) == keep
    )


def _word(n: str, text: str) -> str:
    words = make_words(text)
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
    return " ".join(make_words(text)[start - 1 : end])


def _basename(word: str) -> str:
    stem, ext = os.path.splitext(word)
    return stem if ext and "/" not in ext else word


def _empty(_mk: MakeEvaluator, _raw: str) -> str:
    return ""


_FUNCTIONS: dict[str, Callable[[MakeEvaluator, str], str]] = {
    "subst": _fn_args(3, lambda a, b, t: t.replace(a, b) if a else t),
    "patsubst": _fn_args(
        3, lambda p, r, t: " ".join(_patsubst(p.strip(), r.strip(), w) for w in make_words(t))
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
    "addsuffix": _fn_args(2, lambda s, t: " ".join(w + s for w in make_words(t))),
    "addprefix": _fn_args(2, lambda p, t: " ".join(p + w for w in make_words(t))),
    "join": _fn_args(
        2,
        lambda a, b: " ".join(
            map("".join, zip_longest(make_words(a), make_words(b), fillvalue=""))
        ),
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
