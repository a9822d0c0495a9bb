"""`check --focus`: report on the given files, analyse their whole project.

pre-commit passes only the staged files, but half the rules are about the set (a symbol
exported by one module and used by another). So with `--focus` the given paths are the
*focus*, not the input: kmodlint finds the project each one belongs to, analyses the whole
module set there (the *context*), and keeps only the findings that touch the focus. The same
commit then gets the same answer whether pre-commit calls kmodlint once or splits the list.

Inside a kernel source tree the project would be the whole tree (hours of analysis), so
there the context is what the focus modules' findings depend on, found through the tree's
index (`tree_index.py`): the focus modules, the modules using their exports or exporting
the same names, the modules exporting what they use, those on a dependency cycle through
them, and the kernel table. Only these are analysed, with the Kbuild settings the whole
tree's grouping gives them (`Focus.load`).
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kmodlint.diagnostics import Finding
from kmodlint.discover import KBUILD_NAMES, SOURCE_SUFFIXES, is_module_file
from kmodlint.model import Module, normalise_module_name
from kmodlint.moduleset import ModuleSet
from kmodlint.safe_io import SETTINGS_LIMIT, SOURCE_LIMIT, read_regular, read_regular_text

if TYPE_CHECKING:
    from kmodlint.cfront.kbuild.grouping import KbuildResult
    from kmodlint.loading import LoadedSet
    from kmodlint.tree_index import Context, GroupSettings, TreeIndex

CONFIG_NAMES = (".kmodlint.toml", "kmodlint.toml")
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"]', re.MULTILINE)


def understood(path: str) -> bool:
    """What discover reads from a folder walk (and pre-commit's `files:` regex selects).
    Anything else pre-commit hands over (Module.symvers, a README) is skipped quietly."""
    name = os.path.basename(path)
    return is_module_file(name) or name.endswith(SOURCE_SUFFIXES) or name in KBUILD_NAMES


@dataclass(slots=True)
class TreeFocus:
    """The focus paths inside one kernel source tree, and the context its index found."""

    shown: str  # the tree's top, as its paths will be shown
    files: list[str] = field(default_factory=list)  # tree-relative focus files
    dirs: list[str] = field(default_factory=list)  # tree-relative focus folders
    index: TreeIndex | None = None
    context: Context | None = None
    settings: GroupSettings | None = None

    def describe(self) -> str:
        assert self.index is not None and self.context is not None
        index = self.index
        if index.built:
            how = f"built now: {index.read} file(s) read"
        else:
            how = f"updated: {index.read} file(s) re-read"
            how += ", Kbuild regrouped" if index.regrouped else ""
        said = (
            f"{len(self.context.modules)} module(s) of the kernel tree at {self.shown} "
            f"({len(self.context.focus_modules)} in focus) found through its index ({how})"
        )
        if not self.context.focus_modules:
            # built into the kernel image, or left out by the configuration: a whole-tree
            # run analyses neither, so there is nothing to say about it either
            said += "; the focus is part of no module this configuration builds"
        return said


@dataclass(slots=True)
class Focus:
    files: set[str] = field(default_factory=set)  # real paths of the focus files
    dirs: set[str] = field(default_factory=set)  # real paths of focus folders
    roots: list[str] = field(default_factory=list)  # project roots, as they will be shown
    context: list[str] = field(default_factory=list)  # what load_set analyses
    missing: list[str] = field(default_factory=list)  # given paths that do not exist
    trees: dict[str, TreeFocus] = field(default_factory=dict)  # by the tree's real path

    @property
    def note(self) -> str:
        # Said every time: a finding outside the focus is left out on purpose, never silently.
        count = len(self.files) + len(self.dirs)
        parts = [tree.describe() for tree in self.trees.values()]
        if self.roots or not parts:
            where = ", ".join(self.roots) or "nothing kmodlint reads"
            parts.insert(0, f"the whole project at {where}")
        note = f"focus: {count} path(s); context: " + "; ".join(parts)
        if self.missing:
            # pre-commit never passes a deleted file, so this is a typo by hand
            note += "; no such file: " + ", ".join(self.missing)
        return note

    def covers(self, path: str) -> bool:
        real = real_path(path)
        return real in self.files or any(real.startswith(d + os.sep) for d in self.dirs)

    def select(self, findings: Iterable[Finding], ms: ModuleSet) -> list[Finding]:
        """The findings located in the focus, or about a module the focus belongs to, or
        naming a focus module's export that another module depends on (or exports too)."""
        modules = focus_modules(self, ms)
        exported = {
            export.symbol: module.name
            for module in ms.modules
            if module.name in modules
            for export in module.exports
        }
        kept = []
        for finding in findings:
            if self.covers(finding.path) or finding.module in modules:
                kept.append(finding)
            elif finding.name == "dependency-cycle" and modules & set(finding.key.split("->")):
                kept.append(finding)  # every member of a cycle is part of it
            elif _through_focus_export(finding, exported, ms):
                kept.append(finding)
        return kept

    def load(self, paths: list[str], **options: Any) -> LoadedSet:
        """`load_set(paths, **options)`; inside a kernel tree, its Kbuild grouping is the
        whole tree's cut to the context (a folder's own Kbuild would descend into every
        sub-folder, all of drivers/net for tun.c, and miss its parents' subdir-ccflags)."""
        from kmodlint.loading import load_set

        if not self.trees:
            return load_set(paths, **options)
        return load_set(paths, grouper=_grouping_from_index(self), **options)


def real_path(path: str) -> str:
    """Where `path` lies, its folders resolved but not a symlinked file itself: in a symlink
    farm of a kernel tree (`cp -rs`, `lndir`: real folders, every file a link into the
    original) a file belongs to the farm's tree, not to the tree its link points into,
    which would make it a path outside the focus tree (and its module analysed twice)."""
    if os.path.isdir(path):
        return os.path.realpath(path)
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(folder), name)


