"""KM8xx: references into code and data the kernel frees (modpost's section checks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kmodlint.diagnostics import Hit, Location, Severity
from kmodlint.model import Module
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule
from kmodlint.sectioncheck import secref_allowed, section_mismatch


@rule(
    "KM801",
    "section-mismatch",
    severity=Severity.WARNING,
    summary="code or data that stays refers to __init/__exit code or data the kernel frees",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def section_mismatch_rule(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a reference from a section that stays loaded (`.text`, `.data`) to one the
    kernel frees or never loads (`.init.*`, `.meminit.*`, `.exit.*`), and from `__init` code
    to `__exit` code or back, as modpost's section checks do, with modpost's allow-list of
    legitimate patterns, from the relocations of the `.ko`/`.o` (modpost reads the same
    object). Sources: a function or a writable object that is not `__init` using an
    `__init` function or `__initdata` object of the module (calling it, taking its
    address), `__exit` code used outside exit code, as modpost would see the object,
    where the file marks the name `__init`/`__exit` (in its definition or a prototype).
    Key: `fromsym->tosym`.

    ## Why is this bad?
    The loader frees `.init.*` once the module's init function returned
    (`kernel/module/main.c: do_init_module()` frees `mod->init_layout`), so a later call
    through that reference jumps into freed memory: an oops or worse, long after loading.
    `.exit.*` is not loaded at all when the module is built in or the kernel has no
    `CONFIG_MODULE_UNLOAD` (`include/linux/init.h`: `__exit` is discarded at link time).

    ## Kernel behaviour
    `scripts/mod/modpost.c: check_sec_ref()` walks every SHT_REL/SHT_RELA section;
    `section_mismatch()` matches (fromsec, tosec) against the `sectioncheck[]` table
    (TEXT_TO_ANY_INIT, DATA_TO_ANY_INIT, TEXT_TO_ANY_EXIT, DATA_TO_ANY_EXIT,
    XXXINIT_TO_SOME_INIT, ANY_INIT_TO_ANY_EXIT, ANY_EXIT_TO_ANY_INIT), and
    `default_mismatch_handler()` drops what `secref_whitelist()` allows: `__param*`
    variables in `.data` pointing at `__initdata` (pattern 1), `__param_ops_*` at
    `.init.text` (1a), `.data` objects named `*_template`, `*_timer`, `*_sht`, `*_ops`,
    `*_probe`, `*_probe_one`, `*_console` pointing anywhere in init/exit, `*driver` objects
    pointing at `.meminit.*` or (without `W=1`) `.exit.*`, `.head.text` (3), the linker
    symbols `__init_begin`/`_sinittext`/`_einittext` (4), `*.constprop.*` clones (5) and
    `.L` local labels (6). Others: WARNING
    `%s: section mismatch in reference: %s (section: %s) -> %s (section: %s)`
    (`report_sec_mismatch()`, Linux 6.1). It is a warning unless the kernel was configured
    with `CONFIG_SECTION_MISMATCH_WARN_ONLY=n` (`scripts/Makefile.modpost` passes `-E`),
    when the build ends with `Section mismatches detected.` (Debian 6.1 and the Kconfig
    default: `=y`). `.rodata` and `.data..ro_after_init` are not checked by modpost, nor
    here. The loader itself checks nothing.

    ## Example
    ```c
    static int __init mydrv_setup(void) { return 0; }
    int mydrv_reset(void) { return mydrv_setup(); }  /* .text -> .init.text */
    ```

    ## Use instead
    ```c
    static int mydrv_setup(void) { return 0; }       /* not __init: called after init */
    int mydrv_reset(void) { return mydrv_setup(); }
    ```
    or, when the caller really runs only during init, mark it `__init` too (or `__ref`
    with a comment saying why the reference is safe).
    """
    for module in ms.modules:
        seen: set[str] = set()
        for fromsec, fromsym, tosec, tosym, where in _references(module):
            if section_mismatch(fromsec, tosec) is None:
                continue
            if secref_allowed(fromsec, fromsym, tosec, tosym) is not None:
                continue
            key = f"{fromsym}->{tosym}"
            if key in seen:
                continue
            seen.add(key)
            yield Hit(
                module,
                f"section mismatch in reference: {fromsym} (section: {fromsec}) -> {tosym} "
                f"(section: {tosec}); {_fix(fromsym, fromsec, tosym, tosec)}",
                key=key,
                symbol=tosym,
                location=where,
            )


def _fix(fromsym: str, fromsec: str, tosym: str, tosec: str) -> str:
    if tosec.startswith((".init.", ".meminit.")):
        if fromsec.startswith(".exit."):
            return f"{tosym} is freed before {fromsym} can run: drop __init from {tosym}"
        return (
            f"{tosym} is freed once the module's init has run: drop its __init/__initdata, "
            f"or make {fromsym} __init too when it only runs during init"
        )
    return (
        f"{tosym} is not loaded when the module is built in or cannot be unloaded: drop "
        f"its __exit, or refer to it only from the exit path"
    )


# Sources: what modpost would see, from the definitions' sections (cfront records `__init`,
# `__exit` and their data forms; `const` objects go to .rodata, which modpost skips).
_TEXT = {None: ".text", "init": ".init.text", "exit": ".exit.text"}
_DATA = {None: ".data", "init": ".init.data", "exit": ".exit.data"}


def _references(module: Module) -> Iterator[tuple[str, str, str, str, Location | None]]:
    for fromsec, fromsym, tosec, tosym in module.section_refs:
        yield fromsec, fromsym, tosec, tosym, None
    if module.source is None:
        return
    definitions = module.source.definitions
    for fromsym, tosym, where in module.source.section_refs:
        target = definitions.get(tosym)
        origin = definitions.get(fromsym)
        if target is None or origin is None or target.section is None:
            continue
        to_section = _section_of(target)
        from_section = _section_of(origin)
        if to_section and from_section:
            yield from_section, fromsym, to_section, tosym, where


def _section_of(definition: Any) -> str | None:
    """The section gcc puts a definition in, as far as modpost's table cares; None for a
    read-only object (.rodata: never checked)."""
    if definition.is_function:
        return _TEXT.get(definition.section)
    ctype = definition.ctype or definition.token_ctype or ""
    if definition.section is None and ctype.startswith("const "):
        return None
    return _DATA.get(definition.section)
