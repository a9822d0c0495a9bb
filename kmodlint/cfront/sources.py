"""Source inputs of a run: Kbuild grouping, per-file analysis (parallel, cached), modules."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
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
from kmodlint.cfront.kbuild import group_sources
from kmodlint.cfront.kconfig import config_macros
from kmodlint.model import InputProblem, Location, Module
from kmodlint.pool import run_cached


@dataclass(slots=True)
class SourceSet:
    modules: list[Module] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_total: int = 0
    files_with_ast: int = 0
    skipped_by_config: int = 0


def load_sources(
    paths: list[str],
    c_files: list[str],
    config: dict[str, str] | None,
    jobs: int | None,
    cache: Cache | None,
    use_ast: bool = True,
    stub_env: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SourceSet:
    result = SourceSet()
    grouping = group_sources(paths, config, c_files)
    result.skipped_by_config = grouping.skipped_by_config
    for path, line, message in grouping.problems:
        result.problems.append(InputProblem("unparsable-source", path, message, line=line or None))
    config_id = register_config(config_macros(config))
    plans: list[tuple[str, Location, list[SourceJob]]] = []
    for kmod in grouping.modules:
        macros = {"MODULE": "1", "KBUILD_MODNAME": '"' + kmod.name.replace("-", "_") + '"'}
        macros.update(kmod.defines)
        frozen = tuple(sorted(macros.items()))
        jobs_of = [
            SourceJob(src, frozen, config_id, kmod.include_dirs, use_ast, stub_env)
            for src in kmod.sources
        ]
        plans.append((kmod.name, Location(kmod.kbuild_path, kmod.line, 1), jobs_of))
    for orphan in grouping.orphan_sources:
        folder = os.path.dirname(orphan) or "."
        if any(os.path.isfile(os.path.join(folder, k)) for k in ("Kbuild", "Makefile")):
            # The folder's Kbuild does not build it (a skeleton, a test, a helper
            # #included elsewhere): not a module of its own.
            continue
        name = os.path.basename(orphan)[:-2]
        macros = {"MODULE": "1", "KBUILD_MODNAME": '"' + name.replace("-", "_") + '"'}
        job = SourceJob(orphan, tuple(sorted(macros.items())), config_id, (), use_ast, stub_env)
        plans.append((name, Location(orphan, 1, 1), [job]))
    all_jobs = [job for _, _, plan_jobs in plans for job in plan_jobs]
    keys = [_cache_key(cache, job) for job in all_jobs]
    # The configurations go to each worker once, as arguments (not inherited by a fork).
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
    by_job = dict(zip(all_jobs, extractions, strict=True))
    for name, location, plan_jobs in plans:
        facts: list[FileFacts] = []
        for job in plan_jobs:
            extraction = by_job[job]
            result.problems.extend(extraction.problems)
            if extraction.facts is not None:
                facts.append(extraction.facts)
                if extraction.facts.ast_error:
                    result.problems.append(_unparsed(extraction.facts, name))
                result.files_total += 1
                result.files_with_ast += int(extraction.facts.ast_parsed)
        if facts or not plan_jobs:
            result.modules.append(build_module(name, location, facts))
    if grouping.skipped_by_config:
        result.notes.append(
            f"{grouping.skipped_by_config} object(s) not built by this configuration were left out"
        )
    return result


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
