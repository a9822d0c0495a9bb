"""What kmodlint's AST path needs from pycparser, printed as JSON: run once per supported
pycparser release (tests/test_pycparser_versions.py puts each release's wheel first on
``sys.path`` and compares the output with the installed release's).

The facts of the corpus drivers of FAMILIES and of the AST fixtures (types, sections,
exports, references: everything the rules read), whether the kernel's typedef names can be
seeded into pycparser's scope (``pycparser_adapter._KernelParser``), where a parse error is
located, and that 3,000 nested parentheses parse on the deep stack.

    python -m tests.pycparser_contract   # from the repository root
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFINES = {"CONFIG_MODULES": "1", "CONFIG_PM_SLEEP": "1"}


# The corpus families whose rules read what the parse gives: exports (macro-made ones
# too), C types (KM6xx), sections (KM8xx); and the enum case pycparser 3.12 changed. The
# other families' facts come from the same code; cpp per file is what a run here costs.
FAMILIES = ("km1", "km6", "km8", "km301-near-miss-macro-call")


def _sources() -> list[Path]:
    corpus = sorted(
        path
        for path in (ROOT / "corpus").glob("*/*.c")
        if path.parent.name.startswith(FAMILIES)
        and "unparsable-source" not in path.read_text(encoding="utf-8", errors="replace")
    )
    return corpus + sorted((ROOT / "tests" / "fixtures" / "cfront").glob("*.c"))


def _facts(path: Path) -> dict[str, Any]:
    from kmodlint.cfront.ast.analyse import analyse_ast

    result = analyse_ast(str(path), defines=DEFINES, include_dirs=[])
    return {
        "ok": result.ok,
        # the message's wording is pycparser's; where it points is the adapter's
        "error_line": (result.error or "").split(":")[1:2] if result.error else None,
        "definitions": sorted(repr(d) for d in result.definitions),
        "externs": sorted(repr(e) for e in result.externs),
        "exports": sorted(repr(e) for e in result.exports),
        "references": sorted(f"{name} {loc!r}" for name, loc in result.references.items()),
        "body_names": sorted(result.body_names),
        "sections": sorted(result.sections.items()),
        "section_refs": sorted(repr(r) for r in result.section_refs),
    }


def _adapter_contract() -> dict[str, Any]:
    from pycparser import c_ast, c_parser

    from kmodlint.cfront.ast.pycparser_adapter import _KernelParser, parse_c, with_deep_stack

    seeded = parse_c(
        "u32 counter;\nstatic u8 f(u32 x) { return x; }\n", "s.c", frozenset({"u32", "u8"})
    )
    error_at = None
    try:
        parse_c("int ok;\nint broken(;\n", "e.c")
    except c_parser.ParseError as exc:
        error_at = str(exc).split(":")[:2]
    depth = 3000
    nested = f"int deep(void) {{ return {'(' * depth}1{')' * depth}; }}\n"
    deep = with_deep_stack(lambda: parse_c(nested, "d.c"))
    return {
        "seeding_works": _KernelParser.seeding_works(),
        "seeded_declarations": [type(node).__name__ for node in seeded.ext],
        "error_at": error_at,
        "deep_parses": isinstance(deep, c_ast.FileAST) and len(deep.ext) == 1,
    }


def _reuse_cpp_output(folder: Path) -> None:
    """cpp's output does not depend on pycparser: the first run keeps it in *folder*, the
    runs with other releases read it back (they then cost the parse, not 41 cpp runs)."""
    from kmodlint.cfront.ast import analyse

    run_cpp = analyse.preprocess

    def preprocess(path: str, **options: Any) -> str:
        key = hashlib.sha256(repr((path, sorted(options.items()))).encode()).hexdigest()
        saved = folder / f"{key}.i"
        if saved.is_file():
            return saved.read_text(encoding="utf-8")
        text = run_cpp(path, **options)
        saved.write_text(text, encoding="utf-8")
        return text

    analyse.preprocess = preprocess  # type: ignore[attr-defined]


def main() -> int:
    import pycparser

    # The stub kernel is written under the cache directory: a private one per run, or the
    # one KMODLINT_CONTRACT_CACHE names (shared by the runs a test compares, with cpp's
    # output: its linemarkers name the stub kernel's files, so they must be the same files).
    shared = os.environ.get("KMODLINT_CONTRACT_CACHE")
    with tempfile.TemporaryDirectory(prefix="kmodlint-pycparser-") as private:
        cache = shared or private
        os.environ["XDG_CACHE_HOME"] = cache
        if shared:
            (Path(shared) / "cpp").mkdir(exist_ok=True)
            _reuse_cpp_output(Path(shared) / "cpp")
        facts = {str(path.relative_to(ROOT)): _facts(path) for path in _sources()}
        report = {
            "pycparser": pycparser.__version__,
            "pycparser_file": pycparser.__file__,
            "adapter": _adapter_contract(),
            "files": facts,
        }
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
