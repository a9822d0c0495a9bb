"""Reading corpus cases: annotations (corpus/README.md, "Expectations") and expect.toml,
and `run_kmodlint`, the CLI as the tests run it (in this process unless asked otherwise)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import locale
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import tomllib
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import kmodlint
from kmodlint.rule import Mode, find_rule

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")

_ANNOTATION = re.compile(
    r"^(expect|todo-expect|todo-ok)(\[src\])?(?:@((?:[^\s:]+:)?\d+))?(?:\s+(\d+))?:\s*"
    r"([\w-]+(?:\s*,\s*[\w-]+)*)\s*(?:\*/)?$"
)
_EXPECT_NONE = re.compile(r"^expect-none\s*(?:\*/)?$")
_C_COMMENT = re.compile(r"/\*(.*?)\*/|//(.*)$")


class CaseError(Exception):
    """The case itself is malformed: it fails before any comparison."""


@dataclass(slots=True)
class Annotation:
    path: str
    line: int  # the line the comment sits on
    kind: str  # expect / todo-expect / todo-ok / expect-none
    src_only: bool = False
    rules: list[str] = field(default_factory=list)
    trailing: bool = False  # code before the comment on its line
    where: str | None = None  # "@L" or "@path:L" target, as written
    count: int = 1
    target: tuple[str, int] | None = None  # (path, line) the annotation applies to


def rule_code(name: str, where: str) -> str:
    found = find_rule(name)
    if found is None:
        raise CaseError(f"{where}: unknown rule '{name}'")
    return found.code


def _comments(path: Path) -> list[tuple[int, str, bool]]:
    """(line, comment body, has code before it) for every comment of a C or Kbuild file."""
    found = []
    is_c = path.suffix in (".c", ".h")
    for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if is_c:
            for match in _C_COMMENT.finditer(text):
                body = match.group(1) if match.group(1) is not None else match.group(2)
                trailing = bool(text[: match.start()].strip())
                found.append((number, body.strip(), trailing))
        elif "#" in text:
            code, _, comment = text.partition("#")
            found.append((number, comment.strip(), bool(code.strip())))
    return found


def read_annotations(case: Path) -> list[Annotation]:
    annotations = []
    for path in sorted(case.iterdir()):
        if not (path.suffix in (".c", ".h") or path.name in ("Kbuild", "Makefile")):
            continue
        for line, body, trailing in _comments(path):
            where = f"{path.name}:{line}"
            if _EXPECT_NONE.match(body):
                annotations.append(Annotation(path.name, line, "expect-none"))
                continue
            if not body.startswith(("expect", "todo-")):
                continue
            match = _ANNOTATION.match(body)
            if match is None:
                raise CaseError(f"{where}: malformed annotation '{body}'")
            rules = [rule_code(r.strip(), where) for r in match.group(5).split(",")]
            annotations.append(
                Annotation(
                    path.name,
                    line,
                    match.group(1),
                    bool(match.group(2)),
                    rules,
                    trailing=trailing,
                    where=match.group(3),
                    count=int(match.group(4) or 1),
                )
            )
    _place(case, annotations)
    return annotations


def _place(case: Path, annotations: list[Annotation]) -> None:
    """Resolve each annotation's target line (corpus/README.md, "Expectations")."""
    lines_of: dict[str, list[str]] = {}

    def lines(name: str) -> list[str]:
        if name not in lines_of:
            file = case / name
            if not file.is_file():
                raise CaseError(f"annotation points into {name}, which is missing")
            lines_of[name] = file.read_text(errors="replace").splitlines()
        return lines_of[name]

    annotation_lines = {(a.path, a.line) for a in annotations if not a.trailing}
    for annotation in annotations:
        if annotation.kind == "expect-none":
            continue
        origin = f"{annotation.path}:{annotation.line}"
        if annotation.where:
            name, _, number = annotation.where.rpartition(":")
            name = name or annotation.path
            if int(number) < 1 or int(number) > len(lines(name)):
                raise CaseError(f"{origin}: @{annotation.where} is past the end of {name}")
            annotation.target = (name, int(number))
            continue
        if annotation.trailing:
            annotation.target = (annotation.path, annotation.line)
            continue
        text = lines(annotation.path)
        number = annotation.line + 1
        while number <= len(text) and (annotation.path, number) in annotation_lines:
            number += 1
        if number > len(text) or not text[number - 1].strip():
            raise CaseError(f"{origin}: dangling annotation (no code line follows it)")
        annotation.target = (annotation.path, number)


Located = Counter[tuple[str, int, str]]


