"""KM5xx: symbol namespaces (EXPORT_SYMBOL_NS, MODULE_IMPORT_NS)."""

from __future__ import annotations

from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet, is_ignored_undefined
from kmodlint.rule import Mode, Scope, rule

# 6.16+: EXPORT_SYMBOL_FOR_MODULES(sym, "a,b*") exports into the namespace "module:a,b*".
_MODULE_NAMESPACE = "module:"


def _module_namespace_allows(namespace: str, module_name: str) -> bool:
    """kernel/module/main.c: verify_module_namespace() — comma list, trailing `*` glob."""
    name = module_name.replace("-", "_")
    for pattern in namespace[len(_MODULE_NAMESPACE) :].split(","):
        pattern = pattern.strip().replace("-", "_")
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if pattern == name:
            return True
    return False


@rule(
    "KM501",
    "missing-namespace-import",
    severity=Severity.ERROR,
    summary="a namespaced symbol is used without MODULE_IMPORT_NS",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
)
def missing_namespace_import(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports each namespace a module uses symbols from (exports made with
    `EXPORT_SYMBOL_NS*`, namespace column of Module.symvers) without importing it
    (`import_ns=` in `.modinfo`, from `MODULE_IMPORT_NS()`). For 6.16+ `module:`
    namespaces, reports a module the export is not meant for. Key: the namespace.

    ## Why is this bad?
    The loader refuses the module unless the kernel was built with
    `CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS`, and the build already fails.

    ## Kernel behaviour
    - Loader: `kernel/module/main.c: verify_namespace_is_imported()` —
      `%s: module uses symbol (%s) from namespace %s, but does not import it.`, `-EINVAL`
      (insmod: *Invalid parameters*).
    - modpost: `scripts/mod/modpost.c: check_exports()` — ERROR
      `module %s uses symbol %s from namespace %s, but does not import it.`

    ## Example
    ```c
    usb_stor_probe1(...);   /* EXPORT_SYMBOL_NS_GPL(usb_stor_probe1, USB_STORAGE) */
    ```

    ## Use instead
    ```c
    MODULE_IMPORT_NS(USB_STORAGE);   /* 6.13+: MODULE_IMPORT_NS("USB_STORAGE") */
    ```
    """
    for module in ms.modules:
        imported = set(module.imported_namespaces)
        missing: dict[str, list[str]] = {}
        for symbol, provider in ms.resolution[module.name].items():
            namespace = provider.export.namespace
            if not namespace or namespace in imported:
                continue
            if namespace.startswith(_MODULE_NAMESPACE) and _module_namespace_allows(
                namespace, module.name
            ):
                continue
            missing.setdefault(namespace, []).append(symbol)
        for namespace, symbols in sorted(missing.items()):
            names = ", ".join(symbols)
            if namespace.startswith(_MODULE_NAMESPACE):
                message = (
                    f"uses symbol(s) {names} exported only for {namespace[7:]}: this module "
                    "may not use them; ask for it to be added to the export's module list"
                )
            else:
                message = (
                    f"module uses symbol(s) {names} from namespace {namespace}, but does not "
                    f"import it: add MODULE_IMPORT_NS({namespace})"
                )
            uses = [w for w in map(module.use_location, symbols) if w is not None]
            first = min(uses, key=lambda w: (w.path, w.line or 0)) if uses else None
            yield Hit(module, message, key=namespace, symbol=symbols[0], location=first)


@rule(
    "KM502",
    "unused-namespace-import",
    severity=Severity.WARNING,
    summary="MODULE_IMPORT_NS of a namespace the module uses nothing from",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
)
def unused_namespace_import(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports an imported namespace (`import_ns=`) that none of the module's resolved imports
    belongs to. Only checked with a complete kernel table (`--kernel`), when every import is
    resolved and its namespace is known (a Module.symvers or headers target): without one,
    a use of the kernel's symbols in that namespace cannot be seen, and the rule stays
    quiet. Key: the namespace.

    ## Why is this bad?
    A stale import hides where a driver's real dependencies are and keeps a namespace
    open that the maintainers meant to close.

    ## Kernel behaviour
    No kernel tool checks this: the loader only tests imports that are used
    (`kernel/module/main.c: verify_namespace_is_imported()`). A modpost warning was
    proposed and not merged because, in sources, usage depends on the configuration
    (lore:20250123110951.370759-2-u.kleine-koenig@baylibre.com); a built `.ko` has one
    configuration, so the finding is exact for binaries.

    ## Example
    `MODULE_IMPORT_NS(CXL);` in a module that calls no CXL symbol.

    ## Use instead
    Drop the import.
    """
    if ms.kernel is None or not ms.kernel.complete:
        # Without the kernel's table, a use of a kernel symbol in the namespace cannot be
        # seen (sources declare kernel functions in headers kmodlint does not read as
        # imports), so "uses nothing from it" would be a guess.
        return
    namespaces_known = ms.kernel.has_kinds
    for module in ms.modules:
        providers = ms.resolution[module.name]
        if not namespaces_known and any(not p.in_set for p in providers.values()):
            continue
        if any(
            symbol not in providers and not is_ignored_undefined(module, symbol)
            for symbol in module.undefined
        ):
            # An import nobody resolved may be the one that belongs to the namespace.
            continue
        used = {p.export.namespace for p in providers.values()}
        for namespace in dict.fromkeys(module.imported_namespaces):
            if namespace not in used:
                yield Hit(
                    module,
                    f"module imports namespace {namespace}, but uses no symbol from it: drop "
                    f"MODULE_IMPORT_NS({namespace})",
                    key=namespace,
                    location=module.modinfo_location("import_ns", namespace),
                )
