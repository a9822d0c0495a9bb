"""KM90x: inputs that could not be (fully) analysed. They are findings, so a user always
sees what was not checked; the run goes on past every one of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kmodlint.diagnostics import Hit, Location, Severity
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule


def _problems(name: str) -> Callable[[ModuleSet], Iterator[Hit]]:
    def check(ms: ModuleSet) -> Iterator[Hit]:
        for problem in ms.problems:
            if problem.name == name:
                module = None
                # A duplicate names the module that *was* analysed: the finding is about
                # the other input, at its own path.
                if problem.module is not None and name != "duplicate-module":
                    module = ms.by_name.get(problem.module.replace("-", "_"))
                location = Location(problem.path, problem.line, 1) if problem.line else None
                yield Hit(
                    module, problem.message, key=problem.path, path=problem.path, location=location
                )

    return check


def _register(
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    doc: str,
    modes: tuple[Mode, ...] = (Mode.BINARY, Mode.SOURCE),
) -> None:
    """A KM9xx rule reporting the input problems of its name; every one can come from
    either kind of input, except where a rule says otherwise."""
    check = _problems(name)
    check.__doc__ = doc
    rule(code, name, severity=severity, summary=summary, modes=modes, scope=Scope.MODULE)(check)


_register(
    "KM901",
    "unparsable-source",
    severity=Severity.INFO,
    summary="a C file (or Kbuild line) was only partly analysed",
    doc="""
    ## What it does
    Reports a C file that pycparser could not parse after preprocessing with kmodlint's
    stub kernel headers, and a Kbuild/Makefile line kmodlint could not understand. For a
    C file the token scan's facts still stand (exports, licence, namespaces, init/exit,
    params, `static`); what needs C types (extern-mismatch, param-type-mismatch) and
    exports that only macro expansion reveals were not checked in it. Nothing is
    guessed. Key: the path.

    ## Why is this bad?
    It is not a defect of the driver: it says what kmodlint did not see, so a clean
    report is never mistaken for a complete one.

    ## Kernel behaviour
    None: the compiler reads the real headers (`include/linux/*.h`, which expand to
    24k-98k lines per file and use GNU C pycparser does not accept); kbuild reads
    `scripts/Makefile.build` rules kmodlint mirrors only in part.

    ## Example
    A file built from GNU statement-expression macros the stub headers do not cover.

    ## Use instead
    Regenerate the stub environment for your kernel with `--kernel-source DIR`, or
    accept the partial analysis.
    """,
    modes=(Mode.SOURCE,),
)
_register(
    "KM902",
    "invalid-elf",
    severity=Severity.ERROR,
    summary="a module file is not a valid relocatable ELF object",
    doc="""
    ## What it does
    Reports a `.ko`/`.o` (possibly `.xz`/`.zst`/`.gz` compressed) that cannot be read as a
    module: empty, truncated, not ELF, not `ET_REL`, a corrupt compressed stream, or no
    `.symtab`. Key: the path.

    ## Why is this bad?
    The loader refuses it before anything else (*Invalid module format*), and kmodlint
    could check nothing in it.

    ## Kernel behaviour
    `kernel/module/main.c: elf_validity_check()` / `elf_validity_cache_copy()` — e.g.
    `Invalid ELF header len %lu`, `Invalid ELF header type`, `module has no symbols
    (stripped?)` — `-ENOEXEC`; kmod `libkmod/libkmod-file.c` for decompression errors.

    ## Example
    A `.ko` cut short by an interrupted copy.

    ## Use instead
    Rebuild or re-copy the module.
    """,
)
_register(
    "KM903",
    "unreadable-path",
    severity=Severity.ERROR,
    summary="a path given cannot be read",
    doc="""
    ## What it does
    Reports a path that does not exist or cannot be read (permissions, I/O error). Key:
    the path.

    ## Why is this bad?
    Nothing in it was checked; a clean report would otherwise be a lie.

    ## Kernel behaviour
    None: this is about kmodlint's own input (`kernel/module/main.c: init_module` would
    never see the file either).

    ## Example
    `kmodlint check drivers/nosuchdir`

    ## Use instead
    Pass paths that exist and are readable.
    """,
)
_register(
    "KM904",
    "unknown-input",
    severity=Severity.WARNING,
    summary="a path given is neither a module, a C source nor a folder",
    doc="""
    ## What it does
    Reports a file named on the command line that kmodlint has no front end for. Files of
    unknown type found while walking a folder are skipped quietly. Key: the path.

    ## Why is this bad?
    The user asked for it to be checked and it was not.

    ## Kernel behaviour
    None (kmodlint's own input handling).

    ## Example
    `kmodlint check notes.txt`

    ## Use instead
    Pass `.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz`, `.o` files, sources or folders.
    """,
)
_register(
    "KM905",
    "invalid-kernel-table",
    severity=Severity.WARNING,
    summary="the target kernel's export table is incomplete or partly unreadable",
    doc="""
    ## What it does
    Reports problems with the `--kernel` input: Debian's placeholder System.map, unreadable
    Module.symvers rows, invalid `modules.builtin` lines, unreadable modules of a target
    tree. Key: the path.

    ## Why is this bad?
    Kernel symbols that could not be read cannot be checked; findings that depend on them
    (unresolved-symbol, crc-mismatch, gpl-only-symbol) may be missing.

    ## Kernel behaviour
    modpost `scripts/mod/modpost.c: read_dump()` — `parse error in symbol dump file`;
    depmod `tools/depmod.c` — `%s:%u: invalid line: %s` (System.map) and
    `Invalid modules.builtin line: %s`. Debian ships
    `ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package`.

    ## Example
    `--kernel /boot/System.map-6.1.0-56-amd64` on Debian.

    ## Use instead
    `--kernel /usr/src/linux-headers-<ver>` (its Module.symvers) or `/lib/modules/<ver>`.

    ## References
    - https://github.com/grml/grml-live/issues/99
    """,
)
_register(
    "KM906",
    "duplicate-module",
    severity=Severity.WARNING,
    summary="two inputs carry the same module name",
    doc="""
    ## What it does
    Reports a module file whose name (with `-` and `_` equal) is already used by another
    input; only the first by path is analysed. Key: the path.

    ## Why is this bad?
    The kernel keeps one module per name: the second is refused (`-EEXIST`, *Module already
    in kernel*), and depmod picks one of them silently.

    ## Kernel behaviour
    `kernel/module/main.c: add_unformed_module()` — `-EEXIST`; `scripts/modules-check.sh`
    — `error: the following would cause module name conflict:`.

    ## Example
    `drivers/a/foo.ko` and `drivers/b/foo.ko` in one tree.

    ## Use instead
    Rename one of them.
    """,
)
_register(
    "KM907",
    "stale-build",
    severity=Severity.INFO,
    summary="a .ko beside its sources is older than them or disagrees with them",
    doc="""
    ## What it does
    A `.ko` in the folder of the Kbuild/Makefile that declares a module of the same name
    is that module's build product (kbuild writes `$(obj)/foo.ko` there), not a second
    module: the sources are analysed, and this note says when the binary does not match
    them — older than one of the module's source files or its Kbuild, or exporting,
    licensing or importing differently (a symbol the `.ko` imports that no source uses any
    more). Key: the path of the `.ko`.

    ## Why is this bad?
    `insmod ./foo.ko` after editing the sources loads the old build: the fix under test is
    not the code that runs, and the findings about the sources do not describe it.

    ## Kernel behaviour
    None: kbuild rebuilds only on `make`; the loader takes the file it is given
    (`kernel/module/main.c: load_module()`). Severity: `info` - the build and the load
    both work; the note is about which code they use.

    ## Example
    `drivers/foo/Kbuild` (`obj-m += foo.o`), `foo.c` edited after `make`, `foo.ko` beside.

    ## Use instead
    Rebuild (`make -C /lib/modules/$(uname -r)/build M=$PWD modules`).
    """,
)
