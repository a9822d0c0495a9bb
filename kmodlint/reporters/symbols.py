"""What the front ends saw, per module: a tabulate table or JSON."""

from __future__ import annotations

import json

from tabulate import tabulate

from kmodlint.model import BINDING, KIND, SECTION, Module


def _crc(value: int | None) -> str | None:
    return None if value is None else f"0x{value:08x}"


def module_record(module: Module) -> dict:
    return {
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
    }


def format_symbols(modules: list[Module], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"modules": [module_record(m) for m in modules]}, indent=2) + "\n"
    overview = [
        (
            m.name,
            m.path,
            ", ".join(m.licenses) or "-",
            (m.vermagic or "-").strip(),
            len(m.exports),
            len(m.undefined),
            sum(1 for d in m.defined.values() if d[BINDING] != "local"),
        )
        for m in modules
    ]
    parts = [
        tabulate(
            overview,
            headers=["module", "path", "license", "vermagic", "exports", "undefined", "global"],
        )
    ]
    for module in modules:
        if module.exports:
            rows = [
                (e.symbol, e.kind.value, e.namespace or "-", _crc(e.crc) or "-")
                for e in module.exports
            ]
            parts.append(
                f"\n{module.name}: exports\n"
                + tabulate(rows, headers=["symbol", "kind", "namespace", "crc"])
            )
        if module.undefined:
            parts.append(f"\n{module.name}: undefined\n  " + " ".join(sorted(module.undefined)))
    return "\n".join(parts) + "\n"
