"""Rule behaviour at the edges the corpus cannot reach with one build (model-level sets)."""

from __future__ import annotations

from kmodlint.engine import run_rules
from kmodlint.kernel.table import KernelTable
from kmodlint.model import Export, ExportKind, Module
from kmodlint.moduleset import ModuleSet


def _module(name: str, **facts) -> Module:
    module = Module(name=name, path=f"{name}.ko", origin="binary")
    module.modinfo = [("license", "GPL"), ("description", "x"), ("vermagic", "6.1.0 SMP ")]
    module.has_init = module.has_exit = True
    for key, value in facts.items():
        setattr(module, key, value)
    return module


def _keys(ms: ModuleSet, code: str) -> list[tuple[str, str]]:
    return [(f.module, f.key) for f in run_rules(ms, select={code})]


def test_unused_namespace_import_is_quiet_while_an_import_is_unresolved() -> None:
    base = _module("base", exports=[Export("ns_func", ExportKind.GPL, namespace="NS")])
    user = _module("user", undefined={"ns_func": False})
    user.modinfo.append(("import_ns", "NS"))
    stale = _module("stale", undefined={"gone_func": False})
    stale.modinfo.append(("import_ns", "NS"))
    kernel = KernelTable("Module.symvers")  # complete, and no row of NS
    ms = ModuleSet([base, user, stale], kernel=kernel)
    # user uses NS: quiet. stale cannot be judged: gone_func may be the NS symbol.
    assert _keys(ms, "KM502") == []
    stale.undefined = {}
    assert _keys(ModuleSet([base, user, stale], kernel=kernel), "KM502") == [("stale", "NS")]
    # Without the kernel's table a use of a kernel symbol of NS cannot be seen: quiet.
    assert _keys(ModuleSet([base, user, stale], kernel=None), "KM502") == []


def test_module_namespace_matches_names_and_trailing_star_only() -> None:
    base = _module("base", exports=[Export("f", ExportKind.GPL, namespace="module:kvm,kvm_*")])
    users = [
        _module(name, undefined={"f": False}) for name in ("kvm", "kvm_intel", "kvmx", "a_kvm_b")
    ]
    found = _keys(ModuleSet([base, *users], kernel=None), "KM501")
    assert found == [("a_kvm_b", "module:kvm,kvm_*"), ("kvmx", "module:kvm,kvm_*")]


def test_gpl_only_message_names_the_incompatible_tag() -> None:
    base = _module("base", exports=[Export("g", ExportKind.GPL)])
    user = _module("user", undefined={"g": False})
    user.modinfo = [("license", "GPL"), ("license", "Proprietary"), ("description", "x")]
    findings = run_rules(ModuleSet([base, user], kernel=None), select={"KM203"})
    assert len(findings) == 1
    assert 'license "Proprietary"' in findings[0].message


def test_duplicate_of_a_kernel_module_export_says_which_module() -> None:
    kernel = KernelTable("Module.symvers")
    kernel.add(Export("shared", ExportKind.PLAIN, crc=1), "drivers/foo/other")
    kernel.add(Export("core", ExportKind.PLAIN, crc=2), "vmlinux")
    mine = _module(
        "mine", exports=[Export("shared", ExportKind.PLAIN), Export("core", ExportKind.PLAIN)]
    )
    messages = {f.key: f.message for f in run_rules(ModuleSet([mine], kernel), select={"KM103"})}
    assert "owned by drivers/foo/other of the target kernel" in messages["shared"]
    assert "vmlinux" in messages["core"]


def test_missing_crc_without_any_versions_is_one_finding_per_module() -> None:
    kernel = KernelTable("Module.symvers")
    for index, name in enumerate(("a_func", "b_func", "c_func")):
        kernel.add(Export(name, ExportKind.PLAIN, crc=index + 1), "vmlinux")
    bare = _module("bare", undefined={"a_func": False, "b_func": False, "c_func": False})
    partial = _module(
        "partial", undefined={"a_func": False, "b_func": False}, versions={"a_func": 1}
    )
    partial.has_versions_section = True
    assert _keys(ModuleSet([bare, partial], kernel), "KM403") == [
        ("bare", "a_func"),
        ("partial", "b_func"),
    ]


def test_vermagic_release_is_skipped_only_with_a_basic_versions_section() -> None:
    kernel = KernelTable("headers", vermagic="6.1.0-56-amd64 SMP mod_unload modversions ")
    module = _module("m", versions={"printk": 1})
    module.modinfo = [
        ("license", "GPL"),
        ("vermagic", "6.1.0-55-amd64 SMP mod_unload modversions "),
    ]
    # Extended tables alone (6.14+): same_magic() compares the release too.
    assert _keys(ModuleSet([module], kernel), "KM401") == [("m", "")]
    module.has_versions_section = True
    assert _keys(ModuleSet([module], kernel), "KM401") == []
