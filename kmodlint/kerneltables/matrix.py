"""`check PATH --kernel A --kernel B ...`: the module set checked against each kernel.

The modules are read once (`load_set`, with the first kernel); each kernel then gets its
own `ModuleSet` and the same rule pipeline as a one-kernel run (`pipeline.rule_findings`).
A cell says whether the loader would take the module on that kernel: `loads`, or the
reasons it would refuse it, in the loader's order (vermagic first: `check_modinfo` stops
the load before any symbol is looked at; then per symbol `Unknown symbol`, CRCs,
namespaces: `resolve_symbol`), plus licence (GPL-only) refusals. Sources will be rebuilt
for each kernel, so their cells only say whether the kernel exports every symbol they use
with the right GPL-ness and namespace (`ok`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kmodlint.diagnostics import Finding
from kmodlint.kernel.table import KernelTable
from kmodlint.loading import LoadedSet
from kmodlint.model import InputProblem, Module
from kmodlint.moduleset import ModuleSet
from kmodlint.settings import Settings

# rule code -> how a cell names the refusal (loader order; `{}` is the symbol or namespace)
REASONS: dict[str, str] = {
    "KM401": "vermagic",
    "KM301": "Unknown symbol {}",
    "KM402": "disagrees about version of {}",
    "KM403": "no symbol version for {}",
    "KM501": "namespace {} not imported",
    "KM203": "GPL-only {}",
}
_REASON_ORDER = list(REASONS)
# the taint letter in a KM7xx message: "... taints kernel.' (taint O)"
_TAINT = re.compile(r"\(taint ([A-Z])\)")
# symbols named in one cell per reason; the rest are counted
SHOWN_PER_REASON = 3


@dataclass(slots=True)
class Cell:
    loads: bool
    source: bool  # a module from sources: `ok` means every used symbol is exported right
    reasons: list[str] = field(default_factory=list)
    # what the loader prints when it takes the module: taints, the retpoline warning
    # (the KM7xx rules, when selected)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.loads:
            word = "ok" if self.source else "loads"
            return f"{word} ({', '.join(self.notes)})" if self.notes else word
        return "; ".join(self.reasons)


@dataclass(slots=True)
class Matrix:
    kernels: list[str]  # names as shown (table names, or the paths given)
    modules: list[str]
    cells: dict[tuple[str, str], Cell]  # (module, kernel) -> cell
    findings: list[Finding]  # every kernel's, each carrying its kernel
    sources: set[str]  # modules read from sources

    def kernels_loading_all(self) -> list[str]:
        return [k for k in self.kernels if all(self.cells[m, k].loads for m in self.modules)]


# the kernel's ARCH (kmodlint kernels list) -> the e_machine values its loader accepts
# (arch/*/include/asm/elf.h: elf_check_arch)
MACHINES = {
    "x86_64": {"EM_X86_64"},
    "i386": {"EM_386"},
    "arm64": {"EM_AARCH64"},
    "arm": {"EM_ARM"},
    "powerpc": {"EM_PPC", "EM_PPC64"},
    "s390": {"EM_S390"},
    "riscv": {"EM_RISCV"},
    "loongarch": {"EM_LOONGARCH"},
    "mips": {"EM_MIPS", "EM_MIPS_RS3_LE"},
}


def build_matrix(
    loaded: LoadedSet,
    options: Settings,
    kernels: list[str],
    load_kernel: Callable[[str], KernelTable],
) -> Matrix:
    from kmodlint import settings
    from kmodlint.loading import _credit_unseen_definitions
    from kmodlint.pipeline import rule_findings

    first = loaded.module_set
    kernel_problems = {id(p) for p in (first.kernel.problems if first.kernel else [])}
    base_problems = [p for p in first.problems if id(p) not in kernel_problems]
    modules = list(first.modules)
    # elf_validity_check() -> elf_check_arch(): a module built for another machine is
    # "Invalid module format" before anything else is looked at, so a kernel refusing every
    # module of the set is neither read nor checked
    refused = {spec: _refused(modules, table_arch(spec)) for spec in kernels}
    tables = {
        spec: first.kernel if index == 0 else load_kernel(spec)
        for index, spec in enumerate(kernels)
        if index == 0 or len(refused[spec]) < len(modules)
    }
    exported_somewhere: set[str] = set()
    if any(m.source is not None for m in modules):
        exported_somewhere = {s for t in tables.values() if t is not None for s in t.exports}
    findings: list[Finding] = []
    cells: dict[tuple[str, str], Cell] = {}
    for index, spec in enumerate(kernels):
        cells.update(((name, spec), cell) for name, cell in refused[spec].items())
        if spec not in tables or len(refused[spec]) == len(modules):
            continue
        table = tables[spec]
        module_set = (
            first if index == 0 or table is None else _module_set(modules, base_problems, table)
        )
        if index:
            for module in module_set.modules:
                if module.source is not None:
                    _credit_unseen_definitions(module, set(module_set.unresolved(module)))
        found = rule_findings(module_set, options).findings
        gone = _apis_gone(module_set, exported_somewhere)
        found += settings.apply_severity(
            settings.apply_ignores(settings.apply_selection(gone, options), options), options
        )
        found = [f for f in found if f.module not in refused[spec]]
        findings.extend(
            dataclasses.replace(f, kernel=spec, message=f"[kernel {spec}] {f.message}")
            for f in found
        )
        for module in module_set.modules:
            if module.name not in refused[spec]:
                mine = [f for f in found if f.module == module.name]
                cells[module.name, spec] = _cell(module, mine)
    findings.sort(key=lambda f: (*f.sort_key(), kernels.index(f.kernel or "")))
    return Matrix(
        kernels,
        [m.name for m in modules],
        cells,
        findings,
        {m.name for m in modules if m.source is not None},
    )


def _apis_gone(module_set: ModuleSet, exported_somewhere: set[str]) -> list[Finding]:
    """Sources: a name the driver's code uses that another kernel of the matrix exports but
    this one does not (the C front end counts kernel-header APIs as imports only where some
    table exports them): the API went away, or became a macro or inline for another name,
    on this kernel. The loader's words for a module built as before: Unknown symbol."""
    from kmodlint.rule import find_rule

    kernel = module_set.kernel
    if kernel is None or not kernel.complete:
        return []
    rule = find_rule("KM301")
    assert rule is not None
    found = []
    for module in module_set.modules:
        if module.source is None:
            continue
        providers = module_set.resolution[module.name]
        for symbol in sorted(module.source.references):
            if (
                symbol not in exported_somewhere
                or symbol in providers
                or symbol in module.defined
                or symbol in module.undefined  # KM301 says it already
            ):
                continue
            where = module.use_location(symbol) or module.source.location
            found.append(
                Finding(
                    code=rule.code,
                    name=rule.name,
                    severity=rule.severity,
                    message=f"Unknown symbol {symbol}: other kernels of the matrix export it, "
                    "this one does not (the API went away, or is a macro or inline for another "
                    "name in its headers): check its headers before building for it",
                    path=where.path,
                    line=where.line,
                    col=where.col,
                    module=module.name,
                    key=symbol,
                    symbol=symbol,
                )
            )
    return found


