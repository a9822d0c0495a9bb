"""Kbuild grouping: which .c files make which module (kmodlint.cfront.kbuild)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kmodlint.cfront.kbuild.grouping import KbuildModule, KbuildResult, group_sources

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_CASES = sorted(p.parent for p in CORPUS.glob("*/Kbuild"))


def tree(root: Path, files: dict[str, str]) -> Path:
    """Write *files* (relative path -> text; a .c gets a stub when the text is empty)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text or "/* stub */\n")
    return root


def stubs(*stems: str) -> dict[str, str]:
    return {f"{stem}.c": "" for stem in stems}


def by_name(result: KbuildResult) -> dict[str, KbuildModule]:
    return {m.name: m for m in result.modules}


def stems(module: KbuildModule) -> list[str]:
    return [os.path.relpath(s, module.directory)[: -len(".c")] for s in module.sources]


# ---------------------------------------------------------------- corpus cases


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda p: p.name)
def test_corpus_case_groups_like_the_built_modules(case: Path) -> None:
    result = group_sources([str(case)], None)
    assert result.problems == []
    assert result.orphan_sources == []
    built = case / "built"
    if built.is_dir():
        assert {m.name for m in result.modules} == {p.stem for p in built.glob("*.ko")}
    # every .c of the case belongs to exactly one module
    owners = [s for m in result.modules for s in m.sources]
    assert sorted(owners) == sorted(str(p) for p in case.glob("*.c"))
    for module in result.modules:
        assert module.kbuild_path == str(case / "Kbuild")
        assert module.directory == str(case)


def test_corpus_composite_module() -> None:
    case = CORPUS / "km201-near-miss-license-in-one-file"
    (module,) = group_sources([str(case)], None).modules
    assert module.name == "modsplit"
    assert module.line == 2
    assert stems(module) == ["modsplit_main", "modsplit_util"]


def test_corpus_obj_m_lines() -> None:
    result = group_sources([str(CORPUS / "km302-dependency-cycle")], None)
    assert [(m.name, m.line) for m in result.modules] == [("modcyca", 1), ("modcycb", 2)]
    case = CORPUS / "km604-module-name-too-long"
    (module,) = group_sources([str(case / "Kbuild")], None).modules
    assert module.name == "mod_whose_name_is_exactly_fifty_six_bytes_and_is_refused"
    assert module.line == 1


def test_corpus_several_cases_sorted_by_directory() -> None:
    cases = [str(CORPUS / "km103-duplicate-export"), str(CORPUS / "km000-seeds-mod1-mod2")]
    result = group_sources(cases, None)
    assert [(Path(m.directory).name, m.name) for m in result.modules] == [
        ("km000-seeds-mod1-mod2", "mod1"),
        ("km000-seeds-mod1-mod2", "mod2"),
        ("km103-duplicate-export", "moddupa"),
        ("km103-duplicate-export", "moddupb"),
        ("km103-duplicate-export", "moddupk"),
    ]


# ---------------------------------------------------------------- synthetic constructs


def test_obj_m_forms_continuations_and_comments(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "# a comment obj-m += ghost.o\n"
                "obj-m := a.o  # trailing comment\n"
                "obj-m += b.o \\\n"
                "\tc.o\n"
                "obj-m\t+=\td.o\n"
            ),
            "a.c": "",
            "b.c": "",
            "c.c": "",
            "d.c": "",
        },
    )
    result = group_sources([str(tmp_path)], None)
    assert [(m.name, m.line) for m in result.modules] == [
        ("a", 2),
        ("b", 3),
        ("c", 3),
        ("d", 5),
    ]
    assert result.problems == [] and result.orphan_sources == []


def test_composite_objects_every_suffix(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "obj-m += foo.o bar.o snd-thing.o\n"
                "foo-y := main.o\n"
                "foo-$(CONFIG_FOO_EXTRA) += extra.o\n"
                "foo-m += modonly.o\n"
                "foo-$(CONFIG_FOO_OFF) += off.o\n"
                "foo-y += entry.o\n"
                "bar-objs := b1.o b2.o\n"
                "snd-thing-objs := thing.o\n"
            ),
            **stubs("main", "extra", "modonly", "off", "b1", "b2", "thing"),
            "entry.S": "",
        },
    )
    # "" = the .config's "# CONFIG_FOO_OFF is not set": mentioned, off
    config = {"CONFIG_FOO_EXTRA": "y", "CONFIG_FOO_OFF": ""}
    mods = by_name(group_sources([str(tmp_path)], config))
    assert stems(mods["foo"]) == ["main", "extra", "modonly"]  # -y then -m, .S ignored
    assert stems(mods["bar"]) == ["b1", "b2"]
    assert stems(mods["snd-thing"]) == ["thing"]  # the name keeps its '-'
    # without a configuration every optional part counts
    mods = by_name(group_sources([str(tmp_path)], None))
    assert stems(mods["foo"]) == ["main", "extra", "modonly", "off"]  # all of foo-m


