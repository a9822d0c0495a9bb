"""`--kernel` values that are kernel tables' names, not paths."""

from __future__ import annotations

import os

from kmodlint.kernel.load import KernelSpecError
from kmodlint.kernel.table import KernelTable


class KernelNameError(KernelSpecError):
    """A --kernel pattern or name that matches no table (a usage error, exit 2)."""


def table_named(spec: str) -> KernelTable | None:
    """The table `spec` names (`6.1.0-56-amd64`, `debian-12/6.1.0-56-amd64`), or None."""
    from kmodlint.kerneltables.format import TableFormatError
    from kmodlint.kerneltables.store import find, is_pattern, load

    if is_pattern(spec):
        return None
    found = find(spec)
    if not found:
        return None
    try:
        return load(found[0])
    except (OSError, TableFormatError) as exc:
        raise KernelNameError(f"--kernel {spec}: table {found[0].path}: {exc}") from exc


def expand(specs: list[str]) -> list[str]:
    """Each --kernel value, a pattern replaced by the names of the tables it matches
    (`debian-12/*`); an existing path is a path whatever its characters. Repeats dropped;
    `none` drops the values before it."""
    from kmodlint.kerneltables.store import find, is_pattern

    nones = [i for i, spec in enumerate(specs) if spec.lower() == "none"]
    if nones:
        # `none` clears the values before it (one --kernel used to replace the last):
        # `--kernel none --kernel X` is X, `--kernel X --kernel none` is none
        specs = specs[nones[-1] :] if nones[-1] == len(specs) - 1 else specs[nones[-1] + 1 :]
    expanded: list[str] = []
    for spec in specs:
        if spec.lower() == "none" or os.path.lexists(spec) or not is_pattern(spec):
            expanded.append(spec)
            continue
        matches = find(spec)
        if not matches:
            raise KernelNameError(
                f"--kernel {spec}: matches no kernel table (see `kmodlint kernels list`)"
            )
        expanded.extend(ref.full_name for ref in matches)
    return list(dict.fromkeys(expanded))
