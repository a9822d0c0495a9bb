"""KM3xx: how the modules of a set resolve and depend on each other; and KM603
(extern-in-source), the source-side half of extern-mismatch."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.model import normalise_module_name
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule
from kmodlint.typecompat import compatible


@rule(
    "KM301",
    "unresolved-symbol",
    severity=Severity.ERROR,
    summary="a used symbol is exported by nobody in the set or the kernel",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
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
    candidates: list[str] | None = None
    for module in ms.modules:
        for symbol in ms.unresolved(module):
            if candidates is None:
                kernel = ms.kernel.exports if ms.kernel is not None else {}
                candidates = sorted(set(ms.exports_by_symbol) | set(kernel))
            yield Hit(
                module,
                f"Unknown symbol {symbol}: exported by no module of the set and not by the "
                f"kernel; {_unresolved_fix(symbol, candidates)}",
                key=symbol,
                symbol=symbol,
                location=module.use_location(symbol),
            )


@rule(
    "KM302",
    "dependency-cycle",
    severity=Severity.ERROR,
    summary="modules depend on each other in a loop",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
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
    for cycle in ms.cycles:
        graph = ms.graph
        module = ms.by_name[normalise_module_name(cycle[0])]
        links = "; ".join(
            f"{a} needs {', '.join(sorted(graph.edges[a, b]['symbols']))} from {b}"
            for a, b in itertools.pairwise(cycle)
        )
        yield Hit(
            module,
            f"Cycle detected: {' -> '.join(cycle)} ({links}); move the shared symbols "
            "into one module both depend on, or pass callbacks at registration time",
            key="->".join(cycle),
        )


@rule(
    "KM304",
    "depends-mismatch",
    severity=Severity.WARNING,
    summary="the .modinfo depends= list differs from the modules the symbols really need",
    modes=(Mode.BINARY,),
    scope=Scope.SET,
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
                f"depends= does not list {real[key]}, whose symbols it uses: rebuild with "
                f"{real[key]}'s Module.symvers in KBUILD_EXTRA_SYMBOLS",
                key=real[key],
            )
        for key in sorted(set(recorded_names) - set(real)):
            if key in known:
                yield Hit(
                    module,
                    f"depends= lists {recorded_names[key]}, which provides none of its "
                    "symbols: rebuild against the modules it is loaded with",
                    key=recorded_names[key],
                )


@rule(
    "KM303",
    "extern-mismatch",
    severity=Severity.WARNING,
    summary="an extern declaration's type differs from the definition another module exports",
    modes=(Mode.SOURCE,),
    scope=Scope.SET,
)
def extern_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Compares each declaration a module makes of a symbol another module of the set
    exports (an `extern` or a prototype, in a `.c` or the driver's own header) with the
    exporter's definition, as C types: return and parameter types (names ignored,
    typedef names as written). Both sides must have been read the same way (token path
    or full AST), so a difference is never an artefact of the front end. Key: the symbol.

    ## Why is this bad?
    The compiler sees only the importer's declaration and modpost copies the
    exporter's CRC into the importer, so nothing notices: the call passes arguments the
    callee reads differently, corrupting data or the stack at run time.

    ## Kernel behaviour
    No tool checks it. `CONFIG_MODVERSIONS` CRCs come from the exporter's declaration
    (`scripts/genksyms`, 6.14+ `scripts/gendwarfksyms`), and `scripts/mod/modpost.c:
    add_versions()` copies them into the importer's `__versions`, so the importer's own
    prototype is never compared.

    ## Example
    ```c
    extern long foo_register(long id);   /* moda.c */
    int foo_register(int id) { ... }     /* modb.c, EXPORT_SYMBOL(foo_register) */
    ```

    ## Use instead
    Declare the function once, in a header the exporter includes too.

    ## Severity
    A warning: the build and the loader accept it; what breaks is the call at run time.
    Types are compared for compatibility (C11 6.2.7), not spelling: an array of unknown
    bound matches a bound, parameter qualifiers and `restrict` do not count, kernel
    typedefs (`u32`, `uint`, `size_t`) are resolved, and a name neither side resolves
    (a driver's own typedef) never makes a finding.
    """
    for module in ms.modules:
        if module.source is None:
            continue
        providers = ms.resolution[module.name]
        reported: set[str] = set()
        for extern in module.source.externs:
            provider = providers.get(extern.name)
            if provider is None or not provider.in_set or extern.name in reported:
                continue
            exporter = ms.by_name.get(provider.owner.replace("-", "_"))
            if exporter is None or exporter.source is None:
                continue
            definition = exporter.source.definitions.get(extern.name)
            if definition is None:
                continue
            # Like with like: both trees' types, else both token spellings.
            if definition.via == extern.via and definition.ctype and extern.ctype:
                declared, defined = extern.ctype, definition.ctype
            elif definition.token_ctype and extern.token_ctype:
                declared, defined = extern.token_ctype, definition.token_ctype
            else:
                continue
            if compatible(declared, defined):
                continue
            reported.add(extern.name)
            yield Hit(
                module,
                f"'{extern.name}' is declared here as {declared} but {exporter.name} "
                f"defines it as {defined}: declare it once, in a header {exporter.name} "
                "includes too",
                key=extern.name,
                symbol=extern.name,
                location=extern.loc,
            )


