"""The fact-carrying macros of the token path (EXPORT_SYMBOL*, MODULE_*, module_init/exit,
module_param*, ...): one handler per macro, found by name in a table (pyflakes'
getNodeHandler idea), and the file's own macros that wrap an export, expanded.

Order matters where a name could match twice: the export table, the pasted-name and PM-ops
patterns, a wrapper of the file's own, then the module-metadata table."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kmodlint.cfront.facts import (
    Definition,
    FileFacts,
    ModinfoTag,
    Param,
    SourceExport,
)
from kmodlint.cfront.lex.tokenizer import Token
from kmodlint.cfront.preprocess.directives import LexedFile
from kmodlint.cfront.tokens.arguments import (
    location,
    macro_arguments,
    name_of,
    resolve_name,
    string_value,
    tokenize_value,
)

_EXPORTS = {
    "EXPORT_SYMBOL": ("EXPORT_SYMBOL", False),
    "EXPORT_SYMBOL_GPL": ("EXPORT_SYMBOL_GPL", False),
    "EXPORT_SYMBOL_GPL_FUTURE": ("EXPORT_SYMBOL_GPL_FUTURE", False),
    "EXPORT_SYMBOL_NS": ("EXPORT_SYMBOL", True),
    "EXPORT_SYMBOL_NS_GPL": ("EXPORT_SYMBOL_GPL", True),
    "EXPORT_SYMBOL_FOR_MODULES": ("EXPORT_SYMBOL_GPL", True),
    "EXPORT_SYMBOL_GPL_FOR_MODULES": ("EXPORT_SYMBOL_GPL", True),
}
# include/linux/module.h: MODULE_<TAG>("value") -> .modinfo "<tag>=value".
_MODINFO = {
    "MODULE_LICENSE": "license",
    "MODULE_DESCRIPTION": "description",
    "MODULE_AUTHOR": "author",
    "MODULE_VERSION": "version",
    "MODULE_ALIAS": "alias",
    "MODULE_SOFTDEP": "softdep",
    "MODULE_FIRMWARE": "firmware",
    "MODULE_IMPORT_NS": "import_ns",
}
# moduleparam.h: the argument that holds the permissions, per macro (0-based).
_PARAMS = {
    "module_param": (0, 0, 1, 2),  # name, variable, type, perm
    "module_param_unsafe": (0, 0, 1, 2),
    "module_param_named": (0, 1, 2, 3),
    "module_param_named_unsafe": (0, 1, 2, 3),
    "module_param_array": (0, 0, 1, 3),
    "module_param_array_named": (0, 1, 2, 4),
    "module_param_string": (0, 1, -1, 3),
    "module_param_cb": (0, -1, -1, 3),
    "module_param_hw": (0, 0, 1, 3),
    "module_param_hw_named": (0, 1, 2, 4),
    "module_param_hw_array": (0, 0, 1, 4),
}
# include/linux/module.h, #ifdef MODULE: every initcall level is module_init(fn) in a module
# ("loadable modules do not need custom initcall levels").
_INITCALLS = frozenset(
    f"{level}_initcall{sync}"
    for level in ("early", "core", "postcore", "arch", "subsys", "fs", "rootfs", "device", "late")
    for sync in ("", "_sync")
) | {"console_initcall"}


@dataclass(slots=True)
class MacroContext:
    lexed: LexedFile
    path: str
    default_ns: list[tuple[int, str]]
    expanding: int = 0  # depth of wrapper-macro expansion


def default_namespaces(lexed: LexedFile, predefined: dict[str, str]) -> list[tuple[int, str]]:
    """(token index, namespace) changes of DEFAULT_SYMBOL_NAMESPACE through the file.

    6.1's include/linux/export.h tests `#ifdef DEFAULT_SYMBOL_NAMESPACE` when it is
    included (with the first kernel header), so a `#define` after the first
    `#include <...>` has no effect; a Kbuild `-D` always has. (6.13+ expands the macro
    at each export; the shipped stub environment and this scan follow 6.1.)
    """
    changes = []
    initial = predefined.get("DEFAULT_SYMBOL_NAMESPACE", "")
    changes.append((0, initial.strip().strip('"')))
    for at, value, before_system_include in lexed.namespace_defines:
        if before_system_include:
            changes.append((at, value.strip().strip('"')))
    return changes


def _namespace_at(changes: list[tuple[int, str]], index: int) -> str:
    current = ""
    for at, value in changes:
        if at <= index:
            current = value
    return current


# include/linux/tracepoint.h: EXPORT_TRACEPOINT_SYMBOL*(name) exports the tracepoint, its
# iterator and (HAVE_STATIC_CALL, x86) the static call key and trampoline.
_TRACEPOINT_PARTS = ("__tracepoint_{}", "__traceiter_{}", "__SCK__tp_func_{}", "__SCT__tp_func_{}")
# include/linux/static_call.h (HAVE_STATIC_CALL): EXPORT_STATIC_CALL[_TRAMP][_GPL](name)
# exports the key __SCK__name (not the _TRAMP forms) and the trampoline __SCT__name.
STATIC_CALL_PREFIXES = ("__SCK__", "__SCT__")
_STATIC_CALL_EXPORTS = {
    f"EXPORT_STATIC_CALL{tramp}{gpl}" for tramp in ("", "_TRAMP") for gpl in ("", "_GPL")
}
# Macros that define a name pasted from an argument: include/linux/device.h (DEVICE_ATTR*,
# DEVICE_*_ATTR), device/driver.h, device/bus.h, device/class.h (*_ATTR_RW/RO/WO...).
_PASTED_ATTR = re.compile(
    r"(?:(DEVICE)_ATTR(?:_RW|_RO|_WO|_ADMIN_RW|_ADMIN_RO|_PREALLOC|_IGNORE_LOCKDEP)?"
    r"|(DEVICE)_(?:ULONG|INT|BOOL|STRING)_ATTR"
    r"|(DRIVER|BUS|CLASS)_ATTR_(?:RW|RO|WO|STRING))"
)
_ATTR_PREFIX = {"DEVICE": "dev_attr_", "DRIVER": "driver_attr_", "BUS": "bus_attr_"}
# include/linux/interval_tree_generic.h: INTERVAL_TREE_DEFINE(..., ITSTATIC, ITPREFIX)
_INTERVAL_TREE_PARTS = ("_insert", "_remove", "_iter_first", "_iter_next")


def _pasted_definitions(name: str, tokens: list[Token], index: int) -> list[str]:
    attr = _PASTED_ATTR.fullmatch(name)
    if attr is None and name != "INTERVAL_TREE_DEFINE":
        return []
    args, _ = macro_arguments(tokens, index + 1)
    if attr is not None:
        kind = next(g for g in attr.groups() if g)
        first = name_of(args[0]) if args else None
        return [_ATTR_PREFIX.get(kind, "class_attr_") + first] if first else []
    prefix = name_of(args[7]) if len(args) == 8 else None
    return [prefix + part for part in _INTERVAL_TREE_PARTS] if prefix else []


# include/linux/pm.h (6.1): EXPORT_[NS_][GPL_]{SIMPLE,RUNTIME}_DEV_PM_OPS(name, ..., [ns])
# export the dev_pm_ops object when CONFIG_PM is set.
_PM_OPS = re.compile(r"EXPORT_(NS_)?(GPL_)?(SIMPLE|RUNTIME)_DEV_PM_OPS")


# A handler reads one fact-carrying macro call at `index` and returns the index after it,
# or None when the call goes on as any other (its arguments still scanned as code).
MacroHandler = Callable[[FileFacts, list[Token], int, MacroContext], int | None]


def _export_kind(name: str) -> str:
    return "EXPORT_SYMBOL_GPL" if name.endswith("_GPL") else "EXPORT_SYMBOL"


def _export_symbol(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    """EXPORT_SYMBOL*(sym[, ns]): include/linux/export.h."""
    name = tokens[index].text
    args, end = macro_arguments(tokens, index + 1)
    kind, takes_namespace = _EXPORTS[name]
    symbol = resolve_name(args[0], context.lexed.table)
    if symbol is None:
        return end
    namespace: str | None = ""
    if takes_namespace and len(args) > 1:
        namespace = string_value(args[1]) or (name_of(args[1]) or "")
        if "FOR_MODULES" in name:
            namespace = f"module:{namespace}"
    elif not takes_namespace:
        namespace = _namespace_at(context.default_ns, index)
    facts.exports.append(
        SourceExport(symbol, kind, namespace or None, location(context.path, tokens[index]))
    )
    return end


def _export_tracepoint(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    args, end = macro_arguments(tokens, index + 1)
    # A tracepoint name may start with a digit (9p_fid_ref): pasted, it is valid.
    point = "".join(t.text for t in args[0]) if args[0] else ""
    kind = _export_kind(tokens[index].text)
    if point.replace("_", "a").isalnum():
        for pattern in _TRACEPOINT_PARTS:
            facts.exports.append(
                SourceExport(
                    pattern.format(point), kind, None, location(context.path, tokens[index])
                )
            )
            # Defined by DEFINE_TRACE() when a file of the module sets CREATE_TRACE_POINTS
            # and includes the trace header (include/trace/define_trace.h): an expansion
            # the token path does not follow, so "maybe defined", never "undefined".
            facts.macro_names.add(pattern.format(point))
    return end


def _export_static_call(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    name = tokens[index].text
    args, end = macro_arguments(tokens, index + 1)
    call = name_of(args[0]) if args else None
    kind = _export_kind(name)
    if call:
        parts = ("__SCT__",) if "_TRAMP" in name else STATIC_CALL_PREFIXES
        for prefix in parts:
            facts.exports.append(
                SourceExport(prefix + call, kind, None, location(context.path, tokens[index]))
            )
            # DEFINE_STATIC_CALL*() defines them, often through an x-macro: maybe defined
            facts.macro_names.add(prefix + call)
    return end


def _export_per_cpu(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    args, end = macro_arguments(tokens, index + 1)
    symbol = resolve_name(args[0], context.lexed.table)
    kind = _export_kind(tokens[index].text)
    if symbol:
        namespace = _namespace_at(context.default_ns, index) or None
        facts.exports.append(
            SourceExport(symbol, kind, namespace, location(context.path, tokens[index]))
        )
        # DEFINE_PER_CPU() often sits in a header or behind a wrapper macro (per-CPU
        # sections, DEFINE_PER_CPU_SHARED_ALIGNED...): maybe defined, never "undefined".
        facts.macro_names.add(symbol)
    return end


def _export_pm_ops(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext, pm_ops: re.Match[str]
) -> int | None:
    args, end = macro_arguments(tokens, index + 1)
    symbol = name_of(args[0])
    if symbol and "CONFIG_PM" in context.lexed.table:
        kind = "EXPORT_SYMBOL_GPL" if pm_ops.group(2) else "EXPORT_SYMBOL"
        namespace = None
        if pm_ops.group(1) and len(args) > 1:
            namespace = string_value(args[-1]) or name_of(args[-1])
        where = location(context.path, tokens[index])
        facts.exports.append(SourceExport(symbol, kind, namespace, where))
        facts.definitions.setdefault(symbol, Definition(symbol, False, False, None, where))
    return end


def _modinfo(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    name = tokens[index].text
    table = context.lexed.table
    args, end = macro_arguments(tokens, index + 1)
    value = string_value(args[0])
    if value is None and name_of(args[0]) in table:
        # MODULE_LICENSE(DRIVER_LICENSE) with #define DRIVER_LICENSE "GPL"
        value = string_value(list(tokenize_value(table[name_of(args[0]) or ""])))
    if value is None and name == "MODULE_IMPORT_NS":
        value = name_of(args[0])
    if value is None and name not in ("MODULE_LICENSE", "MODULE_IMPORT_NS") and args[0]:
        # "Echoaudio " ECHOCARD_NAME " driver", XFS_VERSION_STRING " with " ...: present,
        # its exact text decided by macros; the rules ask only whether there is one.
        value = " ".join(t.text for t in args[0])
    if value is not None:
        facts.modinfo.append(
            ModinfoTag(_MODINFO[name], value, location(context.path, tokens[index]))
        )
    return end


def _ip_set_module_desc(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    # include/linux/netfilter/ipset/ip_set.h: MODULE_DESCRIPTION(a "-type of IP sets,
    # revisions " b "-" c) through _IP_SET_MODULE_DESC
    args, end = macro_arguments(tokens, index + 1)
    value = string_value(args[0]) if args and args[0] else None
    if value is not None:
        facts.modinfo.append(
            ModinfoTag("description", value, location(context.path, tokens[index]))
        )
    return end


def _module_info(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    args, end = macro_arguments(tokens, index + 1)
    tag = name_of(args[0])
    value = string_value(args[1]) if len(args) > 1 else None
    if tag and value is not None:
        facts.modinfo.append(ModinfoTag(tag, value, location(context.path, tokens[index])))
    return end


def _init_or_exit(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    args, end = macro_arguments(tokens, index + 1)
    target = name_of(args[0])
    if target:
        where = location(context.path, tokens[index])
        if tokens[index].text != "module_exit":
            facts.init = facts.init or where
        else:
            facts.exit = facts.exit or where
        facts.references.setdefault(target, where)
    return end


def _driver_registration(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    # module_platform_driver() & co. define both init and exit (linux/device/driver.h).
    _, end = macro_arguments(tokens, index + 1)
    where = location(context.path, tokens[index])
    facts.init = facts.init or where
    facts.exit = facts.exit or where
    return end


def _is_driver_registration(name: str) -> bool:
    return name.startswith("module_") and (name.endswith("_driver") or name == "module_misc_device")


def _module_param(
    facts: FileFacts, tokens: list[Token], index: int, context: MacroContext
) -> int | None:
    name = tokens[index].text
    args, end = macro_arguments(tokens, index + 1)
    at_name, at_var, at_type, at_perm = _PARAMS[name]
    if len(args) <= max(at_name, at_var, at_type, at_perm):
        return end
    param = name_of(args[at_name])
    variable = name_of(args[at_var]) if at_var >= 0 else None
    type_name = " ".join(t.text for t in args[at_type]) if at_type >= 0 else ""
    if name == "module_param_string":
        type_name = "string"
    perm = " ".join(t.text for t in args[at_perm])
    if param:
        where = location(context.path, tokens[index])
        facts.params.append(Param(param, variable or "", type_name, perm, where, name))
        if variable:
            facts.references.setdefault(variable, where)
    return end


# Exports first: a macro of the file's own that wraps an export is expanded (below) only
# when no handler of this table has its name.
_EXPORT_HANDLERS: dict[str, MacroHandler] = {
    **dict.fromkeys(_EXPORTS, _export_symbol),
    "EXPORT_TRACEPOINT_SYMBOL": _export_tracepoint,
    "EXPORT_TRACEPOINT_SYMBOL_GPL": _export_tracepoint,
    **dict.fromkeys(_STATIC_CALL_EXPORTS, _export_static_call),
    "EXPORT_PER_CPU_SYMBOL": _export_per_cpu,
    "EXPORT_PER_CPU_SYMBOL_GPL": _export_per_cpu,
}
# ... then the module's metadata, after a wrapper of the file's own.
_MODULE_HANDLERS: dict[str, MacroHandler] = {
    **dict.fromkeys(_MODINFO, _modinfo),
    "IP_SET_MODULE_DESC": _ip_set_module_desc,
    "MODULE_INFO": _module_info,
    "module_init": _init_or_exit,
    "module_exit": _init_or_exit,
    **dict.fromkeys(_INITCALLS, _init_or_exit),
    **dict.fromkeys(_PARAMS, _module_param),
}


def read_macro(
    facts: FileFacts,
    tokens: list[Token],
    index: int,
    context: MacroContext,
) -> int | None:
    """Read a fact-carrying macro call at `index`; the index after it, or None."""
    name = tokens[index].text
    handler = _EXPORT_HANDLERS.get(name)
    if handler is not None:
        return handler(facts, tokens, index, context)
    pasted = _pasted_definitions(name, tokens, index)
    if pasted:
        # DEVICE_ATTR(x, ...) defines dev_attr_x: maybe defined (static or not, the token
        # scan cannot always tell), never "undefined"; the call goes on as any other
        facts.macro_names.update(pasted)
        return None
    pm_ops = _PM_OPS.fullmatch(name)
    if pm_ops:
        return _export_pm_ops(facts, tokens, index, context, pm_ops)
    wrapper = context.lexed.functions.get(name)
    if wrapper is not None and context.expanding < 4 and _exports_inside(wrapper[1]):
        return _expand_wrapper(facts, tokens, index, wrapper, context)
    handler = _MODULE_HANDLERS.get(name)
    if handler is None and _is_driver_registration(name):
        handler = _driver_registration
    return handler(facts, tokens, index, context) if handler is not None else None


def _exports_inside(body: list[Token]) -> bool:
    return any(t.text.startswith("EXPORT_") for t in body)


def _expand_wrapper(
    facts: FileFacts,
    tokens: list[Token],
    index: int,
    wrapper: tuple[list[str], list[Token]],
    context: MacroContext,
) -> int:
    """A macro of the file or its own headers whose body exports its argument
    (`#define IWL_EXPORT_SYMBOL(sym) EXPORT_SYMBOL_NS_GPL(sym, IWLWIFI)`): substitute the
    arguments, paste `##`, and read the exports of the expansion at the call's line."""
    params, body = wrapper
    args, end = macro_arguments(tokens, index + 1)
    values = {p: a for p, a in zip(params, args, strict=False)}
    call = tokens[index]
    expanded: list[Token] = []
    position = 0
    while position < len(body):
        token = body[position]
        if token.text == "#" and position + 1 < len(body) and body[position + 1].text != "#":
            position += 1  # stringification: not an export name
            continue
        if token.text == "##" and expanded and position + 1 < len(body):
            following = body[position + 1]
            pasted = "".join(t.text for t in values.get(following.text, [following]))
            previous = expanded.pop()
            expanded.append(Token("ident", previous.text + pasted, call.line, call.col))
            position += 2
            continue
        replacement = values.get(token.text) if token.kind == "ident" else None
        if replacement is not None:
            expanded.extend(Token(t.kind, t.text, call.line, call.col) for t in replacement)
        else:
            expanded.append(Token(token.kind, token.text, call.line, call.col))
        position += 1
    context.expanding += 1
    try:
        inner = 0
        while inner < len(expanded):
            token = expanded[inner]
            if (
                token.kind == "ident"
                and inner + 1 < len(expanded)
                and expanded[inner + 1].text == "("
            ):
                handled = read_macro(facts, expanded, inner, context)
                if handled is not None:
                    inner = handled
                    continue
            inner += 1
    finally:
        context.expanding -= 1
    return end
