"""What a `check`, `deps` or `symbols` run was asked to do, as the pipeline reads it.

`cli.py` builds a `Request` from its arguments; `pipeline.py` turns it into a report. No
argparse here: a test or a benchmark builds one directly.
"""

from __future__ import annotations

from dataclasses import dataclass


class UsageError(Exception):
    """What the user asked cannot be done (a missing path, a bad option value): one line,
    exit 2."""


@dataclass(frozen=True, slots=True)
class Request:
    command: str  # "check", "deps" or "symbols"
    paths: tuple[str, ...] = (".",)
    # --kernel values, table patterns expanded; the first is the one the modules are read
    # with, several make a kernel matrix (`check` only)
    kernels: tuple[str, ...] = ()
    config: str | None = None  # --config: the kernel .config (settings may name one)
    settings_file: str | None = None  # --settings
    isolated: bool = False  # --isolated: no settings file
    # the command line's selection layer; None: --select not given
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    fail_on: str | None = None  # --fail-on (settings may name one)
    defines: tuple[tuple[str, str], ...] = ()  # --define NAME=VALUE, in order
    jobs: int | None = None  # -j as given: loading caps it at the CPUs it may use
    use_cache: bool = True
    cache_dir: str | None = None
    kernel_source: str | None = None  # regenerate the stub headers from this tree
    use_ast: bool = True
    # --focus: `paths` are the changed files; their projects are loaded as context and
    # only findings touching them are reported
    focus: bool = False
    baseline: str | None = None  # report only findings not in this file
    write_baseline: str | None = None  # write the findings here instead of a report
    # where the report goes (None: stdout); the CLI writes it, the pipeline only checks
    # before the analysis that it can be written
    output: str | None = None

    @property
    def kernel(self) -> str | None:
        """The kernel the modules are read with (the first of a matrix)."""
        return self.kernels[0] if self.kernels else None
