"""The stacking picture every `deps` format draws: edges with their symbols, which edges
belong to a cycle, the load order, what the kernel is. One picture, so the formats
(`graph.py` for text, JSON and modules.dep; `diagrams.py` for DOT and Mermaid;
`stacking.py` for the text drawing) cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from kmodlint.moduleset import ModuleSet


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