def source_expectations(
    case: Path, annotations: list[Annotation]
) -> tuple[Located, Located, Located]:
    """(expected, known false positives, known false negatives) as (path, line, code)
    multisets; paths are relative to the case."""
    expected: Located = Counter()
    tolerated: Located = Counter()
    absent: Located = Counter()
    config = case_config(case)
    for annotation in annotations:
        if annotation.target is None:
            continue
        for code in annotation.rules:
            rule = find_rule(code)
            origin = f"{annotation.path}:{annotation.line}"
            if rule is not None and Mode.SOURCE not in rule.modes:
                raise CaseError(f"{origin}: {code} does not run on sources")
            binary = rule is not None and Mode.BINARY in rule.modes
            needs_reason = annotation.kind == "expect" and annotation.src_only and binary
            if needs_reason and "src-reason" not in config:
                raise CaseError(
                    f"{origin}: [src] for {code}, which has a binary mode, "
                    "needs src-reason in case.toml"
                )
            if annotation.kind == "expect" and not annotation.src_only and not binary:
                raise CaseError(f"{origin}: {code} has no binary mode: write expect[src]")
            entry = (*annotation.target, code)
            if annotation.kind == "expect":
                expected[entry] += annotation.count
            elif annotation.kind == "todo-ok":
                tolerated[entry] += annotation.count
            else:
                absent[entry] += annotation.count
    return expected, tolerated, absent


def check_every_file_annotated(case: Path, annotations: list[Annotation]) -> None:
    annotated = {a.path for a in annotations}
    for path in sorted(case.iterdir()):
        is_input = path.suffix in (".c", ".h") or path.name in ("Kbuild", "Makefile")
        if is_input and path.name not in annotated:
            raise CaseError(f"{path.name}: no annotation and no expect-none")
    for name in annotated:
        kinds = {a.kind for a in annotations if a.path == name}
        if "expect-none" in kinds and len(kinds) > 1:
            raise CaseError(f"{name}: expect-none beside other annotations")


def case_config(case: Path) -> dict:
    config_file = case / "case.toml"
    return tomllib.loads(config_file.read_text()) if config_file.exists() else {}


def built_modules(case: Path) -> dict[str, Path]:
    built = case / "built"
    if not built.is_dir():
        return {}
    found = {}
    for path in sorted(built.iterdir()):
        for suffix in MODULE_SUFFIXES:
            if path.name.endswith(suffix):
                found[path.name[: -len(suffix)]] = path
    return found


Expected = Counter[tuple[str, str, str]]


def binary_expectations(case: Path) -> tuple[Expected, Expected]:
    """(expected, known-false-positive) multisets of (module, code, key) from expect.toml.

    `todo = "expect"` entries are known false negatives: expected absent, so they add
    nothing; `todo = "ok"` entries are known false positives: expected present."""
    expect_file = case / "expect.toml"
    modules = built_modules(case)
    if not expect_file.exists():
        raise CaseError("binary case without expect.toml")
    data = tomllib.loads(expect_file.read_text())
    expected: Expected = Counter()
    tolerated: Expected = Counter()
    mentioned = set(data.get("modules", {}).get("none", []))
    for entry in data.get("finding", []):
        module = entry["module"]
        mentioned.add(module)
        code = rule_code(entry["rule"], "expect.toml")
        key = str(entry.get("symbol", entry.get("key", "")))
        count = int(entry.get("count", 1))
        todo = entry.get("todo")
        if todo == "ok":
            tolerated[(module, code, key)] += count
        elif todo is None:
            expected[(module, code, key)] += count
        elif todo != "expect":
            raise CaseError(f"expect.toml: todo must be 'expect' or 'ok', not {todo!r}")
    unknown = mentioned - set(modules)
    if unknown:
        raise CaseError(f"expect.toml names modules not in built/: {sorted(unknown)}")
    silent = set(modules) - mentioned
    if silent:
        raise CaseError(
            f"built modules in neither [[finding]] nor [modules] none: {sorted(silent)}"
        )
    return expected, tolerated


def binary_rule_codes(case: Path) -> set[str]:
    """The codes of every rule expect.toml names (todo entries too)."""
    expect_file = case / "expect.toml"
    if not expect_file.exists():
        return set()
    data = tomllib.loads(expect_file.read_text())
    return {rule_code(entry["rule"], "expect.toml") for entry in data.get("finding", [])}


def check_sources_digest(case: Path) -> None:
    """built/SOURCES.sha256 must match the sources (else: stale binaries)."""
    digest_file = case / "built" / "SOURCES.sha256"
    if not digest_file.exists():
        raise CaseError("built/ without SOURCES.sha256")
    for line in digest_file.read_text().splitlines():
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            continue
        digest, name = parts
        source = case / name.lstrip("*")
        if not source.exists():
            raise CaseError(f"SOURCES.sha256 names {name}, which is missing")
        if hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            raise CaseError(f"stale binaries: {name} changed; run corpus/rebuild.py")


