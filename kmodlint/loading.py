"""From the paths and options a user gave to a checked module set."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kmodlint.build_products import pair_build_products
from kmodlint.cache import Cache, choose_work_dir, default_cache_dir
from kmodlint.discover import discover
from kmodlint.kernel.load import choose_kernel
from kmodlint.model import InputProblem, Module, Target
from kmodlint.moduleset import ModuleSet
from kmodlint.pool import extract_all
from kmodlint.progress import Progress

if TYPE_CHECKING:  # the C front end is imported only when there are sources (issue 13)
    from kmodlint.cfront.kbuild.grouping import KbuildResult
    from kmodlint.cfront.sources import SourceSet


@dataclass(slots=True)
class LoadedSet:
    module_set: ModuleSet
    relative: dict[str, str]  # module name -> path relative to the folder given
    order: list[str]  # modules.order of the folder given, if any
    notes: list[str] = field(default_factory=list)
    sources: SourceSet | None = None


def load_set(
    paths: list[str],
    kernel_spec: str | None,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: str | None = None,
    config_spec: str | None = None,
    kernel_source: str | None = None,
    use_ast: bool = True,
    exclude: Callable[[str], bool] | None = None,
    progress: Progress | None = None,
    defines: dict[str, str] | None = None,
    grouper: Callable[..., KbuildResult] | None = None,
) -> LoadedSet:
    """`grouper`: what groups the C files into modules (default: the Kbuild grouping)."""
    cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None
    inputs = discover(paths, exclude)
    notes: list[str] = []
    progress = progress or Progress(enabled=False)

    def read_tree(files: list[tuple[str, str]]) -> list[tuple[Module | None, list[InputProblem]]]:
        tree = extract_all(files, jobs, cache, progress.phase("reading the kernel's modules"))
        return [(e.module, e.problems) for e in tree]

    choice = choose_kernel(kernel_spec, read_tree)
    binaries = [(b.path, b.display) for b in inputs.binaries]
    extractions = extract_all(binaries, jobs, cache, progress.phase("reading modules"))
    modules: list[Module] = []
    problems = list(inputs.problems)
    relative: dict[str, str] = {}
    for binary, extraction in zip(inputs.binaries, extractions, strict=True):
        problems.extend(extraction.problems)
        if extraction.module is not None:
            modules.append(extraction.module)
            relative.setdefault(extraction.module.name, binary.relative)
    kernel = choice.table
    if kernel is None:
        notes.append(choice.note)
    else:
        problems.extend(kernel.problems)
        notes.extend(kernel.notes)
    sources = None
    if inputs.sources:
        config, config_note = choose_config(config_spec, kernel_spec)
        notes.append(config_note)
        if use_ast and not _have_cpp(notes):
            use_ast = False
        stub_env = None
        if kernel_source and use_ast:
            # under the cache folder the run uses (a temporary one under --no-cache)
            stub_env = prepare_stub_env(
                kernel_source, choose_work_dir(cache.root if cache else None)
            )
        if stub_env:
            notes.append(f"C files preprocessed with stub headers generated from {kernel_source}")
        from kmodlint.cfront.kbuild.arch import kernel_source_tree
        from kmodlint.cfront.kbuild.grouping import group_sources
        from kmodlint.cfront.sources import load_sources

        sources = load_sources(
            paths,
            [path for path in inputs.sources if path.endswith(".c")],
            config,
            jobs,
            cache,
            use_ast=use_ast,
            stub_env=stub_env,
            progress=progress.phase("analysing C files"),
            defines=defines,
            # the target's release decides version-guarded branches (ifeq ($(VERSION),6))
            kernel_release=kernel.vermagic.split()[0] if kernel and kernel.vermagic else None,
            kernel_tree=kernel_source_tree(kernel_spec),
            grouper=grouper or group_sources,
        )
        if exclude is not None:
            _drop_excluded(sources, exclude)
        modules.extend(sources.modules)
        for module in sources.modules:
            # The .ko kbuild would write beside the Kbuild that declares the module.
            built = os.path.join(os.path.dirname(module.path), module.name + ".ko")
            relative.setdefault(module.name, _relative_to_given(built, paths))
        problems.extend(sources.problems)
        notes.extend(sources.notes)
        if use_ast and sources.files_total:
            notes.append(
                f"{sources.files_with_ast} of {sources.files_total} C file(s) analysed with a "
                "full syntax tree; the rest by the token scan (see unparsable-source)"
            )
    if sources is not None:
        # a .ko beside the Kbuild that declares it is that module's build product
        kept, stale = pair_build_products([m for m in modules if m.source is None], sources.modules)
        modules = kept + [m for m in modules if m.source is not None]
        problems.extend(stale)
    module_set = ModuleSet(modules, kernel, problems)
    for module in module_set.modules if sources is not None else []:
        if module.source is not None:
            _credit_unseen_definitions(module, set(module_set.unresolved(module)))
    return LoadedSet(module_set, relative, inputs.modules_order, notes, sources)


def _have_cpp(notes: list[str]) -> bool:
    """Whether a C preprocessor runs here; if not, one note (not one line per file) and
    every file goes by the token scan alone."""
    from kmodlint.cfront.preprocess.cpp import PreprocessorNotFound, find_cpp

    try:
        find_cpp()
    except PreprocessorNotFound as exc:
        notes.append(f"{exc}; C files analysed by the token scan only (as with --no-ast)")
        return False
    return True


def _credit_unseen_definitions(module: Module, missing: set[str]) -> None:
    """Definitions the C front end cannot read, credited to a source module: its exports
    and uses defined in the driver's assembly (twofish_enc_blk in twofish-x86_64-asm_64.S),
    kernel header static inlines the driver redeclares (they bind to the inline), and
    names a .c file this configuration leaves out defines (the build proves the use dead),
    and anything, for a module with an object no source shows (generated). One search of
    the driver's folder serves both the exports and the uses."""
    from kmodlint.cfront.elsewhere import defined_elsewhere
    from kmodlint.cfront.kernel_inlines import kernel_inlines

    assert module.source is not None
    undefined_exports = {e.symbol for e in module.exports if e.target is Target.UNDEFINED}
    if module.source.generated_parts:
        # an object made at build time (poly1305's perl-generated .S) may define any of them
        found = missing | undefined_exports
    else:
        found = defined_elsewhere(module, missing | undefined_exports)
    for export in module.exports:
        if export.symbol in found and export.target is Target.UNDEFINED:
            export.target = Target.UNKNOWN
    for name in (missing & kernel_inlines()) | (missing & found):
        module.undefined.pop(name, None)
        module.source.maybe_defined.add(name)


