"""A `.ko` beside the Kbuild that declares it is that module's build product.

After `make -C /lib/modules/$(uname -r)/build M=$PWD`, a driver folder holds both the
sources and `foo.ko` (kbuild writes `$(obj)/foo.ko` next to the Kbuild/Makefile that lists
`obj-m += foo.o`). They are one module, not two modules of one name: the sources are
analysed, and the binary only says whether the build is stale — older than a source file,
or disagreeing with the sources on exports, licence or imports. A stale `.ko` is what gets
loaded by a developer who forgot to rebuild, so the difference is worth a note (`info`).
"""

from __future__ import annotations

import os

from kmodlint.folders import ancestors
from kmodlint.model import InputProblem, Module, normalise_module_name

STALE = "stale-build"


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def pair_build_products(
    binaries: list[Module], sources: list[Module]
) -> tuple[list[Module], list[InputProblem]]:
    """The binaries that are modules of their own, and a stale-build note for each
    build product that does not match its sources. A build product is a binary named like a
    source module whose file lies in that module's Kbuild folder."""
    product_of: dict[tuple[str, str], Module] = {}
    for module in sources:
        if module.source is None:
            continue
        folder = _key(os.path.dirname(module.path) or ".")
        product_of[(folder, normalise_module_name(module.name))] = module
    kept: list[Module] = []
    notes: list[InputProblem] = []
    set_exports = {export.symbol for module in sources for export in module.exports}
    for binary in binaries:
        source = _source_of(binary, product_of)
        if source is None:
            kept.append(binary)
            continue
        reasons = _differences(binary, source, set_exports)
        if reasons:
            notes.append(
                InputProblem(
                    STALE,
                    binary.path,
                    f"{os.path.basename(binary.path)} is the build product of {source.name}'s "
                    f"sources but {'; '.join(reasons)}: the sources were analysed, and loading "
                    "this file loads an old build; rebuild it (make M=...)",
                )
            )
    return kept, notes


def _source_of(binary: Module, product_of: dict[tuple[str, str], Module]) -> Module | None:
    """The source module whose Kbuild folder holds the binary, directly or in a folder
    below it that has no Kbuild/Makefile of its own (an `O=`-style output folder, a
    `built/` copy): the nearest such folder up from the binary."""
    name = normalise_module_name(binary.name)
    for folder in ancestors(os.path.dirname(binary.path) or ".", 8):
        source = product_of.get((os.path.normcase(folder), name))
        if source is not None:
            return source
        if any(os.path.isfile(os.path.join(folder, f)) for f in ("Kbuild", "Makefile")):
            return None
    return None


def _differences(binary: Module, source: Module, set_exports: set[str]) -> list[str]:
    assert source.source is not None
    reasons: list[str] = []
    built = _mtime(binary.path)
    files = [*source.source.files, source.path]
    newer = [f for f in files if built is not None and (_mtime(f) or 0) > built]
    if newer:
        reasons.append(f"it is older than {_names(newer)}")
    ko_exports = {(e.symbol, e.kind.value) for e in binary.exports}
    src_exports = {(e.symbol, e.kind.value) for e in source.exports}
    only_ko = sorted(ko_exports - src_exports)
    only_src = sorted(src_exports - ko_exports)
    if only_src:
        reasons.append(f"it lacks the export(s) {_pairs(only_src)} of the sources")
    if only_ko:
        reasons.append(f"it exports {_pairs(only_ko)}, which the sources no longer do")
    if binary.licenses and source.licenses and set(binary.licenses) != set(source.licenses):
        reasons.append(
            f"its licence is {', '.join(binary.licenses)}, the sources say "
            f"{', '.join(source.licenses)}"
        )
    assert source.source is not None
    used = set(source.source.references) | set(source.defined) | source.source.maybe_defined
    used |= {export.symbol for export in source.exports}
    # Only imports from the modules of the set are compared: what the kernel's own inline
    # functions and macros expand to (_printk, __kmalloc, __fentry__) appears in no source.
    gone = sorted(
        s for s, weak in binary.undefined.items() if not weak and s not in used and s in set_exports
    )
    if gone:
        reasons.append(f"it imports {_names(gone)}, which the sources no longer use")
    return reasons


def _names(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"'{os.path.basename(i) if os.sep in i else i}'" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _pairs(items: list[tuple[str, str]], limit: int = 3) -> str:
    shown = ", ".join(f"'{symbol}' ({kind})" for symbol, kind in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
