"""The module set's dependencies: stacking picture, modules.dep, DOT, Mermaid, JSON.

Shared here: the facts every drawing needs (edges with their symbols, which edges belong to
a cycle, the load order, what the kernel is), so the formats cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from kmodlint.depmod import modules_dep_lines
from kmodlint.loading import LoadedSet
from kmodlint.moduleset import ModuleSet
from kmodlint.reporters.escape import printable, valid_unicode

FORMATS = ("text", "modules.dep", "dot", "mermaid", "json")


@dataclass(frozen=True, slots=True)
class Edge:
    upper: str  # the importer
    lower: str  # the module it needs loaded first
    symbols: list[str]
    cycle: int  # 1-based number of the cycle the edge belongs to, 0 when none


@dataclass(slots=True)
class Picture:
    layers: list[list[str]]  # index 0 = base
    edges: list[Edge]
    cycles: list[list[str]]
    cycle_of: dict[str, int]  # module -> 1-based cycle number
    load_order: list[str]
    kernel: str | None  # what the kernel table is, None when kernel checks are off
    kernel_edges: dict[str, list[str]]  # module -> symbols it takes from the kernel
    # The kernel's own modules the set needs (modprobe loads them; insmod would not).
    kernel_modules: list[str]


def picture(ms: ModuleSet) -> Picture:
    cycle_of: dict[str, int] = {}
    cycle_pairs: dict[tuple[str, str], int] = {}
    for number, cycle in enumerate(ms.cycles, start=1):
        cycle_of.update(dict.fromkeys(cycle, number))
    for upper, lower in ms.graph.edges:
        # Every edge inside one strongly connected component is part of some cycle, not
        # only the one path ms.cycles names.
        if upper in cycle_of and cycle_of.get(lower) == cycle_of[upper]:
            cycle_pairs[upper, lower] = cycle_of[upper]
    edges = [
        Edge(a, b, sorted(data["symbols"]), cycle_pairs.get((a, b), 0))
        for a, b, data in sorted(ms.graph.edges(data=True))
    ]
    kernel_edges = {
        name: sorted(s for s, provider in providers.items() if not provider.in_set)
        for name, providers in sorted(ms.resolution.items())
    }
    kernel_modules = {
        provider.owner
        for providers in ms.resolution.values()
        for provider in providers.values()
        if not provider.in_set and provider.owner != "vmlinux"
    }
    return Picture(
        layers=ms.layers,
        edges=edges,
        cycles=ms.cycles,
        cycle_of=cycle_of,
        load_order=[name for layer in ms.layers for name in layer],
        kernel=describe_kernel(ms),
        kernel_edges={name: symbols for name, symbols in kernel_edges.items() if symbols},
        kernel_modules=sorted(kernel_modules),
    )


def describe_kernel(ms: ModuleSet) -> str | None:
    if ms.kernel is None:
        return None
    # vermagic starts with the release ("6.1.0-56-amd64 SMP preempt mod_unload ...").
    release = ms.kernel.vermagic.split()[0] if ms.kernel.vermagic else None
    where = ms.kernel.source
    return f"{release} ({where})" if release else where


def cap(symbols: list[str], limit: int) -> str:
    """`a, b, c ... and N more`: a long edge stays one readable line."""
    shown = ", ".join(symbols[:limit])
    rest = len(symbols) - limit
    return shown + (f" ... and {rest} more" if rest > 0 else "")


def _escaped(drawn: Picture, show: Callable[[str], str]) -> Picture:
    """`drawn` with every name passed through `show`: module and symbol names come from
    the input (an ELF symbol named ESC[2J + newline must not drive the terminal or break
    a drawing's lines)."""

    def each(names: list[str]) -> list[str]:
        return [show(name) for name in names]

    return Picture(
        layers=[each(layer) for layer in drawn.layers],
        edges=[Edge(show(e.upper), show(e.lower), each(e.symbols), e.cycle) for e in drawn.edges],
        cycles=[each(cycle) for cycle in drawn.cycles],
        cycle_of={show(name): number for name, number in drawn.cycle_of.items()},
        load_order=each(drawn.load_order),
        kernel=None if drawn.kernel is None else show(drawn.kernel),
        kernel_edges={show(name): each(names) for name, names in drawn.kernel_edges.items()},
        kernel_modules=each(drawn.kernel_modules),
    )


def format_deps(loaded: LoadedSet, fmt: str, symbols: bool = False) -> str:
    ms = loaded.module_set
    if fmt == "modules.dep":
        lines = modules_dep_lines(ms, loaded.relative, loaded.order)
        # a file format (modprobe reads it): names byte for byte, controls escaped
        return "".join(printable(line, keep_bytes=True) + "\n" for line in lines)
    if fmt == "json":
        return _json(_escaped(picture(ms), valid_unicode))
    drawn = _escaped(picture(ms), printable)
    if fmt == "dot":
        from kmodlint.reporters.diagrams import dot

        return dot(drawn)
    if fmt == "mermaid":
        from kmodlint.reporters.diagrams import mermaid

        return mermaid(drawn)
    from kmodlint.reporters.stacking import stacking_text

    return stacking_text(drawn, symbols)


def _json(drawn: Picture) -> str:
    # layers/load_order/edges/cycles keep their original shape; the rest was added later.
    document = {
        "layers": drawn.layers,
        "load_order": drawn.load_order,
        "unload_order": list(reversed(drawn.load_order)),
        "edges": [
            {"from": e.upper, "to": e.lower, "symbols": e.symbols, "cycle": e.cycle > 0}
            for e in drawn.edges
        ],
        "cycles": drawn.cycles,
        "kernel": drawn.kernel,
        "kernel_modules": drawn.kernel_modules,
    }
    return json.dumps(document, indent=2) + "\n"
