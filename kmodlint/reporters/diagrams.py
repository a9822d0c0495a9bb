"""`kmodlint deps --format dot|mermaid`: the stacking picture for documents.

Edges point from the importer to the module it needs (as in the JSON and text output) and
the diagrams run top to bottom, so the top layer is drawn on top and the kernel at the
bottom, like the text picture. Cycle edges are red; modules of a cycle are shaded.
"""

from __future__ import annotations

from kmodlint.reporters.picture import Picture, cap

_SYMBOLS_SHOWN = 3  # per edge label; diagrams get crowded fast
_KERNEL_ID = "(kernel)"  # parentheses never occur in a module name


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(drawn: Picture) -> str:
    lines = ["digraph modules {", "  rankdir=TB;", "  node [shape=box];"]
    for name in sorted(drawn.load_order):
        style = ' [style=filled, fillcolor="#ffdddd"]' if name in drawn.cycle_of else ""
        lines.append(f"  {_dot_quote(name)}{style};")
    # One rank per layer keeps the drawing a stack even where edges skip layers.
    for depth, layer in enumerate(drawn.layers, start=1):
        members = " ".join(f"{_dot_quote(name)};" for name in layer)
        lines.append(f"  {{ rank=same; {members} }}  // layer {depth}")
    for edge in drawn.edges:
        style = ', color="red"' if edge.cycle else ""
        label = _dot_quote(cap(edge.symbols, _SYMBOLS_SHOWN))
        lines.append(
            f"  {_dot_quote(edge.upper)} -> {_dot_quote(edge.lower)} [label={label}{style}];"
        )
    if drawn.kernel is not None:
        kernel = _dot_quote("kernel\n" + drawn.kernel).replace("\n", "\\n")
        lines.append(f"  {_dot_quote(_KERNEL_ID)} [label={kernel}, shape=box3d];")
        lines.append(f"  {{ rank=sink; {_dot_quote(_KERNEL_ID)}; }}")
        for name in drawn.kernel_edges:
            lines.append(
                f"  {_dot_quote(name)} -> {_dot_quote(_KERNEL_ID)} [style=dashed, color=gray];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    # Inside a quoted Mermaid label '"' needs an entity, and '#' starts one (a name holding
    # "#quot;" must not turn into a quote): both written as entities.
    return '"' + text.replace("#", "#35;").replace('"', "#quot;") + '"'


def mermaid(drawn: Picture) -> str:
    # Module names may hold '-' or start with a digit: nodes get neutral ids, names go
    # in the labels.
    ids = {name: f"m{index}" for index, name in enumerate(sorted(drawn.load_order))}
    lines = ["flowchart TB"]
    for depth in range(len(drawn.layers), 0, -1):
        lines.append(f'  subgraph layer{depth}["layer {depth}"]')
        lines += [f"    {ids[name]}[{_mermaid_label(name)}]" for name in drawn.layers[depth - 1]]
        lines.append("  end")
    if drawn.kernel is not None:
        lines.append(f"  kernel[({_mermaid_label('kernel: ' + drawn.kernel)})]")
    for edge in drawn.edges:
        label = _mermaid_label(cap(edge.symbols, _SYMBOLS_SHOWN))
        lines.append(f"  {ids[edge.upper]} -->|{label}| {ids[edge.lower]}")
    # linkStyle counts links in the order they were written: the set's edges come first.
    red = [index for index, edge in enumerate(drawn.edges) if edge.cycle]
    if drawn.kernel is not None:
        lines += [f"  {ids[name]} -.-> kernel" for name in drawn.kernel_edges]
    if red:
        lines.append(f"  linkStyle {','.join(map(str, red))} stroke:red,stroke-width:2px")
        lines.append("  classDef cycle fill:#ffdddd,stroke:red")
        members = sorted(ids[name] for name in drawn.cycle_of)
        lines.append(f"  class {','.join(members)} cycle")
    return "\n".join(lines) + "\n"
