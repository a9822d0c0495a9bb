"""KM4xx: version magic and symbol CRCs (CONFIG_MODVERSIONS)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.kernel.vermagic import same_magic
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule


@rule(
    "KM401",
    "vermagic-mismatch",
    severity=Severity.ERROR,
    summary=(
        "vermagic differs from the target kernel (or the rest of the set) as the loader compares"
    ),
    modes=(Mode.BINARY,),
    scope=Scope.SET,
)
def vermagic_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Compares each module's `vermagic=` with the target kernel's (rebuilt from a headers
    folder's `utsrelease.h` and `auto.conf`, or read from a /lib/modules tree's modules);
    with no target vermagic, with the one most modules of the set carry. The comparison is
    the loader's: when the module has `__versions`, the release (up to the first space) is
    skipped in both strings and the rest must be identical. A module with no vermagic at
    all is reported too. Key: empty.

    ## Why is this bad?
    The loader refuses the module before looking at a single symbol (*Invalid module
    format*), so it also hides every other problem.

    ## Kernel behaviour
    - `kernel/module/version.c: same_magic()` (`kernel/module.c` before 5.19): with
      `has_crcs` both strings skip to their first space, then `strcmp`.
    - `kernel/module/main.c: check_modinfo()` — `%s: version magic '%s' should be '%s'`,
      `-ENOEXEC`; no vermagic: `try_to_force_load()` (`-ENOEXEC` without
      `CONFIG_MODULE_FORCE_LOAD`).

    ## Example
    `vermagic=6.1.0-56-rt-amd64 SMP preempt_rt mod_unload modversions ` against
    `6.1.0-56-amd64 SMP preempt mod_unload modversions `.

    ## Use instead
    Build against the headers of the kernel that will load the module.
    """
    reference = ms.kernel.vermagic if ms.kernel is not None else None
    origin = "the kernel"
    if reference is None:
        counts = Counter(m.vermagic for m in ms.modules if m.vermagic)
        if not counts:
            return
        reference, _ = counts.most_common(1)[0]
        origin = "most modules of the set"
    modversions = ms.kernel.modversions if ms.kernel is not None else None
    for module in ms.modules:
        magic = module.vermagic
        if magic is None:
            yield Hit(
                module,
                "module has no vermagic: the loader refuses it unless forced; build it with "
                "kbuild (make -C <kernel build dir> M=...), which adds it",
            )
            continue
        has_crcs = module.has_versions_section and modversions is not False
        if not same_magic(magic, reference, has_crcs):
            yield Hit(
                module,
                f"version magic '{magic}' should be '{reference}' (vermagic of {origin}): "
                f"rebuild against {_target_name(ms, origin)}",
            )