def plan_focus(
    paths: list[str],
    kernel: str | None = None,
    config: str | None = None,
    defines: dict[str, str] | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
) -> Focus:
    """Where each focus path belongs and what to analyse with it. *kernel*, *config* and
    *defines* are the run's (--kernel, --config, --define): inside a kernel tree they
    decide its Kbuild grouping, and so which index serves; *cache_dir*/*use_cache* where
    that index is kept."""
    focus = Focus()
    roots: dict[str, str] = {}  # real root -> root as shown
    for given in paths:
        if os.path.isdir(given):
            focus.dirs.add(os.path.realpath(given))
            start = given
        elif os.path.isfile(given) and understood(given):
            focus.files.add(real_path(given))
            start = os.path.dirname(given) or "."
        else:
            if not os.path.lexists(given):
                focus.missing.append(given)
            continue  # pre-commit passes what it matched; what we cannot read is not ours
        tree = _kernel_tree(start)
        if tree is not None:
            real = os.path.realpath(tree)
            shown = tree if os.path.isabs(given) else os.path.relpath(tree)
            plan = focus.trees.setdefault(real, TreeFocus(shown))
            inside = os.path.relpath(real_path(given), real)
            (plan.dirs if os.path.isdir(given) else plan.files).append(inside)
            continue
        root = project_root(start)
        shown = root if os.path.isabs(given) else os.path.relpath(root)
        roots.setdefault(os.path.realpath(root), shown)
    focus.roots = sorted(roots.values())
    context = {real_path(p): p for root in focus.roots for p in _project_files(root)}
    # A focus file git ignores is still analysed (a focus folder is covered by its root).
    for given in paths:
        if os.path.isfile(given) and understood(given):
            context.setdefault(real_path(given), given)
    if focus.trees:
        context.update(_plan_trees(focus, kernel, config, defines, cache_dir, use_cache))
    focus.context = sorted(context.values(), key=_context_order)
    return focus


def _kernel_tree(start: str) -> str | None:
    """The kernel source tree *start* lies in, unless a git repository of its own nests
    inside that tree (a driver kept in its own repository there is its own project)."""
    from kmodlint.tree_index import kernel_tree_top

    top = kernel_tree_top(start)
    if top is None:
        return None
    repository = git_root(os.path.abspath(start))
    if repository is not None and os.path.realpath(repository).startswith(
        os.path.realpath(top) + os.sep
    ):
        return None
    return top


def _plan_trees(
    focus: Focus,
    kernel: str | None,
    config: str | None,
    defines: dict[str, str] | None,
    cache_dir: str | None,
    use_cache: bool,
) -> dict[str, str]:
    """Each tree's index opened (built or brought up to date) and its context chosen; the
    paths load_set is given for them: a source of each context module (the grouping
    itself comes from the index) and a .ko kbuild left beside its Kbuild, as a walk of the
    tree would find it."""
    from kmodlint.tree_index import context_for, open_index

    settings = group_settings(kernel, config, defines)
    store = _cache(cache_dir) if use_cache else None
    found: dict[str, str] = {}
    for real, plan in focus.trees.items():
        plan.settings = settings
        headers = any(f.endswith(".h") for f in plan.files)
        plan.index = open_index(real, settings, store, need_files=headers)
        plan.context = context_for(plan.index, plan.files, plan.dirs)
        for module in plan.context.modules:
            shown = [os.path.normpath(os.path.join(plan.shown, s)) for s in module.sources[:1]]
            built = os.path.join(plan.shown, module.directory, module.name + ".ko")
            shown += [os.path.normpath(built)] if os.path.isfile(built) else []
            found.update((real_path(p), p) for p in shown)
    return found


