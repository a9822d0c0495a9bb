"""Run the system C preprocessor on one source file against kmodlint's stub kernel headers.

The stub environment (see :mod:`kmodlint.cfront.stubenv`) ships as ``prelude.h``,
``headers.txt`` (its ``?elsewhere`` section: the fallback's extra stubs) and
``typedefs.txt``; the shadow tree (one small header per kernel header: its includes and its
macros' stubs) and ``union.h`` (every stub, the fallback) are materialised once per content
hash in the run's work folder (``kmodlint.cache.work_dir()``: the cache folder the user
chose, ``<cache>/stubenv-<hash>/``, or a temporary folder under ``--no-cache`` or when the
cache cannot be written), never in the analysed tree. Empty stand-ins for headers nothing
provides live in a per-call directory there. cpp writes to a pipe; nothing is written next
to the analysed file.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import IO

from kmodlint.cache import note_file, private_dir, recording, work_dir
from kmodlint.cfront.shipped import shipped_copy
from kmodlint.folders import ancestors

SHIPPED = "stubenv"
# How the shipped files are turned into the cached tree; part of the cache key.
FORMAT = b"shadow-3"
UNION = "union.h"
# headers.txt: the stubs after this line are for union.h only (macros of other configurations)
ELSEWHERE = "?elsewhere"


class PreprocessorNotFound(RuntimeError):
    """No C preprocessor (``cpp``) on this machine."""


class PreprocessError(RuntimeError):
    """cpp refused the file; the message is one line, e.g. ``foo.c:3:10: fatal error: ...``."""


def find_cpp() -> str:
    for name in (os.environ.get("KMODLINT_CPP") or "", "cpp", "gcc"):
        if name and shutil.which(name):
            return name
    raise PreprocessorNotFound("no C preprocessor found: install cpp (e.g. apt install cpp)")


def _cache_root() -> str:
    """Where the stub environment and the configuration headers go: the run's work folder
    (--cache-dir, KMODLINT_CACHE_DIR, the user cache; a temporary one under --no-cache)."""
    return work_dir()


def _shipped_dir() -> str:
    return str(resources.files("kmodlint.cfront").joinpath(SHIPPED))


_MATERIALISED: dict[tuple[str, str], str] = {}


def stub_env_dir(stub_env: str | None = None) -> str:
    """The materialised stub environment: ``prelude.h``, ``typedefs.txt``, ``union.h``,
    ``include/`` (the shadow of every kernel header) and ``missing/`` (where each call keeps
    the empty stand-ins for headers no include path provides).

    ``stub_env`` is a directory with ``prelude.h``, ``headers.txt`` and ``typedefs.txt``
    (default: the one shipped with kmodlint).
    """
    src = stub_env or _shipped_dir()
    root = _cache_root()
    known = _MATERIALISED.get((root, src))  # per work folder: one process may run several
    # still there? (`kmodlint cache clean` may have emptied the cache since)
    if known is not None and os.path.isfile(os.path.join(known, ".complete")):
        return known
    with open(os.path.join(src, "prelude.h"), "rb") as fh:
        prelude = fh.read()
    with open(os.path.join(src, "headers.txt"), "rb") as fh:
        headers = fh.read()
    typedefs = b""
    if os.path.isfile(os.path.join(src, "typedefs.txt")):
        with open(os.path.join(src, "typedefs.txt"), "rb") as fh:
            typedefs = fh.read()
    digest = hashlib.sha256(
        FORMAT + b"\0" + prelude + b"\0" + headers + b"\0" + typedefs
    ).hexdigest()[:16]
    target = os.path.join(root, f"stubenv-{digest}")
    if not os.path.isfile(os.path.join(target, ".complete")):
        private_dir(root)
        tmp = tempfile.mkdtemp(prefix="stubenv-tmp-", dir=root)
        try:
            inc = os.path.join(tmp, "include")
            listing, _, elsewhere = headers.decode("utf-8").partition(f"\n{ELSEWHERE}\n")
            for rel, body in _shadows(listing):
                path = os.path.join(inc, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    if body:
                        fh.write(_shadow_text(rel, body))
            with open(os.path.join(tmp, UNION), "w", encoding="utf-8") as fh:
                fh.write(_union_text(_shadows(listing), elsewhere))
            with open(os.path.join(tmp, "prelude.h"), "wb") as fh:
                fh.write(prelude)
            with open(os.path.join(tmp, "typedefs.txt"), "wb") as fh:
                fh.write(typedefs)
            os.makedirs(os.path.join(tmp, "missing"))
            open(os.path.join(tmp, ".complete"), "wb").close()
            try:
                os.rename(tmp, target)
            except OSError:
                # another process won the race; its copy is identical
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _MATERIALISED[(root, src)] = target
    return target


def _shadows(text: str) -> list[tuple[str, list[str]]]:
    """``headers.txt``: each header path on a line of its own, followed by the directives
    of its shadow (lines starting with ``#``: the stubs of its macros and its includes)."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if out:
                out[-1][1].append(line)
            continue
        if line.startswith("/") or ".." in line.split("/"):
            out.append(("", []))  # never written: its directives are dropped with it
            continue
        out.append((line, []))
    return [(rel, body) for rel, body in out if rel]


_DEFINE_NAME = re.compile(r"#define\s+([A-Za-z_]\w*)")


def _shadow_text(rel: str, body: list[str]) -> str:
    """One shadow header: an include guard, and each stub under ``#ifndef``, so a macro the
    analysed file defines before the #include wins, as the real headers' ``#ifndef pr_fmt``
    let it (a header that really redefines a macro #undef's it first, and that is kept)."""
    guard = "__KMODLINT_SHADOW_" + re.sub(r"\W", "_", rel)
    out = [f"#ifndef {guard}", f"#define {guard}"]
    for line in body:
        match = _DEFINE_NAME.match(line)
        if match:
            out += [f"#ifndef {match.group(1)}", line, "#endif"]
        else:
            out.append(line)
    out.append("#endif")
    return "\n".join(out) + "\n"


def _union_text(shadows: list[tuple[str, list[str]]], elsewhere: str = "") -> str:
    """Every stub of every header, whatever the file includes: the fallback for a file the
    include graph leaves short (a ``.c`` fragment #include'd by another file, a header
    reached through a Makefile -I the caller did not know), then the stubs of function-like
    macros only other architectures or configurations define (``elsewhere``: a driver for
    another platform), each under ``#ifndef`` so the file's own definitions win."""
    seen: dict[str, str] = {}
    for _, body in shadows:
        for line in body:
            match = _DEFINE_NAME.match(line)
            if match and match.group(1) not in seen:
                seen[match.group(1)] = line
    out = [seen[k] for k in sorted(seen)]
    for line in elsewhere.splitlines():
        match = _DEFINE_NAME.match(line)
        if match and match.group(1) not in seen:
            seen[match.group(1)] = line
            out += [f"#ifndef {match.group(1)}", line, "#endif"]
    return "\n".join(out) + "\n"


def _define_args(defines: dict[str, str], path: str) -> list[str]:
    args = []
    merged = {"__KERNEL__": "1", "MODULE": "1"}
    merged.update(defines)
    if "KBUILD_MODNAME" not in merged:
        stem = os.path.splitext(os.path.basename(path))[0].replace("-", "_")
        merged["KBUILD_MODNAME"] = f'"{stem}"'
    if "KBUILD_BASENAME" not in merged:
        merged["KBUILD_BASENAME"] = merged["KBUILD_MODNAME"]
    for key in ("KBUILD_MODNAME", "KBUILD_BASENAME"):
        val = merged[key]
        if not val.startswith('"'):
            merged[key] = f'"{val}"'
    # Thousands of CONFIG_ defines overflow the command line: they go to a header in the
    # cache, keyed by content; the few per-file ones stay on the command line.
    small = {k: merged.pop(k) for k in ("KBUILD_MODNAME", "KBUILD_BASENAME")}
    if merged:
        args += ["-include", _defines_header(merged)]
    for name, value in small.items():
        args.append(f"-D{name}={value}")
    return args


_DEFINE_HEADERS: dict[tuple[str, frozenset[tuple[str, str]]], str] = {}


def _defines_header(defines: dict[str, str]) -> str:
    root = os.path.join(_cache_root(), "defines")
    # Every file of a run passes the same thousands of CONFIG_ values: looked up by
    # content (a set of the pairs costs a tenth of writing and hashing the text again)
    memo = (root, frozenset(defines.items()))
    known = _DEFINE_HEADERS.get(memo)
    if known is not None and os.path.isfile(known):  # unless a `cache clean` removed it
        return known
    text = "".join(f"#define {k} {v}\n" for k, v in sorted(defines.items()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = os.path.join(root, f"defines-{digest}.h")
    if not os.path.isfile(path):
        private_dir(root)
        fd, tmp = tempfile.mkstemp(prefix="defines-tmp-", dir=root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    _DEFINE_HEADERS[memo] = path
    return path


def cpp_command(
    path: str,
    *,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None = None,
    union: bool = False,
) -> list[str]:
    """The cpp command line; ``union``: every header's stubs up front (the fallback)."""
    env = stub_env_dir(stub_env)
    cmd = [find_cpp()]
    if os.path.basename(cmd[0]).startswith("gcc"):
        cmd.append("-E")
    cmd += ["-nostdinc", "-std=gnu11", "-w", "-Ulinux", "-Uunix", "-Ui386"]
    # Kbuild's LINUXINCLUDE (the kernel headers) comes before a Makefile's own -I flags
    cmd += ["-I", os.path.join(env, "include")]
    for folder in include_dirs:
        cmd += ["-I", folder]
    cmd += ["-I", os.path.dirname(os.path.abspath(path)) or "."]
    # configuration first (the prelude's conditionals may test it), then the prelude
    cmd += _define_args(defines, path)
    cmd += ["-include", os.path.join(env, "prelude.h")]
    if union and os.path.isfile(os.path.join(env, UNION)):
        cmd += ["-include", os.path.join(env, UNION)]
    cmd.append(path)
    return cmd


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln:
            return ln
    return lines[0] if lines else "cpp failed"


_ERROR_LINE = re.compile(r"^\S.*?:\d+:\d+: error: (.*)$", re.M)


def _only_error_directives(stderr: str) -> bool:
    """Whether every error cpp reported is an ``#error`` directive of the sources."""
    errors = _ERROR_LINE.findall(stderr)
    return (
        bool(errors) and all(e.startswith("#error") for e in errors) and "fatal error" not in stderr
    )


# What one cpp run may take, whatever the file does: `#include "/dev/zero"` makes cc1
# read without end (6 GB in 22 s), a 529-byte macro bomb takes minutes and 1.6 GB. Real
# kernel files need well under a tenth of each.
MB = 1024 * 1024
CPP_MEMORY = 1024 * MB  # address space (RSS stays below it: the issue bounds a run at 1 GB)
CPP_CPU_SECONDS = 60
# What cpp may write: the largest real translation units against the stub kernel are
# ~1.6 MB (amdgpu's dcn32_resource.c, gfx_v10_0.c); a macro bomb writes gigabytes, which
# the parent would otherwise hold in memory (1.5 GB RSS) and pycparser never finish.
CPP_OUTPUT = 8 * MB


def _limit_child() -> None:
    """preexec_fn of cpp: the kernel enforces the bounds in the child (cc1 inherits them),
    so no reading of cpp's output can be too late. On Linux cpp also dies with the
    process that started it (a pool worker killed by a stopped run leaves no cpp)."""
    resource.setrlimit(resource.RLIMIT_AS, (CPP_MEMORY, CPP_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPP_CPU_SECONDS, CPP_CPU_SECONDS + 5))
    # its output goes to a file (below): past this size the kernel stops it with SIGXFSZ
    resource.setrlimit(resource.RLIMIT_FSIZE, (CPP_OUTPUT, CPP_OUTPUT))
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent (not between fork and exec)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PR_SET_PDEATHSIG = 1
_PRCTL = _prctl()


_MISSING = re.compile(r"^(.*?):\d+:\d+: fatal error: (.+?): No such file or directory", re.M)
MAX_MISSING = 40
ANCESTOR_LEVELS = 6


def _candidates(d: str, siblings: bool = False) -> list[str]:
    """Where a Makefile near ``d`` usually points -I: ``d``, ``d/include``, ``d/inc``, the
    directories right under ``d/include`` (nouveau's ``include/nvkm``) and, with
    ``siblings``, those right under ``d`` (xfs's ``-I $(src)/libxfs``)."""
    out = [d]
    if siblings:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            names = []
        out += [
            p
            for n in names
            if n not in ("include", "inc") and os.path.isdir(p := os.path.join(d, n))
        ]
    for sub in ("include", "inc"):
        inc = os.path.join(d, sub)
        if os.path.isdir(inc):
            out.append(inc)
            if sub == "include":
                try:
                    names = sorted(os.listdir(inc))
                except OSError:
                    names = []
                out += [p for n in names if os.path.isdir(p := os.path.join(inc, n))]
    return out


def _find_in_ancestors(including: str, name: str, analysed: str) -> str | None:
    """An include directory that provides ``name`` near the including file, or None.

    Kbuild often adds ``-I$(src)/../include`` or ``-I$(srctree)/drivers/foo`` in Makefile
    variables; looking in the ancestors of the including file (and their ``include/``, see
    :func:`_candidates`) finds most of those headers without evaluating make.
    """
    parts = name.split("/")
    ups = 0
    while ups < len(parts) - 1 and parts[ups] == "..":
        ups += 1
    if ups:
        return _find_above(including, "/".join(parts[ups:]), ups, analysed)
    for start in (os.path.dirname(os.path.abspath(including)), os.path.dirname(analysed)):
        for level, folder in enumerate(ancestors(start, ANCESTOR_LEVELS)):
            for cand in _candidates(folder, siblings=level < 2):
                if os.path.isfile(os.path.join(cand, name)):
                    return cand
    return None


def _find_above(including: str, rest: str, ups: int, analysed: str) -> str | None:
    """An include directory ``ups`` levels below an ancestor that holds ``rest``: where a
    Makefile's -I must point for ``#include "../../rest"`` to work (only real directories
    count, as cpp resolves ``..`` on the file system)."""
    for start in (os.path.dirname(os.path.abspath(including)), os.path.dirname(analysed)):
        for folder in ancestors(start, ANCESTOR_LEVELS):
            for base in _candidates(folder):
                if os.path.isfile(os.path.join(base, rest)):
                    inc = _descend(base, start, ups)
                    if inc is not None:
                        return inc
    return None


def _descend(base: str, towards: str, depth: int) -> str | None:
    """A real directory ``depth`` levels below ``base``, on the way to ``towards`` if it can."""
    cur = base
    rel = os.path.relpath(towards, base).split(os.sep)
    for i in range(depth):
        nxt = rel[i] if i < len(rel) and rel[i] not in ("..", ".") else None
        if nxt is None or not os.path.isdir(os.path.join(cur, nxt)):
            try:
                subs = sorted(e for e in os.listdir(cur) if os.path.isdir(os.path.join(cur, e)))
            except OSError:
                return None
            if not subs:
                return None
            nxt = subs[0]
        cur = os.path.join(cur, nxt)
    return cur


def _stand_in(missing_dir: str, name: str, content_from: str | None = None) -> None:
    """A header under this run's stand-in directory: empty, or a copy of the
    ``_shipped`` file Kbuild would copy."""
    target = os.path.normpath(os.path.join(missing_dir, name))
    if not target.startswith(missing_dir + os.sep):
        raise PreprocessError(f"cpp: cannot stand in for include {name}")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.exists(target):
        return
    if content_from is not None:
        try:
            shutil.copyfile(content_from, target)
            return
        except OSError:
            pass  # unreadable: an empty stand-in, as for any other missing header
    open(target, "ab").close()


def preprocess(
    path: str,
    *,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None = None,
    timeout: float = 60.0,
    missing: list[str] | None = None,
    union: bool = False,
) -> str:
    """The preprocessed text of ``path`` (with linemarkers), or PreprocessError.

    An ``#include`` no include directory provides is looked for in the ancestors of the
    including file; failing that, it becomes an empty stand-in header (in the cache) and its
    name is appended to ``missing`` when a list is given. ``union`` makes every kernel
    macro's stub visible, included or not (the fallback when the include graph fails).
    """
    env = stub_env_dir(stub_env)
    # Stand-ins live for one file only: shared ones would hide from later files a header
    # they can find (and its includes) behind an empty file.
    os.makedirs(os.path.join(env, "missing"), exist_ok=True)
    missing_dir = tempfile.mkdtemp(prefix="run-", dir=os.path.join(env, "missing"))
    try:
        return _preprocess(
            path, defines, include_dirs, stub_env, timeout, missing, missing_dir, union
        )
    finally:
        shutil.rmtree(missing_dir, ignore_errors=True)


def _preprocess(
    path: str,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None,
    timeout: float,
    missing: list[str] | None,
    missing_dir: str,
    union: bool,
) -> str:
    extra: list[str] = []
    analysed = os.path.abspath(path)
    # cpp runs again per missing include: all the runs share twice one run's time
    deadline = time.monotonic() + 2 * timeout
    for _ in range(MAX_MISSING):
        cmd = cpp_command(
            path,
            defines=defines,
            include_dirs=list(include_dirs) + extra,
            stub_env=stub_env,
            union=union,
        )
        cmd[-1:-1] = ["-idirafter", missing_dir]
        left = deadline - time.monotonic()
        if left <= 0:
            raise PreprocessError(f"cpp: timed out after {2 * timeout:.0f}s in all")
        try:
            # anonymous files, not pipes: RLIMIT_FSIZE then bounds what cpp writes (a
            # million `#error` lines too), and nothing of it is held before it is done
            with (
                tempfile.TemporaryFile(dir=work_dir()) as output,
                tempfile.TemporaryFile(dir=work_dir()) as errors,
            ):
                returncode = _run_within(cmd, output, errors, min(timeout, left))
                output.seek(0)
                errors.seek(0)
                stdout = output.read(CPP_OUTPUT + 1)
                stderr_bytes = errors.read(MB)
        except subprocess.TimeoutExpired as exc:
            raise PreprocessError(f"cpp: timed out after {min(timeout, left):.0f}s") from exc
        except OSError as exc:
            raise PreprocessorNotFound(f"cannot run {cmd[0]}: {exc}") from exc
        # cpp itself, or cc1 under the gcc driver ("File size limit exceeded signal
        # terminated program cc1")
        if returncode == -signal.SIGXFSZ or b"File size limit exceeded" in stderr_bytes:
            raise PreprocessError(
                f"cpp: output over {CPP_OUTPUT // MB} MB (a macro bomb?), not parsed"
            )
        if returncode < 0:
            # killed by a signal: the rlimits (SIGKILL/SIGSEGV past the address space,
            # SIGXCPU past the CPU time): an `#include "/dev/zero"`, a macro bomb
            raise PreprocessError(
                f"cpp: stopped by signal {-returncode} (over {CPP_MEMORY // MB} MB of "
                f"memory or {CPP_CPU_SECONDS} s of CPU time)"
            )
        if returncode == 0:
            return _noted(stdout.decode("utf-8", "replace"), missing_dir)
        stderr = stderr_bytes.decode("utf-8", "replace")
        match = _MISSING.search(stderr)
        if not match:
            if _only_error_directives(stderr):
                # An ``#error`` line stops the build, not cpp: the output is complete. Most
                # fire because a value the stub kernel leaves undefined reads as 0 in the
                # file's own ``#if`` (``PIPE_INTERRUPT != 1``), some because the file is for
                # another architecture; either way the text is what the file says.
                return _noted(stdout.decode("utf-8", "replace"), missing_dir)
            raise PreprocessError("cpp: " + _first_error(stderr))
        including, name = match.group(1), match.group(2)
        found = _find_in_ancestors(including, name, analysed)
        if found and found not in extra and found not in include_dirs:
            extra.append(found)
            continue
        shipped = shipped_copy(os.path.dirname(including), name)
        if shipped is not None:
            note_file(shipped)  # cpp reads a copy of it: the original is the input
        _stand_in(missing_dir, name, shipped)
        if missing is not None and shipped is None:
            missing.append(name)
    raise PreprocessError(f"cpp: more than {MAX_MISSING} missing includes")


def _run_within(cmd: list[str], output: IO[bytes], errors: IO[bytes], seconds: float) -> int:
    """cpp's exit status; killed after `seconds` of wall time (a `#include` of a FIFO
    blocks without using CPU, which RLIMIT_CPU would not stop). A timer kills it, and
    the wait itself blocks: `Popen.wait(timeout)` polls, sleeping in steps of up to
    50 ms, which was a third of a small file's wall time."""
    proc = subprocess.Popen(
        cmd, stdout=output, stderr=errors, stdin=subprocess.DEVNULL, preexec_fn=_limit_child
    )
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        proc.kill()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        returncode = proc.wait()
    finally:
        timer.cancel()
    if expired.is_set() and returncode == -signal.SIGKILL:
        raise subprocess.TimeoutExpired(cmd, seconds)
    return returncode


# A linemarker: `# 12 "drivers/foo/foo.h" 2`; cpp escapes `"` and `\` in the name.
_LINEMARKER = re.compile(r'^# \d+ "((?:[^"\\]|\\.)*)"', re.M)


def _noted(text: str, missing_dir: str) -> str:
    """`text`, after noting every file cpp read (its linemarkers name them) as an input of
    the result being cached, when one is being recorded. The stub environment, this
    call's stand-ins and the configuration header live in kmodlint's cache and change
    only with kmodlint or the settings, which the cache key covers."""
    if not recording():
        return text
    own = (os.path.join(_cache_root(), ""), os.path.join(missing_dir, ""))
    for raw in set(_LINEMARKER.findall(text)):
        name = re.sub(r"\\(.)", r"\1", raw)
        if name.startswith("<"):
            continue  # <built-in>, <command-line>
        full = os.path.abspath(name)
        if not full.startswith(own):
            note_file(full)
    return text
