"""Group C sources into kernel modules the way Kbuild does, without running make.

The Kbuild files are evaluated by the make interpreter (``make.py``), then read as
``scripts/Makefile.lib`` does it: ``obj-m := $(filter-out $(obj-y),$(obj-m))``; ``foo.o`` is
composite when ``foo-objs``, ``foo-y``, ``foo-m`` or ``foo-`` is set (``multi-search``) and
its parts are ``foo-objs foo-y`` (+ ``foo-m`` for a module; ``real-search``); ``dir/`` entries
of ``obj-y``/``obj-m`` are descended (``subdir-ym``); ``Kbuild`` wins over ``Makefile``
(``scripts/Makefile.build``, ``kbuild-file``); ``subdir-ccflags-y`` is inherited and
``EXTRA_CFLAGS`` joins ``ccflags-y``.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from kmodlint.cfront.kbuild.arch import is_kernel_tree, kernel_tree_of, release_numbers, srcarch
from kmodlint.cfront.kbuild.dkms import find_dkms_conf, kernel_make_calls, read_dkms_make
from kmodlint.cfront.kbuild.make import (
    MAKE_NAME,
    MakeError,
    MakeEvaluator,
    MakeVariable,
    RunBudget,
    make_words,
)
from kmodlint.folders import ancestors
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text

_T = TypeVar("_T")

KBUILD_FILES = ("Kbuild", "Makefile")


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


_C_INCLUDE = re.compile(r'^\s*#\s*include\s*"(?:[^"]*/)?([^"/]+\.c)"', re.MULTILINE)


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


@dataclass(slots=True)
class _DirResult:
    kbuild_path: str
    make: MakeEvaluator
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
        self.make_budget = RunBudget()  # shared by every make evaluation of the run
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
        self.arch = srcarch(config)
        self.assumed: set[str] = set()
        self._problem_keys: set[tuple[str, int, str]] = set()

    def problem(self, path: str, line: int, message: str) -> None:
        key = (path, line, message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self.result.problems.append(key)

    def base_vars(self, srctree: str, directory: str) -> dict[str, MakeVariable]:
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
        version = release_numbers(self.release)
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
        return {k: MakeVariable(v, recursive=False) for k, v in fixed.items()}

    def _nearest(self, table: Mapping[str, _T], directory: str) -> _T | None:
        """The entry of *table* for *directory* or its closest ancestor."""
        return next((table[f] for f in ancestors(directory) if f in table), None)

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

    def new_make(
        self, directory: str, srctree: str, extra: dict[str, str] | None = None
    ) -> MakeEvaluator:
        variables = self.base_vars(srctree, directory)
        overrides, env = self.make_settings(directory)
        for k, v in env.items():
            variables.setdefault(k, MakeVariable(v, recursive=False))
        for k, v in (extra or {}).items():
            variables[k] = MakeVariable(v, recursive=False)
        return MakeEvaluator(
            variables,
            self.config,
            srctree,
            self.problem,
            overrides=overrides,
            out_of_tree=not is_kernel_tree(srctree) and self.kernel_config,
            include_roots=self._include_roots(directory),
            kernel_tree=self.kernel_tree,
            run_budget=self.make_budget,
        )

    def plan_from_makefile(self, directory: str, srctree: str, makefile: str) -> None:
        """Read a driver's Makefile as plain ``make`` does (KERNELRELEASE unset) and keep
        what its recipes pass to the kernel's make (``$(MAKE) -C $(KDIR) M=$(PWD)/drv
        DRV_BUILD_ALL=m``): the variables and the exported ones, for the folder named."""
        variables = self.base_vars(srctree, directory)
        for name in ("KERNELRELEASE", "KERNELVERSION", "M"):
            variables.pop(name, None)
        variables["MAKE"] = MakeVariable("make", recursive=False)
        overrides, env = self.make_settings(directory)
        for k, v in env.items():
            variables.setdefault(k, MakeVariable(v, recursive=False))
        make = MakeEvaluator(
            variables,
            self.config,
            srctree,
            lambda *_: None,
            overrides=overrides,
            out_of_tree=self.kernel_config,
            include_roots=self._include_roots(directory),
            kernel_tree=self.kernel_tree,
            run_budget=self.make_budget,
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
                except (MakeError, RecursionError):
                    continue
        for raw in make.recipes:
            try:
                text = make.expand(raw.strip())
            except (MakeError, RecursionError):
                continue
            for target, words in kernel_make_calls(text, here):
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

    def _list(self, make: MakeEvaluator, name: str) -> list[str]:
        try:
            return make_words(make.lookup(name))
        except (MakeError, RecursionError) as error:
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
        kbuild = self._first_visit(directory, kbuild)
        if kbuild is None:
            return
        if depth == 0 and os.path.basename(kbuild) == "Makefile" and not is_kernel_tree(srctree):
            # the top of a driver: `make` there runs its recipes first
            self.plan_from_makefile(directory, srctree, kbuild)
        dir_result = self.read_dir(directory, srctree, kbuild, extra)
        make = dir_result.make
        # flags
        subdir_flags = " ".join([inherited, self._flag_text(make, "subdir-ccflags")]).strip()
        dir_flags = " ".join(
            [subdir_flags, self._flag_text(make, "ccflags"), self._safe(make, "EXTRA_CFLAGS")]
        )
        self._count_skipped(directory, dir_result)
        builtin_suffixes = ("-objs", "-y") + (("-m",) if self.config is None else ())
        for word in dir_result.obj_y:
            if word.endswith("/") or not word.endswith(".o"):
                continue
            for part in self._parts(make, word, builtin_suffixes, directory, set()):
                self.result.builtin_sources.add(part)
                self.named.add(os.path.abspath(part))

        for word in dir_result.obj_m:
            if word.endswith("/") or not word.endswith(".o"):
                continue
            self._add_module(make, word, directory, dir_result.kbuild_path, dir_flags, srctree)

        self._note_named(directory, make)
        for word in dir_result.obj_y + dir_result.obj_m:
            if word.endswith("/"):
                self._descend(directory, word, dir_result, srctree, subdir_flags, depth)

    def _first_visit(self, directory: str, kbuild: str | None) -> str | None:
        """The Kbuild/Makefile to read in *directory*, or None when it was visited already
        (by this path or another: `obj-m += x/ y/` with x and y links to `.` would
        otherwise be 2^depth visits of one folder) or has none."""
        key = os.path.abspath(directory)
        if key in self.visited:
            return None
        self.visited.add(key)
        try:
            info = os.stat(directory)
        except OSError:
            return None
        if (info.st_dev, info.st_ino) in self.visited_folders:
            return None
        self.visited_folders.add((info.st_dev, info.st_ino))
        return kbuild or _kbuild_file(directory)

    def _count_skipped(self, directory: str, d: _DirResult) -> None:
        """The objects the configuration leaves out (obj- / obj-n), and the folders."""
        if self.config is None:
            return
        for name in ("obj-", "obj-n"):
            for word in self._list(d.make, name):
                if word in d.obj_y or word in d.obj_m:
                    continue
                self.result.skipped_by_config += 1
                if word.endswith("/"):
                    self.covered.add(os.path.abspath(os.path.join(directory, word)))

    def _descend(
        self, directory: str, word: str, d: _DirResult, srctree: str, flags: str, depth: int
    ) -> None:
        """A `dir/` entry of obj-y/obj-m: kbuild's subdir-ym."""
        make = d.make
        sub = os.path.normpath(os.path.join(directory, word))
        if os.path.abspath(sub) in self.visited:
            return
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
            return
        if _kbuild_file(sub) is None:
            where = make.where(word, ("obj-y", "obj-m"), d.kbuild_path)
            self.problem(where[0], where[1], f"no Kbuild or Makefile in {word}")
            self.visited.add(os.path.abspath(sub))
            return
        if depth > 40:
            self.problem(d.kbuild_path, 0, "directories nest too deep")
            return
        self.visit(sub, srctree, flags, depth=depth + 1)

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

    def _note_named(self, directory: str, make: MakeEvaluator) -> None:
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
            for token in MAKE_NAME.findall(text):
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

    def _safe(self, make: MakeEvaluator, name: str) -> str:
        try:
            return make.lookup(name)
        except (MakeError, RecursionError):
            return ""

    def _flag_text(self, make: MakeEvaluator, stem: str) -> str:
        parts = [self._safe(make, f"{stem}-y")]
        if self.config is None:
            parts.append(self._safe(make, f"{stem}-m"))
        return " ".join(p for p in parts if p)

    def _parts(
        self,
        make: MakeEvaluator,
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
                for part in make_words(self._safe(make, stem + s)):
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
        self, make: MakeEvaluator, word: str, directory: str, kbuild: str, flags: str, srctree: str
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
            variables["core-y"] = MakeVariable("", recursive=False)
            variables["drivers-y"] = MakeVariable("", recursive=False)
            variables["libs-y"] = MakeVariable("lib/", recursive=False)
            make = MakeEvaluator(
                variables, self.config, root, lambda *_: None, run_budget=self.make_budget
            )
            try:
                make.read_file(arch_makefile)
                lib = " ".join(w for w in make_words(make.lookup("libs-y")) if w.endswith("/"))
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
    grouping = _Grouping(_Grouper(config, defines, kernel_release, kernel_tree), kernel_release)
    grouping.candidates = [os.path.normpath(c) for c in (c_files or [])]
    grouping.read_roots(roots)
    grouping.walk()
    grouping.find_orphans()
    result = grouping.grouper.result
    result.orphan_sources.sort()
    result.assumed_options = sorted(grouping.grouper.assumed)
    result.modules = sorted(grouping.grouper.modules.values(), key=lambda m: (m.directory, m.name))
    return result


class _Grouping:
    """One group_sources call: the given roots read, their folders walked, the .c files no
    Kbuild names sorted out."""

    def __init__(self, grouper: _Grouper, kernel_release: str | None) -> None:
        self.grouper = grouper
        self.kernel_release = kernel_release
        self.candidates: list[str] = []
        self.in_kernel: dict[str, str | None] = {}
        self.walk_dirs: list[str] = []
        self.walked: dict[str, str] = {}  # candidate -> the root whose walk found it
        self.read_dirs: list[str] = []
        self.governed_roots: dict[str, bool] = {}

    def tree_of(self, directory: str) -> str | None:
        key = os.path.abspath(directory)
        if key not in self.in_kernel:
            self.in_kernel[key] = kernel_tree_of(directory)
        return self.in_kernel[key]

    def srctree_for(self, directory: str) -> str:
        tree = self.tree_of(directory)
        if tree is None:
            return directory
        rel = os.path.relpath(tree, os.path.abspath(directory))
        return tree if os.path.isabs(directory) else os.path.normpath(os.path.join(directory, rel))

    def read_dkms(self, dkms: str | None) -> None:
        grouper = self.grouper
        if dkms is not None and os.path.dirname(dkms) not in grouper.root_defines:
            named: set[str] = set()
            found = read_dkms_make(dkms, self.kernel_release, named)
            if named:
                grouper.targets.setdefault(os.path.dirname(dkms), set()).update(named)
            grouper.root_defines[os.path.dirname(dkms)] = found
            # --define wins over the dkms.conf word: the note shows only what applied
            grouper.result.dkms_defines.extend(
                (dkms, k, v) for k, v in found.items() if k not in grouper.defines
            )

    def read_roots(self, roots: list[str]) -> None:
        grouper = self.grouper
        for given in roots:
            root = os.path.normpath(given)
            folder = root if os.path.isdir(root) else os.path.dirname(root) or "."
            grouper.walk_roots.append(os.path.abspath(folder))
            if os.path.isdir(folder) and self.tree_of(folder) is None:
                self.read_dkms(find_dkms_conf(folder))
        for given in roots:
            root = os.path.normpath(given)
            try:
                if os.path.isdir(root):
                    self.walk_dirs.append(root)
                    self.read_folder(root)
                elif os.path.isfile(root):
                    self.read_file(root)
                else:
                    grouper.problem(root, 0, "no such file or directory")
            except Exception as error:  # never raise
                grouper.problem(root, 0, f"cannot group: {type(error).__name__}: {error}")

    def read_folder(self, root: str) -> None:
        grouper = self.grouper
        if is_kernel_tree(root):
            grouper.visit_kernel_tree(root)
        elif _kbuild_file(root) is not None:
            grouper.visit(root, self.srctree_for(root), "")
        elif self.tree_of(root) is not None:
            for top in _kbuild_tops(root, self.tree_of(root) or root, grouper.arch):
                grouper.visit(top, self.srctree_for(top), "")

    def read_file(self, root: str) -> None:
        grouper = self.grouper
        directory = os.path.dirname(root) or "."
        if os.path.basename(root) in KBUILD_FILES:
            grouper.visit(directory, self.srctree_for(directory), "", kbuild=root)
        elif root.endswith(".c"):
            self.candidates.append(root)
            if _kbuild_file(directory) is not None:
                grouper.visit(directory, self.srctree_for(directory), "")

    def not_handed(self, folder: str) -> bool:
        """A Makefile folder below a driver top whose build hands kbuild other folders only
        (dahdi's Makefile: KBUILD_EXTMOD=drivers/dahdi, not drivers/dahdi/datamods)."""
        return any(
            folder.startswith(top + os.sep) and folder not in named
            for top, named in self.grouper.targets.items()
        )

    def walk(self) -> None:
        """Unreached Kbuild directories outside a kernel tree start their own descent; the
        .c files of read directories, and of directories without any Kbuild, are
        candidates."""
        grouper = self.grouper
        for root in self.walk_dirs:
            for directory, subdirs, files in os.walk(root):
                subdirs.sort()
                key = os.path.abspath(directory)
                if key in grouper.covered or any(
                    key.startswith(c + os.sep) for c in grouper.covered
                ):
                    subdirs[:] = []
                    continue
                inside_kernel = self.tree_of(directory) is not None
                if not inside_kernel:
                    self.walk_outside_kernel(directory, key, files)
                if inside_kernel and key not in grouper.visited:
                    continue
                for name in sorted(files):
                    # a FIFO or a link to /dev/zero named x.c: discovery said so in one
                    # line; as a candidate it would be that file's second line (and a read)
                    path = os.path.join(directory, name)
                    if name.endswith(".c") and os.path.isfile(path):
                        self.candidates.append(path)
                        self.walked.setdefault(
                            os.path.abspath(self.candidates[-1]), os.path.abspath(root)
                        )

    def walk_outside_kernel(self, directory: str, key: str, files: list[str]) -> None:
        grouper = self.grouper
        if "dkms.conf" in files:
            # a package in a folder of packages: its MAKE line before its Makefiles
            self.read_dkms(os.path.join(os.path.abspath(directory), "dkms.conf"))
        if key not in grouper.visited and _kbuild_file(directory) and not self.not_handed(key):
            try:
                grouper.visit(directory, self.srctree_for(directory), "")
            except Exception as error:
                grouper.problem(directory, 0, f"cannot group: {type(error).__name__}: {error}")

    def governed(self, root: str, folder: str) -> bool:
        """Whether *folder* (of the walk of *root*) lies in a driver whose build none of its
        Kbuild/Makefiles takes there: a Kbuild/Makefile was read in a folder above it, or a
        folder above it (up to *root*) is a package (a dkms.conf with a Kbuild read in it;
        a configure step that writes the Makefiles). A folder of lone modules beside other
        drivers (a collection) is not governed."""
        if any(folder.startswith(v + os.sep) for v in self.read_dirs):
            return True
        for current in ancestors(folder):
            if not (current == root or current.startswith(root + os.sep)):
                return False
            if self.is_package(current):
                return True
        return False

    def is_package(self, top: str) -> bool:
        if top not in self.governed_roots:
            marks = ("dkms.conf", "configure", "Makefile.in", "Makefile.am", "Kbuild.in")
            found = [m for m in marks if os.path.isfile(os.path.join(top, m))]
            self.governed_roots[top] = bool(found) and (
                # Makefiles a configure step writes (openafs): none exists before it runs
                found != ["dkms.conf"]
                or any(v == top or v.startswith(top + os.sep) for v in self.read_dirs)
            )
        return self.governed_roots[top]

    def find_orphans(self) -> None:
        grouper = self.grouper
        self.read_dirs = [v for v in grouper.visited if _kbuild_file(v) is not None]
        seen: set[str] = set()
        for source in self.candidates:
            key = os.path.abspath(source)
            if key in seen or key in grouper.named:
                continue
            seen.add(key)
            folder = os.path.dirname(key)
            if self.tree_of(folder) is not None and folder not in grouper.visited:
                continue  # a kernel directory the configuration leaves out
            grouper.result.orphan_sources.append(source)
            walk_root = self.walked.get(key)
            if (
                walk_root is not None
                and folder not in grouper.visited
                and self.governed(walk_root, folder)
            ):
                grouper.result.unreached_sources.add(source)
