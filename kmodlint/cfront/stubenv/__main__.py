"""``python -m kmodlint.cfront.stubenv``: generate the stub kernel environment."""

from __future__ import annotations

import argparse
import sys

from kmodlint.cfront import stubenv
from kmodlint.cfront.stubenv.write import EXPLAIN_MACROS, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m kmodlint.cfront.stubenv", description=stubenv.__doc__
    )
    ap.add_argument(
        "--from",
        dest="sources",
        action="append",
        required=True,
        help="kernel source or headers directory (repeatable)",
    )
    ap.add_argument("--config", help="autoconf.h or .config to evaluate header conditionals")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument(
        "--if-sources",
        action="append",
        default=[],
        metavar="DIR",
        help="kernel source tree whose .c/.h #if lines name the numeric macros to keep "
        "(repeatable; headers packages hold no .c files)",
    )
    ap.add_argument("--explain", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.explain:
        EXPLAIN_MACROS.update(args.explain)
    generate(args.sources, args.out, args.config, args.if_sources)
    print(f"stubenv: wrote prelude.h, headers.txt and typedefs.txt to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
