"""The token path: facts a token scan can prove, for every file, without parsing C.

It sees the file after `#if` selection but before macro expansion, so it reads the macros
that carry module facts (EXPORT_SYMBOL*, MODULE_*, module_init/exit, module_param*) by
name, and top-level definitions and declarations by shape.
"""

from __future__ import annotations

from kmodlint.cfront.facts import (
    Definition,
    ExternDecl,
    FileFacts,
)
from kmodlint.cfront.lex.keywords import C_KEYWORDS
from kmodlint.cfront.lex.tokenizer import Token
from kmodlint.cfront.preprocess.directives import LexedFile
from kmodlint.cfront.tokens.arguments import location, macro_arguments, tokenize_value
from kmodlint.cfront.tokens.ctype import function_type, variable_type
from kmodlint.cfront.tokens.macros import MacroContext, default_namespaces, read_macro

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
    context = MacroContext(lexed, path, default_namespaces(lexed, predefined))
    depth = 0  # brace depth
    statement: list[Token] = []  # top-level tokens since the last ; or }
    initializer = False  # the statement has a top-level `=`
    index, count = 0, len(tokens)
    while index < count:
        token = tokens[index]
        text = token.text
        nxt = tokens[index + 1].text if index + 1 < count else ""
        if token.kind == "ident" and nxt == "(":
            handled = read_macro(facts, tokens, index, context)
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
    params, _ = macro_arguments(statement, head_at + 1)
    facts.definitions.setdefault(
        head.text,
        Definition(
            head.text,
            is_static="static" in words,
            is_function=True,
            section=_section_of(words),
            loc=location(path, head),
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
            params, _ = macro_arguments(statement, at + 1)
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
                    name, is_function, extern, location(path, name_token), ctype, token_ctype=ctype
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
                    loc=location(path, name_token),
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
    facts.references.setdefault(token.text, location(path, token))
