"""Names a module's own folder defines where the C front end does not look.

Two kinds of file: the module's assembly parts (`aesni-intel_asm.o` from a `.S`, whose
`SYM_FUNC_START(aesni_set_key)` defines what the C glue declares, calls and exports), and
`.c` files this configuration does not compile.

A driver that builds with a configuration cannot reference a symbol nobody defines: the
linker or modpost would stop it. When the module's code names a function it declares but
does not define, and a `.c` file of the driver's own folder that Kbuild leaves out under
this configuration defines it (`mt7615e-$(CONFIG_MT7622_WMAC) += soc.o`, ubifs' `auth.o`),
the reference sits in code the compiler removes (`if (is_mt7622(dev))` with the option
off, a macro that expands to nothing): the build proves it dead, so it is not an
"Unknown symbol". The search is lexical, a file-scope line that names the symbol, and
only ever silences a finding.
"""

from __future__ import annotations

import os
import re

from kmodlint.model import Module
from kmodlint.safe_io import read_regular_head

# Files read per module folder, and bytes per file: a driver folder, not a tree.
_MAX_FILES = 400
_MAX_BYTES = 4 * 1024 * 1024


def defined_elsewhere(module: Module, wanted: set[str]) -> set[str]:
    """Those of `wanted` (names the module uses and nobody exports) that some other `.c`
    file of its folder (or below) defines at file scope."""
    if module.source is None or not wanted:
        return set()
    folder = os.path.dirname(module.path) or "."
    own = {os.path.abspath(f) for f in module.source.files}
    found: set[str] = set()
    pattern = re.compile(
        r"^(?![ \t#/*}])[^;\n]*?\b(" + "|".join(map(re.escape, sorted(wanted))) + r")\b",
        re.MULTILINE,
    )
    for path in _sources_below(folder, own):
        text = _read(path)
        if text is None:
            continue
        found.update(match.group(1) for match in pattern.finditer(text))
        if found >= wanted:
            break
    return found


def _sources_below(folder: str, own: set[str]) -> list[str]:
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            # .S: a module's assembly parts (arch/x86/crypto, kvm's vmenter.S) define what
            # its C declares and exports; SYM_FUNC_START(name) starts a line there too.
            if name.endswith((".c", ".S")) and os.path.abspath(path) not in own:
                files.append(path)
                if len(files) >= _MAX_FILES:
                    return files
    return files


def _read(path: str) -> str | None:
    try:
        # a regular file only (a FIFO .c beside the module must not block), its first
        # _MAX_BYTES: the search only ever silences, a cut file costs nothing (safe_io)
        return read_regular_head(path, _MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