def test_nested_composite_object(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": "obj-m += drv.o\ndrv-y := core.o lib.o\nlib-y := l1.o l2.o\n",
            "core.c": "",
            "l1.c": "",
            "l2.c": "",
        },
    )
    (module,) = group_sources([str(tmp_path)], None).modules
    assert stems(module) == ["core", "l1", "l2"]


def test_config_decides_module_builtin_or_skipped(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "obj-$(CONFIG_OFF) += a.o\n"
                "obj-$(CONFIG_A) += a.o\n"
                "obj-$(CONFIG_B) += b.o\n"
                "obj-$(CONFIG_C) += c.o\n"
                "obj-y += d.o\n"
                "obj-m += d.o\n"  # built in wins (scripts/Makefile.lib)
                "obj-m += e.o\n"
                "e-$(CONFIG_E1) += e1.o\n"
                "e-$(CONFIG_E2) += e2.o\n"
                "e-$(CONFIG_E3) += e3.o\n"
            ),
            **stubs("a", "b", "c", "d", "e1", "e2", "e3"),
        },
    )
    config = {"CONFIG_A": "m", "CONFIG_B": "y", "CONFIG_E1": "y", "CONFIG_E2": "m"}
    config |= {"CONFIG_OFF": "", "CONFIG_C": "", "CONFIG_E3": ""}  # "is not set" lines
    result = group_sources([str(tmp_path)], config)
    mods = by_name(result)
    assert sorted(mods) == ["a", "e"]
    assert stems(mods["e"]) == ["e1", "e2"]
    assert result.builtin_sources == {str(tmp_path / "b.c"), str(tmp_path / "d.c")}
    assert result.skipped_by_config == 1
    assert mods["a"].line == 2  # the obj-$(CONFIG_A) line, not the switched-off one
    assert result.orphan_sources == []  # c.c and e3.c are named, only switched off

    result = group_sources([str(tmp_path)], None)
    assert sorted(by_name(result)) == ["a", "b", "c", "e"]
    assert result.skipped_by_config == 0
    assert result.builtin_sources == {str(tmp_path / "d.c")}


def test_subdirectories_follow_the_config(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "obj-y += core/\nobj-$(CONFIG_NET) += net/\nobj-m += extra/\n"
                "obj-$(CONFIG_OFF) += off/\n"
            ),
            "core/Makefile": "obj-m += core_mod.o\n",
            "core/core_mod.c": "",
            "net/Kbuild": "obj-m += net_mod.o\n",
            "net/Makefile": "obj-m += wrong.o\n",  # Kbuild wins
            "net/net_mod.c": "",
            "net/wrong.c": "",
            "extra/Makefile": "obj-m += extra_mod.o\n",
            "extra/extra_mod.c": "",
            "off/Makefile": "obj-m += off_mod.o\n",
            "off/off_mod.c": "",
        },
    )
    result = group_sources([str(tmp_path)], {"CONFIG_NET": "m", "CONFIG_OFF": ""})
    assert [(Path(m.directory).name, m.name) for m in result.modules] == [
        ("core", "core_mod"),
        ("extra", "extra_mod"),
        ("net", "net_mod"),
    ]
    assert result.skipped_by_config == 1
    # the unread Makefile names wrong.c nowhere Kbuild looks: it is an orphan
    assert result.orphan_sources == [str(tmp_path / "net" / "wrong.c")]
    none = group_sources([str(tmp_path)], None)
    assert sorted(m.name for m in none.modules) == [
        "core_mod",
        "extra_mod",
        "net_mod",
        "off_mod",
    ]


def test_variables_in_lists(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "MODS := one.o two.o\n"
                "obj-m += $(MODS)\n"
                "common-objs = c1.o $(LATE)\n"
                "LATE = c2.o\n"
                "one-y += o1.o $(common-objs)\n"
                "two-y := $(patsubst %.c,%.o,t1.c t2.c) $(addprefix sub/,s.o)\n"
                "obj-m += $(if $(CONFIG_X),three.o)\n"
                "$(foreach m,four,$(eval obj-m += $(m).o))\n"
            ),
            **stubs("o1", "c1", "c2", "t1", "t2", "sub/s", "three", "four"),
        },
    )
    result = group_sources([str(tmp_path)], {"CONFIG_X": "y"})
    mods = by_name(result)
    assert sorted(mods) == ["four", "one", "three", "two"]
    assert stems(mods["one"]) == ["o1", "c1", "c2"]
    assert stems(mods["two"]) == ["t1", "t2", "sub/s"]
    assert mods["one"].line == 2
    assert result.problems == []


