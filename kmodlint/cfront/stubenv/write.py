"""Writing the stub environment: the stubs of the classified macros, the shadow headers,
``prelude.h``, ``headers.txt`` and ``typedefs.txt``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from kmodlint.cfront.kbuild.kconfig import read_config_macros
from kmodlint.cfront.lex.keywords import C_KEYWORDS
from kmodlint.cfront.stubenv.classify import (
    ASM,
    BLOCK,
    BRACES,
    DECL,
    DESIG,
    EMPTY,
    EXPORTING,
    EXPR,
    FNHDR,
    HANDWRITTEN,
    LOOP,
    NUMERIC,
    PASTE,
    STRING,
    TYPE,
    Classifier,
)
from kmodlint.cfront.stubenv.conditions import CondEvaluator
from kmodlint.cfront.stubenv.read_headers import (
    ARCH,
    EXTRA_HEADERS,
    HeaderScan,
    MacroDef,
    function_macros,
    header_roots,
    iter_headers,
    macro_made_typedefs,
    object_macros,
    scan_header,
    tested_names,
)

# Bumped whenever a generation from the same tree would differ (cache key of --kernel-source).
FORMAT = 2


# --------------------------------------------------------------------------- prelude

HANDWRITTEN_PRELUDE = r"""
/* ---- GNU C neutralisers ---- */
#define __attribute__(x)
#define __attribute(x)
#define __extension__
#define __inline inline
#define __inline__ inline
#define __restrict restrict
#define __restrict__ restrict
#define __volatile__ volatile
#define __volatile volatile
#define __const const
#define __signed__ signed
#define __signed signed
#define typeof(...) int
#define __typeof__(...) int
#define __typeof(...) int
#define __auto_type int
#define _Static_assert(...)
#define static_assert(...)
#define __builtin_offsetof(...) 0
#define offsetof(...) 0
#define __builtin_types_compatible_p(...) 0
#define __builtin_choose_expr(...) 0
#define __builtin_va_arg(...) 0
#define va_arg(...) 0
#define _Generic(...) 0
#define __builtin_expect(x, ...) (x)
#define __label__ int
#define __int128 long
#define __alignof__(...) 8
#define __alignof(...) 8
#define _Alignof(...) 8
#define NULL ((void *)0)
#define __LITTLE_ENDIAN 1234
#define __LITTLE_ENDIAN_BITFIELD
#define BITS_PER_LONG 64
#define __BITS_PER_LONG 64
typedef int __builtin_va_list;

/* ---- configuration tests (include/linux/kconfig.h semantics) ---- */
#define __kmodlint_arg_1 0,
#define __kmodlint_second(ignored, val, ...) val
/* Two levels, as include/linux/kconfig.h's __is_defined/___is_defined: the argument
   (CONFIG_FOO_MODULE after IS_MODULE's paste) must expand to 1 before it is pasted. */
#define __kmodlint_is_defined(x) __kmodlint_is_defined1(x)
#define __kmodlint_is_defined1(val) __kmodlint_is_defined2(__kmodlint_arg_##val)
#define __kmodlint_is_defined2(arg) __kmodlint_second(arg 1, 0, 0)
#define __is_defined(x) __kmodlint_is_defined(x)
#define IS_BUILTIN(option) __kmodlint_is_defined(option)
#define IS_MODULE(option) __kmodlint_is_defined(option##_MODULE)
#define IS_ENABLED(option) (IS_BUILTIN(option) || IS_MODULE(option))
#define IS_REACHABLE(option) (IS_BUILTIN(option) || (IS_MODULE(option) && defined(MODULE)))

/* ---- sections: markers the AST path turns into something pycparser keeps ---- */
#define __init __kmodlint_section_init__
#define __initdata __kmodlint_section_init__
#define __initconst __kmodlint_section_init__
#define __exit __kmodlint_section_exit__
#define __exitdata __kmodlint_section_exit__
#define __exit_call
#define __init_call

/* ---- exports: kind, expanded symbol and namespace survive as strings ---- */
#define __kmodlint_str(...) #__VA_ARGS__
#define __kmodlint_export(kind, sym, ns) \
    static const char *const __kmodlint_export[] = { #kind, __kmodlint_str(sym), \
    __kmodlint_str(ns) }
