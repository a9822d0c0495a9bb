"""KM7xx: what the loader will print and which taint flags it will set when the module loads.

`predicted_taints()` is the one prediction; the rules report it and `kmodlint symbols`
shows it. Out-of-tree, unsigned, proprietary and staging taints are certain and intended
for most modules that carry them (every module built with `M=` is out-of-tree and, until
installed by DKMS or `modules_install`, unsigned), so those rules are opt-in
(`--extend-select KM7`); the retpoline warning means the module was built for another
configuration and runs by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kmodlint.diagnostics import Hit, Location, Severity
from kmodlint.kernel.table import KernelTable
from kmodlint.model import Module
from kmodlint.moduleset import ModuleSet
from kmodlint.rule import Mode, Scope, rule

from .licensing import GPL_COMPATIBLE

# kernel/module/main.c (6.1): check_module_license_and_versions() taints these by name.
_TAINTED_BY_NAME = ("driverloader", "lve")
_KERNEL_TAINTED_BY_NAME = "ndiswrapper"


@dataclass(frozen=True, slots=True)
class Taint:
    flag: str  # the letter in /proc/sys/kernel/tainted's decoding and in Oops lines
    code: str  # the rule that reports it
    message: str  # what the loader prints (pr_warn/pr_notice), after "<module>: "
    location: Location | None = None


def predicted_taints(module: Module, kernel: KernelTable | None) -> list[Taint]:
    """What kernel/module/main.c will print and taint when `module` loads into `kernel`,
    as far as the module and the kernel's configuration tell. Sources say what their text
    and place decide: the licence, and the intree=Y/staging=Y tags modpost will add (the
    source loader adds them: cfront/sources._add_build_tags); signing and retpoline=Y come
    with the build and the install."""
    found: list[Taint] = []
    binary = module.source is None
    licenses = module.licenses
    if module.first_info("intree") is None:
        found.append(Taint("O", "KM702", "loading out-of-tree module taints kernel."))
    if binary and kernel is not None and kernel.retpoline and not module.first_info("retpoline"):
        found.append(Taint("", "KM705", "loading module not compiled with retpoline compiler."))
    if module.first_info("staging") is not None:
        found.append(
            Taint(
                "C",
                "KM704",
                "module is from the staging directory, the quality is unknown, you have been "
                "warned.",
            )
        )
    if licenses or binary:
        license = licenses[0] if licenses else "unspecified"
        if license not in GPL_COMPATIBLE:
            found.append(
                Taint(
                    "P",
                    "KM701",
                    f"module license '{license}' taints kernel.",
                    module.modinfo_location("license", license),
                )
            )
        elif module.name in _TAINTED_BY_NAME or module.name == _KERNEL_TAINTED_BY_NAME:
            found.append(Taint("P", "KM701", "module license taints kernel."))
    if binary and kernel is not None and kernel.module_sig and not module.signed:
        found.append(
            Taint(
                "E",
                "KM703",
                "module verification failed: signature and/or required key missing - "
                "tainting kernel",
            )
        )
    return found


def _hits(ms: ModuleSet, code: str, fix: str) -> Iterator[Hit]:
    for module in ms.modules:
        for taint in predicted_taints(module, ms.kernel):
            if taint.code != code:
                continue
            flag = f" (taint {taint.flag})" if taint.flag else ""
            yield Hit(
                module,
                f"the loader will print '{module.name}: {taint.message}'{flag}; {fix}",
                location=taint.location
                or (module.source.location if module.source is not None else None),
            )


@rule(
    "KM701",
    "proprietary-taint",
    severity=Severity.INFO,
    summary="the loader will taint the kernel P: the licence is not GPL-compatible (opt-in)",
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
    default_enabled=False,
)
def proprietary_taint(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Predicts the `P` (proprietary module) taint: the module's first `license=` tag (the one
    the loader reads), or `unspecified` when there is none, is not one of the six
    GPL-compatible strings; or the module is one the loader taints by name (`driverloader`,
    `lve`; `ndiswrapper` taints the kernel only). Opt-in: a module that says
    `MODULE_LICENSE("Proprietary")` means it. Key: empty.

    ## Why is this bad?
    Nothing is wrong with the module itself; but a P-tainted kernel gets no help on the
    kernel's lists, the module cannot use `EXPORT_SYMBOL_GPL` symbols (`gpl-only-symbol`)
    and modules using its symbols inherit the taint (`proprietary-import`).

    ## Kernel behaviour
    `kernel/module/main.c: check_modinfo()` calls `set_license(mod, get_modinfo(info,
    "license"))` (first tag only): `include/linux/license.h: license_is_gpl_compatible()`
    fails, so `add_taint_module(mod, TAINT_PROPRIETARY_MODULE, LOCKDEP_NOW_UNRELIABLE)`
    and, if the kernel was not P-tainted yet, `%s: module license '%s' taints kernel.`
    `check_module_license_and_versions()` adds the by-name cases with `%s: module license
    taints kernel.` (`kernel/module.c` before 5.19).

    ## Example
    ```c
    MODULE_LICENSE("Proprietary");
    ```

    ## Use instead
    A GPL-compatible licence, if the code is: `MODULE_LICENSE("GPL");` or
    `MODULE_LICENSE("Dual MIT/GPL");`.
    """
    return _hits(ms, "KM701", "a GPL-compatible MODULE_LICENSE() avoids it")


