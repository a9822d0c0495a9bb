"""KM601, KM604: module lifecycle and naming (the other KM6xx: params.py, KM603 in
linking.py; tests/test_registry.py holds the map of codes to files)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule


@rule(
    "KM601",
    "no-module-exit",
    severity=Severity.WARNING,
    summary="module_init without module_exit: the module can never be unloaded",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def no_module_exit(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module that has an init function (`init_module`, from `module_init()`) but no
    exit function (`cleanup_module`, from `module_exit()`). A module with neither (a
    library of exports) is fine. Key: empty.

    ## Why is this bad?
    `rmmod` refuses it for as long as the system runs (`-EBUSY`, *Device or resource busy*),
    which blocks reloading a fixed build during development.

    ## Kernel behaviour
    `kernel/module/main.c: delete_module()` (`kernel/module.c` before 5.19): if
    `mod->init && !mod->exit`, fail with `-EBUSY` unless `try_force_unload()` (needs
    `CONFIG_MODULE_FORCE_UNLOAD` and `rmmod -f`). Loading is unaffected.

    ## Example
    ```c
    module_init(mydrv_init);
    ```

    ## Use instead
    ```c
    module_init(mydrv_init);
    module_exit(mydrv_exit);
    ```
    """
    for module in ms.modules:
        if module.has_init and not module.has_exit:
            yield Hit(
                module,
                "module_init() without module_exit(): it can never be unloaded; add a "
                "module_exit() that undoes the init",
                location=module.source.init if module.source else None,
            )


@rule(
    "KM604",
    "module-name-too-long",
    severity=Severity.ERROR,
    summary="module name of 56 bytes or more (60 on 32-bit targets)",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
)
def module_name_too_long(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module whose name is `64 - sizeof(Elf_Addr)` bytes or longer: 56 on 64-bit
    targets, 60 on 32-bit ones (the ELF class of the `.ko` decides). Key: empty.

    ## Why is this bad?
    `struct module` keeps the name in `char name[MODULE_NAME_LEN]`; the build stops, and a
    longer name could not be represented in `__versions` or `/proc/modules`.

    ## Kernel behaviour
    `scripts/mod/modpost.c: check_modname_len()` — ERROR `module name is too long [%s.ko]`
    when `strlen(basename) >= 64 - sizeof(Elf_Addr)`.

    ## Example
    `a_driver_for_the_frobnicator_with_an_extremely_long_name_x.ko`

    ## Use instead
    A shorter file name (Kbuild: `obj-m += short.o` with `short-y := long_file.o`).
    """
    for module in ms.modules:
        limit = 64 - (8 if module.elf_class == 64 else 4)
        length = len(os.fsencode(module.name))
        if length >= limit:
            yield Hit(
                module,
                f"module name is too long [{module.name}.ko]: {length} bytes, the limit is "
                f"{limit - 1} on {module.elf_class}-bit targets; shorten the obj-m name",
            )