def test_conditionals_with_and_without_config(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "obj-m += drv.o\n"
                "ifeq ($(CONFIG_FAST),y)\n"
                "drv-y := fast.o\n"
                "else\n"
                "drv-y := slow.o\n"
                "endif\n"
                "ifdef CONFIG_DEBUG\n"
                "drv-y += debug.o\n"
                "endif\n"
                "ifneq ($(CONFIG_TRACE),)\n"
                "  ifndef CONFIG_QUIET\n"
                "drv-y += trace.o\n"
                "  endif\n"
                "else ifeq ($(CONFIG_ALT),m)\n"
                "drv-y += alt.o\n"
                "endif\n"
            ),
            **stubs("fast", "slow", "debug", "trace", "alt"),
        },
    )
    # every option mentioned ("" = "is not set"): none is the driver's own
    off = dict.fromkeys(("CONFIG_FAST", "CONFIG_DEBUG", "CONFIG_TRACE", "CONFIG_QUIET"), "")
    off["CONFIG_ALT"] = ""
    config = off | {"CONFIG_FAST": "y", "CONFIG_TRACE": "y"}
    module = by_name(group_sources([str(tmp_path)], config))
    assert stems(module["drv"]) == ["fast", "trace"]
    config = off | {"CONFIG_DEBUG": "y", "CONFIG_ALT": "m"}
    module = by_name(group_sources([str(tmp_path)], config))
    assert stems(module["drv"]) == ["slow", "debug", "alt"]
    # no configuration: the union of every branch
    module = by_name(group_sources([str(tmp_path)], None))
    assert stems(module["drv"]) == ["fast", "slow", "debug", "trace", "alt"]


def test_flags_defines_and_include_dirs(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "subdir-ccflags-y += -DTOP=1\n"
                "ccflags-y += -DDEFAULT_SYMBOL_NAMESPACE=CXL -I$(src)/inc\n"
                "ccflags-$(CONFIG_DBG) += -DDEBUG\n"
                'EXTRA_CFLAGS += -DLEGACY=\\"x\\"\n'
                "CFLAGS_a.o += -DONLY_A -I$(srctree)/shared\n"
                "obj-m += a.o b.o\n"
                "obj-y += sub/\n"
            ),
            "a.c": "",
            "b.c": "",
            "sub/Makefile": "ccflags-y := -Ilocal -UTOP\nobj-m += c.o\n",
            "sub/c.c": "",
        },
    )
    result = group_sources([str(tmp_path)], {"CONFIG_DBG": "y"})
    mods = by_name(result)
    assert mods["a"].defines == (
        ("TOP", "1"),
        ("DEFAULT_SYMBOL_NAMESPACE", "CXL"),
        ("DEBUG", "1"),
        ("LEGACY", '"x"'),
        ("ONLY_A", "1"),
    )
    assert mods["a"].include_dirs == (str(tmp_path / "inc"), str(tmp_path / "shared"))
    assert ("ONLY_A", "1") not in mods["b"].defines
    assert mods["b"].include_dirs == (str(tmp_path / "inc"),)
    # subdir-ccflags-y is inherited, ccflags-y is not; -U removes
    assert mods["c"].defines == ()
    assert mods["c"].include_dirs == (str(tmp_path / "local"),)
    assert ("DEBUG", "1") not in by_name(group_sources([str(tmp_path)], {}))["a"].defines


def test_out_of_tree_makefile_wrapper(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "ifneq ($(KERNELRELEASE),)\n"
                "obj-m := hello.o\n"
                "hello-objs := hello_main.o hello_util.o\n"
                "else\n"
                "KDIR ?= /lib/modules/$(shell uname -r)/build\n"
                "obj-m := wrong.o\n"
                "all:\n"
                "\t$(MAKE) -C $(KDIR) M=$$PWD modules\n"
                "clean:\n"
                "\trm -f *.o *.ko obj-m += x.o\n"
                "endif\n"
            ),
            "hello_main.c": "",
            "hello_util.c": "",
        },
    )
    result = group_sources([str(tmp_path / "Makefile")], None)
    assert [(m.name, m.line, stems(m)) for m in result.modules] == [
        ("hello", 2, ["hello_main", "hello_util"])
    ]
    assert result.problems == []


def test_rules_recipes_define_and_include(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "include $(src)/common.mk\n"
                "-include $(src)/missing.mk\n"
                "define RECIPE\n"
                "obj-m += ghost.o\n"
                "endef\n"
                "obj-m += $(COMMON)\n"
                "$(obj)/table.h: $(src)/gen.sh\n"
                "\tobj-m += notme.o\n"
                "\n"
                "obj-m += last.o\n"
            ),
            "common.mk": "COMMON := shared.o\n",
            "shared.c": "",
            "last.c": "",
        },
    )
    result = group_sources([str(tmp_path)], None)
    assert [m.name for m in result.modules] == ["last", "shared"]
    assert by_name(result)["shared"].kbuild_path == str(tmp_path / "Kbuild")
    assert result.problems == []


def test_assembler_and_missing_parts(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": "obj-m += mixed.o asm.o\nmixed-y := glue.o fast.o gone.o\nasm-y := a.o\n",
            "glue.c": "",
            "fast.S": "",
            "a.S": "",
        },
    )
    result = group_sources([str(tmp_path)], None)
    mods = by_name(result)
    assert stems(mods["mixed"]) == ["glue"]
    assert mods["asm"].sources == ()  # still a module
    assert [(Path(p).name, line) for p, line, _ in result.problems] == [("Kbuild", 1)]


