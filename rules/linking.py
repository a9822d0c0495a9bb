"""KM3xx: how the modules of a set resolve and depend on each other."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from kmodlint.model import normalise_module_name
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Hit, rule


@rule(
    "KM301",
    "unresolved-symbol",
    "error",
    "a used symbol is exported by nobody in the set or the kernel",
    modes=("binary", "source"),
    scope="set",
)
def unresolved_symbol(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports each non-weak undefined symbol of a module that no module of the set and no
    export of the target kernel provides. Needs a complete kernel table (`--kernel`); weak
    references and the symbols modpost ignores (`__this_module`, `_GLOBAL_OFFSET_TABLE_`,
    the PowerPC register save/restore helpers, s390 expoline thunks) never fire. Key: the
    symbol.

    ## Why is this bad?
    The module cannot be loaded on that kernel, in any order.

    ## Kernel behaviour
    - Loader: `kernel/module/main.c: simplify_symbols()` -> `resolve_symbol()` —
      `%s: Unknown symbol %s (err %d)`, `-ENOENT` (insmod: *Unknown symbol in module*).
    - modpost: `scripts/mod/modpost.c: check_exports()` — ERROR `"%s" [%s.ko] undefined!`
      (`ignore_undef_symbol()` lists the exempt names).
    - depmod: `%s needs unknown symbol %s` with `-e`, exit 0.

    ## Example
    `mod2.ko` calls `myadd()` but `mod1.ko`, which exports it, is not in the set.

    ## Use instead
    Add the exporting module to the set (and to `KBUILD_EXTRA_SYMBOLS` when building), or
    stop using the symbol.

    ## References
    - https://github.com/dynup/kpatch/pull/346
    - https://github.com/grml/grml-live/issues/99
    """
    for module in ms.modules:
        for symbol in ms.unresolved(module):
            yield Hit(
                module,
                f"Unknown symbol {symbol}: exported by no module of the set and not by the kernel",
                key=symbol,
                symbol=symbol,
                location=module.use_location(symbol),
            )


@rule(
    "KM302",
    "dependency-cycle",
    "error",
    "modules depend on each other in a loop",
    modes=("binary", "source"),
    scope="set",
)
def dependency_cycle(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports each loop in the symbol dependency graph of the set, once, on the module with
    the smallest name. Key: the cycle `a->b->a`, starting at the smallest name.

    ## Why is this bad?
    Neither module can be loaded first, so none of them loads; depmod refuses to write
    any index and `make modules_install` fails.

    ## Kernel behaviour
    - depmod: `tools/depmod.c: depmod_calculate_dependencies()` /
      `depmod_report_one_cycle()` — ERROR `Cycle detected: %s` then
      `Found %d modules in dependency cycles!`, exit 1.
    - Loader: each load fails with `-ENOENT` (*Unknown symbol in module*).

    ## Example
    `moda.ko` calls `modb_get()`, `modb.ko` calls `moda_put()`.

    ## Use instead
    Move the shared symbols into one module both can depend on, or pass a callback at
    registration time instead of a symbol reference.

    ## References
    - https://github.com/armbian/build/issues/45
    """
    graph = ms.graph
    for cycle in ms.cycles:
        module = ms.by_name[normalise_module_name(cycle[0])]
        links = "; ".join(
            f"{a} needs {', '.join(sorted(graph.edges[a, b]['symbols']))} from {b}"
            for a, b in itertools.pairwise(cycle)
        )
        yield Hit(
            module,
            f"Cycle detected: {' -> '.join(cycle)} ({links})",
            key="->".join(cycle),
        )


@rule(
    "KM304",
    "depends-mismatch",
    "warning",
    "the .modinfo depends= list differs from the modules the symbols really need",
    scope="set",
)
def depends_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Compares `depends=` in `.modinfo` with the owners of the module's resolved imports
    (modules of the set, and modules of the target kernel; vmlinux and built-in modules
    excluded). One finding per missing or extra name. A name is only called extra when
    that module is known (in the set or the target) and provides nothing: an unknown one
    is already an unresolved-symbol finding. Key: the dependency name.

    ## Why is this bad?
    The module was built against a different set of modules than it is used with: a
    symbol moved, or the build had no `KBUILD_EXTRA_SYMBOLS`, so its CRCs and
    dependencies were never recorded.

    ## Kernel behaviour
    modpost writes `MODULE_INFO(depends, ...)` from the owners of the imports it resolved
    (`scripts/mod/modpost.c: add_depends()`, 6.1/6.12). Nothing reads it: depmod
    (`tools/depmod.c`) uses symbols and the loader ignores it, which is why a stale list
    goes unnoticed.

    ## Example
    `.modinfo` of `mod2.ko` says `depends=` but `mod2` imports `myadd` from `mod1`.

    ## Use instead
    Rebuild against the modules it is used with (`KBUILD_EXTRA_SYMBOLS=.../Module.symvers`).
    """
    builtin = ms.kernel.builtin if ms.kernel is not None else set()
    known = set(ms.by_name) | ms.kernel_modules
    for module in ms.modules:
        recorded = module.depends
        if recorded is None:
            continue
        recorded_names = {normalise_module_name(n): n for n in recorded}
        real = {
            normalise_module_name(name): name
            for name in ms.dependencies(module)
            if normalise_module_name(name) not in builtin
        }
        for key in sorted(set(real) - set(recorded_names)):
            yield Hit(
                module,
                f"depends= does not list {real[key]}, whose symbols it uses",
                key=real[key],
            )
        for key in sorted(set(recorded_names) - set(real)):
            if key in known:
                yield Hit(
                    module,
                    f"depends= lists {recorded_names[key]}, which provides none of its symbols",
                    key=recorded_names[key],
                )