@rule(
    "KM702",
    "out-of-tree-taint",
    severity=Severity.INFO,
    summary=(
        "the loader will taint the kernel O: the module was built outside the kernel tree (opt-in)"
    ),
    modes=(Mode.BINARY, Mode.SOURCE),
    scope=Scope.MODULE,
    default_enabled=False,
)
def out_of_tree_taint(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Predicts the `O` (out-of-tree module) taint: the module's `.modinfo` has no `intree`
    tag. Sources: a module whose Kbuild lies in no kernel source tree (no folder above it
    with Kbuild, Makefile and arch/) can only be built with `M=`, so modpost will not add
    the tag; one inside a kernel tree is taken as built there (the same folder built with
    `M=` would get no tag). Opt-in: every module built with `M=` (DKMS, vendor drivers)
    carries it. Key: empty.

    ## Why is this bad?
    Nothing is wrong with the module; the taint tells whoever reads an oops that code the
    kernel community did not review was loaded.

    ## Kernel behaviour
    `scripts/mod/modpost.c: add_header()` writes `MODULE_INFO(intree, "Y")` into the
    `.mod.c` unless it runs for an external build (`-e`, `external_module`).
    `kernel/module/main.c: check_modinfo()`: `if (!get_modinfo(info, "intree"))` prints
    `%s: loading out-of-tree module taints kernel.` (once per boot) and
    `add_taint_module(mod, TAINT_OOT_MODULE, LOCKDEP_STILL_OK)`.

    ## Example
    `make -C /lib/modules/$(uname -r)/build M=$PWD modules` — `modinfo mydrv.ko` shows no
    `intree:` line.

    ## Use instead
    Nothing to change short of upstreaming the driver; select this rule to see the
    message in advance.
    """
    return _hits(ms, "KM702", "only a module built in the kernel tree avoids it")


@rule(
    "KM703",
    "unsigned-module-taint",
    severity=Severity.INFO,
    summary=(
        "the loader will taint the kernel E: the module is unsigned and the kernel checks (opt-in)"
    ),
    modes=(Mode.BINARY,),
    scope=Scope.MODULE,
    default_enabled=False,
)
def unsigned_module_taint(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Predicts the `E` (unsigned module) taint: the target kernel has `CONFIG_MODULE_SIG`
    and the module file does not end with `~Module signature appended~\\n`. Binaries only
    (sources are signed, if at all, when installed). Quiet when the target's configuration
    is unknown. A signature by a key the kernel does not trust taints the same way, which
    no offline check can see. Opt-in: every module fresh from `make` is unsigned until
    `modules_install` or DKMS signs it. Key: empty.

    ## Why is this bad?
    The module loads, tainted; but on a kernel that enforces signatures
    (`CONFIG_MODULE_SIG_FORCE`, `module.sig_enforce=1`, or lockdown under UEFI Secure
    Boot) the same file is refused: `Loading of unsigned module is rejected`.

    ## Kernel behaviour
    `kernel/module/signing.c: module_sig_check()` looks for `MODULE_SIG_STRING` at the end
    of the image; without it the reason is `unsigned module` (`-ENODATA`), fatal only when
    `is_module_sig_enforced()` or `security_locked_down(LOCKDOWN_MODULE_SIGNATURE)`.
    `kernel/module/main.c: load_module()` (under `CONFIG_MODULE_SIG`), `if
    (!mod->sig_ok)`: `%s: module verification failed: signature and/or required key
    missing - tainting kernel` (`pr_notice_once`) and `add_taint_module(mod,
    TAINT_UNSIGNED_MODULE, LOCKDEP_STILL_OK)`.

    ## Example
    A `.ko` from `make M=...` against Debian's headers (which hold no signing key).

    ## Use instead
    Sign it with a key the kernel trusts: `scripts/sign-file sha256 key.pem cert.der
    mydrv.ko` (DKMS does it with its MOK key).
    """
    return _hits(ms, "KM703", "sign the module with a key the kernel trusts")


@rule(
    "KM704",
    "staging-taint",
    severity=Severity.INFO,
    summary="the loader will taint the kernel C: the module is from drivers/staging (opt-in)",
    modes=(Mode.BINARY,),
    scope=Scope.MODULE,
    default_enabled=False,
)
def staging_taint(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Predicts the `C` (staging driver) taint: the module's `.modinfo` has `staging=Y`.
    Binaries; for sources under a kernel tree's `drivers/staging` (where modpost adds the
    tag), `symbols` predicts the `C` taint but this rule does not run (the corpus, one flat
    folder per case, cannot hold a kernel tree's drivers/staging to show it firing).
    Opt-in: staging drivers know they are. Key: empty.

    ## Why is this bad?
    Nothing new about the module: staging code is not up to the kernel's standards yet,
    and the taint says so in every oops.

    ## Kernel behaviour
    `scripts/mod/modpost.c: add_header()` writes `MODULE_INFO(staging, "Y")` for modules
    whose path starts with `drivers/staging`. `kernel/module/main.c: check_modinfo()`:
    `add_taint_module(mod, TAINT_CRAP, LOCKDEP_STILL_OK)` and `%s: module is from the
    staging directory, the quality is unknown, you have been warned.`

    ## Example
    `drivers/staging/rtl8192e/rtllib.ko` (`modinfo`: `staging: Y`).

    ## Use instead
    Nothing to change; the taint goes away when the driver graduates out of staging.
    """
    return _hits(ms, "KM704", "it goes away when the driver leaves drivers/staging")


@rule(
    "KM705",
    "missing-retpoline",
    severity=Severity.INFO,
    summary="the kernel uses retpolines and the module was not built with them: the loader warns",
    modes=(Mode.BINARY,),
    scope=Scope.MODULE,
)
def missing_retpoline(ms: ModuleSet) -> Iterator[Hit]:
    """
    ## What it does
    Reports a module without `retpoline=Y` in its `.modinfo` for a target kernel
    configured with `CONFIG_RETPOLINE` (`CONFIG_MITIGATION_RETPOLINE` from 6.9, x86 only).
    kbuild adds the tag to every module built against such a kernel, so a module without
    it was built against another configuration (or with a compiler that lacked
    `-mindirect-branch=thunk-extern`). Binaries only; quiet when the target's configuration
    is unknown. Key: empty.

    ## Why is this bad?
    Its indirect branches are not protected against Spectre v2: the loader prints an
    error and the system reports itself vulnerable
    (`/sys/devices/system/cpu/vulnerabilities/spectre_v2` ends with `- vulnerable module
    loaded`).

    ## Kernel behaviour
    `scripts/mod/modpost.c: add_header()` writes `#ifdef CONFIG_RETPOLINE`
    `MODULE_INFO(retpoline, "Y")` into every `.mod.c`. `kernel/module/main.c:
    check_modinfo_retpoline()`: unless `retpoline_module_ok(get_modinfo(info,
    "retpoline"))`, `%s: loading module not compiled with retpoline compiler.`;
    `arch/x86/kernel/cpu/bugs.c: retpoline_module_ok()` returns true when Spectre v2
    mitigation is off (`spectre_v2=off`), else prints `System may be vulnerable to spectre
    v2` and sets `spectre_v2_bad_module`. No taint flag; the module loads.

    ## Example
    A module built against headers of a kernel without `CONFIG_RETPOLINE`, loaded into
    Debian's 6.1 kernel.

    ## Use instead
    Rebuild it against the target kernel's own headers (same configuration, same gcc).
    """
    return _hits(ms, "KM705", "rebuild it against the target kernel's headers")
