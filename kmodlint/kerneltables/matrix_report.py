"""`check --kernel A --kernel B ...`: the kernel matrix's report (`pipeline.py` runs it).

text: the findings every kernel shares (once), the modules x kernels table (a row per
kernel, a column per module), and "loads on N of M kernels". json: the usual findings
document, every finding carrying its `kernel`, plus a `matrix` object. sarif/github: the
findings, each naming its kernel (message prefix; SARIF `properties.kernel`).
"""

from __future__ import annotations

import io
import json

from kmodlint.diagnostics import Finding
from kmodlint.kerneltables.matrix import Matrix

CELL_WIDTH = 60


def format_report(matrix: Matrix, findings: list[Finding], fmt: str, statistics: bool) -> str:
    """The whole report in `fmt` (text, json, sarif, github); *findings* are the matrix's
    after --baseline."""
    if fmt == "json":
        return _json(matrix, findings)
    if fmt in ("sarif", "github"):
        from kmodlint.reporters.render import render

        out = io.StringIO()
        render(findings, len(matrix.modules), fmt, "never", statistics, out)
        return out.getvalue()
    return format_text(matrix, findings)


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
