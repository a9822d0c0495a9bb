"""Command line: `kmodlint check|deps|symbols|rules|explain|cache`.

Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or
internal error (never 1 for a crash).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from kmodlint import __version__

# Everything else is imported where a command needs it: `--version`, `rules` and
# `explain` must start in a few tens of milliseconds (ruff's start-up is the yardstick),
# and the C front end, the ELF reader and networkx cost hundreds.
if TYPE_CHECKING:
    from collections.abc import Callable

    from kmodlint.diagnostics import Finding
    from kmodlint.pipeline import CheckReport
    from kmodlint.request import Request

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument(
        "--kernel",
        action="append",
        metavar="PATH|NAME",
        help="target kernel: Module.symvers, headers folder, System.map, /lib/modules/<ver>, "
        "a kernel table's name (kmodlint kernels list; a pattern: 'debian-12/*') or 'none' "
        "(default: the running kernel's /lib/modules tree if present); several: check "
        "prints a modules x kernels matrix",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="worker processes for reading modules and C files (default and most: the CPU "
        "count; 1: none)",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: user cache)")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no notes or progress bar on stderr"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="kernel .config for #ifdef CONFIG_*, IS_ENABLED() and obj-$(CONFIG_*) in sources "
        "(default: the --kernel headers/build tree's .config, else the running kernel's; "
        "'none' for no configuration). An out-of-tree driver's own options that a whole "
        "kernel .config does not mention are read as =m, and a note names them",
    )
    parser.add_argument(
        "--define",
        action="append",
        type=_define,
        default=[],
        metavar="NAME=VALUE",
        help="make variable for the driver's Kbuild/Makefiles, as `make NAME=VALUE` "
        "(repeatable; e.g. --define CONFIG_MYDRV=m --define HDAPS=1)",
    )
    parser.add_argument(
        "--kernel-source",
        metavar="DIR",
        help="kernel source or headers tree to regenerate the stub headers the C front end "
        "preprocesses with (default: the shipped ones)",
    )
    parser.add_argument(
        "--no-ast",
        action="store_true",
        help="token scan only: skip pycparser (faster; no C types for extern-mismatch and "
        "param-type-mismatch)",
    )
    # --config is taken by the kernel .config, hence --settings for kmodlint's own file.
    parser.add_argument(
        "--settings",
        metavar="FILE",
        help="kmodlint settings file (default: the closest pyproject.toml with "
        "[tool.kmodlint], .kmodlint.toml or kmodlint.toml above the paths)",
    )
    parser.add_argument("--isolated", action="store_true", help="ignore all settings files")
    parser.add_argument(
        "--show-settings", action="store_true", help="print the effective settings and exit"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 1, got '{text}'")
    return value


def _define(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got '{text}'")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmodlint",
        description="Find why the kernel would refuse your modules, before insmod.",
    )
    parser.add_argument("--version", action="version", version=f"kmodlint {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="report findings")
    _add_input_options(check)
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour text output (default auto: only on a terminal and without NO_COLOR)",
    )
    check.add_argument(
        "--statistics",
        action="store_true",
        help="add a table of findings per rule (after text output; on stderr for other formats)",
    )
    check.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    check.add_argument("--select", metavar="NAMES", help="comma-separated rules to run")
    check.add_argument("--extend-select", metavar="NAMES", help="rules to run in addition")
    check.add_argument("--ignore", metavar="NAMES", help="comma-separated rules to skip")
    check.add_argument("--extend-ignore", metavar="NAMES", help="rules to skip in addition")
    check.add_argument(
        "--fail-on",
        choices=["error", "warning", "info", "never"],
        default=None,
        help="lowest severity that makes the exit status 1 (default: warning)",
    )
    check.add_argument("--baseline", metavar="FILE", help="report only findings not in FILE")
    check.add_argument(
        "--write-baseline", metavar="FILE", help="write today's findings to FILE and exit 0"
    )
    check.add_argument(
        "--focus",
        action="store_true",
        help="report only findings that touch PATHs (or their modules), analysing each PATH's "
        "whole project as context (for pre-commit, which passes only changed files)",
    )

    deps = commands.add_parser("deps", help="dependency graph and load order")
    _add_input_options(deps)
    deps.add_argument(
        "--format", choices=["text", "modules.dep", "dot", "mermaid", "json"], default="text"
    )
    deps.add_argument("--symbols", action="store_true", help="list the symbols on each edge")

    symbols = commands.add_parser("symbols", help="what the front ends saw, per module")
    _add_input_options(symbols)
    symbols.add_argument("--format", choices=["table", "json"], default="table")

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=["table", "json", "markdown"], default="table")

    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("rule", metavar="CODE|NAME")

    from kmodlint.kerneltables.commands import add_parser as add_kernels_parser

    add_kernels_parser(commands)

    cache = commands.add_parser("cache", help="manage the cache of extracted facts")
    cache.add_argument("action", choices=["clean"], help="clean: delete the cache's contents")
    cache.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: user cache)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from kmodlint.reporters.escape import lenient_stream

    # a latin-1 or ASCII locale cannot hold "—" or a file name's bytes: escaped, not a crash
    lenient = [(stream, lenient_stream(stream)) for stream in (sys.stdout, sys.stderr)]
    guard = _StdoutGuard(sys.stdout)
    sys.stdout = guard
    try:
        status = _dispatch(args)
        if guard.broken:
            _silence_stdout()
        return status
    except _OutputError as exc:
        print(f"kmodlint: error: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except _usage_errors() as exc:
        from kmodlint.reporters.escape import printable

        # one line; the reason may quote the input (a settings key, a file name): escaped
        print(f"kmodlint: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:
        # a write the guard did not see (a stream taken before it was set): the findings'
        # status is unknown here, and "no findings" must never be claimed for it
        _silence_stdout()
        return EXIT_ERROR
    except Exception as exc:
        # One line, not a traceback wall: the user needs the fact and where to report it.
        from kmodlint.reporters.escape import printable

        reason = printable(" ".join(str(exc).split())[:300])
        print(
            f"kmodlint: internal error: {type(exc).__name__}: {reason}\n"
            f"kmodlint: please report it (kmodlint {__version__}, the command line, and the "
            "traceback KMODLINT_DEBUG=1 prints) to the kmodlint issue tracker",
            file=sys.stderr,
        )
        if os.environ.get("KMODLINT_DEBUG") == "1":
            import traceback  # only for an internal error (start-up, issue 13)

            traceback.print_exc(file=sys.stderr)
        return EXIT_ERROR
    finally:
        sys.stdout = guard.stream
        for stream, errors in lenient:
            if errors is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.reconfigure(errors=errors)  # type: ignore[union-attr]


def _usage_errors() -> tuple[type[Exception], ...]:
    """What a user's input can be wrong with: one line, exit 2 (imported only when an
    exception is being matched, so start-up pays nothing for it)."""
    from kmodlint.baseline import BaselineError
    from kmodlint.cfront.kbuild.kconfig import ConfigError
    from kmodlint.kernel.load import KernelSpecError
    from kmodlint.request import UsageError
    from kmodlint.selection import SelectionError
    from kmodlint.settings import SettingsError

    return (UsageError, KernelSpecError, SelectionError, ConfigError, SettingsError, BaselineError)


class _OutputError(Exception):
    """stdout refused the report (a full disk, /dev/full): one line, exit 2."""


class _StdoutGuard:
    """sys.stdout during a run. A reader that goes away (`kmodlint check | head`) must not
    turn the exit status into 0 or 2: the rest of the report is dropped and the run ends
    with the status its findings give. Any other write error is one line, exit 2."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self.broken = True
            return len(text)
        except OSError as exc:
            raise _OutputError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
        except OSError as exc:
            raise _OutputError(exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still
    buffered for a closed pipe prints no 'Exception ignored' lines."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
        os.close(devnull)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "cache":
        return _clean_cache(args.cache_dir)
    if args.command == "kernels":
        from kmodlint.kerneltables.commands import run

        return run(args)
    if args.command == "rules":
        from kmodlint.reporters.catalogue import format_rules
        from kmodlint.rule import all_rules

        sys.stdout.write(format_rules(all_rules(), args.format))
        return EXIT_OK
    if args.command == "explain":
        return _explain(args.rule)
    return _analyse(args)


def _explain(name: str) -> int:
    from kmodlint.rule import find_rule

    found = find_rule(name)
    if found is None:
        from kmodlint.request import UsageError
        from kmodlint.selection import did_you_mean, rule_words

        names = rule_words()
        near = did_you_mean(name, names, cutoff=0.5)
        near = near or next((n for n in names if n.startswith(name)), None)
        hint = f" (did you mean {near}?)" if near else " (see `kmodlint rules`)"
        raise UsageError(f"unknown rule '{name}'{hint}")
    sys.stdout.write(f"# {found.code} {found.name} ({found.severity})\n\n{found.doc}\n")
    return EXIT_OK


def _analyse(args: argparse.Namespace) -> int:
    """`check`, `deps`, `symbols`: the request to the pipeline, its report printed."""
    from kmodlint import pipeline
    from kmodlint.progress import Progress

    request = build_request(args)
    options = pipeline.resolve_settings(request)
    if args.show_settings:
        from kmodlint import settings

        sys.stdout.write(settings.describe(options))
        return EXIT_OK
    notes = _note_printer(args.quiet)
    progress = Progress(enabled=not args.quiet)  # draws only on a terminal, for long runs
    if request.command == "check":
        return _print_check(args, pipeline.check(request, options, notes, progress))
    loaded = pipeline.load_inputs(request, options, notes, progress).loaded
    if request.command == "deps":
        from kmodlint.reporters.graph import format_deps

        ms = loaded.module_set
        sys.stdout.write(format_deps(ms, loaded.relative, loaded.order, args.format, args.symbols))
        return EXIT_OK
    from kmodlint.reporters.symbols import format_symbols

    files = None
    if loaded.sources is not None:
        files = {
            "c_files": loaded.sources.files_total,
            "with_ast": loaded.sources.files_with_ast,
            "skipped_by_config": loaded.sources.skipped_by_config,
        }
    sys.stdout.write(
        format_symbols(loaded.module_set.modules, args.format, files, loaded.module_set.kernel)
    )
    return EXIT_OK


def build_request(args: argparse.Namespace) -> Request:
    """The pipeline's request from `check`, `deps` or `symbols` arguments. Raises
    UsageError for several kernels outside `check` (or with --focus) and for a selector
    naming no rule, in that order."""
    from kmodlint.request import Request

    focus = bool(getattr(args, "focus", False))
    kernels = _kernels(args.kernel, args.command, focus)  # several: a kernel matrix
    return Request(
        command=args.command,
        paths=tuple(args.paths),
        kernels=tuple(kernels),
        config=args.config,
        settings_file=args.settings,
        isolated=args.isolated,
        select=_selectors(args, "select"),
        extend_select=_selectors(args, "extend_select") or (),
        ignore=_selectors(args, "ignore") or (),
        extend_ignore=_selectors(args, "extend_ignore") or (),
        fail_on=getattr(args, "fail_on", None),
        defines=tuple(args.define),
        jobs=args.jobs,
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        kernel_source=args.kernel_source,
        use_ast=not args.no_ast,
        focus=focus,
        baseline=getattr(args, "baseline", None),
        write_baseline=getattr(args, "write_baseline", None),
        output=getattr(args, "output", None),
    )


def _kernels(values: list[str] | None, command: str, focus: bool) -> list[str]:
    """The --kernel values, table patterns expanded."""
    if not values:
        return []
    from kmodlint.kerneltables.names import expand
    from kmodlint.request import UsageError

    kernels = expand(values)
    if len(kernels) > 1 and (command != "check" or focus):
        raise UsageError(
            f"several kernels ({', '.join(kernels)}) make a matrix: `check` only, without --focus"
        )
    return kernels


def _selectors(args: argparse.Namespace, option: str) -> tuple[str, ...] | None:
    """--select etc.: None when not given; a value naming no rule (`--select ''`, an unset
    shell variable) is a usage error, not a silent "no rule" or "default rules"."""
    value = getattr(args, option, None)
    if value is None:
        return None
    parts = tuple(part for part in value.split(",") if part.strip())
    if not parts:
        from kmodlint.request import UsageError
        from kmodlint.settings import EMPTY_SELECTOR_HINT

        flag = "--" + option.replace("_", "-")
        raise UsageError(f"{flag} '{value}' names no rule ({EMPTY_SELECTOR_HINT})")
    return parts


def _note_printer(quiet: bool) -> Callable[[str], None]:
    """Where the pipeline's notes go: stderr, one `kmodlint:` line each (nowhere with -q)."""

    def note(text: str) -> None:
        if quiet:
            return
        from kmodlint.reporters.escape import printable_lines

        # notes name files of the tree: their control characters are shown escaped
        print(f"kmodlint: {printable_lines(text)}", file=sys.stderr)

    return note


def _print_check(args: argparse.Namespace, report: CheckReport) -> int:
    """The check report on stdout or in --output, and the exit status it gives."""
    if report.baseline_written is not None:
        print(
            f"kmodlint: wrote {report.baseline_written} finding(s) to {args.write_baseline}",
            file=sys.stderr,
        )
        return EXIT_OK
    if report.matrix is not None:
        from kmodlint.kerneltables.matrix_report import format_report

        text = format_report(report.matrix, report.findings, args.format, args.statistics)
        if args.output is None:
            sys.stdout.write(text)
        else:
            _write_output(args.output, text)
    else:
        _report(args, report.findings, report.modules_checked)
    return _exit_status(report.findings, report.fail_on)


def _exit_status(findings: list[Finding], fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    from kmodlint.diagnostics import Severity

    threshold = Severity(fail_on).rank
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in findings) else EXIT_OK


def _clean_cache(cache_dir: str | None) -> int:
    from pathlib import Path

    from kmodlint.cache import clean, default_cache_dir

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    removed = clean(root)
    for name, size in removed:
        print(f"removed {root / name} ({size} bytes)")
    total = sum(size for _, size in removed)
    print(f"kmodlint: cache {root}: removed {len(removed)} item(s), {total} bytes")
    return EXIT_OK


def _report(args: argparse.Namespace, findings: list[Finding], modules_checked: int) -> None:
    from kmodlint.reporters.render import render

    if args.output is None:
        render(findings, modules_checked, args.format, args.color, args.statistics, sys.stdout)
        return
    import io

    # rendered whole first, then written atomically: a failure (a full disk, a crash while
    # rendering) leaves the previous file or none, never an empty or partial report
    report = io.StringIO()
    render(findings, modules_checked, args.format, args.color, args.statistics, report)
    _write_output(args.output, report.getvalue())


def _write_output(path: str, report: str) -> None:
    from kmodlint.request import UsageError
    from kmodlint.safe_io import write_atomic

    try:
        write_atomic(path, report)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
