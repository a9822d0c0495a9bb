"""The module set's dependencies: stacking layers, modules.dep, DOT, JSON."""

from __future__ import annotations

import itertools
import json

from kmodlint.depmod import modules_dep_lines
from kmodlint.loading import LoadedSet


def format_deps(loaded: LoadedSet, fmt: str) -> str:
    ms = loaded.module_set
    if fmt == "modules.dep":
        return "".join(line + "\n" for line in modules_dep_lines(ms, loaded.relative, loaded.order))
    graph = ms.graph
    edges = [
        {"from": a, "to": b, "symbols": sorted(data["symbols"])}
        for a, b, data in sorted(graph.edges(data=True))
    ]
    if fmt == "json":
        document = {
            "layers": ms.layers,
            "load_order": [name for layer in ms.layers for name in layer],
            "edges": edges,
            "cycles": ms.cycles,
        }
        return json.dumps(document, indent=2) + "\n"
    if fmt == "dot":
        lines = ["digraph modules {", "  rankdir=BT;"]
        lines += [f'  "{name}";' for name in sorted(graph.nodes)]
        in_cycle = {(a, b) for cycle in ms.cycles for a, b in itertools.pairwise(cycle)}
        for edge in edges:
            label = ", ".join(edge["symbols"][:3]) + (" ..." if len(edge["symbols"]) > 3 else "")
            style = ', color="red"' if (edge["from"], edge["to"]) in in_cycle else ""
            lines.append(f'  "{edge["from"]}" -> "{edge["to"]}" [label="{label}"{style}];')
        lines.append("}")
        return "\n".join(lines) + "\n"
    return _layers_text(loaded)


def _layers_text(loaded: LoadedSet) -> str:
    ms = loaded.module_set
    layers = ms.layers
    lines = []
    for depth in range(len(layers), 0, -1):
        lines.append(f"layer {depth}: {' '.join(layers[depth - 1])}")
    kernel = ms.kernel.source if ms.kernel is not None else "not checked"
    lines.append(f"kernel: {kernel}")
    for cycle in ms.cycles:
        lines.append(f"cycle: {' -> '.join(cycle)}")
    order = [name for layer in layers for name in layer]
    if order:
        lines.append("load order: " + " ".join(f"modprobe {name};" for name in order))
        lines.append("unload order: " + " ".join(f"rmmod {name};" for name in reversed(order)))
    return "\n".join(lines) + "\n"
