"""`kmodlint deps` as text: the module set drawn as the layers of a stack.

Top box: modules nothing in the set needs; layer 1: base modules that need nothing in the
set; under them the kernel they load into. The edges leaving a layer are listed under its
box, then the cycles, then the modprobe and rmmod sequences a human would type. Plain ASCII
so it survives any terminal, log or email.
"""

from __future__ import annotations

import textwrap

from kmodlint.reporters.picture import Picture, cap

_MIN_WIDTH, _MAX_WIDTH = 40, 76  # inner width of a box
_SYMBOLS_SHOWN = 8  # per edge, then "... and N more"
_LABEL = len("layer 10")


def stacking_text(drawn: Picture, symbols: bool) -> str:
    if not drawn.layers:
        return f"no modules; kernel: {drawn.kernel or 'not checked'}\n"
    count = len(drawn.load_order)
    lines = [
        f"{count} module{'s' if count != 1 else ''} in {len(drawn.layers)} "
        f"layer{'s' if len(drawn.layers) != 1 else ''} "
        "(top: nothing in the set needs it; layer 1: needs nothing in the set)",
        "",
    ]
    rows = {depth: _layer_row(drawn, depth) for depth in range(len(drawn.layers), 0, -1)}
    kernel_row = ("kernel", _kernel_text(drawn))
    # Not part of the set, so not in the load order: modprobe pulls them in first.
    needed = f"its modules needed: {cap(drawn.kernel_modules, _SYMBOLS_SHOWN)}"
    width = _box_width([*rows.values(), kernel_row, ("", needed)])
    for depth, row in rows.items():
        lines += _box(row, width, "-")
        lines += _edges_below(drawn, drawn.layers[depth - 1], symbols)
    lines += _kernel_edges(drawn, symbols)
    lines += _box(kernel_row, width, "=", [needed] if drawn.kernel_modules else [])
    if drawn.cycles:
        lines += ["", "cycles (each module needs the other loaded first; the kernel loads none):"]
        lines += [f"  cycle {n}: {' -> '.join(c)}" for n, c in enumerate(drawn.cycles, start=1)]
    lines += ["", "load order:" + (" (not loadable while the cycles remain)" * bool(drawn.cycles))]
    lines += [f"  modprobe {name}" for name in drawn.load_order]
    lines += ["unload order:"]
    lines += [f"  rmmod {name}" for name in reversed(drawn.load_order)]
    return "\n".join(lines) + "\n"


def _layer_row(drawn: Picture, depth: int) -> tuple[str, str]:
    names = [
        f"{name} [cycle {drawn.cycle_of[name]}]" if name in drawn.cycle_of else name
        for name in drawn.layers[depth - 1]
    ]
    # Two spaces between modules, so a cycle mark stays visibly attached to its module.
    return f"layer {depth}", "  ".join(names)


def _kernel_text(drawn: Picture) -> str:
    if drawn.kernel is None:
        return "not checked (the reason is on stderr; --kernel PATH names a table)"
    return drawn.kernel


def _box_width(rows: list[tuple[str, str]]) -> int:
    widest = max(len(label.ljust(_LABEL)) + 3 + len(text) for label, text in rows)
    return max(_MIN_WIDTH, min(_MAX_WIDTH, widest))


def _box(row: tuple[str, str], width: int, rule: str, more: list[str] | None = None) -> list[str]:
    """One layer as a box; `more` are further paragraphs, each starting on its own line."""
    label, text = row
    label = label.ljust(_LABEL)
    wrapped: list[str] = []
    for paragraph in [text, *(more or [])]:
        wrapped += textwrap.wrap(
            paragraph, width - len(label) - 3, break_long_words=False, break_on_hyphens=False
        ) or [""]
    border = "+" + rule * (width + 2) + "+"
    body = [f"| {label} | {part}" for part in wrapped[:1]]
    body += [f"| {'':{len(label)}} | {part}" for part in wrapped[1:]]
    # A name longer than the box pushes the right border out rather than being cut.
    return [border, *(f"{line:<{width + 2}} |" for line in body), border]


def _edges_below(drawn: Picture, layer: list[str], symbols: bool) -> list[str]:
    members = set(layer)
    lines = []
    for edge in drawn.edges:
        if edge.upper not in members:
            continue
        text = f"    {edge.upper} -> {edge.lower}"
        if symbols:
            text += ": " + cap(edge.symbols, _SYMBOLS_SHOWN)
        else:
            text += f" ({len(edge.symbols)} symbol{'s' if len(edge.symbols) != 1 else ''})"
        if edge.cycle:
            text += f"  [cycle {edge.cycle}]"
        lines.append(text)
    return lines


def _kernel_edges(drawn: Picture, symbols: bool) -> list[str]:
    if drawn.kernel is None or not drawn.kernel_edges:
        return []
    if symbols:
        return [
            f"    {name} -> kernel: {cap(used, _SYMBOLS_SHOWN)}"
            for name, used in drawn.kernel_edges.items()
        ]
    users = len(drawn.kernel_edges)
    total = len(drawn.load_order)
    who = f"all {total} modules" if users == total and total > 1 else f"{users} of {total} modules"
    if total == 1:
        who = drawn.load_order[0]
    return [f"    {who} -> kernel"]
