"""From the paths and options a user gave to a checked module set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kmodlint.cache import Cache, default_cache_dir
from kmodlint.discover import discover
from kmodlint.kernel.load import choose_kernel
from kmodlint.model import InputProblem, Module
from kmodlint.moduleset import ModuleSet
from kmodlint.pool import extract_all


@dataclass(slots=True)
class LoadedSet:
    module_set: ModuleSet
    relative: dict[str, str]  # module name -> path relative to the folder given
    order: list[str]  # modules.order of the folder given, if any
    notes: list[str] = field(default_factory=list)


def load_set(
    paths: list[str],
    kernel_spec: str | None,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: str | None = None,
) -> LoadedSet:
    cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None
    inputs = discover(paths)
    notes: list[str] = []

    def read_tree(files: list[tuple[str, str]]) -> list[tuple[Module | None, list[InputProblem]]]:
        return [(e.module, e.problems) for e in extract_all(files, jobs, cache)]

    choice = choose_kernel(kernel_spec, read_tree)
    extractions = extract_all([(b.path, b.display) for b in inputs.binaries], jobs, cache)
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
    if inputs.sources:
        notes.append(
            f"{len(inputs.sources)} C source/Kbuild file(s) were not analysed: this version "
            "reads built modules only"
        )
    module_set = ModuleSet(modules, kernel, problems)
    return LoadedSet(module_set, relative, inputs.modules_order, notes)
