"""Three-valued evaluation of the headers' ``#if`` lines (true, false, unknown) against the
configuration and the macros every header defines alike; the arithmetic is the one ``#if``
evaluator's (``preprocess/condition.py``).
"""

from __future__ import annotations

import re

from kmodlint.cfront.lex.tokenizer import token_texts
from kmodlint.cfront.preprocess.condition import ConditionError, value_of

# What is known while evaluating header conditionals (besides the kernel configuration).
# MODULE is not one of them: built-in-only code (``postcore_initcall`` from linux/init.h's
# ``#ifndef MODULE`` branch) and modules (linux/module.h's) both need their macros.
KNOWN_TRUE = {
    "__KERNEL__": 1,
    "__x86_64__": 1,
    "__GNUC__": 12,
    "__GNUC_MINOR__": 2,
    "__GNUC_PATCHLEVEL__": 0,
    "__STDC__": 1,
    "__STDC_VERSION__": 201112,
    "__LITTLE_ENDIAN": 1234,
    "__LITTLE_ENDIAN_BITFIELD": 1,
    "__LP64__": 1,
    "__CHAR_BIT__": 8,
    "__SIZEOF_LONG__": 8,
    "__SIZEOF_POINTER__": 8,
    "__SIZEOF_INT128__": 16,
    "__ORDER_LITTLE_ENDIAN__": 1234,
    "__BYTE_ORDER__": 1234,
    "BITS_PER_LONG": 64,
    "__BITS_PER_LONG": 64,
}
KNOWN_FALSE = frozenset(
    [
        "__ASSEMBLY__",
        "__ASSEMBLER__",
        "__cplusplus",
        "__CHECKER__",
        "__GENKSYMS__",
        "BUILD_VDSO",
        "BUILD_VDSO32",
        "BUILD_VDSO32_64",
        "__DISABLE_EXPORTS",
        "__i386__",
        "__clang__",
        "__BIG_ENDIAN",
        "__BIG_ENDIAN_BITFIELD",
        "__CHECK_ENDIAN__",
        "LINKER_SCRIPT",
        "__KVM_NVHE_HYPERVISOR__",
        "__KVM_VHE_HYPERVISOR__",
        "__BPF_TRACING__",
        "__NO_FORTIFY",
        "__EXPORTED_HEADERS__",
        "__USE_MISC",
        "__GLIBC__",
        "__UCLIBC__",
        "__ILP32__",
        "__x86_32__",
        "_LINUX_KCONFIG_H",
        "__clang_major__",
        "__SANITIZE_ADDRESS__",
        "__SANITIZE_THREAD__",
        "__SANITIZE_HWADDRESS__",
        "__COVERITY__",
        "__CUDACC__",
        "STATIC_KEYS_DEBUG",
        "DISABLE_BRANCH_PROFILING",
        "BOOT_COMPRESSED",
    ]
)


class CondEvaluator:
    """Three-valued evaluation of header ``#if`` lines: True, False or None (unknown)."""

    def __init__(
        self, config: dict[str, str] | None, macros: dict[str, list[str]] | None = None
    ) -> None:
        self.config = config
        # object-like macros every header defines the same way (GCC_VERSION,
        # ACPI_MACHINE_WIDTH): their integer value, when the body has one, is known
        self.macros = macros or {}
        self._macro_values: dict[str, int | None] = {}
        self._busy: set[str] = set()

    def _macro_value(self, name: str) -> int | None:
        if name in self._macro_values:
            return self._macro_values[name]
        if name in self._busy or len(self._busy) > 16:
            return None
        self._busy.add(name)
        try:
            value = self.integer(" ".join(self.macros[name]))
        finally:
            self._busy.discard(name)
        self._macro_values[name] = value
        return value

    def integer(self, expr: str) -> int | None:
        """The value of a constant integer expression without unknowns, or None."""
        pieces = self._pieces(token_texts(expr))
        if pieces is None or None in pieces or not pieces:
            return None
        return _c_value("".join(p for p in pieces if p is not None))

    def defined(self, name: str) -> bool | None:
        if name in KNOWN_TRUE:
            return True
        if name in KNOWN_FALSE:
            return False
        if name.startswith("CONFIG_") and self.config is not None:
            return name in self.config
        return None

    def _value(self, name: str) -> int | None:
        if name in KNOWN_TRUE:
            return KNOWN_TRUE[name]
        if name in KNOWN_FALSE:
            return 0
        if name.startswith("CONFIG_") and self.config is not None:
            raw = self.config.get(name)
            if raw is None:
                return 0
            try:
                return int(raw, 0)
            except ValueError:
                return 1
        if name in self.macros:
            return self._macro_value(name)
        return None

    def evaluate(self, expr: str) -> bool | None:
        pieces = self._pieces(token_texts(expr))
        if pieces is None:
            return None
        # An unknown operand may hold any value: the result is known only when it is the same
        # for 0, 1 and every constant of the line (and its neighbours), so that
        # ``WIDTH == 64`` / ``#elif WIDTH == 32`` with WIDTH unknown stay unknown.
        samples = {0, 1}
        for p in pieces:
            if p is not None and re.fullmatch(r"-?\d\w*", p.strip().strip("()")):
                try:
                    c = int(p.strip().strip("()"), 0)
                except ValueError:
                    continue
                samples |= {c - 1, c, c + 1}
        results = set()
        for unknown in sorted(samples):
            value = _c_value("".join(f"({unknown})" if p is None else p for p in pieces))
            if value is None:
                return None
            results.add(bool(value))
        return results.pop() if len(results) == 1 else None

    def _pieces(self, tokens: list[str]) -> list[str | None] | None:
        """C text for each token (None: an unknown operand), or None if the line has
        something this evaluator does not model (function-like macros, ``?:``)."""
        pieces: list[str | None] = []  # None marks an unknown operand
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t == "defined":
                if i + 1 < len(tokens) and tokens[i + 1] == "(":
                    name = tokens[i + 2] if i + 2 < len(tokens) else ""
                    i += 4
                else:
                    name = tokens[i + 1] if i + 1 < len(tokens) else ""
                    i += 2
                definition = self.defined(name)
                pieces.append(None if definition is None else str(int(definition)))
                continue
            if t in ("IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE") and (
                i + 3 < len(tokens) and tokens[i + 1] == "(" and tokens[i + 3] == ")"
            ):
                name = tokens[i + 2]
                if self.config is None:
                    pieces.append(None)
                else:
                    y = name in self.config
                    m = name + "_MODULE" in self.config
                    val = {"IS_BUILTIN": y, "IS_MODULE": m}.get(t, y or m)
                    pieces.append(str(int(val)))
                i += 4
                continue
            if re.match(r"[A-Za-z_]", t):
                v = self._value(t)
                if i + 1 < len(tokens) and tokens[i + 1] == "(":
                    return None  # a function-like macro we do not evaluate
                pieces.append(None if v is None else f"({v})")
            elif re.match(r"\.?\d", t):
                pieces.append(re.sub(r"[uUlL]+$", "", t))
            elif t in ("?", ":", "'") or t.startswith(("'", '"')):
                return None
            else:
                pieces.append(f" {t} ")
            i += 1
        return pieces


def _c_value(text: str) -> int | None:
    """A constant expression's value with C's operators and integer semantics (the one
    `#if` evaluator, cfront/preprocess/condition.py), or None when it cannot be evaluated."""
    try:
        return value_of(text, {})
    except (ConditionError, ValueError, OverflowError, RecursionError):
        return None
