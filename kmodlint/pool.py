"""Extract many inputs: cache first, then the misses in a process pool, in input order.

Workers get everything they need as arguments (the items, and an `initializer` with its
`initargs` for tables too big to repeat per item): nothing relies on module globals a
fork would copy, so `spawn` and `forkserver` (macOS; Linux's default from Python 3.14)
give the same answers. KMODLINT_MP_START=spawn|forkserver|fork picks the start method
(the tests use it to run the pool under `spawn`).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
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
from kmodlint.module_index import ModuleIndex, Unencodable, decode_extraction, encoding_text

# Below this many misses a pool costs more to start than it saves.
_POOL_THRESHOLD = 64


def _extract_pair(pair: tuple[str, str]) -> Extraction:
    return extract_binary(*pair)


def _extract_encoded(pair: tuple[str, str]) -> Extraction | str:
    """In a worker: the extraction as the index writes it, JSON text (itself if it cannot
    be encoded)."""
    extraction = extract_binary(*pair)
    try:
        return encoding_text(extraction)
    except Unencodable:
        return extraction


def _pooled(jobs: int | None, count: int) -> bool:
    """Whether `_run` hands `count` items to worker processes."""
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    return workers > 1 and count >= _POOL_THRESHOLD


def extract_all(
    inputs: Sequence[tuple[str, str]],
    jobs: int | None = None,
    cache: Cache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Extraction]:
    """`inputs` are (path to read, path to display) pairs; results keep their order. With a
    cache, the results come from the tree's one index (`kmodlint.module_index`) where
    their files are unchanged, and the index is rewritten when any was read again."""
    # A tree's models are a million small objects made at once: the collector would scan
    # them again and again as they are made (~20% of a warm run). Paused meanwhile, and
    # for a tree the models (no cycles among them to collect) frozen out of its later
    # scans (a small set is left to it: frozen, a cycle of garbage would never be freed).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _extract_all(inputs, jobs, cache, progress)
    finally:
        if collecting:
            if len(inputs) >= _FREEZE_THRESHOLD:
                gc.freeze()
            gc.enable()


_FREEZE_THRESHOLD = 1000


def _extract_all(
    inputs: Sequence[tuple[str, str]],
    jobs: int | None,
    cache: Cache | None,
    progress: Callable[[int, int], None] | None,
) -> list[Extraction]:
    results: list[Extraction | None] = [None] * len(inputs)
    index = ModuleIndex(cache, [path for path, _ in inputs]) if cache else None
    misses: list[int] = []
    for position, (path, display) in enumerate(inputs):
        cached = index.get(path, display) if index else None
        if cached is not None:
            results[position] = cached
        else:
            misses.append(position)
    pending = [inputs[i] for i in misses]
    # Workers hand back the index's encoding (a few strings per module, cheap to pickle),
    # which this process decodes as it decodes the index: definitions only when asked for.
    function = _extract_encoded if _pooled(jobs, len(pending)) else _extract_pair
    fresh = _run(function, pending, jobs, 16, index is not None, None, ())
    done = len(inputs) - len(misses)
    try:
        for position, (result, deps) in zip(misses, fresh, strict=True):
            text = None
            if isinstance(result, str):
                text, result = result, decode_extraction(json.loads(result))
            results[position] = result
            if index is not None and deps:  # a result tied to no file could never be checked
                index.put(*inputs[position], result, deps, text)
            done += 1
            if progress:
                progress(done, len(inputs))
    except BaseException:
        fresh.close()  # stop the pool's workers now
        raise
    if index is not None and cache is not None:
        index.save()
        cache.maybe_evict()
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
) -> Iterator[Any]:
    """`function` over `items`, yielded in input order as each result is ready: the
    cache's entries where current, the misses from a process pool when there are enough
    of them. Only each item's verdict (cached or not) is kept ahead, never a value, so
    the caller can let every result go once used: a tree's results are never all held
    at once (issue 13). `initializer(*initargs)` runs in each worker before its first
    item (the settings `function` reads from its module)."""
    cached = [bool(cache and key and cache.holds(key)) for key in keys]
    misses = [index for index, hit in enumerate(cached) if not hit]
    # What the workers write (cpp's stub environment) goes where the user put the cache,
    # or to a temporary folder of this run (--no-cache, an unwritable cache).
    work = choose_work_dir(cache.root if cache else None) if misses else None
    previous = current_work_dir()
    if work is not None:
        set_work_dir(work)
    setup = (work, initializer, initargs)
    pending = [items[i] for i in misses]
    fresh = _run(function, pending, jobs, 8, cache is not None, _init_worker, setup)
    done = len(items) - len(misses)
    try:
        for index, item in enumerate(items):
            key = keys[index]
            if cached[index]:
                value = cache.load(key) if cache and key else None
                if isinstance(value, result_type):
                    yield value
                    continue
                # gone since it was checked (another run evicted it): computed here
                result, deps = recorded(function, item)
            else:
                result, deps = next(fresh)
                done += 1
                if progress:
                    progress(done, len(items))
            if cache and key and deps:  # a result tied to no file could never be checked
                cache.store(key, result, deps)
            yield result
    finally:
        # interrupted, or the consumer stopped early: the pool's generator is closed now,
        # so it stops its workers at once rather than when it is collected
        fresh.close()
        if work is not None:
            set_work_dir(previous)  # a later run in this process chooses its own
    if cache and misses:
        cache.maybe_evict()


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
) -> Generator[tuple[Any, list[Dep]], None, None]:
    """(result, files it read) per item, in order; the files only when `record`."""
    call: Callable[[Any], tuple[Any, list[Dep]]]
    call = functools.partial(recorded, function) if record else functools.partial(_bare, function)
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    if _pooled(jobs, len(pending)):
        children = set(multiprocessing.active_children())
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_mp_context(),
            initializer=_worker_signals,
            initargs=(initializer, initargs),
        )
        previous: list[tuple[int, _Handler]] = []
        try:
            # Everything is submitted (and the workers forked) first: the SIGTERM handler
            # comes after, so no forked worker inherits it. Not executor.map: its
            # clean-up cancels the queued futures, and a pool whose workers are then
            # killed fails them again (Python 3.11's manager thread prints an
            # InvalidStateError for each); here they are simply failed once.
            run_chunk = functools.partial(_run_chunk, call)
            chunks = [pending[i : i + chunksize] for i in range(0, len(pending), chunksize)]
            futures = collections.deque(executor.submit(run_chunk, chunk) for chunk in chunks)
            previous = _stop_on_signals()
            while futures:
                # off the queue before its results are yielded: a consumer that lets each
                # result go frees it (the executor keeps no finished work)
                yield from _result(futures.popleft())
        except BaseException:
            # Ctrl-C, SIGTERM, an error, or the consumer gone (GeneratorExit): the
            # queued work is dropped and the workers are killed now, not after the
            # 20 s the work already handed out would take (shutdown(wait=True) did that,
            # and a SIGTERM left them orphaned).
            _stop(executor, children)
            raise
        else:
            executor.shutdown(wait=True)
        finally:
            _restore_signals(previous)
    else:
        # In this process the settings are already in place (the initializer repeats
        # what the caller did before calling).
        yield from map(call, pending)


def _worker_signals(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """In each worker: Ctrl-C is the main process's to handle (it stops the pool; a
    worker that also raised KeyboardInterrupt would print its own traceback), and SIGTERM
    kills (a forked worker inherits the main process's handler, which would turn the
    main process's terminate() into an exception the worker survives)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)


# Set by the signal handler as well as raising: a KeyboardInterrupt raised while the main
# thread happens to run a finalizer or weakref callback (a collected executor of an earlier
# run) is printed as "Exception ignored" and lost; the result loop sees the flag instead.
_stop_requested = threading.Event()


def _raise_interrupt(signum: int, frame: object) -> None:
    _stop_requested.set()
    raise KeyboardInterrupt(f"signal {signum}")


def _result(future: Any) -> Any:
    """`future.result()`, waking every 0.1 s to honour a stop whose KeyboardInterrupt
    was swallowed where it landed."""
    while True:
        if _stop_requested.is_set():
            raise KeyboardInterrupt("stopped by a signal")
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


_Handler = Callable[[int, Any], Any] | int | None


def _stop_on_signals() -> list[tuple[int, _Handler]]:
    """SIGTERM (a CI job cancelled, `timeout`) stops a pool run as Ctrl-C does, so the
    workers are stopped with it, and Ctrl-C (when Python's default handles it) also sets
    the stop flag; returns the handlers to restore. Only the main thread can install them
    (a caller in another thread keeps the defaults)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    _stop_requested.clear()
    saved: list[tuple[int, _Handler]] = [
        (signal.SIGTERM, signal.signal(signal.SIGTERM, _raise_interrupt))
    ]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        saved.append((signal.SIGINT, signal.signal(signal.SIGINT, _raise_interrupt)))
    return saved


def _restore_signals(saved: list[tuple[int, _Handler]]) -> None:
    for number, previous in saved:
        if previous is not None:
            signal.signal(number, previous)


# How long stopped workers get to exit before they are killed.
_STOP_GRACE_S = 0.5


def _run_chunk(call: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    return [call(item) for item in chunk]


def _stop(executor: ProcessPoolExecutor, earlier: set[multiprocessing.process.BaseProcess]) -> None:
    """Terminate the workers (SIGTERM, then SIGKILL after a grace) and wait for them, so
    no orphan outlives the run; the executor then fails what was queued (its workers are
    gone) and its manager thread ends."""
    # the executor's own table of its processes (Python 3.14's terminate_workers() does
    # the same; before it, this is the only way to reach them), and any child started
    # since the pool was made: a worker forked just as the signal came, not yet listed
    listed = list((getattr(executor, "_processes", None) or {}).values())
    late = [p for p in multiprocessing.active_children() if p not in earlier]
    processes = list({id(p): p for p in listed + late}.values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + _STOP_GRACE_S
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        with contextlib.suppress(Exception):
            if process.is_alive():
                process.kill()  # cannot be caught: the join below is short
            process.join(5.0)
    manager = getattr(executor, "_executor_manager_thread", None)  # shutdown forgets it
    executor.shutdown(wait=False)
    if manager is not None:
        manager.join(2.0)  # its workers are gone: it sees the pool broken and ends
        # Python 3.11's exit handler (concurrent.futures.process._python_exit) wakes every
        # pool's manager thread through a pipe that thread closes as it ends; the two can
        # cross, and the EBADF is printed at exit as an "Exception ignored" traceback
        # after a Ctrl-C or SIGTERM. This pool's thread has ended (or is abandoned): off
        # the list the handler walks.
        with contextlib.suppress(Exception):
            from concurrent.futures import process as futures_process

            futures_process._threads_wakeups.pop(manager, None)


def _bare(function: Callable[[Any], Any], item: Any) -> tuple[Any, list[Dep]]:
    return function(item), []


def _mp_context() -> BaseContext | None:
    method = os.environ.get("KMODLINT_MP_START")
    return multiprocessing.get_context(method) if method else None
