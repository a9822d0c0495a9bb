"""Source inputs of a run: Kbuild grouping, per-file analysis (parallel, cached), modules."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kmodlint.cache import Cache, files_stamp
from kmodlint.cfront.assemble import build_module
from kmodlint.cfront.facts import FileFacts
from kmodlint.cfront.frontend import (
    SourceExtraction,
    SourceJob,
    analyse_source,
    configs_of,
    install_configs,
    register_config,
)
from kmodlint.cfront.kbuild.arch import kernel_tree_of
from kmodlint.cfront.kbuild.grouping import KbuildResult, group_sources
from kmodlint.cfront.kbuild.kconfig import config_macros
from kmodlint.diagnostics import Location
from kmodlint.model import InputProblem, Module
from kmodlint.pool import run_cached
from kmodlint.safe_io import SOURCE_LIMIT, read_regular_text


@dataclass(slots=True)
class SourceSet:
    modules: list[Module] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_total: int = 0
    files_with_ast: int = 0
    skipped_by_config: int = 0
    unreached: int = 0  # .c files in folders no Kbuild/Makefile reaches: left out
    user_space: int = 0  # .c files no Kbuild claims that are programs, not modules


def load_sources(
    paths: list[str],
    c_files: list[str],
    config: dict[str, str] | None,
    jobs: int | None,
    cache: Cache | None,
    use_ast: bool = True,
    stub_env: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    defines: dict[str, str] | None = None,
    kernel_release: str | None = None,
    kernel_tree: str | None = None,
    grouper: Callable[..., KbuildResult] = group_sources,
) -> SourceSet:
    """The source modules of `paths`; `grouper` (group_sources' signature) groups the C
    files into modules: --focus in a kernel tree passes the tree index's grouping."""
    result = SourceSet()
    grouping = grouper(paths, config, c_files, defines, kernel_release, kernel_tree)
    result.skipped_by_config = grouping.skipped_by_config
    for path, line, message in grouping.problems:
        result.problems.append(InputProblem("unparsable-source", path, message, line=line or None))
    config_id = register_config(config_macros(config))
    plans: list[tuple[str, Location, list[SourceJob], tuple[str, ...]]] = []
    for kmod in grouping.modules:
        macros = {"MODULE": "1", "KBUILD_MODNAME": '"' + kmod.name.replace("-", "_") + '"'}
        macros.update(kmod.defines)
        frozen = tuple(sorted(macros.items()))
        jobs_of = [
            SourceJob(src, frozen, config_id, kmod.include_dirs, use_ast, stub_env)
            for src in kmod.sources
        ]
        plans.append((kmod.name, Location(kmod.kbuild_path, kmod.line, 1), jobs_of, kmod.generated))
    for orphan in grouping.orphan_sources:
        folder = os.path.dirname(orphan) or "."
        if any(os.path.isfile(os.path.join(folder, k)) for k in ("Kbuild", "Makefile")):
            # The folder's Kbuild does not build it (a skeleton, a test, a helper
            # #included elsewhere): not a module of its own.
            continue
        if orphan in grouping.unreached_sources:
            # a folder of a driver that none of its Kbuild/Makefiles descends into
            # (tests, tools, another OS's port): kbuild never compiles it
            result.unreached += 1
            continue
        if is_user_space(orphan):
            result.user_space += 1
            continue
        name = os.path.basename(orphan)[:-2]
        macros = {"MODULE": "1", "KBUILD_MODNAME": '"' + name.replace("-", "_") + '"'}
        job = SourceJob(orphan, tuple(sorted(macros.items())), config_id, (), use_ast, stub_env)
        plans.append((name, Location(orphan, 1, 1), [job], ()))
    all_jobs = [job for _, _, plan_jobs, _ in plans for job in plan_jobs]
    keys = [_cache_key(cache, job) for job in all_jobs]
    # The configurations go to each worker once, as arguments (not inherited by a fork).
    # Each module is built as soon as its files' results arrive, and their facts are let
    # go: only the built modules stay, never every file's facts at once (issue 13).
    extractions = run_cached(
        analyse_source,
        all_jobs,
        keys,
        jobs,
        cache,
        SourceExtraction,
        progress,
        initializer=install_configs,
        initargs=(configs_of({job.config_id for job in all_jobs}),),
    )
    generated_in = 0
    tree_tops: dict[str, str | None] = {}
    for name, location, plan_jobs, generated in plans:
        facts = _facts_of(name, itertools.islice(extractions, len(plan_jobs)), result)
        if facts or not plan_jobs:
            module = build_module(name, location, facts)
            _add_build_tags(module, location.path, tree_tops)
            if generated and module.source is not None:
                module.source.generated_parts = list(generated)
                generated_in += 1
            result.modules.append(module)
    for _ in extractions:  # the generator's end: the cache's eviction check
        pass
    if grouping.skipped_by_config:
        result.notes.append(
            f"{grouping.skipped_by_config} object(s) not built by this configuration were left out"
        )
    result.notes.extend(_discovery_notes(grouping, result))
    if generated_in:
        result.notes.append(
            f"{generated_in} module(s) link objects with no source in the tree (made at build "
            "time, like a perl-generated .S, or missing): what those define is unknown, so "
            "their other parts' unresolved uses and undefined exports are not reported"
        )
    return result


def _facts_of(
    name: str, extractions: Iterable[SourceExtraction], result: SourceSet
) -> list[FileFacts]:
    """The facts of module `name`'s files; their problems and counts go to `result`."""
    facts: list[FileFacts] = []
    for extraction in extractions:
        result.problems.extend(extraction.problems)
        if extraction.facts is not None:
            facts.append(extraction.facts)
            if extraction.facts.ast_error:
                result.problems.append(_unparsed(extraction.facts, name))
            result.files_total += 1
            result.files_with_ast += int(extraction.facts.ast_parsed)
    return facts


def _add_build_tags(module: Module, kbuild_path: str, tree_tops: dict[str, str | None]) -> None:
    """The `.modinfo` tags modpost will add to the module's `.mod.c` that the sources
    decide (scripts/mod/modpost.c: add_header()): `intree=Y` unless the build is external
    (`-e`, KBUILD_EXTMOD): a module whose Kbuild lies in no kernel source tree can only be
    built with `M=`; and `staging=Y` when its path in the tree starts with drivers/staging.
    A folder inside a kernel tree is taken as built there (`M=` on it would drop intree)."""
    folder = os.path.dirname(os.path.abspath(kbuild_path))
    if folder not in tree_tops:
        tree_tops[folder] = kernel_tree_of(folder)
    top = tree_tops[folder]
    if top is None:
        return
    module.modinfo.append(("intree", "Y"))
    name = os.path.relpath(os.path.join(folder, module.name), top).replace(os.sep, "/")
    if name.startswith("drivers/staging"):
        module.modinfo.append(("staging", "Y"))


def _discovery_notes(grouping: KbuildResult, result: SourceSet) -> list[str]:
    notes: list[str] = []
    if grouping.assumed_options:
        names = grouping.assumed_options
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        notes.append(
            f"{shown}: not in the kernel configuration, read as =m in the driver's Makefiles "
            "(an out-of-tree driver's own options; --define CONFIG_X=n turns one off)"
        )
    by_file: dict[str, list[str]] = {}
    for dkms, name, value in grouping.dkms_defines:
        by_file.setdefault(dkms, []).append(f"{name}={value}")
    for dkms, words in by_file.items():
        notes.append(f"make variables from {dkms} (MAKE): {' '.join(words)}")
    if result.unreached:
        notes.append(
            f"{result.unreached} .c file(s) in folders no Kbuild/Makefile reaches (tests, tools, "
            "other ports) were left out: kbuild does not build them"
        )
    if result.user_space:
        notes.append(
            f"{result.user_space} .c file(s) no Kbuild/Makefile claims include no kernel header "
            "or define main(): user-space programs, not analysed as modules"
        )
    return notes


# Header folders only the kernel (or its uapi export) has; <linux/...> alone is also what a
# user-space tool includes for ioctl numbers, so main() is checked as well.
_KERNEL_INCLUDE = re.compile(
    r"^\s*#\s*include\s*[<\"](?:linux|asm|asm-generic|net|crypto|sound|media|drm|scsi|rdma|"
    r"trace|keys|xen|video|acpi|kvm|soc|target|pcmcia|misc|clocksource|ras|uapi)/",
    re.MULTILINE,
)
_MAIN = re.compile(r"^\s*(?:(?:static|extern|int|void)\s+)*\**main\s*\(", re.MULTILINE)
_MODULE_MARK = re.compile(
    r"\b(?:MODULE_LICENSE|module_init|EXPORT_SYMBOL\w*|module_\w+_driver)\s*\("
)
_LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


def is_user_space(path: str) -> bool:
    """A .c file no Kbuild claims is a program, not a module, when it defines main() or
    includes no kernel header, itself or through its own quoted headers (two levels), and
    has no module macro (MODULE_LICENSE, module_init, EXPORT_SYMBOL, module_*_driver)."""
    text = _read(path)
    if text is None or _MODULE_MARK.search(text):
        return False
    if _MAIN.search(text):
        return True
    folder = os.path.dirname(path)
    pending, seen = [text], 0
    for _level in range(3):
        found: list[str] = []
        for chunk in pending:
            if _KERNEL_INCLUDE.search(chunk):
                return False
            for name in _LOCAL_INCLUDE.findall(chunk):
                seen += 1
                header = _read(os.path.join(folder, name)) if seen < 50 else None
                if header is not None:
                    found.append(header)
        pending = found
    return True


def _read(path: str) -> str | None:
    try:
        # a .c or a quoted header it includes: a FIFO or /dev/zero named so is refused,
        # not read for ever (safe_io); the file's own analysis reports it
        return read_regular_text(path, SOURCE_LIMIT, universal_newlines=True)
    except OSError:
        return None


def _cache_key(cache: Cache | None, job: SourceJob) -> str | None:
    """The settings a file's facts depend on: every field of its job (the Kbuild chain's
    -D/-I for its module, the configuration: config_id hashes its macros; a field added
    later is covered too) and the stub environment (a generated one by its files: it can
    be regenerated in place). The files read are checked on load."""
    if cache is None:
        return None
    stubs = (
        files_stamp(
            os.path.join(job.stub_env, name)
            for name in ("prelude.h", "headers.txt", "typedefs.txt")
        )
        if job.stub_env
        else ()
    )
    settings = repr((job, stubs)).encode()  # a dataclass repr names every field
    return cache.key(job.path, salt="src:" + hashlib.sha256(settings).hexdigest())


def _unparsed(facts: FileFacts, module: str) -> InputProblem:
    """KM901 at the line pycparser stopped at: what the token scan still proved."""
    reason = facts.ast_error or ""
    line = None
    where = re.search(re.escape(facts.path) + r":(\d+)(?::(\d+))?", reason)
    if where:
        line = int(where.group(1))
    message = (
        f"not parsed as C ({reason}); exports, licence, namespaces, init/exit, params and "
        "static-ness come from the token scan, C types (extern-mismatch, param-type-mismatch) "
        "were not checked in this file"
    )
    return InputProblem("unparsable-source", facts.path, message, module=module, line=line or 1)
