"""KM602, KM605-607: module parameters (module_param* in include/linux/moduleparam.h)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kmodlint.cfront.preprocess.condition import ConditionError, value_of
from kmodlint.diagnostics import Hit, Severity
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule
from kmodlint.source_facts import Param
from kmodlint.typecompat import KERNEL_TYPEDEFS, base_name

# include/uapi/linux/stat.h and include/linux/stat.h
_MODE_BITS = {
    "S_IRWXU": 0o700,
    "S_IRUSR": 0o400,
    "S_IWUSR": 0o200,
    "S_IXUSR": 0o100,
    "S_IRWXG": 0o070,
    "S_IRGRP": 0o040,
    "S_IWGRP": 0o020,
    "S_IXGRP": 0o010,
    "S_IRWXO": 0o007,
    "S_IROTH": 0o004,
    "S_IWOTH": 0o002,
    "S_IXOTH": 0o001,
    "S_IRWXUGO": 0o777,
    "S_IALLUGO": 0o7777,
    "S_IRUGO": 0o444,
    "S_IWUGO": 0o222,
    "S_IXUGO": 0o111,
}
# include/linux/moduleparam.h: param_check_<type>() -> the C type the variable must have.
PARAM_TYPES = {
    "byte": "unsigned char",
    "short": "short",
    "ushort": "unsigned short",
    "int": "int",
    "uint": "unsigned int",
    "long": "long",
    "ulong": "unsigned long",
    "ullong": "unsigned long long",
    "hexint": "unsigned int",
    "charp": "char *",
    "bool": "bool",
    "invbool": "bool",
    "bint": "int",
}
# Storage and qualifiers do not change which pointer __param_check() sees.
_QUALIFIERS = {"const", "volatile", "__restrict", "restrict", "__read_mostly", "static"}
_IDENT = re.compile(r"[A-Za-z_]\w*")
_NUMBER = re.compile(r"^0[0-7]{3}$|^0$")


def _permission_problem(perm: str) -> str | None:
    text = perm.strip()
    unknown = [name for name in _IDENT.findall(text) if name not in _MODE_BITS]
    if unknown:
        return None  # a macro of the driver's own: its value is not known here
    if _is_decimal(text):
        # The compiler reads 644 as decimal (01204): VERIFY_OCTAL_PERMISSIONS judges that
        # value; a decimal that happens to be valid (420 = 0644) is decimal-permissions.
        problem = _verify_octal(int(text), f"{text} (decimal, {int(text):04o} in octal)")
        return problem + "; write permissions in octal, e.g. 0644" if problem else None
    try:
        mode = value_of(text, {name: str(bits) for name, bits in _MODE_BITS.items()})
    except ConditionError:
        return None
    problem = _verify_octal(mode, f"{text} ({mode:04o})")
    return problem + "; use 0644, 0444 or 0" if problem else None


def _is_decimal(text: str) -> bool:
    return re.fullmatch(r"\d+", text) is not None and not _NUMBER.match(text)


def _verify_octal(mode: int, shown: str) -> str | None:
    """VERIFY_OCTAL_PERMISSIONS()'s BUILD_BUG_ON_ZEROs (include/linux/kernel.h, later
    include/linux/sysfs.h), on the value the compiler reads."""
    text = shown
    if mode & 0o002:
        return (
            f"permissions {text} make the parameter world-writable: "
            "VERIFY_OCTAL_PERMISSIONS fails the build (checkpatch: Exporting writable files "
            "is usually an error)"
        )
    if mode > 0o777:
        return f"permissions {text} exceed 0777: VERIFY_OCTAL_PERMISSIONS fails"
    user, group, other = (mode >> 6) & 7, (mode >> 3) & 7, mode & 7
    if (group & 2) and not (user & 2):
        return (
            f"permissions {text} let the group write what the owner cannot: "
            "VERIFY_OCTAL_PERMISSIONS fails the build"
        )
    if not ((user & 4) >= (group & 4) >= (other & 4)):
        return (
            f"permissions {text} give others read access the owner lacks: "
            "VERIFY_OCTAL_PERMISSIONS fails the build"
        )
    return None


@rule(
    "KM602",
    "writable-param",
    severity=Severity.ERROR,
    summary="module_param permissions that VERIFY_OCTAL_PERMISSIONS rejects (the build fails)",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def writable_param(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Checks the permission argument of `module_param()`, `module_param_named()`,
    `module_param_array()`, `module_param_string()` and friends: world-writable,
    above 0777, group-writable without owner-writable, read bits not owner >= group >=
    other, or a number that is not 4-digit octal. Permissions written with a macro of the
    driver's own are not judged. Key: the parameter name.

    ## Why is this bad?
    A world-writable parameter lets any user change the driver's state through
    `/sys/module/<mod>/parameters/`. The kernel refuses to build it, with a cryptic
    `BUILD_BUG_ON_ZERO` error far from the line at fault. (A decimal literal the build
    accepts, `420`, is `decimal-permissions`.)

    ## Kernel behaviour
    - `include/linux/moduleparam.h: __module_param_call()` checks
      `VERIFY_OCTAL_PERMISSIONS(perm)` (`include/linux/kernel.h`, later
      `include/linux/sysfs.h`): `BUILD_BUG_ON_ZERO` for `> 0777`, other-writable, group-
      without owner-writable, and read bits not owner >= group >= other.
    - checkpatch (`scripts/checkpatch.pl`): ERROR `EXPORTED_WORLD_WRITABLE`
      `Exporting writable files is usually an error. Consider more restrictive
      permissions.`; ERROR `NON_OCTAL_PERMISSIONS` `Use 4 digit octal (0777) not decimal
      permissions`.

    ## Example
    ```c
    module_param(debug, int, 0666);
    ```

    ## Use instead
    ```c
    module_param(debug, int, 0644);
    ```
    """
    yield from _judge_params(ms, lambda param: _permission_problem(param.perm))