@rule(
    "KM603",
    "extern-in-source",
    severity=Severity.WARNING,
    summary="an extern declaration or a prototype of an external function in a .c file",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def extern_in_source(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports, in `.c` files, a file-scope declaration of a function that is not `static`
    (with or without `extern`) and that the module does not define, and every `extern`
    variable declaration. Key: the declared name.

    ## Why is this bad?
    A private copy of another file's prototype drifts from the real one silently (see
    extern-mismatch); the declaration belongs in the exporter's header, shared by both
    sides so the compiler checks every caller against the definition.

    ## Kernel behaviour
    `scripts/checkpatch.pl` — WARNING `AVOID_EXTERNS`: `externs should be avoided in .c
    files`, and for variables `found a file-scoped extern type:%s name:%s in .c file`.
    The compiler and modpost accept it.

    ## Example
    ```c
    extern int myadd(int a, int b);   /* mod2.c, myadd is mod1's */
    ```

    ## Use instead
    ```c
    #include "mod1.h"                 /* int myadd(int a, int b); */
    ```
    """
    for module in ms.modules:
        if module.source is None:
            continue
        for extern in module.source.externs:
            if not extern.loc.path.endswith(".c"):
                continue
            if extern.is_function and extern.name in module.defined:
                continue  # a forward declaration of the module's own function
            if not extern.is_function and not extern.explicit_extern:
                continue
            yield Hit(
                module,
                f"externs should be avoided in .c files: move the declaration of "
                f"'{extern.name}' to a header both sides include",
                key=extern.name,
                location=extern.loc,
            )


def _unresolved_fix(symbol: str, candidates: list[str]) -> str:
    """A near name the set or the kernel exports (a typo, a renamed API), else where the
    export has to come from."""
    near = _close_name(symbol, candidates, 0.85)
    if near:
        return f"did you mean '{near}'?"
    return (
        "add the module that exports it to the checked set (and its Module.symvers to "
        "KBUILD_EXTRA_SYMBOLS when building), or stop using it"
    )


def _close_name(word: str, candidates: list[str], cutoff: float) -> str | None:
    """difflib.get_close_matches(word, candidates, n=1, cutoff)[0] (or None), ~2.5 times
    faster on a kernel's ~27,000 exports (it took 50 ms a name: a 6.1 module checked against
    6.12 has dozens of unknown names, a kernel matrix as many per kernel). Two necessary
    conditions skip most candidates before any SequenceMatcher work: the length bound
    (difflib's real_quick_ratio) and a bound on quick_ratio, since a character of x that
    `word` does not hold cannot match. The same ratios, cutoff and tie-break (the larger
    (score, name)) as difflib, so the same answer."""
    from difflib import SequenceMatcher

    length = len(word)
    absent = str.maketrans("", "", word)
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    best: tuple[float, str] | None = None
    for name in candidates:
        total = length + len(name)
        if 2.0 * min(length, len(name)) / total < cutoff:
            continue
        if 2.0 * (len(name) - len(name.translate(absent))) / total < cutoff:
            continue
        matcher.set_seq1(name)
        if matcher.quick_ratio() >= cutoff:
            score = matcher.ratio()
            if score >= cutoff and (best is None or (score, name) > best):
                best = (score, name)
    return best[1] if best else None