def group_settings(
    kernel: str | None, config: str | None, defines: dict[str, str] | None
) -> GroupSettings:
    """The arguments load_set will give the Kbuild grouping, known before it runs: the
    configuration (`loading.choose_config`), the --define words, the target's release
    (from its headers, as `kernel.load` reads it; a /lib/modules target without them
    tells it only once its modules are read: then `Focus.load` regroups) and its tree."""
    from kmodlint.cfront.kbuild.arch import kernel_source_tree
    from kmodlint.kernel.vermagic import vermagic_from_headers
    from kmodlint.loading import choose_config
    from kmodlint.tree_index import GroupSettings

    chosen, _ = choose_config(config, kernel)
    release = None
    if kernel is None:
        kernel = f"/lib/modules/{os.uname().release}"
    if kernel != "none" and os.path.isdir(kernel):
        for folder in (kernel, os.path.join(kernel, "build")):
            if os.path.lexists(os.path.join(folder, "Module.symvers")):
                magic = vermagic_from_headers(folder)
                release = magic.split()[0] if magic else None
                break
    return GroupSettings(chosen, defines or {}, release, kernel_source_tree(kernel))


def _cache(cache_dir: str | None) -> Any:
    from kmodlint.cache import Cache, default_cache_dir

    return Cache(Path(cache_dir) if cache_dir else default_cache_dir())


def _grouping_from_index(focus: Focus) -> Callable[..., KbuildResult]:
    """The grouper for the load_set of a focus inside kernel trees: the grouping of a path
    inside one is that tree's (from its index) cut to the context; other paths are grouped
    as ever."""
    from kmodlint.cfront.kbuild.grouping import KbuildResult, group_sources
    from kmodlint.tree_index import GroupSettings, restricted_result

    def grouped(
        roots: list[str],
        config: dict[str, str] | None,
        c_files: list[str] | None = None,
        defines: dict[str, str] | None = None,
        kernel_release: str | None = None,
        kernel_tree: str | None = None,
    ) -> KbuildResult:
        trees = [(real + os.sep, plan) for real, plan in focus.trees.items()]

        def in_tree(path: str) -> bool:
            real = real_path(path)
            return any(real.startswith(top) for top, _ in trees)

        others = [r for r in roots if not in_tree(r)]
        base = (
            group_sources(
                others,
                config,
                [c for c in c_files or [] if not in_tree(c)],
                defines,
                kernel_release,
                kernel_tree,
            )
            if others
            else KbuildResult()
        )
        settings = GroupSettings(config, defines or {}, kernel_release, kernel_tree)
        for _, plan in trees:
            assert plan.index is not None and plan.context is not None
            if settings.digest != plan.index.settings_digest:
                _regroup(plan, settings)
            base = restricted_result(plan.index, plan.context, plan.shown, base)
        return base

    return grouped


def _regroup(plan: TreeFocus, settings: GroupSettings) -> None:
    """The run groups the tree with other settings than the index was opened with (the
    release of a /lib/modules target is known once its modules are read): the context's
    modules (by Kbuild file and name) as that grouping declares them."""
    from kmodlint.tree_index import module_key, regroup

    assert plan.index is not None and plan.context is not None
    grouping = regroup(plan.index.root, settings)
    wanted = {module_key(m) for m in plan.context.modules}
    focus = {module_key(m) for m in plan.context.focus_modules}
    chosen = [m for m in grouping.modules if module_key(m) in wanted]
    plan.context.modules = chosen
    plan.context.focus_modules = [m for m in chosen if module_key(m) in focus]
    plan.index.grouping = grouping
    plan.index.settings_digest = settings.digest


def project_root(start: str) -> str:
    return _project_root(os.path.abspath(start))


@cache  # pre-commit may pass hundreds of files of a few folders
def _project_root(folder: str) -> str:
    """Nearest folder with a kmodlint configuration; else the topmost folder of the unbroken
    chain of Kbuild/Makefile folders above the nearest one; else the git root; else the
    folder itself. The search never leaves the git work tree: a folder above it is not this
    project."""
    top = git_root(folder)
    chain = _ancestors(folder, top)
    for candidate in chain:
        if _has_config(candidate):
            return candidate
    nearest = next((i for i, c in enumerate(chain) if _has_kbuild(c)), None)
    if nearest is not None:
        end = nearest
        while end + 1 < len(chain) and _has_kbuild(chain[end + 1]):
            end += 1
        return chain[end]
    return top or folder


