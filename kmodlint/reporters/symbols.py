"""What the front ends saw, per module: a tabulate table or JSON."""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from kmodlint.kernel.table import KernelTable
from kmodlint.model import BINDING, KIND, SECTION, Module
from kmodlint.reporters.escape import printable, valid_unicode_document


def _crc(value: int | None) -> str | None:
    return None if value is None else f"0x{value:08x}"


def _taints(module: Module, kernel: KernelTable | None) -> list[Any]:
    # rules are imported late (start-up); mypy reads rules/ as its own package
    from kmodlint.rules.taints import predicted_taints  # type: ignore[import-not-found]

    taints: list[Any] = predicted_taints(module, kernel)
    return taints


def module_record(module: Module, kernel: KernelTable | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": module.name,
        "path": module.path,
        "licenses": module.licenses,
        "description": module.first_info("description"),
        "vermagic": module.vermagic,
        "depends": module.depends,
        "import_ns": module.imported_namespaces,
        "init": module.has_init,
        "exit": module.has_exit,
        "elf": {
            "class": module.elf_class,
            "endian": "big" if module.big_endian else "little",
            "machine": module.machine,
        },
        "exports": [
            {
                "symbol": e.symbol,
                "kind": e.kind.value,
                "namespace": e.namespace or None,
                "crc": _crc(e.crc),
            }
            for e in module.exports
        ],
        "undefined": sorted(module.undefined),
        "defined": [
            {"name": name, "binding": d[BINDING], "type": d[KIND], "section": d[SECTION]}
            for name, d in sorted(module.defined.items())
        ],
        "versions": None
        if module.versions is None
        else {name: _crc(crc) for name, crc in sorted(module.versions.items())},
        "origin": module.origin,
        # what the loader will print and taint (rules/taints.py; --kernel gives E and
        # the retpoline warning)
        "taints": [
            {"flag": t.flag or None, "rule": t.code, "message": f"{module.name}: {t.message}"}
            for t in _taints(module, kernel)
        ],
    }
    if module.source is not None:
        record["elf"] = None
        for entry, export in zip(record["exports"], module.exports, strict=True):
            entry["line"] = export.location.line if export.location else None
            entry["file"] = export.location.path if export.location else None
        record["source"] = {
            "location": f"{module.source.location.path}:{module.source.location.line}",
            "files": module.source.files,
            "unparsed": module.source.unparsed,
            "params": [
                {"name": p.name, "type": p.type_name, "perm": p.perm} for p in module.source.params
            ],
        }
    return record


def format_symbols(
    modules: list[Module],
    fmt: str,
    files: dict[str, Any] | None = None,
    kernel: KernelTable | None = None,
) -> str:
    """`files`: counts of the C files read (with a full tree, skipped by the configuration)."""
    if fmt == "json":
        document: dict[str, Any] = {"modules": [module_record(m, kernel) for m in modules]}
        if files is not None:
            document["files"] = files
        # names from the input may hold a non-UTF-8 file name's bytes (lone surrogates):
        # shown as \xe9 escapes, so strict JSON readers accept the document
        return json.dumps(valid_unicode_document(document), indent=2) + "\n"
    # the table shows names from the input: escaped (an ESC or a newline in a symbol name
    # must neither drive the terminal nor break the table's lines)
    overview = [
        (
            printable(m.name),
            printable(m.path),
            printable(", ".join(m.licenses) or "-"),
            printable((m.vermagic or "-").strip()),
            len(m.exports),
            len(m.undefined),
            sum(1 for d in m.defined.values() if d[BINDING] != "local"),
            "".join(t.flag for t in _taints(m, kernel)) or "-",
        )
        for m in modules
    ]
    parts = [
        tabulate(
            overview,
            headers=[
                "module",
                "path",
                "license",
                "vermagic",
                "exports",
                "undefined",
                "global",
                "taints",
            ],
        )
    ]
    for module in modules:
        if module.exports:
            rows = [
                (
                    printable(e.symbol),
                    e.kind.value,
                    printable(e.namespace or "-"),
                    _crc(e.crc) or "-",
                )
                for e in module.exports
            ]
            parts.append(
                f"\n{printable(module.name)}: exports\n"
                + tabulate(rows, headers=["symbol", "kind", "namespace", "crc"])
            )
        if module.undefined:
            undefined = " ".join(printable(name) for name in sorted(module.undefined))
            parts.append(f"\n{printable(module.name)}: undefined\n  " + undefined)
    return "\n".join(parts) + "\n"
