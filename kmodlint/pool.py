"""Extract many inputs: cache first, then the misses in a process pool, in input order.

Workers get everything they need as arguments (the items, and an `initializer` with its
`initargs` for tables too big to repeat per item): nothing relies on module globals a
fork would copy, so `spawn` and `forkserver` (macOS; Linux's default from Python 3.14)
give the same answers. KMODLINT_MP_START=spawn|forkserver|fork picks the start method
(the tests use it to run the pool under `spawn`).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from kmodlint.cache import (
    Cache,
    Dep,
    choose_work_dir,
    current_work_dir,
    recorded,
    set_work_dir,
)
from kmodlint.extract import Extraction, extract_binary

# Below this many misses a pool costs more to start than it saves.
_POOL_THRESHOLD = 64


def _extract_pair(pair: tuple[str, str]) -> Extraction:
    return extract_binary(*pair)


def extract_all(
    inputs: Sequence[tuple[str, str]],
    jobs: int | None = None,
    cache: Cache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Extraction]:
    """`inputs` are (path to read, path to display) pairs; results keep their order."""
    results: list[Extraction | None] = [None] * len(inputs)
    keys: list[str | None] = [None] * len(inputs)
    misses: list[int] = []
    for index, (path, display) in enumerate(inputs):
        key = cache.key(path) if cache else None
        keys[index] = key
        cached = cache.load(key) if cache and key else None
        if isinstance(cached, Extraction):
            _relabel(cached, display)
            results[index] = cached
        else:
            misses.append(index)
    pending = [inputs[i] for i in misses]
    fresh = _run(_extract_pair, pending, jobs, 16, cache is not None, None, ())
    _collect(fresh, misses, results, keys, cache, progress, len(inputs))
    return [result for result in results if result is not None]


def run_cached(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    keys: Sequence[str | None],
    jobs: int | None,
    cache: Cache | None,
    result_type: type,
    progress: Callable[[int, int], None] | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> list[Any]:
    """`function` over `items` in input order: cached results first, the misses in a
    process pool when there are enough of them. `initializer(*initargs)` runs in each
    worker before its first item (the settings `function` reads from its module)."""
    results: list[Any] = [None] * len(items)
    misses: list[int] = []
    for index, key in enumerate(keys):
        cached = cache.load(key) if cache and key else None
        if isinstance(cached, result_type):
            results[index] = cached
        else:
            misses.append(index)
    pending = [items[i] for i in misses]
    if not pending:
        return results
    # What the workers write (cpp's stub environment) goes where the user put the cache,
    # or to a temporary folder of this run (--no-cache, an unwritable cache).
    work = choose_work_dir(cache.root if cache else None)
    previous = current_work_dir()
    set_work_dir(work)
    try:
        setup = (work, initializer, initargs)
        fresh = _run(function, pending, jobs, 8, cache is not None, _init_worker, setup)
        _collect(fresh, misses, results, keys, cache, progress, len(items))
    finally:
        set_work_dir(previous)  # a later run in this process chooses its own
    return results


def _init_worker(
    work: str, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """A worker's set-up: the run's work folder (a spawned worker imports kmodlint
    afresh and would pick its own), then the caller's initializer."""
    set_work_dir(work)
    if initializer is not None:
        initializer(*initargs)


def _run(
    function: Callable[[Any], Any],
    pending: list[Any],
    jobs: int | None,
    chunksize: int,
    record: bool,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> Iterator[tuple[Any, list[Dep]]]:
    """(result, files it read) per item, in order; the files only when `record`."""
    call: Callable[[Any], tuple[Any, list[Dep]]]
    call = functools.partial(recorded, function) if record else functools.partial(_bare, function)
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    if workers > 1 and len(pending) >= _POOL_THRESHOLD:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_mp_context(),
            initializer=initializer,
            initargs=initargs,
        ) as executor:
            yield from executor.map(call, pending, chunksize=chunksize)
    else:
        # In this process the settings are already in place (the initializer repeats
        # what the caller did before calling).
        yield from map(call, pending)


def _bare(function: Callable[[Any], Any], item: Any) -> tuple[Any, list[Dep]]:
    return function(item), []


def _mp_context() -> BaseContext | None:
    method = os.environ.get("KMODLINT_MP_START")
    return multiprocessing.get_context(method) if method else None


def _collect(
    fresh: Iterable[tuple[Any, list[Dep]]],
    misses: list[int],
    results: list[Any],
    keys: Sequence[str | None],
    cache: Cache | None,
    progress: Callable[[int, int], None] | None,
    total: int,
) -> None:
    """Store results as they arrive (in input order) with the files each was computed
    from, reporting each one to `progress`."""
    done = total - len(misses)
    for index, (result, deps) in zip(misses, fresh, strict=True):
        results[index] = result
        key = keys[index]
        if cache and key and deps:  # a result not tied to any file could never be checked
            cache.store(key, result, deps)
        done += 1
        if progress:
            progress(done, total)
    if cache:
        cache.maybe_evict()


def _relabel(extraction: Extraction, display: str) -> None:
    """A cached model keeps the facts; the name it is shown under belongs to this run."""
    if extraction.module is not None:
        extraction.module.path = display
    extraction.problems = [
        type(problem)(problem.name, display, problem.message, problem.module)
        for problem in extraction.problems
    ]