@cache
def git_root(folder: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", folder, "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git: the folder alone is the project
        return None
    return os.path.abspath(done.stdout.strip()) if done.returncode == 0 else None


def focus_modules(focus: Focus, ms: ModuleSet) -> set[str]:
    """Modules a focus path belongs to: its binary, a module built from a focus .c, a module
    declared by (or below) a focus Kbuild/Makefile, a module whose .c includes a focus .h."""
    kbuild_dirs = {
        os.path.dirname(path) for path in focus.files if os.path.basename(path) in KBUILD_NAMES
    }
    headers = {os.path.basename(path) for path in focus.files if path.endswith(".h")}
    found = set()
    for module in ms.modules:
        files = [module.path, *(module.source.files if module.source else [])]
        where = real_path(module.path)
        if (
            any(focus.covers(path) for path in files)
            or any(where.startswith(d + os.sep) for d in kbuild_dirs)
            or (headers and module.source and _includes(module.source.files, headers))
        ):
            found.add(module.name)
    return found


def _through_focus_export(finding: Finding, exported: dict[str, str], ms: ModuleSet) -> bool:
    """E.g. EXPORT_SYMBOL_GPL newly in moda.c breaks the unchanged modb.c: the finding sits in
    modb but names moda's symbol, and modb depends on moda through it."""
    owner = exported.get(finding.symbol or "")
    if owner is None or finding.module is None or finding.module == owner:
        return False
    importer = ms.by_name.get(normalise_module_name(finding.module))
    if importer is None:
        return False
    graph = ms.graph
    if (
        graph.has_edge(importer.name, owner)
        and finding.symbol in graph.edges[importer.name, owner]["symbols"]
    ):
        return True
    return _exports(importer, finding.symbol or "")  # a duplicate of the focus export


def _exports(module: Module, symbol: str) -> bool:
    return any(export.symbol == symbol for export in module.exports)


def _includes(files: list[str], headers: set[str]) -> bool:
    # The front end does not record includes; a textual scan of the module's own .c files
    # is enough to tie a header to its users (one level: headers including headers are not
    # followed).
    for path in files:
        try:
            text = read_regular_text(
                path, SOURCE_LIMIT, universal_newlines=True
            )  # never a FIFO or /dev/zero
        except OSError:
            continue  # the front end reported the file
        if any(os.path.basename(name) in headers for name in _INCLUDE.findall(text)):
            return True
    return False


def _ancestors(folder: str, stop: str | None) -> list[str]:
    chain = [folder]
    while True:
        if stop is not None and chain[-1] == stop:
            return chain
        parent = os.path.dirname(chain[-1])
        if parent == chain[-1]:
            return chain
        chain.append(parent)


def _has_kbuild(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(folder, name)) for name in KBUILD_NAMES)


def _has_config(folder: str) -> bool:
    if any(os.path.isfile(os.path.join(folder, name)) for name in CONFIG_NAMES):
        return True
    pyproject = os.path.join(folder, "pyproject.toml")
    if not os.path.isfile(pyproject):
        return False
    try:
        text = read_regular(pyproject, SETTINGS_LIMIT).decode("utf-8")
        tool = tomllib.loads(text).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # refused (a FIFO, huge), not UTF-8, broken or nested too deeply: no kmodlint
        # table here (reading the settings reports a broken one, with its reason)
        return False
    return isinstance(tool, dict) and "kmodlint" in tool


def _project_files(root: str) -> list[str]:
    """The project's files: tracked and new-but-not-ignored ones under git (untracked build
    output such as moda.ko beside moda.c would otherwise duplicate the source module), else
    the root folder itself for discover to walk."""
    if git_root(os.path.abspath(root)) is None:
        return [root]
    done = subprocess.run(
        ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return [root]
    names = {name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name}
    paths = [os.path.normpath(os.path.join(root, name)) for name in names]
    return [path for path in paths if understood(path) and os.path.isfile(path)]


def _context_order(path: str) -> tuple[int, int, str]:
    # Kbuild files first and shallowest first: a parent Kbuild's `obj-m += sub/` must be read
    # before sub/Kbuild, so sub/ inherits its flags as in a real build.
    name = os.path.basename(path)
    kind = 0 if name in KBUILD_NAMES else 1
    return (kind, path.count(os.sep), path)
