"""Read one input file once and hand it to the front end that understands it.

Top-level functions only, so a process pool can run them on a whole tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kmodlint.cache import read_recorded
from kmodlint.frontends.compressed import DecompressError, decompress, module_stem
from kmodlint.frontends.elf import inspect_module
from kmodlint.model import InputProblem, Module


@dataclass(slots=True)
class Extraction:
    module: Module | None
    problems: list[InputProblem] = field(default_factory=list)


def module_name_for(path: str) -> str:
    return module_stem(os.path.basename(path))


def extract_binary(path: str, display: str) -> Extraction:
    """`path` is read; `display` is what findings and tables call it. Never raises (but
    KeyboardInterrupt): a failure on one module becomes its diagnostic here, in the
    worker, so the run keeps every other module's findings."""
    name = module_name_for(path)
    try:
        return _extract(path, display, name)
    except Exception as exc:  # the point: one file's failure stays that file's
        reason = " ".join(str(exc).split())[:200]
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        message = f"analysis stopped ({type(exc).__name__}: {reason})"
        return Extraction(None, [InputProblem("invalid-elf", display, message, module=name)])


def _extract(path: str, display: str, name: str) -> Extraction:
    try:
        # recorded: a cached model is reused only while these exact bytes are on disk
        raw, _ = read_recorded(path, always_hash=False)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Extraction(None, [InputProblem("unreadable-path", display, reason, module=name)])
    if not raw:
        return Extraction(None, [InputProblem("invalid-elf", display, "empty file", module=name)])
    try:
        image = decompress(raw, path)
    except DecompressError as exc:
        return Extraction(None, [InputProblem("invalid-elf", display, str(exc), module=name)])
    module, problems = inspect_module(image, display, name)
    return Extraction(module, problems)