# ---------------------------------------------------------------------------------------
# The CLI as the tests run it: `python -m kmodlint ARGS`, by default in this process.
#
# A subprocess costs ~1 s of interpreter and import start-up per run; in this process a
# corpus case takes a few tens of milliseconds. What a subprocess hid has to be given back
# by hand, so a run here sees what a fresh process would: its own environment and working
# folder, streams that behave like pipes (encodings, errors, newline handling as
# subprocess.run(text=True) decodes them), the file descriptors 1 and 2 (a pool worker's or
# a child's stray output lands there), a fresh interpreter's warning filters, the exit
# status the interpreter would give, and none of the per-process memo tables kmodlint keeps
# (file texts, header scans, the materialised stub environment, the work folder, ...).
# Whatever depends on the process itself (signals, broken pipes, a terminal, start-up
# time) runs with real_subprocess=True.

RUN_TIMEOUT_S = 300
_PACKAGE_DIR = Path(kmodlint.__file__).resolve().parent

# Read by the interpreter at start-up: only a new interpreter honours them (PYTHONPATH
# is checked apart: it only matters when it would import another kmodlint).
_INTERPRETER_VARIABLES = re.compile(r"PYTHON\w*|LANG|LANGUAGE|LC_\w+")

# kmodlint's per-process tables (module-level memos), by name in whichever module holds
# them; tests/test_corpus.py's isolation test fails when a run leaves any other behind.
PROCESS_TABLES = (
    "_CONFIGS",
    "_TEXT_CACHE",
    "_HEADER_CACHE",
    "_MATERIALISED",
    "_DEFINE_HEADERS",
    "_TYPEDEFS",
    "_EXPLAIN",
    "_DEFAULT_WORK",
    "_TABLE_FILES",
)
# functools caches of kmodlint's own shipped data, kept between runs (forget_process_state)
KEPT_CACHES = frozenset({"header_macros", "kernel_inlines", "package_fingerprint"})
# module-level values a fresh process starts with
PROCESS_VALUES = {"_WORK_DIR": None, "_RECORDING": None, "_text_cached": 0}