#define EXPORT_SYMBOL(sym) __kmodlint_export(EXPORT_SYMBOL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_GPL(sym) \
    __kmodlint_export(EXPORT_SYMBOL_GPL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_GPL_FUTURE(sym) \
    __kmodlint_export(EXPORT_SYMBOL_GPL_FUTURE, sym, DEFAULT_SYMBOL_NAMESPACE)
#define EXPORT_SYMBOL_NS(sym, ns) __kmodlint_export(EXPORT_SYMBOL, sym, ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns) __kmodlint_export(EXPORT_SYMBOL_GPL, sym, ns)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods) \
    __kmodlint_export(EXPORT_SYMBOL_GPL, sym, "module:" mods)
#define _EXPORT_SYMBOL(sym, sec) __kmodlint_export(EXPORT_SYMBOL, sym, DEFAULT_SYMBOL_NAMESPACE)
#define __EXPORT_SYMBOL(sym, sec, ns) __kmodlint_export(EXPORT_SYMBOL, sym, ns)
"""


EXPLAIN_MACROS: set[str] = set()


@dataclass
class StubEnv:
    headers: list[str]
    prelude: str
    typedefs: list[str]  # typedef names of the real headers (the parser is told about them)
    # the directives of each header's shadow (its stubs and its includes), by header path
    shadows: dict[str, list[str]] = field(default_factory=dict)
    # stubs of the function-like macros only branches known to be false define
    elsewhere: list[str] = field(default_factory=list)


def _stub_for(name: str, definition: MacroDef, cls: str, kept: list[str]) -> str | None:
    """The #define line standing for ``d`` (None: leave the macro undefined)."""
    fn = definition.params is not None
    head = f"#define {name}(...)" if fn else f"#define {name}"
    verbatim = f"#define {name}" + (f"({', '.join(definition.params or [])})" if fn else "")
    body = " ".join(definition.body)
    if cls == EMPTY:
        words = [k for k in dict.fromkeys(kept) if k != "semi"]
        return f"{head} {' '.join(words)}".rstrip()
    if cls == LOOP:
        return f"{head} for (;;)"
    if cls == DECL:
        return f"{head} int __kmodlint_decl" + (";" if "semi" in kept else "")
    if cls == FNHDR:
        return f"{head} int __kmodlint_fn(void)"
    if cls == BLOCK:
        return f"{head} {{ }}"
    if cls == DESIG:
        return f"{head} .__kmodlint = 0" + ("," if "comma" in kept else "")
    if cls == TYPE:
        if not fn and not any(t in ("typeof", "__typeof__", "__typeof") for t in definition.body):
            return f"{head} {body}"
        return f"{head} int"
    if cls == STRING:
        return f'{head} ""'
    if cls == ASM:
        return f'{head} __asm__("")'
    if cls == BRACES:
        n = int(kept[0]) if kept and kept[0].lstrip("-").isdigit() else 0
        return f"{head} {' '.join('{' * n if n > 0 else '}' * -n)}" if n else None
    if cls in (NUMERIC, PASTE, EXPORTING):
        return f"{verbatim} {body}"
    if cls == EXPR:
        return f"{head} 0" if fn else None
    return None


@dataclass
class _Headers:
    """What the headers of the include roots say, together."""

    headers: set[str] = field(default_factory=lambda: set(EXTRA_HEADERS))
    defs: dict[str, list[MacroDef]] = field(default_factory=dict)
    typedefs: set[str] = field(default_factory=set)
    if_idents: set[str] = field(default_factory=set)
    invocations: list[tuple[str, list[str]]] = field(default_factory=list)
    inactive: list[MacroDef] = field(default_factory=list)
    winners: dict[str, tuple[str, HeaderScan]] = field(default_factory=dict)  # rel -> first
    rel_of: dict[str, str] = field(default_factory=dict)

    def add(self, full: str, rel: str, scan: HeaderScan) -> None:
        self.headers.add(rel)
        self.winners.setdefault(rel, (full, scan))  # the file cpp would find first
        self.rel_of.setdefault(os.path.normpath(full), rel)
        self.typedefs |= scan.typedefs
        self.invocations += scan.invocations
        self.if_idents |= scan.if_idents
        self.inactive += scan.inactive
        for definition in scan.defines:
            if (
                definition.name in HANDWRITTEN
                or definition.name in C_KEYWORDS
                or definition.name.startswith("CONFIG_")
            ):
                continue
            # a later identical definition adds nothing
            if any(
                o.params == definition.params and o.body == definition.body
                for o in self.defs.get(definition.name, ())
            ):
                continue
            self.defs.setdefault(definition.name, []).append(definition)


def _configuration(source_dirs: list[str], config_path: str | None) -> str | None:
    if config_path is None:
        for src in source_dirs:
            cand = os.path.join(src, "include/generated/autoconf.h")
            if os.path.isfile(cand):
                return cand
    return config_path


def build(
    source_dirs: list[str],
    config_path: str | None = None,
    arch: str = ARCH,
    if_sources: Iterable[str] = (),
) -> StubEnv:
    roots = header_roots(source_dirs, arch)
    if not roots:
        raise SystemExit(f"stubenv: no kernel include directories under {source_dirs}")
    config_path = _configuration(source_dirs, config_path)
    fn_macros = function_macros(roots)
    evaluator = CondEvaluator(
        read_config_macros(config_path) if config_path else None, object_macros(roots)
    )
    found = _Headers()
    for full, rel in iter_headers(roots):
        found.add(full, rel, scan_header(full, rel, evaluator, fn_macros))
    defs = found.defs
    tested = found.if_idents | tested_names(if_sources)
    typedefs = found.typedefs | macro_made_typedefs(defs, found.invocations)
    typedefs -= set(HANDWRITTEN)
    typedefs = {t for t in typedefs if t not in C_KEYWORDS}
    classifier = Classifier(defs, typedefs)
    _explain(classifier, defs)
    stubs = dict(_stub_lines(classifier, defs, tested))
    elsewhere = _elsewhere_stubs(found, typedefs)
    shadows = {
        rel: _shadow(rel, full, scan, stubs, found.winners, found.rel_of)
        for rel, (full, scan) in sorted(found.winners.items())
    }
    # a typedef name that is also an object-like macro (``#define u32 unsigned int`` in a
    # header that #undef's it again) stays a type; function-like ones are scan artefacts
    names = sorted(
        t for t in typedefs if all(definition.params is None for definition in defs.get(t, ()))
    )
    return StubEnv(sorted(found.headers), _prelude(found.winners), names, shadows, elsewhere)


def _explain(classifier: Classifier, defs: dict[str, list[MacroDef]]) -> None:
    for name in sorted(EXPLAIN_MACROS):
        for definition in defs.get(name, []):
            print(
                name,
                definition.params,
                " ".join(definition.body),
                "->",
                classifier.classify(definition),
                definition.origin,
            )
        print(name, "=>", classifier.macro_class(name), file=sys.stderr)


def _stub_lines(
    classifier: Classifier, defs: dict[str, list[MacroDef]], tested: set[str]
) -> list[tuple[str, str]]:
    """(name, #define line) of every macro the shadows define, in order."""
    lines = []
    needed: set[str] = set()
    chosen: dict[str, tuple[MacroDef, str, list[str]]] = {}
    for name in sorted(defs):
        cls, kept = classifier.macro_class(name)
        # the definition whose own class matches the name's class is the one to keep
        definition = next(
            (x for x in defs[name] if classifier.classify(x)[0] == cls), defs[name][0]
        )
        chosen[name] = (definition, cls, kept)
    for name, (definition, cls, kept) in chosen.items():
        if (
            definition.params is None
            and len(definition.body) == 1
            and definition.body[0] != name
            and any(x.params is not None for x in defs.get(definition.body[0], ()))
        ):
            # an alias of a function-like macro (``#define DECLARE_TLV_DB_SCALE
            # SNDRV_CTL_TLVD_DECLARE_DB_SCALE``): its arguments follow it in the code
            lines.append((name, f"#define {name} {definition.body[0]}"))
            continue
        if _left_out(name, definition, cls, kept, tested):
            continue
        stub = _stub_for(name, definition, cls, kept)
        if stub is None:
            continue
        lines.append((name, stub))
        if cls in (PASTE, EXPORTING, NUMERIC):
            # ``#define SNDRV_PCM_INFO_MMAP_IOMEM SNDRV_PCM_INFO_MMAP``: an `#if` needs the
            # value behind the alias as well
            needed.update(t for t in definition.body if t in defs)
    _add_aliases(lines, needed, chosen, defs)
    return lines


def _left_out(name: str, definition: MacroDef, cls: str, kept: list[str], tested: set[str]) -> bool:
    if definition.params is not None:
        return False
    if cls == NUMERIC and name not in tested:
        return True
    if cls == DESIG and "comma" not in kept:
        return True
    return (
        cls == PASTE and len(definition.body) == 1
    )  # plain aliases: only when a kept body needs them


def _add_aliases(
    lines: list[tuple[str, str]],
    needed: set[str],
    chosen: dict[str, tuple[MacroDef, str, list[str]]],
    defs: dict[str, list[MacroDef]],
) -> None:
    """The object-like aliases that kept bodies refer to."""
    emitted = {n for n, _ in lines}
    queue = sorted(needed - emitted)
    while queue:
        name = queue.pop()
        if name in emitted:
            continue
        definition, _, _ = chosen[name]
        if definition.params is not None:
            continue
        emitted.add(name)
        lines.append((name, f"#define {name} {' '.join(definition.body)}"))
        queue.extend(t for t in definition.body if t in defs and t not in emitted)


def _elsewhere_stubs(found: _Headers, typedefs: set[str]) -> list[str]:
    """Function-like macros only other architectures or configurations define
    (for_each_of_allnodes_from without CONFIG_OF): stubbed for the union fallback only,
    never in a shadow, so a file that builds in this configuration does not see them."""
    defs = found.defs
    others: dict[str, list[MacroDef]] = {}
    for definition in found.inactive:
        if (
            definition.name in defs
            or definition.name in HANDWRITTEN
            or definition.name in C_KEYWORDS
            or definition.name in typedefs
            or definition.name in found.if_idents
        ):
            continue
        if not any(
            o.params == definition.params and o.body == definition.body
            for o in others.get(definition.name, ())
        ):
            others.setdefault(definition.name, []).append(definition)
    wide = Classifier({**defs, **others}, typedefs)
    elsewhere = []
    for name in sorted(others):
        cls, kept = wide.macro_class(name)
        definition = next((x for x in others[name] if wide.classify(x)[0] == cls), others[name][0])
        if cls in (PASTE, EXPORTING, NUMERIC, EXPR):
            # verbatim bodies would need their helpers; and a call of an unknown
            # function parses as it is (mutex_lock() is a macro only with lockdep)
            continue
        stub = _stub_for(name, definition, cls, kept)
        if stub is not None:
            elsewhere.append(stub)
    return elsewhere


def _prelude(winners: dict[str, tuple[str, HeaderScan]]) -> str:
    out = [
        "/* kmodlint stub kernel prelude: generated by kmodlint.cfront.stubenv; do not edit. */",
        "#ifndef __KMODLINT_PRELUDE_H",
        "#define __KMODLINT_PRELUDE_H",
        HANDWRITTEN_PRELUDE.strip(),
        "",
        "/* ---- what Kbuild -include's before every file (their shadows, next to this file) */",
    ]
    out += [f'#include "include/{h}"' for h in FORCED_INCLUDES if h in winners]
    out += ["", "#endif"]
    return "\n".join(out) + "\n"


# headers.txt: the line after which the union fallback's extra stubs follow
ELSEWHERE = "?elsewhere"

# Kbuild's c_flags -include these before every file (scripts/Makefile.lib, Makefile).
FORCED_INCLUDES = ("linux/compiler-version.h", "linux/kconfig.h", "linux/compiler_types.h")


def _shadow(
    rel: str,
    full: str,
    scan: HeaderScan,
    stubs: dict[str, str],
    winners: dict[str, tuple[str, HeaderScan]],
    rel_of: dict[str, str],
) -> list[str]:
    """The directives of one header's shadow: its includes (resolved to header paths, so
    ``#include "x.h"`` works from the flat shadow tree) and the stubs of its own macros,
    in the header's order. A macro the header defines and later #undef's is its own helper
    and leaves nothing behind; no other #undef is kept."""
    body: list[tuple[str, str]] = []
    here = os.path.dirname(full)
    for kind, arg in scan.order:
        if kind == "include":
            name = arg[1:-1]
            target = None
            if arg.startswith('"'):
                target = rel_of.get(os.path.normpath(os.path.join(here, name)))
            if target is None and name in winners:
                target = name
            if target is not None and target != rel:
                body.append((kind, f"#include <{target}>"))
        elif kind == "define":
            if arg in stubs:
                body.append((arg, stubs[arg]))
        elif kind == "undef":
            # only cancels the header's own definition: every stub of a name is the same
            # one, and an #undef of another header's macro (trace/define_trace.h's) is
            # undone in the real kernel by re-reading that header, which a shadow never is
            body = [(k, v) for k, v in body if k != arg]
    seen: set[str] = set()
    out = []
    for _, line in body:
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


def generate(
    source_dir: str | list[str],
    out_dir: str,
    config: str | None = None,
    if_sources: Iterable[str] = (),
) -> None:
    """Write ``prelude.h``, ``headers.txt`` (ending with the ``?elsewhere`` section: the
    stubs of function-like macros only false branches define) and ``typedefs.txt``.
    ``if_sources``: source trees whose ``#if`` lines say which numeric macros to keep."""
    dirs = [source_dir] if isinstance(source_dir, str) else list(source_dir)
    env = build(dirs, config, if_sources=if_sources)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "prelude.h"), "w", encoding="utf-8") as fh:
        fh.write(env.prelude)
    with open(os.path.join(out_dir, "headers.txt"), "w", encoding="utf-8") as fh:
        for rel in env.headers:
            fh.write(rel + "\n")
            for line in env.shadows.get(rel, ()):
                fh.write(line + "\n")
        # the union fallback's extra stubs, after a line no header path can be
        fh.write(ELSEWHERE + "\n")
        fh.write("".join(line + "\n" for line in env.elsewhere))
    with open(os.path.join(out_dir, "typedefs.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(env.typedefs) + "\n")