def _judge_params(ms: ModuleSet, judge: Callable[[Param], str | None]) -> Iterator[Hit]:
    """A hit on each module parameter `judge` has something to say about, at the
    parameter: "module parameter 'name': <what judge says>"."""
    for module in ms.modules:
        if module.source is None:
            continue
        for param in module.source.params:
            problem = judge(param)
            if problem:
                yield Hit(
                    module,
                    f"module parameter '{param.name}': {problem}",
                    key=param.name,
                    location=param.loc,
                )


def _canonical(ctype: str) -> str | None:
    """One spelling for both front-end paths and both spellings of a type: no array
    bounds, kernel typedefs resolved, C's equivalent specifier lists reduced to one name
    (`long int` -> `long`, `signed` -> `int`), `char *` with one space. None when the
    type names something the table cannot resolve (a driver's own typedef, a struct):
    such a parameter is not judged rather than judged wrongly."""
    text = re.sub(r"\[[^\]]*\]", "", ctype)
    text = re.sub(r"\s*\*\s*", " * ", text)
    words: list[str] = []
    for word in text.split():
        if word in _QUALIFIERS:
            continue
        words.extend(KERNEL_TYPEDEFS.get(word, word).split())
    pointers = words.count("*")
    name = base_name([word for word in words if word != "*"])
    if name is None:
        return None
    return name + (" " + "*" * pointers if pointers else "")


def _signedness_only(actual: str, expected: str) -> bool:
    """`int` vs `unsigned int`, `char` vs `unsigned char`: gcc's -Wpointer-sign, which the
    kernel turns off (-Wno-pointer-sign in the top-level Makefile), so the build passes."""

    def unsigned_free(name: str) -> str:
        return name.replace("unsigned ", "").replace("signed ", "")

    return unsigned_free(actual) == unsigned_free(expected)


def _param_types(ms: ModuleSet, signedness: bool) -> Iterator[Hit]:
    """The parameters whose variable's C type differs from module_param's type argument:
    genuine clashes (signedness=False) or sign-only differences (signedness=True)."""
    for module in ms.modules:
        if module.source is None:
            continue
        for param in module.source.params:
            expected = PARAM_TYPES.get(param.type_name)
            definition = module.source.definitions.get(param.variable)
            if expected is None or definition is None or definition.is_function:
                continue
            if not definition.ctype:
                continue
            actual = _canonical(definition.ctype)
            if actual is None or actual == expected:
                continue
            if _signedness_only(actual, expected) != signedness:
                continue
            if signedness:
                fix = (
                    f"it builds (-Wno-pointer-sign) but the value is read with the wrong sign; "
                    f"declare '{param.variable}' as {expected} or pass "
                    f"{_param_type_for(actual) or 'the matching type'} to module_param"
                )
            else:
                fix = (
                    f"the build fails in __check_{param.name} (incompatible-pointer-types); "
                    f"declare '{param.variable}' as {expected} or pass "
                    f"{_param_type_for(actual) or 'the matching type'} to module_param"
                )
            yield Hit(
                module,
                f"module_param '{param.name}' says {param.type_name} ({expected}) but "
                f"'{param.variable}' is {definition.ctype}: {fix}",
                key=param.name,
                location=param.loc,
            )


def _param_type_for(ctype: str) -> str | None:
    for name, spelled in PARAM_TYPES.items():
        if spelled == ctype and name not in ("hexint", "invbool", "bint"):
            return name
    return None


