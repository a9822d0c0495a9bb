"""Run the system C preprocessor on one source file against kmodlint's stub kernel headers.

The stub environment (see :mod:`kmodlint.cfront.stubgen`) ships as two files, ``prelude.h``
and ``headers.txt``; the shadow tree of empty headers is materialised once per content hash
under the user cache directory (``$XDG_CACHE_HOME/kmodlint/stubenv-<hash>/``), never in the
analysed tree. cpp writes to a pipe; nothing is written next to the analysed file.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources

SHIPPED = "stubenv"


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
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kmodlint")


def _shipped_dir() -> str:
    return str(resources.files("kmodlint.cfront").joinpath(SHIPPED))


_MATERIALISED: dict[str, str] = {}


def stub_env_dir(stub_env: str | None = None) -> str:
    """The materialised stub environment: ``prelude.h``, ``typedefs.txt``, ``include/`` (the
    empty shadow of every kernel header) and ``missing/`` (empty stand-ins for headers no
    include path provides, created on demand).

    ``stub_env`` is a directory with ``prelude.h``, ``headers.txt`` and ``typedefs.txt``
    (default: the one shipped with kmodlint).
    """
    src = stub_env or _shipped_dir()
    if src in _MATERIALISED:
        return _MATERIALISED[src]
    with open(os.path.join(src, "prelude.h"), "rb") as fh:
        prelude = fh.read()
    with open(os.path.join(src, "headers.txt"), "rb") as fh:
        headers = fh.read()
    typedefs = b""
    if os.path.isfile(os.path.join(src, "typedefs.txt")):
        with open(os.path.join(src, "typedefs.txt"), "rb") as fh:
            typedefs = fh.read()
    digest = hashlib.sha256(prelude + b"\0" + headers + b"\0" + typedefs).hexdigest()[:16]
    root = _cache_root()
    target = os.path.join(root, f"stubenv-{digest}")
    if not os.path.isfile(os.path.join(target, ".complete")):
        os.makedirs(root, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="stubenv-tmp-", dir=root)
        try:
            inc = os.path.join(tmp, "include")
            for rel in headers.decode("utf-8").splitlines():
                rel = rel.strip()
                if not rel or rel.startswith("/") or ".." in rel.split("/"):
                    continue
                path = os.path.join(inc, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "wb").close()
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
    _MATERIALISED[src] = target
    return target


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


_DEFINE_HEADERS: dict[str, str] = {}


def _defines_header(defines: dict[str, str]) -> str:
    text = "".join(f"#define {k} {v}\n" for k, v in sorted(defines.items()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    if digest in _DEFINE_HEADERS:
        return _DEFINE_HEADERS[digest]
    root = os.path.join(_cache_root(), "defines")
    path = os.path.join(root, f"defines-{digest}.h")
    if not os.path.isfile(path):
        os.makedirs(root, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="defines-tmp-", dir=root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    _DEFINE_HEADERS[digest] = path
    return path


def cpp_command(
    path: str, *, defines: dict[str, str], include_dirs: list[str], stub_env: str | None = None
) -> list[str]:
    env = stub_env_dir(stub_env)
    cmd = [find_cpp()]
    if os.path.basename(cmd[0]).startswith("gcc"):
        cmd.append("-E")
    cmd += ["-nostdinc", "-std=gnu11", "-w", "-Ulinux", "-Uunix", "-Ui386"]
    for d in include_dirs:
        cmd += ["-I", d]
    cmd += ["-I", os.path.dirname(os.path.abspath(path)) or "."]
    cmd += ["-I", os.path.join(env, "include")]
    # configuration first (the prelude's conditionals may test it), then the prelude
    cmd += _define_args(defines, path)
    cmd += ["-include", os.path.join(env, "prelude.h")]
    cmd.append(path)
    return cmd


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln:
            return ln
    return lines[0] if lines else "cpp failed"


_MISSING = re.compile(r"^(.*?):\d+:\d+: fatal error: (.+?): No such file or directory", re.M)
MAX_MISSING = 40
ANCESTOR_LEVELS = 6


def _find_in_ancestors(including: str, name: str, analysed: str) -> str | None:
    """An include directory that provides ``name`` near the including file, or None.

    Kbuild often adds ``-I$(src)/../include`` or ``-I$(srctree)/drivers/foo`` in Makefile
    variables; looking in the ancestors of the including file (and their ``include/``) finds
    most of those headers without evaluating make.
    """
    for start in (os.path.dirname(os.path.abspath(including)), os.path.dirname(analysed)):
        d = start
        for _ in range(ANCESTOR_LEVELS):
            for cand in (d, os.path.join(d, "include")):
                if os.path.isfile(os.path.join(cand, name)):
                    return cand
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    return None


def _stand_in(env: str, name: str) -> None:
    """An empty header under the cache's ``missing/`` directory."""
    target = os.path.normpath(os.path.join(env, "missing", name))
    if not target.startswith(os.path.join(env, "missing") + os.sep):
        raise PreprocessError(f"cpp: cannot stand in for include {name}")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not os.path.exists(target):
        open(target, "ab").close()


def preprocess(
    path: str,
    *,
    defines: dict[str, str],
    include_dirs: list[str],
    stub_env: str | None = None,
    timeout: float = 60.0,
    missing: list[str] | None = None,
) -> str:
    """The preprocessed text of ``path`` (with linemarkers), or PreprocessError.

    An ``#include`` no include directory provides is looked for in the ancestors of the
    including file; failing that, it becomes an empty stand-in header (in the cache) and its
    name is appended to ``missing`` when a list is given.
    """
    env = stub_env_dir(stub_env)
    extra: list[str] = []
    analysed = os.path.abspath(path)
    for _ in range(MAX_MISSING):
        cmd = cpp_command(
            path, defines=defines, include_dirs=list(include_dirs) + extra, stub_env=stub_env
        )
        cmd[-1:-1] = ["-idirafter", os.path.join(env, "missing")]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PreprocessError(f"cpp: timed out after {timeout:.0f}s") from exc
        except OSError as exc:
            raise PreprocessorNotFound(f"cannot run {cmd[0]}: {exc}") from exc
        if proc.returncode == 0:
            return proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        m = _MISSING.search(stderr)
        if not m:
            raise PreprocessError("cpp: " + _first_error(stderr))
        including, name = m.group(1), m.group(2)
        found = _find_in_ancestors(including, name, analysed)
        if found and found not in extra and found not in include_dirs:
            extra.append(found)
            continue
        _stand_in(env, name)
        if missing is not None:
            missing.append(name)
    raise PreprocessError(f"cpp: more than {MAX_MISSING} missing includes")
