"""dkms.conf and the ``make -C <kernel> M=<dir> VAR=value`` calls of a driver's Makefile:
the make command-line variables ``dkms build`` or the Makefile gives kbuild.
"""

from __future__ import annotations

import os
import re
import shlex

from kmodlint.cfront.kbuild.make import makefile_lines
from kmodlint.safe_io import MAKEFILE_LIMIT, read_regular_text

# Variables of a kernel make command line that say where and how to build, not what: they
# are not the driver's settings.
_NOT_DRIVER_VARS = frozenset(
    {
        "M",
        "KBUILD_EXTMOD",
        "SUBDIRS",
        "O",
        "V",
        "W",
        "C",
        "CC",
        "LD",
        "AR",
        "ARCH",
        "CROSS_COMPILE",
        "KERNELRELEASE",
        "KERNELDIR",
        "KDIR",
        "KSRC",
        "KERNEL_SRC",
        "KERNEL_DIR",
        "KERNEL_TREE",
        "KVER",
        "KVERS",
        "KVERSION",
        "KERNELVER",
        "INSTALL_MOD_PATH",
        "INSTALL_MOD_DIR",
        "DESTDIR",
        "PWD",
        "CURDIR",
        "MAKE",
        "MAKEFLAGS",
    }
)
_VAR_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


def _shell_words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def kernel_make_calls(text: str, here: str) -> list[tuple[str, dict[str, str]]]:
    """The ``make -C <kernel> M=<dir> VAR=value ...`` calls of a recipe or a dkms.conf MAKE
    line: (absolute folder kbuild reads, the driver's VAR=value words)."""
    calls: list[tuple[str, dict[str, str]]] = []
    for command in re.split(r";|&&|\|\||\n", text):
        words = _shell_words(command.strip().lstrip("@+-( "))
        target: str | None = None
        variables: dict[str, str] = {}
        for word in words:
            match = _VAR_WORD.fullmatch(word)
            if not match:
                continue
            name, value = match.group(1), match.group(2).strip()
            if name in ("M", "KBUILD_EXTMOD", "SUBDIRS"):
                target = value
            elif name not in _NOT_DRIVER_VARS:
                variables[name] = value
        if target is None or not words or not words[0].endswith("make"):
            continue
        calls.append((_target_folder(target, here), variables))
    return calls


def _target_folder(value: str, here: str) -> str:
    """M= of a call: `$(PWD)` that `$(shell pwd)` left empty is the Makefile's folder."""
    value = value.rstrip("/")
    if not value:
        return here
    if os.path.isabs(value) and os.path.isdir(value):
        return os.path.normpath(value)
    candidate = os.path.normpath(os.path.join(here, value.lstrip("/")))
    return candidate if os.path.isdir(candidate) else here


_DKMS_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?=(.*)$")
_SHELL_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def find_dkms_conf(root: str) -> str | None:
    """The dkms.conf of the package a given folder belongs to (the folder or two above)."""
    current = os.path.abspath(root)
    for _ in range(3):
        candidate = os.path.join(current, "dkms.conf")
        if os.path.isfile(candidate):
            return candidate
        current = os.path.dirname(current)
    return None


def read_dkms_make(
    path: str, kernel_release: str | None = None, targets: set[str] | None = None
) -> dict[str, str]:
    """The VAR=value words of dkms.conf's ``MAKE[0]=`` (or ``MAKE=``) command: what ``dkms
    build`` gives make on its command line (``HDAPS=1``, ``CONFIG_LTTNG=m``). dkms's own
    variables are filled in where known (the package's build folder is the dkms.conf's
    folder); a value that still needs the shell is left out."""
    try:
        text = read_regular_text(path, MAKEFILE_LIMIT)
    except OSError:
        return {}
    known: dict[str, str] = {"source_tree": "/usr/src", "dkms_tree": "/var/lib/dkms"}
    if kernel_release:
        known["kernelver"] = kernel_release
    commands = _make_commands(text, known)
    if not commands:
        return {}
    name, version = known.get("PACKAGE_NAME", ""), known.get("PACKAGE_VERSION", "")
    build_dirs = [
        f"/var/lib/dkms/{name}/{version}/build",
        f"/usr/src/{name}-{version}",
    ]
    here = os.path.dirname(os.path.abspath(path))

    def local(value: str) -> str:
        # dkms copies the package to its build folder: that is the dkms.conf's folder here
        for prefix in build_dirs:
            if name and value.startswith(prefix):
                return here + value[len(prefix) :]
        return value

    out: dict[str, str] = {}
    # the words of `make -C <kernel> M=<build> VAR=value` and of a plain `make VAR=value`
    # (the driver's Makefile gets them, and passes them on to the kernel's make)
    for var, value in _assigned_words(_shell_expand(commands[0], known, keep=True) or ""):
        value = local(value)
        if var in ("M", "KBUILD_EXTMOD", "SUBDIRS"):
            if targets is not None and os.path.isdir(value):
                targets.add(os.path.normpath(value))  # the folders kbuild is given
        elif var not in _NOT_DRIVER_VARS:
            out.setdefault(var, value)
    return out


def _make_commands(text: str, known: dict[str, str]) -> list[str]:
    """dkms.conf's MAKE[0]= (or MAKE=) values, in order; its other assignments go to
    *known* (shell variables expanded as far as they are known)."""
    commands: list[str] = []
    for _, line in makefile_lines(text):
        match = _DKMS_ASSIGN.match(line)
        if not match:
            continue
        name, index, raw = match.group(1), match.group(2), match.group(3).strip()
        words = _shell_words(raw)
        value = words[0] if len(words) == 1 else raw.strip("\"'")
        if name == "MAKE" and index in (None, "[0]", "[$i]"):
            commands.append(value)
        elif index is None and "`" not in value and "$(" not in value:
            # unknown parts stay as a NUL marker: the words holding one are dropped below
            known[name] = _shell_expand(value, known, keep=True) or ""
    return commands


def _assigned_words(command: str) -> list[tuple[str, str]]:
    """The VAR=value words of a shell command line that need no shell to read."""
    found = []
    for piece in re.split(r";|&&|\|\||\n", command):
        for word in _shell_words(piece.strip().lstrip("( ")):
            match = _VAR_WORD.fullmatch(word)
            if not match or any(c in match.group(2) for c in ("\0", "$(", "`")):
                continue  # needs the shell (or a dkms variable not known here)
            found.append((match.group(1), match.group(2)))
    return found


def _shell_expand(value: str, known: dict[str, str], keep: bool = False) -> str | None:
    """$NAME / ${NAME} from *known*; an unknown one makes None (or a NUL marker, *keep*)."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        name = m.group(1) or m.group(2)
        if name in known:
            return known[name]
        missing = True
        return "\0"

    out = _SHELL_VAR.sub(one, value)
    if missing and not keep:
        return None
    return out