def test_orphans_and_lone_sources(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "drv/Kbuild": "obj-m += drv.o\n",
            "drv/drv.c": '#include "drv_tables.c"\n',
            "drv/drv_tables.c": "",  # #included: not an orphan
            "drv/forgotten.c": "",
            "lone/solo.c": "",
        },
    )
    result = group_sources([str(tmp_path)], None)
    assert [m.name for m in result.modules] == ["drv"]
    assert result.orphan_sources == [
        str(tmp_path / "drv" / "forgotten.c"),
        str(tmp_path / "lone" / "solo.c"),
    ]
    # a .c given as a root is grouped by the Kbuild beside it
    result = group_sources([str(tmp_path / "drv" / "drv.c")], None)
    assert [m.name for m in result.modules] == ["drv"]
    assert result.orphan_sources == []
    # c_files the caller found are orphans unless some Kbuild names them
    result = group_sources([], None, c_files=[str(tmp_path / "lone" / "solo.c")])
    assert result.orphan_sources == [str(tmp_path / "lone" / "solo.c")]


def test_bad_input_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "obj-m += good.o\n"
                "this is not make\n"
                "obj-m += $(broken\n"
                "endif\n"
                "ifeq ($(CONFIG_X),y)\n"
                "obj-m += later.o\n"
                "obj-y += nodir/\n"
                "include $(src)/absent.mk\n"
                "REC = $(REC) x\n"
                "obj-m += $(REC)\n"
            ),
            "good.c": "",
            "later.c": "",
        },
    )
    result = group_sources([str(tmp_path), str(tmp_path / "nothing")], {"CONFIG_X": "y"})
    assert [m.name for m in result.modules] == ["good", "later"]
    assert sorted((Path(p).name, line, msg) for p, line, msg in result.problems) == [
        ("Kbuild", 2, "cannot understand: this is not make"),
        ("Kbuild", 3, "unterminated variable reference: $(broken"),
        ("Kbuild", 4, "'endif' without a matching 'if'"),
        ("Kbuild", 5, "conditional without 'endif'"),
        ("Kbuild", 7, "no Kbuild or Makefile in nodir/"),
        # $(src) of an external module is its absolute folder, as with make M=/abs/dir
        ("Kbuild", 8, f"included file not found: {tmp_path}/absent.mk"),
        ("Kbuild", 10, "variable expansion recurses too deep"),
        ("nothing", 0, "no such file or directory"),
    ]


def test_kernel_tree_root_follows_top_level_kbuild(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": "obj-y += arch/$(SRCARCH)/ drivers/\nobj-$(CONFIG_NET) += net/\n",
            "Makefile": "all:\n\t@echo top\n",
            "arch/x86/Kbuild": "obj-m += x86mod.o\n",
            "arch/x86/x86mod.c": "",
            "arch/arm64/Kbuild": "obj-m += armmod.o\n",
            "arch/arm64/armmod.c": "",
            "drivers/Makefile": "obj-$(CONFIG_FOO) += foo/\n",
            "drivers/foo/Makefile": "obj-m += foo.o\n",
            "drivers/foo/foo.c": "",
            "net/Makefile": "obj-m += netmod.o\n",
            "net/netmod.c": "",
            "tools/Makefile": "obj-m += tool.o\n",
            "tools/tool.c": "",
        },
    )
    config = {"CONFIG_X86": "y", "CONFIG_FOO": "m"}
    result = group_sources([str(tmp_path)], config)
    assert [m.name for m in result.modules] == ["x86mod", "foo"]
    assert result.orphan_sources == []
    assert result.skipped_by_config == 1
    # a subdirectory of a kernel tree starts from its own Makefile; parents are not needed
    sub = group_sources([str(tmp_path / "drivers")], config)
    assert [m.name for m in sub.modules] == ["foo"]
    assert sub.orphan_sources == []
    # arch/ has no Kbuild of its own: only arch/$(SRCARCH) is read
    arch = group_sources([str(tmp_path / "arch")], config)
    assert [m.name for m in arch.modules] == ["x86mod"]
    assert arch.orphan_sources == []


def test_deterministic_output(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "b/Kbuild": "obj-m += z.o a.o\n",
            "b/z.c": "",
            "b/a.c": "",
            "a/Kbuild": "obj-m += m.o\n",
            "a/m.c": "",
        },
    )
    first = group_sources([str(tmp_path / "b"), str(tmp_path / "a")], None)
    second = group_sources([str(tmp_path / "a"), str(tmp_path / "b")], None)
    assert first.modules == second.modules
    assert [(Path(m.directory).name, m.name) for m in first.modules] == [
        ("a", "m"),
        ("b", "a"),
        ("b", "z"),
    ]


# ---------------------------------------------------------------- out-of-tree drivers (issue 10)

# a kernel's .config (CONFIG_MODULES); "" = "is not set"
KERNEL_CONFIG = {
    "CONFIG_MODULES": "y",
    "CONFIG_USB": "m",
    "CONFIG_NET": "y",
    "CONFIG_OLD_BOARD": "",
}


