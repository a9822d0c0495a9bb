"""`check --kernel A --kernel B ...`: run the matrix and report it.

text: the findings every kernel shares (once), the modules x kernels table (a row per
kernel, a column per module), and "loads on N of M kernels". json: the usual findings
document, every finding carrying its `kernel`, plus a `matrix` object. sarif/github: the
findings, each naming its kernel (message prefix; SARIF `properties.kernel`).
"""

from __future__ import annotations

import argparse
import io
import json
import sys

from kmodlint.diagnostics import Finding
from kmodlint.kerneltables.matrix import Matrix, build_matrix, kernel_loader
from kmodlint.loading import LoadedSet
from kmodlint.settings import Settings

CELL_WIDTH = 60


def check_matrix(
    args: argparse.Namespace, loaded: LoadedSet, options: Settings, kernels: list[str]
) -> int:
    from kmodlint import baseline
    from kmodlint.cli import EXIT_FINDINGS, EXIT_OK, UsageError
    from kmodlint.diagnostics import Severity

    if args.write_baseline:
        raise UsageError("--write-baseline takes one --kernel (not a kernel matrix)")
    matrix = build_matrix(loaded, options, kernels, kernel_loader(args))
    findings = matrix.findings
    if args.baseline:
        findings = baseline.apply(args.baseline, findings).new
    out = io.StringIO()
    if args.format == "json":
        out.write(_json(matrix, findings))
    elif args.format in ("sarif", "github"):
        from kmodlint.reporters.render import render

        render(findings, len(matrix.modules), args.format, "never", args.statistics, out)
    else:
        out.write(format_text(matrix, findings))
    _write(args, out.getvalue())
    if options.fail_on == "never":
        return EXIT_OK
    threshold = Severity(options.fail_on).rank
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in findings) else EXIT_OK


def format_text(matrix: Matrix, findings: list[Finding]) -> str:
    from tabulate import tabulate

    from kmodlint.reporters.escape import printable
    from kmodlint.reporters.findings import format_text as findings_text

    shared = _shared(matrix, findings)
    lines = []
    if shared:
        lines.append(f"on every kernel ({len(matrix.kernels)}):")
        lines.extend(findings_text(shared, len(matrix.modules)).splitlines()[:-1])
        lines.append("")
    rows = [
        [printable(kernel), *(matrix.cells[m, kernel].text() for m in matrix.modules)]
        for kernel in matrix.kernels
    ]
    headers = ["kernel", *map(printable, matrix.modules)]
    lines.append(
        tabulate(
            rows,
            headers=headers,
            tablefmt="simple",
            maxcolwidths=[None] + [CELL_WIDTH] * len(matrix.modules),
        )
    )
    lines.append("")
    lines.extend(summary_lines(matrix))
    if len(findings) > len(shared) * len(matrix.kernels):
        lines.append("(--format json lists every finding with its kernel)")
    return "\n".join(lines) + "\n"


def summary_lines(matrix: Matrix) -> list[str]:
    total = len(matrix.kernels)
    lines = []
    for module in matrix.modules if len(matrix.modules) > 1 else []:
        good = sum(matrix.cells[module, k].loads for k in matrix.kernels)
        lines.append(f"{module}: {_verb(matrix, {module})} on {good} of {total} kernels")
    good = len(matrix.kernels_loading_all())
    subject = matrix.modules[0] if len(matrix.modules) == 1 else "the whole set"
    lines.append(f"{subject} {_verb(matrix, set(matrix.modules))} on {good} of {total} kernels")
    return lines


def _verb(matrix: Matrix, modules: set[str]) -> str:
    if modules <= matrix.sources:
        return "finds what it uses exported (kind, namespace)"
    return "loads"


def _shared(matrix: Matrix, findings: list[Finding]) -> list[Finding]:
    """Findings every kernel gives alike (licence, description...), shown once."""
    prefix = len("[kernel ] ")
    per_kernel: dict[tuple[str, str | None, str, str], set[str | None]] = {}
    first: dict[tuple[str, str | None, str, str], Finding] = {}
    for finding in findings:
        message = finding.message[prefix + len(finding.kernel or "") :]
        identity = (finding.code, finding.module, finding.key, message)
        per_kernel.setdefault(identity, set()).add(finding.kernel)
        if identity not in first:
            first[identity] = _plain(finding, message)
    return [first[i] for i, seen in per_kernel.items() if len(seen) == len(matrix.kernels)]


def _plain(finding: Finding, message: str) -> Finding:
    import dataclasses

    return dataclasses.replace(finding, message=message, kernel=None)


def _json(matrix: Matrix, findings: list[Finding]) -> str:
    from kmodlint.reporters.findings import format_json

    document = json.loads(format_json(findings))
    document["matrix"] = {
        "kernels": matrix.kernels,
        "modules": {
            module: {
                kernel: {
                    "loads": matrix.cells[module, kernel].loads,
                    "reasons": matrix.cells[module, kernel].reasons,
                    "notes": matrix.cells[module, kernel].notes,
                }
                for kernel in matrix.kernels
            }
            for module in matrix.modules
        },
        "loads_on": matrix.kernels_loading_all(),
    }
    return json.dumps(document, indent=2) + "\n"


def _write(args: argparse.Namespace, report: str) -> None:
    if args.output is None:
        sys.stdout.write(report)
        return
    from kmodlint.cli import UsageError
    from kmodlint.safe_io import write_atomic

    try:
        write_atomic(args.output, report)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