def _refused(modules: list[Module], arch: str | None) -> dict[str, Cell]:
    """The cells of the modules whose ELF machine a kernel of `arch` does not take."""
    if arch not in MACHINES:
        return {}
    return {
        m.name: Cell(False, m.source is not None, [f"built for {m.machine}, kernel is {arch}"])
        for m in modules
        if m.machine and m.machine not in MACHINES[arch]
    }


def table_arch(spec: str) -> str | None:
    """The architecture of the kernel table `spec` names (None for a path)."""
    import os

    from kmodlint.kerneltables.store import find, open_file

    if os.path.lexists(spec):
        return None
    found = find(spec)
    return str(open_file(found[0].path).summary(found[0].name)["arch"]) if found else None


def _module_set(
    modules: list[Module], problems: list[InputProblem], table: KernelTable
) -> ModuleSet:
    return ModuleSet(list(modules), table, [*problems, *table.problems])


def _cell(module: Module, findings: list[Finding]) -> Cell:
    """Errors are what the loader (or modpost, for sources) refuses; warnings load."""
    errors = [f for f in findings if f.severity.value == "error"]
    by_reason: dict[str, list[str]] = {}
    for finding in errors:
        template = REASONS.get(finding.code)
        if template is None:
            by_reason.setdefault(f"{finding.name} ({finding.code})", [])
            continue
        detail = finding.key if finding.code == "KM501" else (finding.symbol or "")
        by_reason.setdefault(template, []).append(detail)
    reasons = []
    for template in sorted(by_reason, key=_loader_order):
        names = sorted(set(by_reason[template]))
        if "{}" not in template:
            reasons.append(template)
            continue
        shown = ", ".join(names[:SHOWN_PER_REASON])
        more = f" (+{len(names) - SHOWN_PER_REASON} more)" if len(names) > SHOWN_PER_REASON else ""
        reasons.append(template.format(shown + more))
    notes = []
    for finding in findings:
        if finding.code.startswith("KM7") and finding.severity.value == "info":
            taint = _TAINT.search(finding.message)
            notes.append(f"taint {taint.group(1)}" if taint else finding.name)
    return Cell(not errors, module.source is not None, reasons, sorted(set(notes)))


def _loader_order(template: str) -> int:
    code = next((code for code, t in REASONS.items() if t == template), None)
    return _REASON_ORDER.index(code) if code else len(REASONS)


def kernel_loader(
    jobs: int | None, use_cache: bool, cache_dir: str | None
) -> Callable[[str], KernelTable]:
    """load_kernel for the matrix's other kernels, reading a /lib/modules tree's modules
    with the run's workers and cache."""
    from pathlib import Path

    from kmodlint.cache import Cache, default_cache_dir
    from kmodlint.kernel.load import load_kernel
    from kmodlint.pool import extract_all

    cache = None
    if use_cache:
        cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir())

    def read_tree(files: list[tuple[str, str]]) -> list[tuple[Module | None, list[InputProblem]]]:
        return [(e.module, e.problems) for e in extract_all(files, jobs, cache)]

    return lambda spec: load_kernel(spec, read_tree)
