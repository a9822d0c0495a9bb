"""The token path: facts a token scan can prove, for every file, without parsing C.

It sees the file after `#if` selection but before macro expansion, so it reads the macros
that carry module facts (EXPORT_SYMBOL*, MODULE_*, module_init/exit, module_param*) by
name, and top-level definitions and declarations by shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kmodlint.cfront.facts import (
    Definition,
    ExternDecl,
    FileFacts,
    Loc,
    ModinfoTag,
    Param,
    SourceExport,
)
from kmodlint.cfront.lex.keywords import C_KEYWORDS
from kmodlint.cfront.lex.tokenizer import Token, tokenize
from kmodlint.cfront.preprocess.directives import LexedFile
from kmodlint.cfront.tokens.ctype import function_type, variable_type

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
_INIT_SECTIONS = {"__init": "init", "__initdata": "init", "__initconst": "init"}
_EXIT_SECTIONS = {"__exit": "exit", "__exitdata": "exit"}
# GNU spellings and kernel names that are never an external symbol either
_KEYWORDS = C_KEYWORDS | frozenset(
    [
        "NULL",
        "__alignof__",
        "__asm__",
        "__attribute__",
        "__builtin_expect",
        "__extension__",
        "__inline",
        "__inline__",
        "__restrict",
        "__typeof__",
        "__volatile__",
        "asm",
        "bool",
        "false",
        "offsetof",
        "static_assert",
        "true",
        "typeof",
    ]
)


def scan(lexed: LexedFile, path: str, predefined: dict[str, str]) -> FileFacts:
    facts = FileFacts(path=path)
    tokens = lexed.tokens
    context = _Context(lexed, path, _default_namespaces(lexed, predefined))
    depth = 0  # brace depth
    statement: list[Token] = []  # top-level tokens since the last ; or }
    initializer = False  # the statement has a top-level `=`
    index, count = 0, len(tokens)
    while index < count:
        token = tokens[index]
        text = token.text
        nxt = tokens[index + 1].text if index + 1 < count else ""
        if token.kind == "ident" and nxt == "(":
            handled = _macro(facts, tokens, index, context)
            if handled is not None:
                if depth == 0:
                    statement, initializer = [], False
                index = handled
                continue
        if text == "{":
            if depth == 0 and _is_function_body(statement):
                _record_function(facts, statement, path)
                statement, initializer = [], False
            depth += 1
        elif text == "}":
            depth = max(0, depth - 1)
            if depth == 0 and statement and not initializer:
                statement = []
        elif text == ";" and depth == 0:
            _record_declaration(facts, statement, path)
            statement, initializer = [], False
        elif depth == 0:
            statement.append(token)
            initializer = initializer or text == "="
        if depth > 0 or initializer:
            _reference(facts, tokens, index, path)
        index += 1
    _macro_uses(facts, lexed)
    return facts


@dataclass(slots=True)
class _Context:
    lexed: LexedFile
    path: str
    default_ns: list[tuple[int, str]]
    expanding: int = 0  # depth of wrapper-macro expansion


def _default_namespaces(lexed: LexedFile, predefined: dict[str, str]) -> list[tuple[int, str]]:
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


def _arguments(tokens: list[Token], open_index: int) -> tuple[list[list[Token]], int]:
    """Split the parenthesised argument list starting at `open_index`; return the
    arguments and the index after the closing parenthesis."""
    args: list[list[Token]] = [[]]
    depth = 0
    index = open_index
    while index < len(tokens):
        text = tokens[index].text
        if text in "([{" and len(text) == 1:
            depth += 1
            if depth > 1:
                args[-1].append(tokens[index])
        elif text in ")]}" and len(text) == 1:
            depth -= 1
            if depth == 0:
                return args, index + 1
            args[-1].append(tokens[index])
        elif text == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(tokens[index])
        index += 1
    return args, index


def _string_value(arg: list[Token]) -> str | None:
    """Adjacent string literals concatenated, as the compiler does; None if not a string."""
    if not arg or any(t.kind != "string" for t in arg):
        return None
    return "".join(_unescape(t.text.lstrip("L")[1:-1]) for t in arg)


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body


def _name_of(arg: list[Token]) -> str | None:
    return arg[0].text if len(arg) == 1 and arg[0].kind == "ident" else None


def _loc(path: str, token: Token) -> Loc:
    return Loc(path, token.line, token.col)


def _resolve_name(arg: list[Token], table: dict[str, str]) -> str | None:
    """An identifier argument, followed through object-like renames of the file and its
    own headers (`#define ieee80211_rx ieee80211_rx_rsl`)."""
    name = _name_of(arg)
    for _ in range(8):
        if name is None or name not in table:
            return name
        value = table[name].strip()
        if not value.isidentifier() or value == name:
            return name
        name = value
    return name


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
    args, _ = _arguments(tokens, index + 1)
    if attr is not None:
        kind = next(g for g in attr.groups() if g)
        first = _name_of(args[0]) if args else None
        return [_ATTR_PREFIX.get(kind, "class_attr_") + first] if first else []
    prefix = _name_of(args[7]) if len(args) == 8 else None
    return [prefix + part for part in _INTERVAL_TREE_PARTS] if prefix else []


# include/linux/pm.h (6.1): EXPORT_[NS_][GPL_]{SIMPLE,RUNTIME}_DEV_PM_OPS(name, ..., [ns])
# export the dev_pm_ops object when CONFIG_PM is set.
_PM_OPS = re.compile(r"EXPORT_(NS_)?(GPL_)?(SIMPLE|RUNTIME)_DEV_PM_OPS")


def _macro(
    facts: FileFacts,
    tokens: list[Token],
    index: int,
    context: _Context,
) -> int | None:
    """Read a fact-carrying macro call at `index`; the index after it, or None."""
    name = tokens[index].text
    path = context.path
    table = context.lexed.table
    if name in _EXPORTS:
        args, end = _arguments(tokens, index + 1)
        kind, takes_namespace = _EXPORTS[name]
        symbol = _resolve_name(args[0], table)
        if symbol is None:
            return end
        namespace: str | None = ""
        if takes_namespace and len(args) > 1:
            namespace = _string_value(args[1]) or (_name_of(args[1]) or "")
            if "FOR_MODULES" in name:
                namespace = f"module:{namespace}"
        elif not takes_namespace:
            namespace = _namespace_at(context.default_ns, index)
        facts.exports.append(
            SourceExport(symbol, kind, namespace or None, _loc(path, tokens[index]))
        )
        return end
    if name in ("EXPORT_TRACEPOINT_SYMBOL", "EXPORT_TRACEPOINT_SYMBOL_GPL"):
        args, end = _arguments(tokens, index + 1)
        # A tracepoint name may start with a digit (9p_fid_ref): pasted, it is valid.
        point = "".join(t.text for t in args[0]) if args[0] else ""
        kind = "EXPORT_SYMBOL_GPL" if name.endswith("_GPL") else "EXPORT_SYMBOL"
        if point.replace("_", "a").isalnum():
            for pattern in _TRACEPOINT_PARTS:
                facts.exports.append(
                    SourceExport(pattern.format(point), kind, None, _loc(path, tokens[index]))
                )
                # Defined by DEFINE_TRACE() when a file of the module sets CREATE_TRACE_POINTS
                # and includes the trace header (include/trace/define_trace.h): an expansion
                # the token path does not follow, so "maybe defined", never "undefined".
                facts.macro_names.add(pattern.format(point))
        return end
    if name in _STATIC_CALL_EXPORTS:
        args, end = _arguments(tokens, index + 1)
        call = _name_of(args[0]) if args else None
        kind = "EXPORT_SYMBOL_GPL" if name.endswith("_GPL") else "EXPORT_SYMBOL"
        if call:
            parts = ("__SCT__",) if "_TRAMP" in name else STATIC_CALL_PREFIXES
            for prefix in parts:
                facts.exports.append(
                    SourceExport(prefix + call, kind, None, _loc(path, tokens[index]))
                )
                # DEFINE_STATIC_CALL*() defines them, often through an x-macro: maybe defined
                facts.macro_names.add(prefix + call)
        return end
    if name in ("EXPORT_PER_CPU_SYMBOL", "EXPORT_PER_CPU_SYMBOL_GPL"):
        args, end = _arguments(tokens, index + 1)
        symbol = _resolve_name(args[0], table)
        kind = "EXPORT_SYMBOL_GPL" if name.endswith("_GPL") else "EXPORT_SYMBOL"
        if symbol:
            namespace = _namespace_at(context.default_ns, index) or None
            facts.exports.append(SourceExport(symbol, kind, namespace, _loc(path, tokens[index])))
            # DEFINE_PER_CPU() often sits in a header or behind a wrapper macro (per-CPU
            # sections, DEFINE_PER_CPU_SHARED_ALIGNED...): maybe defined, never "undefined".
            facts.macro_names.add(symbol)
        return end
    pasted = _pasted_definitions(name, tokens, index)
    if pasted:
        # DEVICE_ATTR(x, ...) defines dev_attr_x: maybe defined (static or not, the token
        # scan cannot always tell), never "undefined"; the call goes on as any other
        facts.macro_names.update(pasted)
        return None
    pm_ops = _PM_OPS.fullmatch(name)
    if pm_ops:
        args, end = _arguments(tokens, index + 1)
        symbol = _name_of(args[0])
        if symbol and "CONFIG_PM" in table:
            kind = "EXPORT_SYMBOL_GPL" if pm_ops.group(2) else "EXPORT_SYMBOL"
            namespace = None
            if pm_ops.group(1) and len(args) > 1:
                namespace = _string_value(args[-1]) or _name_of(args[-1])
            facts.exports.append(SourceExport(symbol, kind, namespace, _loc(path, tokens[index])))
            facts.definitions.setdefault(
                symbol, Definition(symbol, False, False, None, _loc(path, tokens[index]))
            )
        return end
    wrapper = context.lexed.functions.get(name)
    if wrapper is not None and context.expanding < 4 and _exports_inside(wrapper[1]):
        return _expand_wrapper(facts, tokens, index, wrapper, context)
    if name in _MODINFO:
        args, end = _arguments(tokens, index + 1)
        value = _string_value(args[0])
        if value is None and _name_of(args[0]) in table:
            # MODULE_LICENSE(DRIVER_LICENSE) with #define DRIVER_LICENSE "GPL"
            value = _string_value(list(tokenize_value(table[_name_of(args[0]) or ""])))
        if value is None and name == "MODULE_IMPORT_NS":
            value = _name_of(args[0])
        if value is None and name not in ("MODULE_LICENSE", "MODULE_IMPORT_NS") and args[0]:
            # "Echoaudio " ECHOCARD_NAME " driver", XFS_VERSION_STRING " with " ...: present,
            # its exact text decided by macros; the rules ask only whether there is one.
            value = " ".join(t.text for t in args[0])
        if value is not None:
            facts.modinfo.append(ModinfoTag(_MODINFO[name], value, _loc(path, tokens[index])))
        return end
    if name == "IP_SET_MODULE_DESC":
        # include/linux/netfilter/ipset/ip_set.h: MODULE_DESCRIPTION(a "-type of IP sets,
        # revisions " b "-" c) through _IP_SET_MODULE_DESC
        args, end = _arguments(tokens, index + 1)
        value = _string_value(args[0]) if args and args[0] else None
        if value is not None:
            facts.modinfo.append(ModinfoTag("description", value, _loc(path, tokens[index])))
        return end
    if name == "MODULE_INFO":
        args, end = _arguments(tokens, index + 1)
        tag = _name_of(args[0])
        value = _string_value(args[1]) if len(args) > 1 else None
        if tag and value is not None:
            facts.modinfo.append(ModinfoTag(tag, value, _loc(path, tokens[index])))
        return end
    if name in ("module_init", "module_exit") or name in _INITCALLS:
        args, end = _arguments(tokens, index + 1)
        target = _name_of(args[0])
        if target:
            where = _loc(path, tokens[index])
            if name != "module_exit":
                facts.init = facts.init or where
            else:
                facts.exit = facts.exit or where
            facts.references.setdefault(target, where)
        return end
    if name.startswith("module_") and (name.endswith("_driver") or name == "module_misc_device"):
        # module_platform_driver() & co. define both init and exit (linux/device/driver.h).
        _, end = _arguments(tokens, index + 1)
        where = _loc(path, tokens[index])
        facts.init = facts.init or where
        facts.exit = facts.exit or where
        return end
    if name in _PARAMS:
        args, end = _arguments(tokens, index + 1)
        at_name, at_var, at_type, at_perm = _PARAMS[name]
        if len(args) > max(at_name, at_var, at_type, at_perm):
            param = _name_of(args[at_name])
            variable = _name_of(args[at_var]) if at_var >= 0 else None
            type_name = " ".join(t.text for t in args[at_type]) if at_type >= 0 else ""
            if name == "module_param_string":
                type_name = "string"
            perm = " ".join(t.text for t in args[at_perm])
            if param:
                facts.params.append(
                    Param(param, variable or "", type_name, perm, _loc(path, tokens[index]), name)
                )
                if variable:
                    facts.references.setdefault(variable, _loc(path, tokens[index]))
        return end
    return None


def _is_function_body(statement: list[Token]) -> bool:
    """`... name ( ... ) [attributes] {` at file scope, not `= {` or `struct x {`."""
    if not statement or any(t.text == "=" for t in statement):
        return False
    return any(t.text == ")" for t in statement) and _head(statement) is not None


_ANNOTATION_MACROS = frozenset(
    [
        "__attribute__",
        "__acquires",
        "__releases",
        "__must_hold",
        "__printf",
        "__scanf",
        "__section",
        "__aligned",
        "__alias",
        "__diag_ignore",
        "__cond_acquires",
        "__no_sanitize_address",
        "__weak",
        "__visible",
    ]
)


def _is_caps_macro(name: str) -> bool:
    return name.isupper() or (name.replace("_", "").isupper() and name.upper() == name)


def _head(statement: list[Token]) -> Token | None:
    """The declared name: the last identifier before a `(` at paren depth 0 that is
    neither an annotation macro nor an all-caps macro (DEFINE_SHOW_ATTRIBUTE(x) before
    a function leaves no `;`)."""
    depth = 0
    candidates = []
    for position, token in enumerate(statement):
        if token.text == "(":
            if depth == 0 and position > 0 and statement[position - 1].kind == "ident":
                candidates.append(statement[position - 1])
            depth += 1
        elif token.text == ")":
            depth -= 1
    named = [
        c
        for c in candidates
        if c.text not in _KEYWORDS
        and c.text not in _ANNOTATION_MACROS
        and not _is_caps_macro(c.text)
    ]
    return named[-1] if named else None


def _macro_arguments(facts: FileFacts, statement: list[Token]) -> None:
    """Identifiers inside the argument lists of all-caps macro calls of a statement."""
    depth = 0
    inside = False
    for position, token in enumerate(statement):
        if token.text == "(":
            if depth == 0:
                before = statement[position - 1] if position else None
                inside = (
                    before is not None and before.kind == "ident" and (_is_caps_macro(before.text))
                )
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif inside and depth > 0 and token.kind == "ident" and token.text not in _KEYWORDS:
            facts.macro_names.add(token.text)


def _specifiers(statement: list[Token], head: Token) -> list[str]:
    return [t.text for t in statement if t is not head and t.kind == "ident"]


def _section_of(words: list[str]) -> str | None:
    for word in words:
        if word in _INIT_SECTIONS:
            return "init"
        if word in _EXIT_SECTIONS:
            return "exit"
    return None


def _record_function(facts: FileFacts, statement: list[Token], path: str) -> None:
    _macro_arguments(facts, statement)
    head = _head(statement)
    if head is None:
        return
    head_at = statement.index(head)
    words = [t.text for t in statement[:head_at] if t.kind == "ident"]
    if "typedef" in words:
        return
    params, _ = _arguments(statement, head_at + 1)
    facts.definitions.setdefault(
        head.text,
        Definition(
            head.text,
            is_static="static" in words,
            is_function=True,
            section=_section_of(words),
            loc=_loc(path, head),
            ctype=function_type(statement[:head_at], params),
            token_ctype=function_type(statement[:head_at], params),
        ),
    )


def _record_declaration(facts: FileFacts, statement: list[Token], path: str) -> None:
    """A file-scope `...;`: a variable definition, an extern declaration or a prototype."""
    if not statement:
        return
    _macro_arguments(facts, statement)
    words = [t.text for t in statement if t.kind == "ident"]
    tag_only = words and words[0] in ("struct", "union", "enum") and _no_declarator(statement)
    if not words or tag_only:
        return
    if "typedef" in words:
        return
    declarators = _declarators(statement)
    specifiers: list[Token] = []
    for number, (name_token, is_function, has_init) in enumerate(declarators):
        name = name_token.text
        if name in _KEYWORDS:
            continue
        at = statement.index(name_token)
        commas = [i for i in range(at) if statement[i].text == ","]
        if number == 0 or not commas:
            type_prefix = statement[:at]
            specifiers = [t for t in type_prefix if t.text != "*"]
        else:
            type_prefix = specifiers + statement[commas[-1] + 1 : at]
        prefix = [t.text for t in statement[:at] if t.kind == "ident"]
        if number == 0 and is_function and not prefix:
            # `bfa_fsm_state_decl(...);`, `compile_time_assert(...);` at file scope: C has
            # no implicit int (-Werror=implicit-int), so a declarator with no type before it
            # is a macro invocation, not a prototype; its arguments were noted above.
            return
        extern = "extern" in prefix
        if is_function:
            params, _ = _arguments(statement, at + 1)
            ctype = function_type(type_prefix, params)
        else:
            ctype = variable_type(type_prefix, statement[at + 1 : at + 2])
        # `T f(...) __attribute__((alias("g")));` defines f (mtd's cfi_cmdset_0003 is
        # cfi_cmdset_0001 under another name, exported as such): a definition, not a prototype
        aliased = any(
            t.text == "alias" and i + 1 < len(statement) and statement[i + 1].text == "("
            for i, t in enumerate(statement[at + 1 :], start=at + 1)
        )
        if (is_function or (extern and not has_init)) and not aliased:
            facts.externs.append(
                ExternDecl(
                    name, is_function, extern, _loc(path, name_token), ctype, token_ctype=ctype
                )
            )
        else:
            facts.definitions.setdefault(
                name,
                Definition(
                    name,
                    is_static="static" in prefix,
                    is_function=is_function,
                    section=_section_of(words),
                    loc=_loc(path, name_token),
                    ctype=ctype,
                    token_ctype=ctype,
                ),
            )


def _no_declarator(statement: list[Token]) -> bool:
    """`struct foo { ... };` or `struct foo;`: only a tag, no object declared."""
    return statement[-1].text in ("}",) or len(statement) <= 2


def _declarators(statement: list[Token]) -> list[tuple[Token, bool, bool]]:
    """(name, is a function declarator, has an initializer) per declarator of a
    declaration, split at top-level commas."""
    found = []
    depth = 0
    part: list[Token] = []
    parts = []
    for token in statement:
        if token.text in ("(", "[", "{"):
            depth += 1
        elif token.text in (")", "]", "}"):
            depth -= 1
        if token.text == "," and depth == 0:
            parts.append(part)
            part = []
        else:
            part.append(token)
    parts.append(part)
    for part in parts:
        declarator = _declarator_name(part)
        if declarator is not None:
            found.append(declarator)
    return found


def _declarator_name(part: list[Token]) -> tuple[Token, bool, bool] | None:
    has_init = any(t.text == "=" for t in part)
    if has_init:
        part = part[: next(i for i, t in enumerate(part) if t.text == "=")]
    depth = 0
    last_ident: Token | None = None
    for position, token in enumerate(part):
        if token.text in ("(", "["):
            if depth == 0 and token.text == "(" and last_ident is not None:
                # `name(` : a function declarator, unless name is a macro call.
                if last_ident.text in _ANNOTATION_MACROS or _is_caps_macro(last_ident.text):
                    last_ident = None
                    depth += 1
                    continue
                return last_ident, True, has_init
            if depth == 0 and token.text == "(" and position + 1 < len(part):
                # `(*name)(...)`: a function pointer variable.
                inner = [t for t in part[position + 1 :] if t.kind == "ident"]
                if part[position + 1].text == "*" and inner:
                    return inner[0], False, has_init
            depth += 1
        elif token.text in (")", "]"):
            depth -= 1
        elif token.kind == "ident" and depth == 0 and token.text not in _KEYWORDS:
            last_ident = token
    if last_ident is None:
        return None
    return last_ident, False, has_init


def _in_initializer(statement: list[Token]) -> bool:
    return any(t.text == "=" for t in statement)


def _macro_uses(facts: FileFacts, lexed: LexedFile) -> None:
    """A name the file or its own headers #define is no symbol: `i40e_allocate_dma_mem(...)`
    with `#define i40e_allocate_dma_mem(h, m, u, s, a) i40e_allocate_dma_mem_d(h, m, s, a)`
    uses i40e_allocate_dma_mem_d. Replace each such use by the names its body uses (a few
    levels deep), as the preprocessor would; without the AST this is the best guess."""
    expanded: set[str] = set()
    for _ in range(4):
        macros = [
            name
            for name in facts.references
            if name not in expanded
            and (
                name in lexed.functions or (name in lexed.table and not name.startswith("CONFIG_"))
            )
        ]
        if not macros:
            return
        for name in macros:
            expanded.add(name)
            where = facts.references.pop(name)
            params, body = lexed.functions.get(name, ([], []))
            if name not in lexed.functions:
                body = tokenize_value(lexed.table[name])
            for index, token in enumerate(body):
                # a macro naming itself in its body means the function (no recursion in cpp)
                if token.kind != "ident" or token.text in params:
                    continue
                if index > 0 and body[index - 1].text in (".", "->", "#", "##"):
                    continue
                if index + 1 < len(body) and body[index + 1].text == "##":
                    continue
                if token.text in _KEYWORDS or token.text == "__VA_ARGS__":
                    continue
                facts.references.setdefault(token.text, where)


# Words before an identifier that make it an expression, not a declarator.
_NOT_TYPES = frozenset(["return", "case", "sizeof", "else", "do", "typeof", "__typeof__"])


# include/linux/module.h: symbol_get(x) is __symbol_get(__stringify(x)) (typeof(&x) only
# types it), symbol_put/symbol_request likewise, and media's dvb_attach/dvb_detach call
# them: the loader looks the name up at run time, the object file holds no reference.
_BY_NAME_ONLY = frozenset(
    ("symbol_get", "symbol_put", "symbol_request", "dvb_attach", "dvb_detach")
)


def _reference(facts: FileFacts, tokens: list[Token], index: int, path: str) -> None:
    token = tokens[index]
    if token.kind != "ident" or token.text in _KEYWORDS:
        return
    if index > 1 and tokens[index - 1].text == "(" and tokens[index - 2].text in _BY_NAME_ONLY:
        return
    if index > 0 and tokens[index - 1].text in (".", "->"):
        return
    if index > 0 and tokens[index - 1].text in ("struct", "union", "enum", "goto"):
        return
    if (
        index > 0
        and tokens[index - 1].kind == "ident"
        and tokens[index - 1].text not in _NOT_TYPES
        and index + 1 < len(tokens)
        and tokens[index + 1].text in (";", ",", "[", ":", "=", ")")
    ):
        return  # `struct rtl_ops rtl_ops;`, `u8 val;`: a declarator, not a use
    if (
        index + 1 < len(tokens)
        and tokens[index + 1].text == ":"
        and (index == 0 or tokens[index - 1].text in (";", "{", "}"))
    ):
        return  # a label
    facts.references.setdefault(token.text, _loc(path, token))


def tokenize_value(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.kind != "newline"]


def _exports_inside(body: list[Token]) -> bool:
    return any(t.text.startswith("EXPORT_") for t in body)


def _expand_wrapper(
    facts: FileFacts,
    tokens: list[Token],
    index: int,
    wrapper: tuple[list[str], list[Token]],
    context: _Context,
) -> int:
    """A macro of the file or its own headers whose body exports its argument
    (`#define IWL_EXPORT_SYMBOL(sym) EXPORT_SYMBOL_NS_GPL(sym, IWLWIFI)`): substitute the
    arguments, paste `##`, and read the exports of the expansion at the call's line."""
    params, body = wrapper
    args, end = _arguments(tokens, index + 1)
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
                handled = _macro(facts, expanded, inner, context)
                if handled is not None:
                    inner = handled
                    continue
            inner += 1
    finally:
        context.expanding -= 1
    return end
