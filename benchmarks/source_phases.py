#!/usr/bin/env python3
"""Where a cold source run spends its time: files per second of each phase of the C front end
(issue 13, deliverable 4: "report files/s per phase (cpp, pycparser, token scan, Kbuild) so
the next bottleneck is visible").

Runs ``cfront.sources.load_sources`` in this process (``-j 1``, no cache, so every file is
read cold and every phase runs here) on ``--dirs`` of a kernel source tree with its
``.config``, and times each phase by wrapping the function that does it:

- ``kbuild``: ``group_sources`` (the make interpreter, grouping files into modules);
- ``token scan``: ``lex`` + ``scan`` (directives, the token path's facts);
- ``cpp``: ``preprocess`` (the stub kernel materialised, cpp run; cpp's own CPU is the
  children's CPU time, counted here too);
- ``gnu->iso``: ``gnu_to_iso`` (GNU C to what pycparser reads); ``pycparser``: ``parse_c``;
- ``AST walk``: ``walk_file`` + ``emitted_references``.

CPU seconds (this process plus its children) per phase, files per CPU second, each phase's
share; and the whole run's files/s, with the projection to N files on ``--cpus`` cores (what
a cold ``kmodlint check drivers -j 2`` costs, as a pool of workers each doing the same).

Example::

    python3 benchmarks/source_phases.py --dirs drivers/net/ethernet/intel drivers/usb
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TREE = "/work/cache/linux-source/x/usr/src/linux-source-6.1"
CONFIG = "/work/cache/image/x/boot/config-6.1.0-56-amd64"
SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
_ACTIVE: list[str] = []


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """*function*, its CPU time added to *phase* (not when called from inside another
    timed phase: the outer one counts it)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _ACTIVE:
            return function(*args, **kwargs)
        _ACTIVE.append(phase)
        start = _cpu()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[phase] += _cpu() - start
            CALLS[phase] += 1
            _ACTIVE.pop()

    return wrapper


def _instrument() -> None:
    from kmodlint.cfront import frontend, sources
    from kmodlint.cfront.ast import analyse

    sources_grouper = _timed("kbuild", sources.group_sources)
    sources.group_sources = sources_grouper  # type: ignore[attr-defined]
    defaults = list(sources.load_sources.__defaults__ or ())
    defaults[-1] = sources_grouper  # load_sources(grouper=group_sources) is bound at import
    sources.load_sources.__defaults__ = tuple(defaults)
    frontend.lex = _timed("token scan", frontend.lex)  # type: ignore[attr-defined]
    frontend.scan = _timed("token scan", frontend.scan)  # type: ignore[attr-defined]
    analyse.preprocess = _timed("cpp", analyse.preprocess)  # type: ignore[attr-defined]
    analyse.gnu_to_iso = _timed("gnu->iso", analyse.gnu_to_iso)  # type: ignore[attr-defined]
    analyse.parse_c = _timed("pycparser", analyse.parse_c)  # type: ignore[attr-defined]
    analyse.walk_file = _timed("AST walk", analyse.walk_file)  # type: ignore[attr-defined]
    analyse.emitted_references = _timed("AST walk", analyse.emitted_references)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", default=TREE, help="kernel source tree (cwd of the run)")
    parser.add_argument("--config", default=CONFIG, help="its .config")
    parser.add_argument("--dirs", nargs="+", default=["drivers/net/ethernet/intel"])
    parser.add_argument("--project", type=int, default=8160, help="files to project to")
    parser.add_argument("--cpus", type=int, default=2, help="cores of the projection")
    args = parser.parse_args()

    os.chdir(args.tree)
    os.environ["XDG_CACHE_HOME"] = os.environ.get("XDG_CACHE_HOME", "/tmp/kmodlint-phases-xdg")
    from kmodlint.cfront.kbuild.kconfig import read_config
    from kmodlint.cfront.sources import load_sources
    from kmodlint.discover import discover

    _instrument()
    config = read_config(args.config)
    found = discover(args.dirs)
    c_files = [p for p in found.sources if p.endswith(".c")]
    # the stub kernel is written once per cache folder: not part of any file's cost
    from kmodlint.cfront.preprocess.cpp import stub_env_dir

    stub_env_dir(None)
    start_wall, start_cpu = time.monotonic(), _cpu()
    loaded = load_sources(args.dirs, c_files, config, 1, None, use_ast=True)
    wall, cpu = time.monotonic() - start_wall, _cpu() - start_cpu
    analysed = loaded.files_total or 1
    print(f"{args.tree}: {' '.join(args.dirs)}")
    print(
        f"{len(c_files)} .c files, {loaded.files_total} in modules this .config builds "
        f"({loaded.files_with_ast} with the AST), {len(loaded.modules)} modules"
    )
    print(f"{'phase':24} {'CPU s':>8} {'calls':>7} {'files/s':>9} {'share':>6}")
    for phase in ("kbuild", "token scan", "cpp", "gnu->iso", "pycparser", "AST walk"):
        seconds = SECONDS[phase]
        rate = analysed / seconds if seconds else float("inf")
        share = seconds / cpu if cpu else 0.0
        print(f"{phase:24} {seconds:8.1f} {CALLS[phase]:7d} {rate:9.1f} {share:6.0%}")
    rest = cpu - sum(SECONDS.values())
    print(f"{'other':24} {rest:8.1f} {'':7} {'':9} {rest / cpu if cpu else 0:6.0%}")
    per_file = cpu / analysed
    print(f"whole run: {cpu:.1f} CPU s, {wall:.1f} s wall, {analysed / cpu:.2f} files per CPU s")
    projected = args.project * per_file / args.cpus
    print(
        f"projection: {args.project} files on {args.cpus} cores ~ {projected / 60:.1f} min "
        f"(target 15 min: {projected / 900:.2f}x)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
