"""The target kernel's options that decide load-time messages (rules/taints.py), read from
a headers folder's include/config/auto.conf, or inferred from a module tree."""

from __future__ import annotations

import os
from collections.abc import Iterable

from kmodlint.kernel.symvers import lines
from kmodlint.model import Module
from kmodlint.safe_io import TABLE_LIMIT, read_regular_text

_WANTED = ("CONFIG_MODULE_SIG", "CONFIG_RETPOLINE", "CONFIG_MITIGATION_RETPOLINE")


def flags_from_config(text: str) -> tuple[bool, bool]:
    """(CONFIG_MODULE_SIG, CONFIG_RETPOLINE or its 6.9+ name CONFIG_MITIGATION_RETPOLINE)
    from the text of an auto.conf or .config."""
    values = {}
    for line in lines(text):
        key, _, value = line.strip().partition("=")
        if key in _WANTED:
            values[key] = value
    retpoline = "y" in (values.get(_WANTED[1]), values.get(_WANTED[2]))
    return values.get(_WANTED[0]) == "y", retpoline


def flags_from_headers(folder: str) -> tuple[bool | None, bool | None]:
    """The flags of a headers/build folder; (None, None) when it has no auto.conf."""
    path = os.path.join(folder, "include", "config", "auto.conf")
    try:
        # a headers folder from elsewhere: regular files only, bounded (safe_io)
        text = read_regular_text(path, TABLE_LIMIT)
    except OSError:
        return None, None
    return flags_from_config(text)


def flags_from_modules(modules: Iterable[Module]) -> tuple[bool | None, bool | None]:
    """A module tree without its build folder: signed modules mean CONFIG_MODULE_SIG (none
    signed proves nothing: signing may be done later, or not at all); kbuild writes
    retpoline=Y into every module of a CONFIG_RETPOLINE kernel (scripts/mod/modpost.c:
    add_header), so the tree's modules say whether the kernel has it."""
    module_list = list(modules)
    if not module_list:
        return None, None
    module_sig = True if any(m.signed for m in module_list) else None
    with_retpoline = sum(1 for m in module_list if m.first_info("retpoline") == "Y")
    return module_sig, with_retpoline * 2 > len(module_list)
