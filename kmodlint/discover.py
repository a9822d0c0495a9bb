"""Walk the given paths once and sort what is there into inputs for the front ends."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from stat import S_ISREG

from kmodlint.frontends.compressed import MODULE_SUFFIXES
from kmodlint.model import InputProblem
from kmodlint.safe_io import TABLE_LIMIT, read_regular_text

SOURCE_SUFFIXES = (".c", ".h")
KBUILD_NAMES = ("Kbuild", "Makefile")


@dataclass(frozen=True, slots=True)
class BinaryInput:
    path: str  # what is opened
    display: str  # what findings show
    relative: str  # relative to the folder the user named (modules.dep paths)


@dataclass(slots=True)
class Inputs:
    binaries: list[BinaryInput] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    modules_order: list[str] = field(default_factory=list)  # relative paths, depmod's order


def is_module_file(name: str) -> bool:
    return name.endswith(MODULE_SUFFIXES)


def discover(paths: list[str], exclude: Callable[[str], bool] | None = None) -> Inputs:
    """*exclude* (the settings' globs) prunes what the walk finds; a path named
    explicitly is always read, as in ruff without --force-exclude."""
    inputs = Inputs()
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            _walk(given, inputs, seen, exclude)
        elif os.path.isfile(given):
            _add_file(given, given, os.path.basename(given), inputs, seen, explicit=True)
        elif os.path.lexists(given):
            inputs.problems.append(
                InputProblem("unknown-input", given, "not a regular file or directory")
            )
        else:
            inputs.problems.append(
                InputProblem("unreadable-path", given, "no such file or directory")
            )
    return inputs


def _walk(root: str, inputs: Inputs, seen: set[str], exclude: Callable[[str], bool] | None) -> None:
    def report(error: OSError) -> None:
        where = error.filename or root
        inputs.problems.append(
            InputProblem("unreadable-path", where, error.strerror or "cannot read directory")
        )

    order_file = os.path.join(root, "modules.order")
    if os.path.lexists(order_file):  # a FIFO or device is one line (refused), not skipped
        inputs.modules_order = _read_modules_order(order_file, inputs)
    # os.walk does not follow directory symlinks, so /lib/modules/<ver>/build (a link to
    # the headers) is not walked into.
    # depmod skips build/ and source/ at any depth of a /lib/modules/<ver> tree.
    modules_tree = os.path.isfile(order_file) or os.path.isdir(os.path.join(root, "kernel"))
    for directory, subdirs, files in os.walk(root, onerror=report):
        if modules_tree:
            subdirs[:] = [d for d in subdirs if d not in ("build", "source")]
        if exclude is not None:
            subdirs[:] = [d for d in subdirs if not exclude(os.path.join(directory, d))]
        subdirs.sort()
        for name in sorted(files):
            full = os.path.join(directory, name)
            if exclude is not None and exclude(full):
                continue
            relative = os.path.relpath(full, root)
            _add_file(full, full, relative, inputs, seen, explicit=False)


def _add_file(
    full: str, display: str, relative: str, inputs: Inputs, seen: set[str], explicit: bool
) -> None:
    # One file reached twice (a folder and a file in it, or a link) is read once.
    try:
        stat = os.stat(full)
        identity = f"{stat.st_dev}:{stat.st_ino}"
    except OSError:
        stat = None
        identity = os.path.abspath(full)
    if identity in seen:
        return
    seen.add(identity)
    name = os.path.basename(full)
    wanted = is_module_file(name) or (explicit and name.endswith(".o"))
    wanted = wanted or name.endswith(SOURCE_SUFFIXES) or name in KBUILD_NAMES
    if wanted and stat is not None and not S_ISREG(stat.st_mode):
        # Opening a FIFO or a device named x.ko would block or read forever.
        inputs.problems.append(InputProblem("unknown-input", display, "not a regular file"))
        return
    if is_module_file(name) or (explicit and name.endswith(".o")):
        inputs.binaries.append(BinaryInput(full, display, relative))
    elif name.endswith(SOURCE_SUFFIXES) or name in KBUILD_NAMES:
        inputs.sources.append(full)
    elif explicit:
        inputs.problems.append(
            InputProblem(
                "unknown-input",
                display,
                "not a module (.ko, .ko.xz, .ko.zst, .ko.gz, .o) or a C source",
            )
        )


def _read_modules_order(path: str, inputs: Inputs) -> list[str]:
    try:
        # a table like Module.symvers: a regular file of bounded size (safe_io)
        lines = [line.strip() for line in read_regular_text(path, TABLE_LIMIT).splitlines()]
    except OSError as exc:
        inputs.problems.append(InputProblem("unreadable-path", path, exc.strerror or str(exc)))
        return []
    # modules.order names kernel/foo/bar.ko (or .o in the build tree).
    return [line[:-2] + ".ko" if line.endswith(".o") else line for line in lines if line]
