"""One C file in, its facts out: the token path always, the AST path when asked for.

Top-level functions only, so a process pool can run them over a whole tree; the result is
cacheable per (file, settings).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from kmodlint.cache import (
    Dep,
    discard_recording,
    note,
    note_absent,
    read_recorded,
    still_current,
)
from kmodlint.cfront.facts import AST, FileFacts
from kmodlint.cfront.preprocess.directives import MAX_INCLUDES, lex
from kmodlint.cfront.preprocess.header_macros import HeaderMacros, header_macros
from kmodlint.cfront.shipped import shipped_copy
from kmodlint.cfront.tokens.macros import STATIC_CALL_PREFIXES
from kmodlint.cfront.tokens.scan import scan
from kmodlint.model import InputProblem
from kmodlint.safe_io import describe_failure

# Local headers a .c file pulls in are scanned for prototypes too, this deep.
_HEADER_DEPTH = 4


@dataclass(frozen=True, slots=True)
class SourceJob:
    path: str
    macros: tuple[tuple[str, str], ...]  # this module's own: MODULE, KBUILD_MODNAME, Kbuild -D
    config_id: str = ""  # the configuration's macros, registered with register_config()
    include_dirs: tuple[str, ...] = ()
    use_ast: bool = True
    stub_env: str | None = None  # a generated stub environment; None: the shipped one


# Configuration macros by id. A kernel .config gives ~10,000 of them: a job names its
# configuration instead of carrying it. Pool workers do not inherit this table (under
# spawn/forkserver they import this module afresh): the pool's initializer hands it to
# them with install_configs(configs_of(...)).
_CONFIGS: dict[str, dict[str, str]] = {}


def register_config(macros: dict[str, str]) -> str:
    ident = hashlib.sha256(repr(sorted(macros.items())).encode()).hexdigest()[:16]
    _CONFIGS[ident] = macros
    return ident


def configs_of(idents: Iterable[str]) -> dict[str, dict[str, str]]:
    """The registered configurations a batch of jobs names, to ship to pool workers."""
    return {ident: _CONFIGS[ident] for ident in idents if ident in _CONFIGS}


def install_configs(configs: dict[str, dict[str, str]]) -> None:
    """Pool initializer: the configurations of this run, in a worker's own table."""
    _CONFIGS.update(configs)


@dataclass(slots=True)
class SourceExtraction:
    facts: FileFacts | None
    problems: list[InputProblem] = field(default_factory=list)


def read_text(path: str) -> str:
    """The file's text; recorded (size, times, hash) as an input of the cached result."""
    return _read_entry(path)[0]


def _read_entry(path: str) -> tuple[str, Dep]:
    data, dep = read_recorded(path)
    return data.decode("utf-8", "replace"), dep


def analyse_source(job: SourceJob) -> SourceExtraction:
    """The facts of one C file. Never raises (but KeyboardInterrupt): whatever goes wrong
    in one file (an `#if 1 << -1`, 5,000 nested parentheses, a bug of kmodlint's met
    only by this file) becomes that file's diagnostic here, in the worker, so every
    other file of the run keeps its findings and a pool never shows a remote traceback."""
    try:
        return _analyse_source(job)
    except Exception as exc:  # the point: one file's failure stays that file's
        discard_recording()  # and is not cached: the next run tries again
        problem = InputProblem("unparsable-source", job.path, describe_failure(exc))
        return SourceExtraction(None, [problem])


