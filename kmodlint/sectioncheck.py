"""modpost's section-mismatch table and allow-list (scripts/mod/modpost.c, Linux 6.1).

Shared by the ELF front end, which records the references the table flags
(`frontends/sections.py`), and the section-mismatch rule, which applies the allow-list
(`secref_whitelist`) and reports. Patterns are modpost's, matched as `fnmatch(3)` without
flags matches them (`*` crosses dots), which `fnmatch.fnmatchcase` does.
"""

from __future__ import annotations

import functools
from fnmatch import fnmatchcase

# section_white_list[]: relocation sections of these are never checked.
SECTION_WHITE_LIST = (
    ".comment*",
    ".debug*",
    ".zdebug*",
    ".GCC.command.line",
    ".mdebug*",
    ".pdr",
    ".stab*",
    ".note*",
    ".got*",
    ".toc*",
    ".xt.prop",
    ".xt.lit",
    ".arcextmap*",
    ".gnu.linkonce.arcext*",
    ".cmem*",
    ".fmt_slot*",
    ".gnu.lto*",
    ".discard.*",
)

ALL_INIT_DATA_SECTIONS = (
    ".init.setup",
    ".init.rodata",
    ".meminit.rodata",
    ".init.data",
    ".meminit.data",
)
ALL_INIT_TEXT_SECTIONS = (".init.text", ".meminit.text")
ALL_EXIT_TEXT_SECTIONS = (".exit.text",)
ALL_PCI_INIT_SECTIONS = (
    ".pci_fixup_early",
    ".pci_fixup_header",
    ".pci_fixup_final",
    ".pci_fixup_enable",
    ".pci_fixup_resume",
    ".pci_fixup_resume_early",
    ".pci_fixup_suspend",
)
INIT_SECTIONS = (".init.*",)
MEM_INIT_SECTIONS = (".meminit.*",)
EXIT_SECTIONS = (".exit.*",)
ALL_XXXINIT_SECTIONS = MEM_INIT_SECTIONS
ALL_INIT_SECTIONS = INIT_SECTIONS + ALL_XXXINIT_SECTIONS
ALL_EXIT_SECTIONS = EXIT_SECTIONS
DATA_SECTIONS = (".data", ".data.rel")
TEXT_SECTIONS = (
    ".text",
    ".text.*",
    ".sched.text",
    ".kprobes.text",
    ".cpuidle.text",
    ".noinstr.text",
    ".ltext",
    ".ltext.*",
)
OTHER_TEXT_SECTIONS = (
    ".ref.text",
    ".head.text",
    ".spinlock.text",
    ".fixup",
    ".entry.text",
    ".exception.text",
    ".coldtext",
    ".softirqentry.text",
    ".irqentry.text",
)
ALL_TEXT_SECTIONS = (
    ALL_INIT_TEXT_SECTIONS + ALL_EXIT_TEXT_SECTIONS + TEXT_SECTIONS + OTHER_TEXT_SECTIONS
)

# sectioncheck[] rows handled by default_mismatch_handler: (fromsec, bad_tosec, mismatch).
# The ___ksymtab* row (EXPORT_TO_INIT_EXIT) is init-exit-export's, and the __ex_table row
# (EXTABLE_TO_NON_TEXT) stops the build: neither is a section-mismatch finding.
SECTIONCHECK: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (TEXT_SECTIONS, ALL_INIT_SECTIONS, "TEXT_TO_ANY_INIT"),
    (DATA_SECTIONS, ALL_XXXINIT_SECTIONS, "DATA_TO_ANY_INIT"),
    (DATA_SECTIONS, INIT_SECTIONS, "DATA_TO_ANY_INIT"),
    (TEXT_SECTIONS, ALL_EXIT_SECTIONS, "TEXT_TO_ANY_EXIT"),
    (DATA_SECTIONS, ALL_EXIT_SECTIONS, "DATA_TO_ANY_EXIT"),
    (ALL_XXXINIT_SECTIONS, INIT_SECTIONS, "XXXINIT_TO_SOME_INIT"),
    (ALL_INIT_SECTIONS, ALL_EXIT_SECTIONS, "ANY_INIT_TO_ANY_EXIT"),
    (ALL_EXIT_SECTIONS, ALL_INIT_SECTIONS, "ANY_EXIT_TO_ANY_INIT"),
    (ALL_PCI_INIT_SECTIONS, INIT_SECTIONS, "ANY_INIT_TO_ANY_EXIT"),
)
# Every section a checked reference may point into (the union of the bad_tosec lists).
DISCARDED_SECTIONS = ALL_INIT_SECTIONS + ALL_EXIT_SECTIONS


# A tree has a few dozen distinct section names and each module's relocation sections ask
# about the same pairs: both answers are kept (bounded: crafted names cannot grow them).
@functools.lru_cache(maxsize=8192)
def match(name: str, patterns: tuple[str, ...]) -> bool:
    """modpost's match(): any pattern, as fnmatch(pattern, name, 0)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)


@functools.lru_cache(maxsize=8192)
def section_mismatch(fromsec: str, tosec: str) -> str | None:
    """modpost's section_mismatch(): the mismatch kind of a reference from `fromsec` to
    `tosec`, or None. An empty `tosec` (an undefined symbol) is never one."""
    if not tosec:
        return None
    for from_patterns, bad_patterns, kind in SECTIONCHECK:
        if match(fromsec, from_patterns) and match(tosec, bad_patterns):
            return kind
    return None


def secref_allowed(fromsec: str, fromsym: str, tosec: str, tosym: str) -> str | None:
    """modpost's secref_whitelist() (6.1, without W=1): why the reference is a legitimate
    pattern, or None when modpost warns about it."""
    if (
        match(tosec, ALL_INIT_DATA_SECTIONS)
        and match(fromsec, DATA_SECTIONS)
        and fromsym.startswith("__param")
    ):
        return "a module parameter's __initdata variable (pattern 1)"
    if (
        tosec == ".init.text"
        and match(fromsec, DATA_SECTIONS)
        and fromsym.startswith("__param_ops_")
    ):
        return "module_param_call() ops with an __init setter (pattern 1a)"
    if (
        match(fromsec, DATA_SECTIONS)
        and match(tosec, ALL_INIT_SECTIONS + ALL_EXIT_SECTIONS)
        and match(
            fromsym,
            ("*_template", "*_timer", "*_sht", "*_ops", "*_probe", "*_probe_one", "*_console"),
        )
    ):
        return "a data object named like an ops/probe/template table"
    if (
        match(fromsec, DATA_SECTIONS)
        and match(tosec, ALL_XXXINIT_SECTIONS)
        and match(fromsym, ("*driver",))
    ):
        return "a *driver object referring to meminit code"
    if (
        match(fromsec, DATA_SECTIONS)
        and match(tosec, EXIT_SECTIONS)
        and match(fromsym, ("*driver",))
    ):
        # modpost hides these unless W=1 ("quite a few offenders")
        return "a *driver object referring to exit code (reported by modpost only with W=1)"
    if match(fromsec, (".head.text*",)) and match(tosec, ALL_INIT_SECTIONS):
        return "a reference from .head.text (pattern 3)"
    if tosym in ("__init_begin", "_sinittext", "_einittext"):
        return "a linker symbol bounding the init sections (pattern 4)"
    if (
        match(fromsec, ALL_TEXT_SECTIONS)
        and match(tosec, ALL_INIT_SECTIONS)
        and match(fromsym, ("*.constprop.*",))
    ):
        return "a .constprop clone made by gcc (pattern 5)"
    if fromsym.startswith(".L"):
        return "an assembler-local symbol (pattern 6)"
    return None