@rule(
    "KM402",
    "crc-mismatch",
    severity=Severity.ERROR,
    summary="a __versions CRC differs from the exporter's CRC",
    modes=(Mode.BINARY,),
    scope=Scope.SET,
)
def crc_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    For each import, compares the CRC the module recorded in `__versions` (or the 6.14+
    `__version_ext_crcs`) with the CRC of the export it resolves to (a module of the set,
    or the target kernel's Module.symvers); also `module_layout`. Key: the symbol.

    ## Why is this bad?
    The exporter's prototype or types changed since the module was built: calling it
    could corrupt memory, so the loader refuses the module.

    ## Kernel behaviour
    `kernel/module/version.c: check_version()` (`kernel/module.c` before 5.19) —
    `%s: disagrees about version of symbol %s`, `-EINVAL` (insmod: *Invalid parameters*);
    `check_modstruct_version()` for `module_layout` — `-ENOEXEC`. depmod `-e -E`:
    `%s disagrees about version of symbol %s`.

    ## Example
    A module built against 6.1.0-55 headers loaded into 6.1.0-56, whose `kmalloc_caches`
    CRC changed.

    ## Use instead
    Rebuild the module against the exporter it will be loaded with.

    ## References
    - https://github.com/Freetz-NG/freetz-ng/pull/1440
    """
    if ms.kernel is not None and ms.kernel.modversions is False:
        return
    kernel = ms.kernel.exports if ms.kernel is not None else {}
    for module in ms.modules:
        if not module.versions:
            continue
        providers = ms.resolution[module.name]
        checked = sorted(providers)
        if "module_layout" in module.versions and "module_layout" in kernel:
            checked.append("module_layout")
        for symbol in checked:
            export = providers[symbol].export if symbol in providers else kernel[symbol].export
            owner = providers[symbol].owner if symbol in providers else kernel[symbol].owner
            recorded = module.versions.get(symbol)
            if export.crc is None or recorded is None or recorded == export.crc:
                continue
            row = (
                kernel.get(symbol)
                if symbol not in providers or not providers[symbol].in_set
                else None
            )
            origin = f"{owner} exports 0x{export.crc:08x}"
            if row is not None and row.crc_inferred_from:
                origin = (
                    f"{owner} has 0x{export.crc:08x} (inferred from the __versions of "
                    f"{row.crc_inferred_from})"
                )
            against = (
                f"the {owner} it is loaded with"
                if symbol in providers and providers[symbol].in_set
                else _target_name(ms, "the kernel")
            )
            yield Hit(
                module,
                f"disagrees about version of symbol {symbol}: module has 0x{recorded:08x}, "
                f"{origin}: rebuild against {against}",
                key=symbol,
                symbol=symbol,
            )


@rule(
    "KM403",
    "missing-crc",
    severity=Severity.ERROR,
    summary="the exporter has a CRC for a symbol, the importer recorded none",
    modes=(Mode.BINARY,),
    scope=Scope.SET,
)
def missing_crc(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports each import whose exporter has a CRC while the importing module has no
    `__versions` entry for it; a module with no `__versions` at all gets one finding, on
    its first such import. Key: the symbol.

    ## Why is this bad?
    The module was built without the exporter's Module.symvers (no `KBUILD_EXTRA_SYMBOLS`)
    or had its versions stripped: nobody checked it against the exporter's ABI. Debian's
    kernels refuse such modules; upstream warns once and loads.

    ## Kernel behaviour
    - `kernel/module/version.c: check_version()` — `%s: no symbol version for %s`:
      upstream `pr_warn_once` and accept ("Broken toolchain. Warn once, then let it
      go.."); Debian 6.1/6.12 ("module: Disable matching missing version CRC") rejects,
      `-EINVAL` (*Invalid parameters*).
    - No `__versions` at all: `try_to_force_load()` — `%s: %s: kernel tainted.`, or
      `-ENOEXEC` without `CONFIG_MODULE_FORCE_LOAD`.
    - modpost: `"%s" [%s.ko] has no CRC!` for the exporter side (`add_versions()`).

    ## Example
    `mod2.ko` built as a separate external module without mod1's Module.symvers.

    ## Use instead
    Build with `KBUILD_EXTRA_SYMBOLS=<path to mod1's Module.symvers>`.

    ## References
    - https://github.com/dynup/kpatch/pull/346
    """
    if ms.kernel is not None and ms.kernel.modversions is False:
        return
    for module in ms.modules:
        recorded = module.versions or {}
        unversioned = [
            (symbol, provider)
            for symbol, provider in ms.resolution[module.name].items()
            if provider.export.crc is not None and symbol not in recorded
        ]
        if not unversioned:
            continue
        if module.versions is None:
            # The loader stops at the first such import (try_to_force_load): one finding.
            symbol, provider = unversioned[0]
            yield Hit(
                module,
                f"no symbol version for {symbol} and {len(unversioned) - 1} other "
                f"versioned import(s): the module has no __versions section, so the loader "
                f"refuses it unless forced; rebuild against {_target_name(ms, 'the kernel')} "
                "with CONFIG_MODVERSIONS as it has",
                key=symbol,
                symbol=symbol,
            )
            continue
        for symbol, provider in unversioned:
            yield Hit(
                module,
                f"no symbol version for {symbol} (not in __versions; {provider.owner} exports "
                f"it with CRC 0x{provider.export.crc:08x}): rebuild with {provider.owner}'s "
                "Module.symvers (KBUILD_EXTRA_SYMBOLS)"
                if provider.in_set
                else f"no symbol version for {symbol} (not in __versions; {provider.owner} "
                f"exports it with CRC 0x{provider.export.crc:08x}): rebuild against "
                f"{_target_name(ms, 'the kernel')}",
                key=symbol,
                symbol=symbol,
            )


def _target_name(ms: ModuleSet, fallback: str) -> str:
    """The kernel to rebuild against, as the user named it (--kernel), else `fallback`."""
    if ms.kernel is not None and fallback == "the kernel":
        return f"the target kernel ({ms.kernel.source})"
    if fallback == "most modules of the set":
        return "the kernel most modules of the set were built for"
    return fallback
