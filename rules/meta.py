"""KM95x: kmodlint's own conventions (its comments and settings), not the kernel's."""

from __future__ import annotations

from collections.abc import Iterator

from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule


@rule(
    "KM950",
    "unused-suppression",
    severity=Severity.WARNING,
    summary="a kmodlint: ignore[…] comment suppresses nothing",
    modes=(Mode.SOURCE,),
    scope=Scope.SET,
    # opt-in: it reports on kmodlint's own comments, not on the driver
    default_enabled=False,
)
def unused_suppression(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `kmodlint: ignore[rule, …]` comment (C `/* */` or `//`, Kbuild `#`) that
    names a rule which ran and found nothing on the lines the comment covers. Opt-in: it
    runs only when selected (`--extend-select unused-suppression`, `KM950`, `KM9` or
    `ALL`). Rules that were not selected are not judged. It is computed by the
    suppression stage from the other rules' findings, so its check function over the
    module set yields nothing. Key: the path and the unused rule codes.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line: the defect it once
    excused was fixed, but a new one of the same rule would now pass silently.

    ## Kernel behaviour
    None: suppression comments are kmodlint's own convention. The kernel's checkers have
    no inline suppression (`scripts/checkpatch.pl` only has `--ignore TYPE` on the
    command line; modpost and the loader in `kernel/module/main.c` have none). The
    precedent is ruff's `RUF100` (unused `noqa`), also bandit's unused `nosec` warning.

    ## Example
    ```c
    int mod_util(void) { return 0; }
    EXPORT_SYMBOL(mod_util); /* kmodlint: ignore[static-export] */
    ```

    ## Use instead
    ```c
    int mod_util(void) { return 0; }
    EXPORT_SYMBOL(mod_util);
    ```
    """
    return iter(())
