"""KM602, KM605: module parameters (module_param* in include/linux/moduleparam.h)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kmodlint.cfront.condition import ConditionError, value_of
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Hit, rule

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
# Kernel typedefs (include/uapi/asm-generic/int-ll64.h, include/linux/types.h) that name
# the same C types on every architecture Linux supports.
_TYPEDEFS = {
    "u8": "unsigned char",
    "__u8": "unsigned char",
    "s8": "signed char",
    "u16": "unsigned short",
    "__u16": "unsigned short",
    "s16": "short",
    "u32": "unsigned int",
    "__u32": "unsigned int",
    "s32": "int",
    "__s32": "int",
    "u64": "unsigned long long",
    "__u64": "unsigned long long",
    "s64": "long long",
    "__s64": "long long",
    "_Bool": "bool",
}
_IDENT = re.compile(r"[A-Za-z_]\w*")
_NUMBER = re.compile(r"^0[0-7]{3}$|^0$")


def _permission_problem(perm: str) -> str | None:
    text = perm.strip()
    unknown = [name for name in _IDENT.findall(text) if name not in _MODE_BITS]
    if unknown:
        return None  # a macro of the driver's own: its value is not known here
    literal = re.fullmatch(r"\d+", text)
    if literal and not _NUMBER.match(text):
        return (
            f"permissions {text} are not 4-digit octal (checkpatch: Use 4 digit octal "
            "(0777) not decimal permissions)"
        )
    try:
        mode = value_of(text, {name: str(bits) for name, bits in _MODE_BITS.items()})
    except ConditionError:
        return None
    if mode & 0o002:
        return (
            f"permissions {text} ({mode:04o}) make the parameter world-writable: "
            "VERIFY_OCTAL_PERMISSIONS fails the build (checkpatch: Exporting writable files "
            "is usually an error)"
        )
    if mode > 0o777:
        return f"permissions {text} ({mode:04o}) exceed 0777: VERIFY_OCTAL_PERMISSIONS fails"
    user, group, other = (mode >> 6) & 7, (mode >> 3) & 7, mode & 7
    if (group & 2) and not (user & 2):
        return (
            f"permissions {text} ({mode:04o}) let the group write what the owner cannot: "
            "VERIFY_OCTAL_PERMISSIONS fails the build"
        )
    if not ((user & 4) >= (group & 4) >= (other & 4)):
        return (
            f"permissions {text} ({mode:04o}) give others read access the owner lacks: "
            "VERIFY_OCTAL_PERMISSIONS fails the build"
        )
    return None


@rule(
    "KM602",
    "writable-param",
    "error",
    "module_param permissions world-writable, invalid, or not 4-digit octal",
    modes=("source",),
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
    `BUILD_BUG_ON_ZERO` error far from the line at fault.

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
    for module in ms.modules:
        if module.source is None:
            continue
        for param in module.source.params:
            problem = _permission_problem(param.perm)
            if problem:
                yield Hit(
                    module,
                    f"module parameter '{param.name}': {problem}",
                    key=param.name,
                    location=param.loc,
                )


def _canonical(ctype: str) -> str:
    """One spelling for both front-end paths: no array bounds, typedefs of the fixed-size
    kernel types resolved, `char *` with one space."""
    text = re.sub(r"\[[^\]]*\]", "", ctype)
    text = re.sub(r"\s*\*\s*", " *", text)
    words = text.split()
    return " ".join(_TYPEDEFS.get(word, word) for word in words).replace(" * ", " *")


@rule(
    "KM605",
    "param-type-mismatch",
    "error",
    "module_param's type argument does not match the C type of the variable",
    modes=("source",),
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
            if actual == expected:
                continue
            signedness_only = actual.replace("unsigned ", "") == expected.replace("unsigned ", "")
            consequence = (
                "it builds (-Wno-pointer-sign) but the value is read with the wrong sign"
                if signedness_only
                else "the build fails in __check_" + param.name
            )
            yield Hit(
                module,
                f"module_param '{param.name}' says {param.type_name} ({expected}) but "
                f"'{param.variable}' is {definition.ctype}: {consequence}",
                key=param.name,
                location=param.loc,
            )
