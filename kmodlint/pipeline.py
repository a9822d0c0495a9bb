"""From a `Request` to what the CLI reports: no argparse, no printing.

`check`: settings -> usage checks -> focus plan -> load the set (`loading.load_set`, or the
focus plan's) -> rules, ignores, severity, inline suppressions (`rule_findings`) -> --focus
-> baseline -> a `CheckReport`; several kernels: the kernel matrix instead of the rules.
`deps` and `symbols` stop after loading (`load_inputs`). Notes are handed to a `Notes`
callback as they arise, so what is said before a failure is still said, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kmodlint.diagnostics import Finding
from kmodlint.moduleset import ModuleSet
from kmodlint.request import Request, UsageError
from kmodlint.settings import Settings

if TYPE_CHECKING:
    from kmodlint.focus import Focus
    from kmodlint.kerneltables.matrix import Matrix
    from kmodlint.loading import LoadedSet
    from kmodlint.progress import Progress

Notes = Callable[[str], None]  # receives each note (unescaped), in the order they arise


@dataclass(slots=True)
class RuleFindings:
    findings: list[Finding]  # sorted; unused suppressions (KM950) included
    notes: list[str]  # what the suppressions have to say (malformed comments)


@dataclass(frozen=True, slots=True)
class LoadedInputs:
    loaded: LoadedSet
    focus: Focus | None  # the --focus plan (None without --focus)


@dataclass(frozen=True, slots=True)
class CheckReport:
    findings: list[Finding]  # what to report: after --focus and --baseline
    modules_checked: int
    fail_on: str  # the lowest severity that fails the run, or "never"
    matrix: Matrix | None = None  # several kernels: the modules x kernels matrix
    # --write-baseline: how many findings were written (the run reports nothing else)
    baseline_written: int | None = None


def rule_findings(module_set: ModuleSet, options: Settings) -> RuleFindings:
    """rules (selection) -> per-file/per-module ignores -> severity -> inline
    suppressions: before --focus and baselines (the benchmarks reproduce it in process)."""
    from kmodlint import settings, suppress
    from kmodlint.engine import run_rules

    selected = options.all_selected()
    findings = run_rules(module_set, selected, None)
    findings = settings.apply_selection(findings, options)
    findings = settings.apply_severity(settings.apply_ignores(findings, options), options)
    outcome = suppress.apply(findings, suppress.source_files(module_set), selected)
    unused = settings.apply_severity(settings.apply_ignores(outcome.unused, options), options)
    kept = sorted(outcome.kept + unused, key=lambda f: f.sort_key())
    return RuleFindings(kept, list(outcome.notes))


def resolve_settings(request: Request) -> Settings:
    """The settings file (unless --isolated) with the command line on top."""
    from kmodlint import settings
    from kmodlint.settings import Layer

    layer = Layer(
        select=list(request.select) if request.select is not None else None,
        extend_select=list(request.extend_select),
        ignore=list(request.ignore),
        extend_ignore=list(request.extend_ignore),
    )
    return settings.resolve(
        list(request.paths),
        request.settings_file,
        request.isolated,
        layer,
        request.kernel,
        request.config,
        request.fail_on,
    )


def load_inputs(
    request: Request, options: Settings, notes: Notes, progress: Progress | None = None
) -> LoadedInputs:
    """Usage checks, then the module set (through the --focus plan with --focus). Raises
    UsageError when the paths hold nothing to check."""
    check_usage(request)
    if options.config and options.config != "none":
        from kmodlint.cfront.kbuild.kconfig import read_config

        # an unusable --config (or settings `config`): missing, a FIFO or /dev/zero, a
        # gzip bomb, no CONFIG_ lines. Said now (exit 2), not after the modules and the
        # kernel's tables were read; the file is small, reading it twice costs nothing
        read_config(options.config, keep_unset=True)
    from kmodlint.settings import origin_note

    origin = origin_note(options)
    if origin:  # the first note: which file decides what is checked
        notes(origin)
    focus = _plan_focus(request, options) if request.focus else None
    paths = list(request.paths)
    if focus is not None:
        paths = [p for p in focus.context if not options.is_excluded(p)]
    from kmodlint.loading import load_set

    try:
        # inside a kernel tree, --focus groups the tree from its index (focus.py)
        loaded = (focus.load if focus is not None else load_set)(
            paths,
            kernel_spec=options.kernel,
            jobs=cap_jobs(request.jobs),
            use_cache=request.use_cache,
            cache_dir=request.cache_dir,
            config_spec=options.config,
            kernel_source=request.kernel_source,
            use_ast=request.use_ast,
            exclude=options.is_excluded if options.any_exclude else None,
            progress=progress,
            defines=dict(request.defines),
        )
    finally:
        if progress is not None:
            progress.close()
    for note in ([focus.note] if focus is not None else []) + loaded.notes:
        notes(note)
    # --focus: pre-commit names whatever changed (a README too); nothing to check is fine
    if focus is None and _nothing_found(loaded):
        raise UsageError(
            f"no module found in {' '.join(request.paths)}: no .ko file (a folder's .o files "
            "are build intermediates: name one to check it), and no C file a "
            "Kbuild/Makefile builds as a module (or a lone module .c)"
        )
    return LoadedInputs(loaded, focus)


def check(
    request: Request, options: Settings, notes: Notes, progress: Progress | None = None
) -> CheckReport:
    """`check`: the findings to report and what decides the exit status."""
    inputs = load_inputs(request, options, notes, progress)
    if len(request.kernels) > 1:
        return _check_matrix(request, inputs.loaded, options)
    from kmodlint import baseline

    module_set = inputs.loaded.module_set
    outcome = rule_findings(module_set, options)
    findings = outcome.findings
    if inputs.focus is not None:
        # after suppressions: whether a suppression was used is judged on the whole set
        findings = inputs.focus.select(findings, module_set)
    for note in outcome.notes:
        notes(note)
    modules_checked = len(module_set.modules)
    if request.write_baseline:
        written = baseline.write(request.write_baseline, findings)
        return CheckReport(findings, modules_checked, options.fail_on, baseline_written=written)
    if request.baseline:
        filtered = baseline.apply(request.baseline, findings)
        findings = filtered.new
        if filtered.gone:
            notes(filtered.note(request.baseline))
    return CheckReport(findings, modules_checked, options.fail_on)


def _check_matrix(request: Request, loaded: LoadedSet, options: Settings) -> CheckReport:
    from kmodlint import baseline
    from kmodlint.kerneltables.matrix import build_matrix, kernel_loader

    if request.write_baseline:
        raise UsageError("--write-baseline takes one --kernel (not a kernel matrix)")
    load_kernel = kernel_loader(request.jobs, request.use_cache, request.cache_dir)
    matrix = build_matrix(loaded, options, list(request.kernels), load_kernel)
    findings = matrix.findings
    if request.baseline:
        findings = baseline.apply(request.baseline, findings).new
    return CheckReport(findings, len(matrix.modules), options.fail_on, matrix=matrix)


def _plan_focus(request: Request, options: Settings) -> Focus:
    from kmodlint.focus import plan_focus

    # pre-commit names every file explicitly, so `exclude` applies to named files here
    # (ruff's --force-exclude), and to the project files found as context.
    return plan_focus(
        [p for p in request.paths if not options.is_excluded(p)],
        options.kernel,
        options.config,
        dict(request.defines),
        request.cache_dir,
        use_cache=request.use_cache,
    )


def check_usage(request: Request) -> None:
    """What makes a run pointless, found before the analysis starts (which can take
    minutes on a tree): a path that does not exist, a --kernel-source without headers, a
    --baseline that cannot be read, an --output that cannot be written."""
    import os

    for path in request.paths:
        if not os.path.lexists(path):
            raise UsageError(f"{path}: no such file or directory")
    source = request.kernel_source
    if source:
        from kmodlint.cfront.stubenv.read_headers import ARCH, header_roots

        if not os.path.isdir(source):
            raise UsageError(f"--kernel-source {source}: not a directory")
        if not header_roots([source], ARCH):
            raise UsageError(
                f"--kernel-source {source}: no kernel headers in it (expected include/linux/, "
                "as in a kernel source tree or a linux-headers-* folder)"
            )
    if request.baseline and not os.path.isfile(request.baseline):
        raise UsageError(f"--baseline {request.baseline}: not a readable file")
    for flag, target in (
        ("--output", request.output),
        ("--write-baseline", request.write_baseline),
    ):
        if target:
            _check_writable(flag, target)


def _check_writable(flag: str, target: str) -> None:
    import os

    folder = os.path.dirname(os.path.abspath(target))
    if os.path.isdir(target):
        raise UsageError(f"{flag} {target}: is a directory")
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (
        os.path.exists(target) and not os.access(target, os.W_OK)
    ):
        raise UsageError(f"{flag} {target}: not writable")


def _nothing_found(loaded: LoadedSet) -> bool:
    """No module and nothing said about any input: the paths hold nothing to check."""
    return not loaded.module_set.modules and not loaded.module_set.problems


def cap_jobs(jobs: int | None) -> int | None:
    """-j beyond the CPUs this process may run on only adds processes competing for them
    (-j 300 started 302 processes on 2 cores): capped there, silently."""
    import os

    if jobs is None:
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(jobs, cpus))