def run_kmodlint(
    *args: str,
    cwd: Path | None = None,
    env_extra: dict | None = None,
    real_subprocess: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m kmodlint ARGS` with its stdout and stderr as text and its exit status:
    in this process through `kmodlint.cli.main` unless `real_subprocess` (or `env_extra`
    sets a variable only a new interpreter reads, or `cwd` holds another kmodlint)."""
    if real_subprocess or _needs_interpreter(cwd, env_extra or {}):
        return _run_subprocess(args, cwd, env_extra)
    return _run_in_process(args, cwd, env_extra or {})


def _run_subprocess(
    args: tuple[str, ...], cwd: Path | None, env_extra: dict | None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "kmodlint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=RUN_TIMEOUT_S,
    )


def _needs_interpreter(cwd: Path | None, env_extra: dict) -> bool:
    for name in env_extra:
        if _INTERPRETER_VARIABLES.fullmatch(name) and name != "PYTHONPATH":
            return True
    # `python -m` imports kmodlint from the working folder first, then PYTHONPATH's folders,
    # then the installed one (this checkout's, as in this process)
    folder = Path(cwd) if cwd is not None else Path.cwd()
    search = [folder]
    path = env_extra.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    search += [folder / entry for entry in path.split(os.pathsep) if entry]
    for entry in search:
        candidate = entry / "kmodlint"
        if candidate.is_dir():
            return candidate.resolve() != _PACKAGE_DIR
    return False


def _run_in_process(
    args: tuple[str, ...], cwd: Path | None, env_extra: dict
) -> subprocess.CompletedProcess[str]:
    from kmodlint import cli

    # this process's environment is the child's (else _needs_interpreter): its sys.stdout
    # gets the same encoding and error handler; sys.stderr always backslashreplace
    out = _pipe_stream(getattr(sys.__stdout__, "errors", None) or "strict")
    err = _pipe_stream("backslashreplace")
    with (
        _fd_sink(1) as fd_out,
        _fd_sink(2) as fd_err,
        _fresh_process(cwd, env_extra, any(a.startswith("--kernel-source") for a in args)),
        _deadline(args),
    ):
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            returncode = _exit_status(cli.main, list(args))
        finally:
            sys.stdout, sys.stderr = streams
            for stream in (out, err):
                with contextlib.suppress(Exception):
                    stream.flush()
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "kmodlint", *args],
        returncode,
        _as_text(out.buffer.getvalue() + fd_out.data),
        _as_text(err.buffer.getvalue() + fd_err.data),
    )


def _pipe_stream(errors: str) -> io.TextIOWrapper:
    """A sys.stdout/sys.stderr as a child on a pipe has it (not a terminal, not a file)."""
    encoding = getattr(sys.__stdout__, "encoding", None) or locale.getpreferredencoding(False)
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors, newline="\n")


def _as_text(data: bytes) -> str:
    """As subprocess.run(text=True) decodes a pipe: the locale's encoding, universal
    newlines."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exit_status(main, argv: list[str]) -> int:
    """What `sys.exit(main())` in kmodlint/__main__.py makes the interpreter exit with."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse (usage errors, --version, --help)
        code = exc.code
    except Exception:
        traceback.print_exc()  # the interpreter's report of an uncaught exception
        return 1
    if code is None:
        return 0
    if isinstance(code, int):
        return code % 256
    print(code, file=sys.stderr)
    return 1


class _Sink:
    data = b""


@contextlib.contextmanager
def _fd_sink(fd: int) -> Iterator[_Sink]:
    """File descriptor `fd` into a temporary file for the run (a child inherits it), as a
    subprocess's would be a pipe; its bytes are in `.data` afterwards."""
    sink = _Sink()
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield sink
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            sink.data = capture.read()


@contextlib.contextmanager
def _fresh_process(cwd: Path | None, env_extra: dict, all_caches: bool) -> Iterator[None]:
    """This process as a new `python -m kmodlint` would start: the environment with
    `env_extra`, the working folder, a fresh interpreter's warning filters, none of
    kmodlint's per-process tables; everything put back afterwards."""
    environ = dict(os.environ)
    folder = os.getcwd()
    recursion = sys.getrecursionlimit()
    stack = threading.stack_size()
    umask = os.umask(0o022)
    os.umask(umask)
    handlers = {number: signal.getsignal(number) for number in _SIGNALS}
    forget_process_state(all_caches)
    try:
        os.environ.update(env_extra)
        if cwd is not None:
            os.chdir(cwd)
        with warnings.catch_warnings():
            warnings.resetwarnings()
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            for category in _IGNORED_WARNINGS:
                warnings.simplefilter("ignore", category, append=True)
            warnings.showwarning = _show_warning
            yield
    finally:
        forget_process_state(all_caches)
        os.chdir(folder)
        if os.environ != environ:
            os.environ.clear()
            os.environ.update(environ)
        sys.setrecursionlimit(recursion)
        threading.stack_size(stack)
        os.umask(umask)
        for number, handler in handlers.items():
            if handler is not None and signal.getsignal(number) is not handler:
                signal.signal(number, handler)


# a fresh interpreter's filters (after default::DeprecationWarning:__main__)
_IGNORED_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGALRM", "SIGCHLD")
)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings' default display, to the sys.stderr of the run (not pytest's record)."""
    text = warnings.formatwarning(message, category, filename, lineno, line)
    with contextlib.suppress(OSError):
        (file or sys.stderr).write(text)


def kmodlint_modules() -> list:
    return [
        module
        for name, module in list(sys.modules.items())
        if module is not None and (name == "kmodlint" or name.startswith("kmodlint."))
    ]


def forget_process_state(all_caches: bool = False) -> None:
    """Empty kmodlint's per-process memos (functools caches and PROCESS_TABLES) and reset
    PROCESS_VALUES.

    Kept: the temporary work folder of --no-cache runs (cache._TEMP_DIRS, removed at exit).
    What kmodlint writes there (the stub environment, -include headers) is named by a hash
    of its contents and marked complete when whole, so a run finds there only what it
    would have written itself: the same output, without ~2 s of writing 7,000 stub
    headers per run. And `header_macros` (the index of a stub environment's headers.txt)
    outside runs with --kernel-source: the only other key it gets is the shipped folder;
    `kernel_inlines` (the shipped list) and `package_fingerprint` (kmodlint's own files,
    whose code this process has loaded) unless `all_caches`."""
    for module in kmodlint_modules():
        namespace = vars(module)
        for value in list(namespace.values()):
            clear = getattr(value, "cache_clear", None)
            own = callable(clear) and getattr(value, "__module__", None) == module.__name__
            if own and (all_caches or getattr(value, "__name__", None) not in KEPT_CACHES):
                clear()
        for name in PROCESS_TABLES:
            table = namespace.get(name)
            if isinstance(table, dict | set | list):
                table.clear()
        for name, value in PROCESS_VALUES.items():
            if name in namespace:
                namespace[name] = value


class _Timeout(BaseException):
    """Not an Exception: kmodlint's handlers must not turn it into an exit status."""


@contextlib.contextmanager
def _deadline(args: tuple[str, ...]) -> Iterator[None]:
    """subprocess.run(timeout=RUN_TIMEOUT_S): a hung run fails the test with
    TimeoutExpired instead of hanging the suite (main thread only: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    delay, interval = signal.setitimer(signal.ITIMER_REAL, RUN_TIMEOUT_S)
    try:
        yield
    except _Timeout:
        raise subprocess.TimeoutExpired(["kmodlint", *args], RUN_TIMEOUT_S) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if delay:
            signal.setitimer(signal.ITIMER_REAL, delay, interval)
