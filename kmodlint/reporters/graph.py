"""`kmodlint deps`: the module set's dependencies as a stacking picture, modules.dep, DOT,
Mermaid or JSON, all drawn from one `picture.Picture`."""

from __future__ import annotations

import json
from collections.abc import Callable

from kmodlint.depmod import modules_dep_lines
from kmodlint.moduleset import ModuleSet
from kmodlint.reporters.escape import printable, valid_unicode
from kmodlint.reporters.picture import Edge, Picture, picture

FORMATS = ("text", "modules.dep", "dot", "mermaid", "json")


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


def format_deps(
    ms: ModuleSet,
    relative: dict[str, str],
    order: list[str],
    fmt: str,
    symbols: bool = False,
) -> str:
    """`relative` (module -> path as given) and `order` (modules.order) place modules.dep's
    names as depmod does."""
    if fmt == "modules.dep":
        lines = modules_dep_lines(ms, relative, order)
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
