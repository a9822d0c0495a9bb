"""`kmodlint kernels list|import`."""

from __future__ import annotations

import argparse
import re
import sys

_DISTRIBUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kernels = commands.add_parser("kernels", help="kernel tables: list them, import one")
    actions = kernels.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the kernel tables --kernel NAME accepts")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    importing = actions.add_parser(
        "import",
        help="make a table from a headers folder, Module.symvers, linux-headers .deb or "
        "/lib/modules/<ver> tree",
    )
    importing.add_argument("paths", nargs="+", metavar="PATH")
    importing.add_argument(
        "--distribution",
        default="local",
        metavar="NAME",
        help="the tables' group: names become NAME/<release> (default: local)",
    )
    importing.add_argument(
        "--release",
        metavar="RELEASE",
        help="the kernel's release (uname -r) where PATH does not hold "
        "include/generated/utsrelease.h (a Module.symvers and a .config)",
    )


def run(args: argparse.Namespace) -> int:
    from kmodlint.request import UsageError

    if args.action == "list":
        return _list(args.format)
    if not _DISTRIBUTION.fullmatch(args.distribution):
        raise UsageError(f"--distribution {args.distribution}: letters, digits and ._+- only")
    from kmodlint.kerneltables.importing import ImportError_, import_path
    from kmodlint.kerneltables.store import save

    for path in args.paths:
        try:
            record = import_path(path, _read_tree, args.release)
        except ImportError_ as exc:
            raise UsageError(str(exc)) from exc
        where = save(record, args.distribution)
        print(
            f"imported {args.distribution}/{record.name}: {len(record.rows):,} exports, "
            f"vermagic {record.vermagic or 'unknown'} (from {record.source}) into {where}"
        )
    return 0


def _read_tree(files: list[tuple[str, str]]) -> list[tuple[object, list[object]]]:
    from kmodlint.pool import extract_all

    return [(e.module, list(e.problems)) for e in extract_all(files, None, None)]


def _list(fmt: str) -> int:
    from kmodlint.kerneltables.store import catalogue, open_file, release_order

    refs, problems = catalogue()
    rows = []
    for ref in sorted(refs, key=lambda r: (r.shipped, release_order(r.full_name))):
        summary = open_file(ref.path).summary(ref.name)
        # name: what --kernel takes; release: the kernel's own
        rows.append({**summary, "name": ref.full_name, "shipped": ref.shipped, "file": ref.path})
    for problem in problems:
        print(f"kmodlint: {problem}", file=sys.stderr)
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps({"kernels": rows}, indent=2) + "\n")
        return 0

    def flag(value: object) -> str:
        return "?" if value is None else ("yes" if value else "no")

    header = ("NAME", "ARCH", "EXPORTS", "MODVERSIONS", "SIGNING", "RETPOLINE", "FROM")
    lines = [header] + [
        (
            r["name"],
            r["arch"] or "?",
            f"{r['rows']:,}",
            flag(r["modversions"]),
            flag(r["module_sig"]),
            flag(r["retpoline"]),
            ("shipped: " if r["shipped"] else "") + str(r["source"]),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print("  ".join([*cells, line[-1]]))
    print(f"{len(rows)} kernel table(s)")
    return 0