def _analyse_source(job: SourceJob) -> SourceExtraction:
    try:
        text = read_text(job.path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return SourceExtraction(None, [InputProblem("unreadable-path", job.path, reason)])
    macros = dict(_CONFIGS.get(job.config_id, {}))
    macros.update(job.macros)
    base = os.path.dirname(job.path)

    def read_include(name: str) -> str | None:
        found = _find_header(base, name, job.include_dirs)
        return _read_cached(found) if found else None

    headers = _headers_of(job)
    lexed = lex(text, macros, read_include, headers)
    facts = scan(lexed, job.path, macros)
    _add_header_declarations(facts, job.path, lexed.local_includes, job, macros)
    _add_included_sources(facts, job, macros, lexed.local_includes, read_include, headers)
    if job.use_ast:
        _merge_ast(facts, job)
    problems = []
    if lexed.include_budget_hit:
        budget = (
            f"more than {MAX_INCLUDES} quoted includes applied (a header including itself?): "
            "the token scan read the file partly"
        )
        if facts.ast_error:
            # one bad file, one line: the AST's failure (reported by the loader) says both
            facts.ast_error = f"{facts.ast_error}; and {budget}"
        else:
            problems.append(InputProblem("unparsable-source", job.path, budget))
    return SourceExtraction(facts, problems)


def _add_header_declarations(
    facts: FileFacts, path: str, includes: list[str], job: SourceJob, macros: dict[str, str]
) -> None:
    """Prototypes and externs of the driver's own headers ("foo.h"), which is where a
    module usually declares what another module exports."""
    seen: set[str] = {os.path.abspath(path)}
    pending = [(os.path.dirname(path), name, 1) for name in includes]
    while pending:
        base, name, depth = pending.pop(0)
        header = _find_header(base, name, job.include_dirs)
        if header is None or os.path.abspath(header) in seen or depth > _HEADER_DEPTH:
            continue
        seen.add(os.path.abspath(header))
        scanned = _scan_header(header, (job.config_id, job.macros), macros)
        if scanned is None:
            continue
        header_facts, header_includes = scanned
        facts.externs.extend(header_facts.externs)
        facts.macro_names |= header_facts.macro_names
        # MODULE_DESCRIPTION("...") or MODULE_LICENSE in the driver's header (atl1.h) is
        # compiled into every file that includes it, so into the module (once per file,
        # as in the .ko's .modinfo)
        facts.modinfo.extend(header_facts.modinfo)
        # Static inline helpers of a local header are compiled into this file.
        for name_, definition in header_facts.definitions.items():
            facts.definitions.setdefault(name_, definition)
        pending.extend((os.path.dirname(header), n, depth + 1) for n in header_includes)


# A driver's headers, read once per process; bounded by size, not count (amdgpu's 1,200
# headers are 390 MB of text). Each text keeps the record of the file it came from: a use
# checks it with a stat (a long-lived process, the tests, must not see yesterday's
# header) and notes it as an input of the result being computed.
_TEXT_CACHE: dict[str, tuple[str, Dep]] = {}
_TEXT_BUDGET = 64 * 1024 * 1024
_text_cached = 0


def _read_cached(path: str) -> str | None:
    entry = _read_cached_entry(path)
    return entry[0] if entry else None


def _read_cached_entry(path: str) -> tuple[str, Dep] | None:
    global _text_cached
    entry = _TEXT_CACHE.get(path)
    if entry is not None and still_current(entry[1]):
        note(entry[1])
        return entry
    try:
        fresh = _read_entry(path)
    except OSError:
        note_absent(path)
        return None
    if entry is not None:
        _text_cached -= len(entry[0])
    if _text_cached + len(fresh[0]) > _TEXT_BUDGET:
        _TEXT_CACHE.clear()
        _text_cached = 0
    _TEXT_CACHE[path] = fresh
    _text_cached += len(fresh[0])
    return fresh


def _add_included_sources(
    facts: FileFacts,
    job: SourceJob,
    macros: dict[str, str],
    includes: list[str],
    read_include: Callable[[str], str | None],
    headers: HeaderMacros,
) -> None:
    """`#include "echoaudio.c"`: the included file is compiled into this one, with all
    its exports, MODULE_* tags and definitions."""
    for name in includes:
        if not name.endswith(".c"):
            continue
        found = _find_header(os.path.dirname(job.path), name, job.include_dirs)
        text = _read_cached(found) if found else None
        if found is None or text is None or os.path.abspath(found) == os.path.abspath(job.path):
            continue
        inner = scan(lex(text, macros, read_include, headers), found, macros)
        facts.exports.extend(inner.exports)
        facts.modinfo.extend(inner.modinfo)
        facts.params.extend(inner.params)
        facts.externs.extend(inner.externs)
        facts.macro_names |= inner.macro_names
        for name_, definition in inner.definitions.items():
            facts.definitions.setdefault(name_, definition)
        for name_, where in inner.references.items():
            facts.references.setdefault(name_, where)
        facts.init = facts.init or inner.init
        facts.exit = facts.exit or inner.exit


# Per process: the files of one module share their headers, so each is scanned once
# (again when its contents change: the key holds their hash).
_HEADER_CACHE: dict[tuple[str, int], tuple[str, tuple[FileFacts, list[str]]]] = {}


def _scan_header(
    header: str, settings: tuple[str, tuple[tuple[str, str], ...]], macros: dict[str, str]
) -> tuple[FileFacts, list[str]] | None:
    entry = _read_cached_entry(header)
    if entry is None:
        return None
    text, dep = entry
    key = (os.path.abspath(header), hash(settings))
    known = _HEADER_CACHE.get(key)
    if known is None or known[0] != dep[5]:
        if len(_HEADER_CACHE) > 4096:
            _HEADER_CACHE.clear()
        lexed = lex(text, macros)
        known = (dep[5], (scan(lexed, header, macros), lexed.local_includes))
        _HEADER_CACHE[key] = known
    return known[1]


def _find_header(base: str, name: str, include_dirs: tuple[str, ...]) -> str | None:
    for folder in (base, *include_dirs):
        candidate = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(candidate):
            return candidate
        # A header created here later would hide the one found further on: the result
        # depends on this file not existing too.
        note_absent(candidate)
    found = shipped_copy(base, name)
    if found is None:
        # likewise a foo.h_shipped added later (kbuild.shipped_copy's candidate)
        note_absent(os.path.join(base, name + "_shipped"))
    return found


def _merge_ast(facts: FileFacts, job: SourceJob) -> None:
    """The AST path adds C types and the exports only macro expansion shows. When it
    fails, the token facts stand alone and the file says why."""
    try:
        from kmodlint.cfront.ast.analyse import analyse_ast
        from kmodlint.cfront.preprocess.cpp import PreprocessorNotFound
    except ImportError:
        return  # a partial installation: the token path alone, and ast_parsed stays False
    try:
        result = analyse_ast(
            job.path,
            defines={**_CONFIGS.get(job.config_id, {}), **dict(job.macros)},
            include_dirs=list(job.include_dirs),
            stub_env=job.stub_env,
        )
    except PreprocessorNotFound as exc:  # cpp went away mid-run: the token facts stand
        facts.ast_error = str(exc)
        return
    if not result.ok:
        facts.ast_error = result.error or "pycparser could not parse the file"
        return
    facts.ast_parsed = True
    # The tree is authoritative on types; the token spelling stays beside it.
    for definition in result.definitions:
        known = facts.definitions.get(definition.name)
        token_ctype = known.token_ctype if known is not None else None
        facts.definitions[definition.name] = replace(definition, token_ctype=token_ctype)
    typed = {(e.name, e.loc.path, e.loc.line): e for e in result.externs}
    merged = []
    declared_lines = {(e.loc.path, e.loc.line) for e in result.externs}
    declared_lines |= {(d.loc.path, d.loc.line) for d in result.definitions}
    for extern in facts.externs:
        found = typed.pop((extern.name, extern.loc.path, extern.loc.line), None)
        if found is not None:
            merged.append(replace(found, token_ctype=extern.token_ctype))
        elif (extern.loc.path, extern.loc.line) not in declared_lines:
            # a line the parse shows no declaration on (hidden by a stub macro): the
            # token scan's reading stands. Where the parse declares something else there
            # (`static const u8 (*sensor_init[])[8] = ...` read as a prototype of `u8`),
            # the compiler's reading wins.
            merged.append(extern)
    merged.extend(e for e in typed.values() if e.explicit_extern or e.is_function)
    facts.externs = merged
    # Uses as the compiler sees them (macros expanded, through the driver's inline
    # helpers); the token path's stay beside them for what the stub kernel's macros hide
    # (a use inside the arguments of a kernel macro the stub does not expand).
    for name, where in result.references.items():
        facts.references.setdefault(name, where)
    # A name the parse saw in the code but not as a use (a parameter or local named like
    # another module's export: idxd's `idxd_drv`) is no import; the token scan, blind to
    # scopes, took it for one (a false idxd -> idxd_bus -> idxd cycle).
    for name in [n for n in facts.references if n in result.body_names]:
        if name not in result.references:
            del facts.references[name]
    facts.ast_uses = set(result.references)
    facts.section_refs = result.section_refs
    seen = {(e.symbol, e.loc.line) for e in facts.exports}
    by_symbol = {e.symbol for e in facts.exports}
    for export in result.exports:
        fresh = (export.symbol, export.loc.line) not in seen and export.symbol not in by_symbol
        if export.via == AST and fresh:
            facts.exports.append(export)
        if export.symbol.startswith(STATIC_CALL_PREFIXES):
            # EXPORT_STATIC_CALL*(name) exports the key and trampoline DEFINE_STATIC_CALL*
            # makes (include/linux/static_call.h); kvm's KVM_X86_OP x-macros define them
            # through stub-kernel macros the parse does not expand: maybe defined.
            facts.macro_names.add(export.symbol)


def _headers_of(job: SourceJob) -> HeaderMacros:
    """The kernel headers' macros for `#if`s: from the stub environment the AST path uses
    (generated by --kernel-source, else the shipped one), so both paths agree."""
    from importlib import resources

    return header_macros(job.stub_env or str(resources.files("kmodlint.cfront") / "stubenv"))