def test_dual_makefile_read_as_kbuild_with_a_kernel_config(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "ifneq ($(KERNELRELEASE),)\n"
                "obj-$(CONFIG_MYDRV) += mydrv.o\n"
                "mydrv-y := core.o\n"
                "mydrv-$(CONFIG_USB) += usb.o\n"
                "mydrv-$(CONFIG_OLD_BOARD) += board.o\n"
                "else\n"
                "KDIR ?= /lib/modules/$(shell uname -r)/build\n"
                "all:\n"
                "\t$(MAKE) -C $(KDIR) M=$(PWD) modules\n"
                "endif\n"
            ),
            **stubs("core", "usb", "board"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    mods = by_name(result)
    # CONFIG_MYDRV is the driver's own (the kernel's .config does not mention it): =m;
    # CONFIG_OLD_BOARD is the kernel's, "is not set": off
    assert stems(mods["mydrv"]) == ["core", "usb"]
    assert result.assumed_options == ["CONFIG_MYDRV"]
    assert result.problems == []
    # a fragment written for the driver (no CONFIG_MODULES: not a kernel's .config) is its
    # whole configuration: what it leaves out is off
    result = group_sources([str(tmp_path)], {"CONFIG_USB": "m"})
    assert result.modules == [] and result.assumed_options == []


def test_unmentioned_option_in_a_condition_stays_off(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "obj-m += drv.o\ndrv-y := main.o\n"
                "ifdef CONFIG_SOME_BOARD\ndrv-y += board.o\nendif\n"
            ),
            **stubs("main", "board"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert stems(by_name(result)["drv"]) == ["main"]
    assert result.assumed_options == []


def test_kernel_tree_keeps_unset_as_not_built(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": "obj-y += drivers/\n",
            "Makefile": "",
            "arch/x86/Makefile": "",
            "drivers/Makefile": "obj-$(CONFIG_NEW_THING) += thing.o\nobj-$(CONFIG_USB) += usb.o\n",
            **stubs("drivers/thing", "drivers/usb"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert [m.name for m in result.modules] == ["usb"]
    assert result.assumed_options == []


def test_driver_sets_its_own_config(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "CONFIG_MYDRV := m\n"
                "export CONFIG_MYDRV_EXTRA = y\n"
                "obj-$(CONFIG_MYDRV) += mydrv.o\n"
                "mydrv-objs := a.o\n"
                "mydrv-$(CONFIG_MYDRV_EXTRA) += b.o\n"
            ),
            **stubs("a", "b"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert stems(by_name(result)["mydrv"]) == ["a", "b"]
    assert result.assumed_options == []  # set by the driver, not assumed


def test_define_is_a_make_command_line_variable(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "HDAPS := 0\n"  # a command-line variable wins over the file's assignment
                "MODS := ec.o smapi.o\n"
                "ifeq ($(HDAPS),1)\nMODS += hdaps.o\nendif\n"
                "obj-m := $(MODS)\n"
                "obj-$(CONFIG_OPT) += opt.o\n"
            ),
            **stubs("ec", "smapi", "hdaps", "opt"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert sorted(by_name(result)) == ["ec", "opt", "smapi"]
    defines = {"HDAPS": "1", "CONFIG_OPT": "n"}
    result = group_sources([str(tmp_path)], KERNEL_CONFIG, defines=defines)
    assert sorted(by_name(result)) == ["ec", "hdaps", "smapi"]


def test_dkms_conf_make_line(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "dkms.conf": (
                'PACKAGE_NAME="tp_smapi"\nPACKAGE_VERSION="0.43"\n'
                'BDIR="$dkms_tree/${PACKAGE_NAME}/${PACKAGE_VERSION}/build"\n'
                'MAKE[0]="make -C ${kernel_source_dir} M=${BDIR} HDAPS=1 TOP=${BDIR} '
                'KVER=$kernelver"\n'
                'BUILT_MODULE_NAME[0]="hdaps"\n'
            ),
            "Makefile": (
                "ifneq ($(KERNELRELEASE),)\n"
                "include $(TOP)/mconfig\n"
                "obj-m := ec.o\nobj-$(build_extra) += extra.o\n"
                "ifeq ($(HDAPS),1)\nobj-m += hdaps.o\nendif\n"
                "endif\n"
            ),
            "mconfig": "build_extra=m\n",
            **stubs("ec", "hdaps", "extra"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert sorted(by_name(result)) == ["ec", "extra", "hdaps"]
    dkms = str(tmp_path / "dkms.conf")
    assert result.dkms_defines == [(dkms, "HDAPS", "1"), (dkms, "TOP", str(tmp_path))]
    assert result.problems == []


def test_wrapper_makefile_passes_variables_to_its_kbuild_folder(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "PWD := $(shell pwd)\n"
                "BUILD_ALL := m\n"
                "KMAKE = +$(MAKE) -C $(KSRC) KBUILD_EXTMOD=$(PWD)/drivers/drv\n"
                "modules:\n"
                "ifeq (no,$(HAS_KSRC))\n"
                "\t@echo no kernel\n"
                "endif\n"
                "\t$(KMAKE) modules DRV_BUILD_ALL=$(BUILD_ALL)\n"
            ),
            "drivers/drv/Kbuild": (
                "obj-$(DRV_BUILD_ALL)$(CONFIG_DRV_CORE) += core.o\n"
                "obj-$(DRV_BUILD_ALL)$(CONFIG_DRV_PCI) += pci.o\n"
            ),
            "drivers/other/Makefile": "obj-m := other.o\n",  # no build reaches it
            **stubs("drivers/drv/core", "drivers/drv/pci", "drivers/other/other"),
            "tools/ctl.c": "#include <stdio.h>\nint main(void) { return 0; }\n",
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG)
    assert sorted(by_name(result)) == ["core", "pci"]
    # folders no Kbuild/Makefile of the driver reaches: left out
    assert result.unreached_sources == {
        str(tmp_path / "drivers" / "other" / "other.c"),
        str(tmp_path / "tools" / "ctl.c"),
    }


def test_version_guard_follows_the_target_kernel(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": (
                "obj-m += drv.o\ndrv-y := main.o\n"
                "ifeq ($(VERSION).$(PATCHLEVEL),6.1)\ndrv-y += compat61.o\nendif\n"
                "ifneq ($(filter 5.%,$(KERNELRELEASE)),)\ndrv-y += compat5.o\nendif\n"
                "drv-y += $(shell test $(VERSION) -ge 6 && echo new.o)\n"
            ),
            **stubs("main", "compat61", "compat5", "new"),
        },
    )
    result = group_sources([str(tmp_path)], KERNEL_CONFIG, kernel_release="6.1.0-56-amd64")
    assert stems(by_name(result)["drv"]) == ["main", "compat61"]  # $(shell) is not run
    result = group_sources([str(tmp_path)], KERNEL_CONFIG, kernel_release="5.10.0-30-amd64")
    assert stems(by_name(result)["drv"]) == ["main", "compat5"]


def test_include_wildcards(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Kbuild": "obj-m += base.o\n-include $(M)/*.Kbuild\n",
            "a.Kbuild": "obj-m += a.o\n",
            "b.Kbuild": "obj-m += b.o\n",
            **stubs("base", "a", "b"),
        },
    )
    assert sorted(by_name(group_sources([str(tmp_path)], None))) == ["a", "b", "base"]


def test_left_out_sources_are_counted_in_notes(tmp_path: Path) -> None:
    from kmodlint.cfront.sources import load_sources

    tree(
        tmp_path,
        {
            "drv/Makefile": "obj-$(CONFIG_TOYDRV) += toydrv.o\n",
            "drv/toydrv.c": '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n',
            "drv/tests/selftest.c": "#include <linux/module.h>\n",  # no Kbuild reaches it
            "lone/ctl.c": "#include <stdio.h>\nint main(void) { return 0; }\n",
            "lone/ioctl_tool.c": "#include <linux/ioctl.h>\nint\nmain(int c, char **v) {}\n",
            "lone/lonemod.c": '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n',
        },
    )
    roots = [str(tmp_path / "drv"), str(tmp_path / "lone")]
    result = load_sources(roots, [], KERNEL_CONFIG, jobs=1, cache=None, use_ast=False)
    assert sorted(m.name for m in result.modules) == ["lonemod", "toydrv"]
    assert (result.unreached, result.user_space) == (1, 2)
    notes = "\n".join(result.notes)
    assert "CONFIG_TOYDRV: not in the kernel configuration, read as =m" in notes
    assert "1 .c file(s) in folders no Kbuild/Makefile reaches" in notes
    assert "2 .c file(s) no Kbuild/Makefile claims" in notes


def test_define_option_on_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    tree(
        tmp_path,
        {
            "Makefile": "obj-$(TOY_BUILD) += toy.o\n",
            "toy.c": '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n',
        },
    )

    def deps(*extra: str) -> subprocess.CompletedProcess[str]:
        args = ["deps", str(tmp_path), "--kernel", "none", "--config", "none", "--no-cache"]
        return subprocess.run(
            [sys.executable, "-m", "kmodlint", *args, "--format", "json", *extra],
            capture_output=True,
            text=True,
            check=False,
        )

    assert '"toy"' in deps("--define", "TOY_BUILD=m").stdout
    assert '"toy"' not in deps("--define", "TOY_BUILD=").stdout
    bad = deps("--define", "no-equals-sign")
    assert bad.returncode == 2 and "expected NAME=VALUE" in bad.stderr


def test_wildcard_composite_members(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "drv/Kbuild": (
                "SRCS := $(wildcard $(src)/*.c $(src)/lib/*.c)\n"
                "obj-m += drv.o\n"
                "drv-objs := $(patsubst $(src)/%.c,%.o,$(SRCS))\n"
                "ccflags-y := -I$(src)/include\n"
            ),
            **stubs("drv/main", "drv/util", "drv/lib/crc"),
        },
    )
    (module,) = group_sources([str(tmp_path / "drv")], None).modules
    assert stems(module) == ["main", "util", "lib/crc"]
    assert module.include_dirs == (str(tmp_path / "drv" / "include"),)


def test_user_space_programs(tmp_path: Path) -> None:
    from kmodlint.cfront.sources import is_user_space

    tree(
        tmp_path,
        {
            "tool.c": "#include <stdio.h>\nint main(void) { return 0; }\n",
            "ioctl.c": "#include <linux/ioctl.h>\nint\nmain(int c, char **v) {}\n",
            "helper.c": "#include <string.h>\nint helper(void) { return 1; }\n",
            "viahdr.c": '#include "drv.h"\nstatic int x;\n',
            "drv.h": '#include "inner.h"\n',
            "inner.h": "#include <linux/module.h>\n",
            "marked.c": '#include "missing.h"\nMODULE_LICENSE("GPL");\n',
        },
    )
    assert [n for n in sorted(os.listdir(tmp_path)) if n.endswith(".c")] == [
        "helper.c",
        "ioctl.c",
        "marked.c",
        "tool.c",
        "viahdr.c",
    ]
    verdict = {n: is_user_space(str(tmp_path / n)) for n in os.listdir(tmp_path)}
    assert verdict["tool.c"] and verdict["ioctl.c"] and verdict["helper.c"]
    # a kernel header through the driver's own headers, or a module macro: kernel code
    assert not verdict["viahdr.c"] and not verdict["marked.c"]


def test_srctree_of_an_external_module_is_the_kernel(tmp_path: Path) -> None:
    from kmodlint.cfront.kbuild.arch import kernel_source_tree

    tree(
        tmp_path,
        {
            "common/include/linux/skbuff.h": "",
            "common/Makefile": "",
            "amd64/Makefile": f"include {tmp_path}/common/Makefile\n",
            "drv/Kbuild": (
                "obj-m += drv.o\ndrv-y := main.o\n"
                "ifneq ($(wildcard $(srctree)/include/linux/skbuff.h),)\ndrv-y += net.o\nendif\n"
                "ccflags-y := -I$(srctree)/include -I$(src)/inc\n"
            ),
            **stubs("drv/main", "drv/net"),
        },
    )
    kernel = kernel_source_tree(str(tmp_path / "amd64"))
    assert kernel == str(tmp_path / "common")
    (module,) = group_sources([str(tmp_path / "drv")], None, kernel_tree=kernel).modules
    assert stems(module) == ["main", "net"]
    assert module.include_dirs == (str(tmp_path / "drv" / "inc"),)  # not the kernel's
    (module,) = group_sources([str(tmp_path / "drv")], None).modules
    assert stems(module) == ["main"]


def test_collection_of_drivers_keeps_lone_modules(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "drv/Kbuild": "obj-m += drv.o\n",
            "drv/drv.c": "",
            "drv/tests/t.c": "",  # under a driver whose Kbuild never descends there
            "lone/lonemod.c": "",  # a lone module beside it, in a folder of projects
            "pkg/dkms.conf": 'MAKE[0]="make -C $kernel_source_dir M=$dkms_tree/p/1/build"\n',
            "pkg/src/Kbuild": "obj-m += p.o\n",
            "pkg/src/p.c": "",
            "pkg/port/bsd.c": "",  # a package's folder no Kbuild reaches
        },
    )
    result = group_sources([str(tmp_path)], None)
    assert sorted(by_name(result)) == ["drv", "p"]
    assert result.unreached_sources == {
        str(tmp_path / "drv" / "tests" / "t.c"),
        str(tmp_path / "pkg" / "port" / "bsd.c"),  # in a package (dkms.conf) of the folder
    }
    assert str(tmp_path / "lone" / "lonemod.c") in result.orphan_sources
    result = group_sources([str(tmp_path / "pkg")], None)
    assert result.unreached_sources == {str(tmp_path / "pkg" / "port" / "bsd.c")}


def test_read_config_keeps_is_not_set_on_request(tmp_path: Path) -> None:
    from kmodlint.cfront.kbuild.kconfig import read_config

    config = tmp_path / ".config"
    config.write_text("CONFIG_MODULES=y\n# CONFIG_OFF is not set\n# a comment\n")
    assert read_config(str(config)) == {"CONFIG_MODULES": "y"}
    assert read_config(str(config), keep_unset=True) == {"CONFIG_MODULES": "y", "CONFIG_OFF": ""}


def test_dual_makefile_recipe_variables_reach_its_kbuild_reading(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "Makefile": (
                "ifneq ($(KERNELRELEASE),)\n"
                "obj-$(CONFIG_TOY) += toy.o\n"
                "toy-y := core.o\n"
                "toy-$(CONFIG_TOY_DEBUG) += debug.o\n"
                "else\n"
                "KDIR ?= /lib/modules/$(shell uname -r)/build\n"
                "export CONFIG_TOY_DEBUG := y\n"
                "modules:\n"
                "\t$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_TOY=m modules\n"
                "endif\n"
            ),
            **stubs("core", "debug"),
        },
    )
    # a fragment without CONFIG_MODULES: nothing is assumed, the recipe's words decide
    result = group_sources([str(tmp_path)], {"CONFIG_USB": "m"})
    assert stems(by_name(result)["toy"]) == ["core", "debug"]
    assert result.assumed_options == []


# ---------------------------------------------------------------- bounded work (issue 11)


def _timed_group(root: Path) -> tuple[KbuildResult, float]:
    import time

    start = time.monotonic()
    result = group_sources([str(root)], None)
    return result, time.monotonic() - start


def test_a_makefile_including_itself_is_one_problem(tmp_path: Path) -> None:
    """GNU make would include it until it runs out of file descriptors; 5 self-includes
    were 5^9 reads before. One problem naming the cycle; the module is still found."""
    inc = "include $(src)/Makefile\n" * 5
    root = tree(tmp_path, {"Makefile": "obj-m += a.o\n" + inc, **stubs("a")})
    result, seconds = _timed_group(root)
    assert list(by_name(result)) == ["a"]
    assert [p[2] for p in result.problems] == [f"includes itself (through {root}/Makefile)"]
    assert seconds < 10


def test_mutually_including_makefiles_are_one_problem(tmp_path: Path) -> None:
    files = {
        "Makefile": "obj-m += a.o\n" + "include $(src)/b.mk\n" * 2,
        "b.mk": "include $(src)/c.mk\n" * 3,
        "c.mk": "include $(src)/b.mk\n" * 3 + "X += 1\n",
        **stubs("a"),
    }
    result, seconds = _timed_group(tree(tmp_path, files))
    assert list(by_name(result)) == ["a"]
    assert len(result.problems) == 1 and "includes itself" in result.problems[0][2]
    assert seconds < 10


def test_exponential_variable_expansion_stops_at_the_work_budget(tmp_path: Path) -> None:
    """`V1 = $(V0)$(V0)` ... `V30`: 8 GB of text if evaluated; one problem, no hang."""
    chain = "V0 = abcdefgh\n" + "".join(f"V{i} = $(V{i - 1})$(V{i - 1})\n" for i in range(1, 31))
    files = {"Makefile": "obj-m += a.o\n" + chain + "obj-m += b.o $(V30)\n", **stubs("a", "b")}
    result, seconds = _timed_group(tree(tmp_path, files))
    assert [p[2] for p in result.problems] == [
        "too complex to evaluate (self-including files or exponential variable expansion): "
        "analysed partly"
    ]
    assert seconds < 20


def test_many_expensive_folders_stop_at_the_runs_make_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten folders that each spend a large part of one evaluation's budget: the run's
    shared budget (scaled down here, as MAKE_RUN_BUDGET is to MAKE_WORK_BUDGET) stops
    the reading after a few; each folder left says so in one problem."""
    from kmodlint.cfront.kbuild import make

    chain = "V0 = abcdefgh\n" + "".join(f"V{i} = $(V{i - 1})$(V{i - 1})\n" for i in range(1, 11))
    files = {"Makefile": "".join(f"obj-m += d{n}/\n" for n in range(10))}
    for n in range(10):
        files[f"d{n}/Makefile"] = f"obj-m += a{n}.o\n{chain}X := $(V10)\n"
        files.update({f"d{n}/{k}": v for k, v in stubs(f"a{n}").items()})
    root = tree(tmp_path, files)
    one_folder = 330_000  # what each folder costs (321,437 measured)
    monkeypatch.setattr(make, "MAKE_WORK_BUDGET", 2 * one_folder)
    monkeypatch.setattr(make, "MAKE_RUN_BUDGET", 3 * one_folder)
    result, _ = _timed_group(root)
    stopped = [p for p in result.problems if "this run's make budget" in p[2]]
    found = by_name(result)
    assert 2 <= len(found) <= 4
    # every folder whose module is missing says why (the one the budget ran out in may
    # have listed its module already)
    stopped_in = {os.path.basename(os.path.dirname(p[0])) for p in stopped}
    assert {f"d{n}" for n in range(10) if f"a{n}" not in found} <= stopped_in
    assert len(stopped) <= 10 - len(found) + 1
    assert not [p for p in result.problems if p not in stopped]


def test_subfolders_that_are_links_to_the_same_folder_are_visited_once(tmp_path: Path) -> None:
    """`obj-m += x/ y/` with x and y links to `.`: 2^depth visits of one folder before."""
    root = tree(tmp_path, {"Makefile": "obj-m += a.o x/ y/\n", **stubs("a")})
    os.symlink(".", root / "x")
    os.symlink(".", root / "y")
    result, seconds = _timed_group(root)
    assert list(by_name(result)) == ["a"]
    assert seconds < 10


def test_a_subfolder_outside_the_given_paths_is_not_followed(tmp_path: Path) -> None:
    """`obj-m += ../elsewhere/`: kbuild would build it, but a folder the user did not give
    is not analysed (nor reported); one problem says so. Given too, it is analysed."""
    tree(
        tmp_path,
        {
            "drv/Makefile": "obj-m += a.o ../elsewhere/\n",
            "drv/a.c": "",
            "elsewhere/Makefile": "obj-m += b.o\n",
            "elsewhere/b.c": "",
        },
    )
    result = group_sources([str(tmp_path / "drv")], None)
    assert list(by_name(result)) == ["a"]
    assert [(os.path.basename(p), line, msg) for p, line, msg in result.problems] == [
        (
            "Makefile",
            1,
            "../elsewhere/ is outside the paths given: not analysed (give it too to include it)",
        )
    ]
    both = group_sources([str(tmp_path / "drv"), str(tmp_path / "elsewhere")], None)
    assert sorted(by_name(both)) == ["a", "b"] and both.problems == []
