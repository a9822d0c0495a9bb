"""Extract many inputs: cache first, then the misses in a process pool, in input order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from kmodlint.cache import Cache
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
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    pending = [inputs[i] for i in misses]
    if workers > 1 and len(pending) >= _POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as executor:
            fresh = executor.map(_extract_pair, pending, chunksize=16)
            _collect(fresh, misses, results, keys, cache, progress, len(inputs))
    else:
        _collect(map(_extract_pair, pending), misses, results, keys, cache, progress, len(inputs))
    return [result for result in results if result is not None]


def run_cached(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    keys: Sequence[str | None],
    jobs: int | None,
    cache: Cache | None,
    result_type: type,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """`function` over `items` in input order: cached results first, the misses in a
    process pool when there are enough of them."""
    results: list[Any] = [None] * len(items)
    misses: list[int] = []
    for index, key in enumerate(keys):
        cached = cache.load(key) if cache and key else None
        if isinstance(cached, result_type):
            results[index] = cached
        else:
            misses.append(index)
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    pending = [items[i] for i in misses]
    if workers > 1 and len(pending) >= _POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as executor:
            fresh = executor.map(function, pending, chunksize=8)
            _collect(fresh, misses, results, keys, cache, progress, len(items))
    else:
        _collect(map(function, pending), misses, results, keys, cache, progress, len(items))
    return results


def _collect(fresh, misses, results, keys, cache, progress, total) -> None:
    """Store results as they arrive (in input order), reporting each one to `progress`."""
    done = total - len(misses)
    for index, extraction in zip(misses, fresh, strict=True):
        results[index] = extraction
        if cache and keys[index]:
            cache.store(keys[index], extraction)
        done += 1
        if progress:
            progress(done, total)


def _relabel(extraction: Extraction, display: str) -> None:
    """A cached model keeps the facts; the name it is shown under belongs to this run."""
    if extraction.module is not None:
        extraction.module.path = display
    extraction.problems = [
        type(problem)(problem.name, display, problem.message, problem.module)
        for problem in extraction.problems
    ]