@rule(
    "KM607",
    "decimal-permissions",
    severity=Severity.WARNING,
    summary="module_param permissions written as a decimal number",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def decimal_permissions(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a `module_param*()` permission argument written as a decimal literal whose
    value the build accepts (`420`, which is `0644`). A decimal literal the build rejects
    (`644` is `01204`) is `writable-param`. Key: the parameter name.

    ## Why is this bad?
    Nobody reads `420` as `rw-r--r--`; the next edit to "644" breaks the build with a
    `BUILD_BUG_ON_ZERO` far from the line.

    ## Kernel behaviour
    `scripts/checkpatch.pl` — ERROR `NON_OCTAL_PERMISSIONS`: `Use 4 digit octal (0777) not
    decimal permissions`. The compiler and `VERIFY_OCTAL_PERMISSIONS` accept the value, so
    it builds and loads: a warning.

    ## Example
    ```c
    module_param(debug, int, 420);
    ```

    ## Use instead
    ```c
    module_param(debug, int, 0644);
    ```
    """
    yield from _judge_params(ms, _decimal_problem)


def _decimal_problem(param: Param) -> str | None:
    """What checkpatch says of a decimal permission the build accepts (one it rejects is
    writable-param's)."""
    text = param.perm.strip()
    if not _is_decimal(text) or _verify_octal(int(text), text) is not None:
        return None
    return (
        f"permissions {text} are decimal ({int(text):04o} in octal; checkpatch: Use 4 digit "
        f"octal (0777) not decimal permissions); write {int(text):04o}"
    )


@rule(
    "KM605",
    "param-type-mismatch",
    severity=Severity.ERROR,
    summary="module_param's type argument does not match the C type of the variable",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def param_type_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Compares the type argument of `module_param()`, `module_param_named()` and
    `module_param_array()` (`int`, `uint`, `ulong`, `charp`, `bool`, ...) with the C type
    the variable is defined with in the module (element type for arrays). Only variables
    whose definition the front end read are judged. Key: the parameter name.

    ## Why is this bad?
    The kernel's parameter code writes the value through a pointer of the declared type:
    `module_param(flag, int, ...)` on a `bool` writes four bytes into one. The build
    rejects most mismatches with an error about `__check_<name>` that names neither the
    parameter nor the fix; a signedness-only mismatch builds (`-Wno-pointer-sign`) and
    silently misreads values.

    ## Kernel behaviour
    `include/linux/moduleparam.h: module_param_named()` calls `param_check_##type(name,
    &(value))`, i.e. `__param_check()`: `static inline type __always_unused
    *__check_##name(void) { return(p); }` — an `incompatible-pointer-types` error
    (`-Werror=incompatible-pointer-types` in the top-level `Makefile`) when `p` is not a
    `type *`.

    ## Example
    ```c
    static bool verbose;
    module_param(verbose, int, 0644);
    ```

    ## Use instead
    ```c
    module_param(verbose, bool, 0644);
    ```
    """
    yield from _param_types(ms, signedness=False)


@rule(
    "KM606",
    "param-signedness-mismatch",
    severity=Severity.WARNING,
    summary="module_param's type argument and the variable differ only in signedness",
    modes=(Mode.SOURCE,),
    scope=Scope.MODULE,
)
def param_signedness_mismatch(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Like `param-type-mismatch`, for the one difference the build lets through: the
    variable and `module_param()`'s type argument are the same C type but for its sign
    (`static int level; module_param(level, uint, 0644);`, a `char` behind `byte`).
    Kernel typedefs (`uint`, `u32`, `ulong`, `size_t`, ...) are resolved first, so
    `static uint x; module_param(x, uint, ...)` is not reported. Key: the parameter name.

    ## Why is this bad?
    The module builds and loads, but the parameter code parses the user's value with
    the wrong sign: `level=-1` is refused by `kstrtouint()` or becomes 4294967295, and
    `/sys/module/<mod>/parameters/<name>` prints what the variable does not hold.

    ## Kernel behaviour
    `include/linux/moduleparam.h: __param_check()` returns `&(value)` as a `type *`:
    a pointer that differs only in sign is gcc's `-Wpointer-sign`, which the top-level
    `Makefile` turns off (`KBUILD_CFLAGS += -Wno-pointer-sign`); `kernel/params.c:
    param_set_uint()` (`STANDARD_PARAM_DEF`) then parses with `kstrtouint()`.
    Severity: a warning — the build and the loader accept it.

    ## Example
    ```c
    static int level;
    module_param(level, uint, 0644);
    ```

    ## Use instead
    ```c
    static int level;
    module_param(level, int, 0644);
    ```
    """
    yield from _param_types(ms, signedness=True)
