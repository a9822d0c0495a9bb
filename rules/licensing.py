"""KM2xx: licences and what they allow a module to use."""

from __future__ import annotations

from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.model import Module
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule

# include/linux/license.h: license_is_gpl_compatible() (exact strcmp; 6.1 = 6.12).
GPL_COMPATIBLE = frozenset(
    {
        "GPL",
        "GPL v2",
        "GPL and additional rights",
        "Dual BSD/GPL",
        "Dual MIT/GPL",
        "Dual MPL/GPL",
    }
)
# include/linux/module.h documents "Proprietary" as the one other accepted tag.
KNOWN_LICENSES = GPL_COMPATIBLE | {"Proprietary"}


def is_gpl_compatible(module: Module) -> bool:
    """modpost's view: every `license=` tag must be compatible (no tag at all counts as
    compatible for modpost, which reports it as missing-license instead)."""
    return all(tag in GPL_COMPATIBLE for tag in module.licenses)


def taints_proprietary(module: Module) -> bool:
    """The loader's view (kernel/module/main.c: set_license): the first tag, or
    "unspecified" without one, decides taint P."""
    licenses = module.licenses
    return not licenses or licenses[0] not in GPL_COMPATIBLE


@rule(
    "KM201",
    "missing-license",
    severity=Severity.ERROR,
    summary="the module has no MODULE_LICENSE",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def missing_license(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module without any `license=` tag in `.modinfo` (no `MODULE_LICENSE()` in
    any of its files). Key: empty.

    ## Why is this bad?
    The build stops. A module that gets loaded anyway counts as proprietary: it taints the
    kernel and every `EXPORT_SYMBOL_GPL` import fails with *Unknown symbol in module*.

    ## Kernel behaviour
    - modpost: `scripts/mod/modpost.c: read_symbols()` — ERROR
      `missing MODULE_LICENSE() in %s` (a WARNING before ~5.11).
    - Loader: `kernel/module/main.c: set_license()` uses "unspecified", which taints P
      (`%s: module license '%s' taints kernel.`).

    ## Example
    A module whose only file has no `MODULE_LICENSE()` line.

    ## Use instead
    ```c
    MODULE_LICENSE("GPL");
    ```

    ## References
    - https://github.com/morganstanley/Xpedite/issues/175
    """
    for module in ms.modules:
        if not module.licenses:
            yield Hit(
                module,
                f'missing MODULE_LICENSE() in {module.name}: add MODULE_LICENSE("GPL") '
                "(or the module's licence) to one of its files",
            )


@rule(
    "KM202",
    "unknown-license",
    severity=Severity.WARNING,
    summary="the licence string is not one the kernel knows",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def unknown_license(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `MODULE_LICENSE()` string that is not exactly one of the six GPL-compatible
    strings or "Proprietary". Key: the licence string.

    ## Why is this bad?
    The kernel compares with `strcmp`: `"GPL v3"`, `"GPLv2"` or `"Dual BSD/GPL "` are
    proprietary to it. The module taints the kernel and cannot use `EXPORT_SYMBOL_GPL`.

    ## Kernel behaviour
    - `include/linux/license.h: license_is_gpl_compatible()` accepts only "GPL",
      "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
      "Dual MPL/GPL"; `kernel/module/main.c: set_license()` taints anything else:
      `%s: module license '%s' taints kernel.`
    - checkpatch: WARN `unknown module license`.

    ## Example
    ```c
    MODULE_LICENSE("GPL v3");
    ```

    ## Use instead
    ```c
    MODULE_LICENSE("GPL");
    ```

    ## References
    - https://github.com/jarun/spy/issues/1
    """
    for module in ms.modules:
        for licence in dict.fromkeys(module.licenses):
            if licence not in KNOWN_LICENSES:
                yield Hit(
                    module,
                    f'unknown module license "{licence}": the kernel treats it as '
                    "proprietary (taints, no EXPORT_SYMBOL_GPL symbols); use one of the "
                    'strings of include/linux/license.h, e.g. "GPL" or "Dual MIT/GPL"',
                    key=licence,
                    location=module.modinfo_location("license", licence),
                )


@rule(
    "KM203",
    "gpl-only-symbol",
    severity=Severity.ERROR,
    summary="a non-GPL-compatible module uses an EXPORT_SYMBOL_GPL symbol",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
)
def gpl_only_symbol(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports each `EXPORT_SYMBOL_GPL` symbol (of the set or the kernel) used by a module
    whose licence is not GPL-compatible. Key: the symbol.

    ## Why is this bad?
    The loader does not even see GPL-only exports from a tainted module: the load fails
    with *Unknown symbol in module*.

    ## Kernel behaviour
    - modpost: `scripts/mod/modpost.c: check_exports()` — ERROR
      `GPL-incompatible module %s.ko uses GPL-only symbol '%s'`.
    - Loader: `kernel/module/main.c: find_exported_symbol_in_section()` skips GPL-only
      symbols when `!fsa->gplok`; `resolve_symbol()` then prints
      `%s: Unknown symbol %s (err %d)`, `-ENOENT`.

    ## Example
    ```c
    MODULE_LICENSE("Proprietary");
    ... usb_register_driver(...);   /* EXPORT_SYMBOL_GPL */
    ```

    ## Use instead
    A GPL-compatible licence, or only plain `EXPORT_SYMBOL` interfaces.

    ## References
    - https://github.com/openzfs/zfs/issues/14555
    - https://github.com/NVIDIA/gdrcopy/issues/254
    """
    for module in ms.modules:
        if is_gpl_compatible(module):
            continue
        # Name the tag that makes the module incompatible, not merely the first one.
        licence = next(tag for tag in module.licenses if tag not in GPL_COMPATIBLE)
        for symbol, provider in ms.resolution[module.name].items():
            if provider.export.kind.gpl_only:
                yield Hit(
                    module,
                    f'GPL-incompatible module (license "{licence}") uses GPL-only symbol '
                    f"'{symbol}' of {provider.owner}: use a symbol exported with "
                    "EXPORT_SYMBOL, or license the module under a GPL-compatible licence",
                    key=symbol,
                    symbol=symbol,
                    location=module.use_location(symbol),
                )


@rule(
    "KM204",
    "proprietary-import",
    severity=Severity.ERROR,
    summary="a module using GPL-only symbols also uses a symbol of a proprietary module",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.SET,
)
def proprietary_import(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module that uses `EXPORT_SYMBOL_GPL` symbols and also a symbol exported by
    a proprietary (tainting) module of the set. Key: the proprietary module's symbol.

    ## Why is this bad?
    Importing from a proprietary module makes the importer proprietary too; a module
    that already relies on GPL-only symbols is refused. Resolution order never saves it:
    imported the other way round, the inherited taint makes the GPL-only lookups fail.

    ## Kernel behaviour
    `kernel/module/main.c: inherit_taint()` (6.1, 6.12, 6.18): with
    `mod->using_gplonly_symbols`, ERR
    `%s: module using GPL-only symbols uses symbols %s from proprietary module %s.` and the
    symbol fails (`-ENOENT`, *Unknown symbol in module*); otherwise WARN
    `%s: module uses symbols %s from proprietary module %s, inheriting taint.`

    ## Example
    `netglue` (GPL) calls `register_netdev` (GPL-only) and `blob_open()` from
    `blob.ko` (`MODULE_LICENSE("Proprietary")`).

    ## Use instead
    Do not link GPL code against proprietary modules; move the shared interface into a
    GPL-compatible module.
    """
    for module in ms.modules:
        providers = ms.resolution[module.name]
        if not is_gpl_compatible(module) or not any(
            p.export.kind.gpl_only for p in providers.values()
        ):
            continue
        for symbol, provider in providers.items():
            owner = ms.by_name.get(provider.owner.replace("-", "_")) if provider.in_set else None
            if owner is not None and taints_proprietary(owner):
                yield Hit(
                    module,
                    f"module using GPL-only symbols uses symbol '{symbol}' from proprietary "
                    f"module {owner.name}: stop using one of the two, or relicense "
                    f"{owner.name}",
                    key=symbol,
                    symbol=symbol,
                    location=module.use_location(symbol),
                )


@rule(
    "KM205",
    "missing-description",
    severity=Severity.WARNING,
    summary="the module has no MODULE_DESCRIPTION",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def missing_description(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module without a `description=` tag (no `MODULE_DESCRIPTION()`). Key: empty.

    ## Why is this bad?
    `modinfo` shows nothing about what the module is for, and current kernels warn on
    every build of it.

    ## Kernel behaviour
    `scripts/mod/modpost.c: read_symbols()` — `missing MODULE_DESCRIPTION() in %s`:
    WARNING with `W=1` in 6.5-6.14, ERROR in 6.15-rc1, then an always-on WARNING.
    The loader does not check.

    ## Example
    A module with `MODULE_LICENSE("GPL")` and no `MODULE_DESCRIPTION()`.

    ## Use instead
    ```c
    MODULE_DESCRIPTION("Stacked module: consumes myadd from mod1");
    ```

    ## References
    - lore:20250311-moddesc-error-v1-1-79adedf48d0e@oss.qualcomm.com
    """
    for module in ms.modules:
        if not module.info("description"):
            yield Hit(
                module,
                f"missing MODULE_DESCRIPTION() in {module.name}: add "
                'MODULE_DESCRIPTION("what the module does")',
            )
