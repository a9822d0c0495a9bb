"""KM1xx: what a module exports."""

from __future__ import annotations

from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Location, Severity
from kmodlint.model import BINDING, Module, Target
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule


@rule(
    "KM101",
    "static-export",
    severity=Severity.ERROR,
    summary="EXPORT_SYMBOL names a static (file-local) symbol",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def static_export(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports an `EXPORT_SYMBOL*()` of a symbol with internal linkage. In a `.ko` the
    `__ksymtab` entry's value is relocated against a LOCAL symbol (or a section symbol,
    which is how the assembler refers to file-local code). Key: the exported symbol.

    ## Why is this bad?
    A static function is private to its file; exporting it is a contradiction the build
    refuses today, and on older kernels it exported a name other modules could not rely on.

    ## Kernel behaviour
    - 6.5+: `scripts/mod/modpost.c: check_export_symbol()` — ERROR
      `%s: local symbol '%s' was exported`.
    - 5.19-6.4: `scripts/check-local-export` (run per object by `scripts/Makefile.build`) —
      `%s: error: local symbol %s was exported`.
    - <= 5.18: modpost `"%s" [%s] is a static EXPORT_SYMBOL`.
    The loader does not check; in 6.5+ `.ko` files the `__ksymtab_<sym>` labels themselves
    are LOCAL by design, so kmodlint looks at the relocation target, not the label.

    ## Example
    ```c
    static int mod1_helper(void) { return 0; }
    EXPORT_SYMBOL(mod1_helper);
    ```

    ## Use instead
    ```c
    int mod1_helper(void) { return 0; }
    EXPORT_SYMBOL(mod1_helper);
    ```

    ## References
    - lore:20220527100155.1996314-5-masahiroy@kernel.org
    """
    for module in ms.modules:
        for export in module.exports:
            local = export.target is Target.LOCAL or (
                export.target is Target.UNKNOWN
                and module.defined.get(export.symbol) is not None
                and module.defined[export.symbol][BINDING] == "local"
            )
            if local:
                yield Hit(
                    module,
                    f"local symbol '{export.symbol}' was exported (it is static): drop `static` "
                    "or the export",
                    key=export.symbol,
                    symbol=export.symbol,
                    location=export.location,
                )


@rule(
    "KM102",
    "export-without-definition",
    severity=Severity.ERROR,
    summary="the module exports a symbol it does not define",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def export_without_definition(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports an exported symbol that the exporting module does not define: the `__ksymtab`
    entry points at an undefined symbol. Key: the exported symbol.

    ## Why is this bad?
    The export re-publishes something the module only imports; the build stops, and if it
    did not, the export would shadow or collide with the real owner's.

    ## Kernel behaviour
    `scripts/mod/modpost.c: check_exports()` (6.1, 6.12) — ERROR
    `"%s" [%s.ko] was exported without definition`.

    ## Example
    ```c
    extern int ghost(void);
    EXPORT_SYMBOL(ghost);
    ```

    ## Use instead
    Export the symbol from the module that defines it, or define it here.
    """
    for module in ms.modules:
        for export in module.exports:
            # From sources, UNKNOWN means "passed to a macro that may define it": quiet.
            missing = export.target is Target.UNDEFINED or (
                export.target is Target.UNKNOWN
                and module.source is None
                and export.symbol not in module.defined
            )
            if missing:
                yield Hit(
                    module,
                    f"'{export.symbol}' was exported without definition: define it in "
                    f"{module.name}, or drop the export and let the module that defines it "
                    "export it",
                    key=export.symbol,
                    symbol=export.symbol,
                    location=export.location,
                )


@rule(
    "KM103",
    "duplicate-export",
    severity=Severity.ERROR,
    summary="two modules of the set, or a module and the kernel, export the same name",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
)
def duplicate_export(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a symbol exported by more than one module of the set (on every exporter after
    the first by name), or by a module and the target kernel (on the module). Key: the
    symbol.

    ## Why is this bad?
    Only one owner of a name can be live. The second module to load is refused, so two
    drivers that each work alone cannot be used together.

    ## Kernel behaviour
    - Loader: `kernel/module/main.c: verify_exported_symbols()` from
      `complete_formation()` — `%s: exports duplicate symbol %s (owned by %s)`,
      `-ENOEXEC` (insmod: *Invalid module format*).
    - modpost: `scripts/mod/modpost.c: sym_add_exported()` — ERROR
      `%s: '%s' exported twice. Previous export was in %s%s`.
    - depmod: silent, the last module wins (`shared/hash.c: hash_add`).

    ## Example
    Two modules of one tree both do `EXPORT_SYMBOL(crc_helper);`.

    ## Use instead
    Keep the export in one module and make the other import it.

    ## References
    - https://github.com/notro/fbtft/issues/191
    - https://github.com/morrownr/8812au-20210820/issues/28
    """
    kernel = ms.kernel.exports if ms.kernel is not None else {}
    for symbol, exporters in sorted(ms.exporters.items()):
        if symbol in kernel:
            # The kernel's copy is live before any module loads: every exporter collides.
            owner = kernel[symbol].owner
            if owner == "vmlinux":
                detail = "owned by the kernel image, vmlinux"
            else:
                detail = f"owned by {owner} of the target kernel: the two cannot be loaded together"
            for module in exporters:
                yield Hit(
                    module,
                    f"exports duplicate symbol '{symbol}' ({detail}): rename it or drop this "
                    "export and use the existing one",
                    key=symbol,
                    symbol=symbol,
                    location=_export_location(module, symbol),
                )
            continue
        first = exporters[0]
        for later in exporters[1:]:
            yield Hit(
                later,
                f"exports duplicate symbol '{symbol}' (also exported by {first.name}): keep "
                f"the export in one of {first.name} and {later.name} and make the other "
                "import it",
                key=symbol,
                symbol=symbol,
                location=_export_location(later, symbol),
            )


def _export_location(module: Module, symbol: str) -> Location | None:
    return next((e.location for e in module.exports if e.symbol == symbol), None)


@rule(
    "KM104",
    "init-exit-export",
    severity=Severity.WARNING,
    summary="EXPORT_SYMBOL of an __init or __exit symbol",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def init_exit_export(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports an `EXPORT_SYMBOL*` of a function or variable the module defines with
    `__init`/`__initdata`/`__initconst` or `__exit`/`__exitdata`. Key: the exported symbol.

    ## Why is this bad?
    Init code is freed once the module has loaded and exit code is discarded when the
    module cannot be unloaded (or is built in): another module calling the export jumps
    into freed memory.

    ## Kernel behaviour
    - 6.1: `scripts/mod/modpost.c: report_sec_mismatch()` — WARNING
      `%s: EXPORT_SYMBOL used for init/exit symbol: %s (section: %s)`, and without
      `CONFIG_SECTION_MISMATCH_WARN_ONLY` ERROR `Section mismatches detected.`
    - 6.12: `scripts/mod/modpost.c: check_export_symbol()` — WARNING
      `%s: %s: EXPORT_SYMBOL used for init symbol. Remove __init or EXPORT_SYMBOL.`
      (and the same for exit symbols).

    ## Example
    ```c
    int __init moda_setup(void) { return 0; }
    EXPORT_SYMBOL(moda_setup);
    ```

    ## Use instead
    Drop `__init` from an exported function, or stop exporting it.
    """
    for module in ms.modules:
        for export in module.exports:
            if export.init_exit.startswith((".init", ".exit")):
                which = export.init_exit[1:5]
                yield Hit(
                    module,
                    f"EXPORT_SYMBOL used for {which} symbol '{export.symbol}' (section "
                    f"{export.init_exit}): remove __{which} or the export",
                    key=export.symbol,
                    symbol=export.symbol,
                    location=export.location,
                )
