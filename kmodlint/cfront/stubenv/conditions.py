"""Three-valued evaluation of the headers' ``#if`` lines (true, false, unknown) against the
configuration and the macros every header defines alike. The evaluation, with its unknowns,
is the one ``#if`` evaluator's (``preprocess/condition.py``); this module says which names
are known and what they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kmodlint.cfront.preprocess.condition import (
    UNKNOWN,
    ConditionError,
    PPNumber,
    Result,
    Unknown,
    truth_or_unknown,
    value_or_unknown,
)

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


_T = TypeVar("_T")


class CondEvaluator:
    """Three-valued evaluation of header ``#if`` lines: True, False or None (unknown).

    It is the evaluator's `Names`: what the configuration sets, what every build of the
    target has alike (KNOWN_TRUE, KNOWN_FALSE) and the value of an object-like macro every
    header defines alike are known; any other name is UNKNOWN, and so is a call of a
    function-like macro other than ``KERNEL_VERSION()``. Each unknown is its own: an
    answer is known only when it is the same whatever each of them holds."""

    def __init__(
        self, config: dict[str, str] | None, macros: dict[str, list[str]] | None = None
    ) -> None:
        self.config = config
        # object-like macros every header defines the same way (GCC_VERSION,
        # ACPI_MACHINE_WIDTH): their integer value, when the body has one, is known
        self.macros = macros or {}
        # the value of such a macro, once for the whole header scan (the table is fixed)
        self._macro_values: dict[str, Result] = {}
        self._busy: set[str] = set()

    def evaluate(self, expr: str) -> bool | None:
        """Whether cpp takes ``#if expr``, or None when that depends on what is unknown
        (or the line is no expression this evaluator reads)."""
        truth = _guarded(lambda: truth_or_unknown(expr, self))
        return None if isinstance(truth, Unknown) else truth

    def integer(self, expr: str) -> int | None:
        """The value of a constant integer expression without unknowns, or None."""
        result = _guarded(lambda: value_or_unknown(expr, self))
        return None if isinstance(result, Unknown) else result.number

    def defined(self, name: str) -> bool | None:
        if name in KNOWN_TRUE:
            return True
        if name in KNOWN_FALSE:
            return False
        if name.startswith("CONFIG_") and self.config is not None:
            return name in self.config
        return None

    # -- the evaluator's Names --------------------------------------------------------

    def value(self, name: str) -> Result:
        if name in KNOWN_TRUE:
            return PPNumber(KNOWN_TRUE[name])
        if name in KNOWN_FALSE:
            return PPNumber(0)
        if name.startswith("CONFIG_") and self.config is not None:
            raw = self.config.get(name)
            if raw is None:
                return PPNumber(0)
            try:
                number = int(raw, 0)
            except ValueError:
                return PPNumber(1)  # a string option: defined, so nonzero
            # read back as a C constant: past INTMAX_MAX (an address) it is unsigned
            return _guarded(lambda: value_or_unknown(str(number), self))
        if name in self.macros:
            return self._macro_value(name)
        return UNKNOWN

    def _macro_value(self, name: str) -> Result:
        if name in self._macro_values:
            return self._macro_values[name]
        if name in self._busy or len(self._busy) > 16:
            return UNKNOWN  # a macro defined through itself, or too deep to follow
        self._busy.add(name)
        try:
            value = _guarded(lambda: value_or_unknown(" ".join(self.macros[name]), self))
        finally:
            self._busy.discard(name)
        self._macro_values[name] = value
        return value

    def is_defined(self, name: str) -> bool | Unknown:
        definition = self.defined(name)
        return UNKNOWN if definition is None else definition

    def config_test(self, test: str, option: str) -> bool | Unknown:
        if self.config is None:
            return UNKNOWN
        builtin = option in self.config
        module = option + "_MODULE" in self.config
        # IS_REACHABLE is IS_ENABLED here: the headers serve modules and built-in code alike
        return {"IS_BUILTIN": builtin, "IS_MODULE": module}.get(test, builtin or module)

    def call(self, name: str) -> Result:
        return UNKNOWN


def _guarded(evaluation: Callable[[], _T]) -> _T | Unknown:
    """An evaluation's answer, UNKNOWN when it cannot be made (no expression the evaluator
    reads, undefined arithmetic, nesting deeper than Python's stack)."""
    try:
        return evaluation()
    except (ConditionError, RecursionError):
        return UNKNOWN