def _drop_excluded(sources: SourceSet, exclude: Callable[[str], bool]) -> None:
    """Kbuild grouping walks folders on its own; what it found only in excluded files goes."""
    sources.modules = [
        m
        for m in sources.modules
        if m.source is None or not m.source.files or not all(map(exclude, m.source.files))
    ]
    sources.problems = [p for p in sources.problems if not exclude(p.path)]


def choose_config(
    spec: str | None, kernel_spec: str | None = None
) -> tuple[dict[str, str] | None, str]:
    """--config FILE, 'none', the .config of the --kernel headers/build tree, or the running
    kernel's configuration when one is found. "is not set" lines are kept (as ""): an
    option the configuration does not mention at all is an out-of-tree driver's own, which
    its Makefiles read as =m (kbuild/grouping.py) whatever the host's kernel has."""
    from kmodlint.cfront.kbuild.kconfig import read_config, running_kernel_config

    if spec and spec != "none":
        return read_config(spec, keep_unset=True), f"sources follow the configuration {spec}"
    if spec is None:
        target = _kernel_config(kernel_spec)
        if target:
            config = read_config(target, keep_unset=True)
            return config, f"sources follow the target kernel's configuration {target}"
        found = running_kernel_config()
        if found:
            config = read_config(found, keep_unset=True)
            return config, f"sources follow the running kernel's configuration {found}"
    return None, (
        "no kernel configuration: every object is analysed and #ifdef CONFIG_* blocks count as "
        "off (give --config FILE)"
    )


def _kernel_config(kernel_spec: str | None) -> str | None:
    """The .config of a --kernel headers/build tree (or /lib/modules/<ver>/build): the
    kernel the modules are built for, rather than the one this machine runs."""
    if not kernel_spec or kernel_spec == "none" or not os.path.isdir(kernel_spec):
        return None
    for candidate in (
        os.path.join(kernel_spec, ".config"),
        os.path.join(kernel_spec, "build", ".config"),
    ):
        if os.path.isfile(candidate):
            return candidate
    return None


def prepare_stub_env(kernel_source: str, work: str | None = None) -> str:
    """--kernel-source DIR: the stub headers regenerated from the user's kernel tree, kept
    in the run's work folder `work` (the cache folder; never in the tree) and reused while
    the tree is unchanged."""
    from kmodlint.cfront.kbuild.kconfig import ConfigError
    from kmodlint.cfront.stubenv.write import FORMAT, generate

    if not os.path.isdir(kernel_source):
        raise ConfigError(f"--kernel-source {kernel_source}: not a directory")
    marker = os.path.join(kernel_source, "Makefile")
    stamp = os.stat(marker).st_mtime_ns if os.path.exists(marker) else 0
    # the generator's format too: a newer kmodlint must not reuse an older generation
    ident = f"{os.path.abspath(kernel_source)}\0{stamp}\0{FORMAT}".encode()
    base = Path(work) if work else default_cache_dir()
    target = base / f"stubenv-src-{hashlib.sha256(ident).hexdigest()[:16]}"
    if not (target / "prelude.h").is_file():
        try:
            generate(kernel_source, str(target), if_sources=[kernel_source])
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--kernel-source {kernel_source}: {exc}") from exc
    return str(target)


def _relative_to_given(path: str, given: list[str]) -> str:
    target = os.path.abspath(path)
    for root in given:
        folder = os.path.abspath(root if os.path.isdir(root) else os.path.dirname(root))
        if target.startswith(folder + os.sep):
            return os.path.relpath(target, folder)
    return os.path.basename(path)
