"""The rule catalogue, one module per family (ARCHITECTURE.md, "Rules").

Importing this registers them all."""

from kmodlint.rules import (
    exports,
    inputs,
    licensing,
    lifecycle,
    linking,
    meta,
    namespaces,
    params,
    sections,
    taints,
    versions,
)

__all__ = [
    "exports",
    "inputs",
    "licensing",
    "lifecycle",
    "linking",
    "meta",
    "namespaces",
    "params",
    "sections",
    "taints",
    "versions",
]
