"""--kernel inputs: Module.symvers layouts, System.map, headers folders, /lib/modules trees."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from kmodlint.kernel.load import KernelSpecError, choose_kernel, load_kernel
from kmodlint.kernel.vermagic import same_magic, vermagic_from_headers
from kmodlint.model import ExportKind

# Rows of Debian 6.1.0-56-amd64's Module.symvers (5.6-rc7+ layout: crc sym module type ns).
CURRENT_ROWS = [
    ("0x9e7d6bd0", "__udelay", "vmlinux", "EXPORT_SYMBOL", ""),
    ("0x19a304ba", "usb_disabled", "drivers/usb/core/usbcore", "EXPORT_SYMBOL_GPL", ""),
    (
        "0x5e8bb6d5",
        "usb_stor_probe1",
        "drivers/usb/storage/usb-storage",
        "EXPORT_SYMBOL_GPL",
        "USB_STORAGE",
    ),
]


def _no_tree(files: list) -> list:
    raise AssertionError("no module tree expected here")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "layout",
    ["5.6-rc7+", "5.4", "<=5.3"],
)
def test_symvers_every_historical_layout(tmp_path: Path, layout: str) -> None:
    lines = []
    for crc, symbol, module, kind, namespace in CURRENT_ROWS:
        if layout == "5.6-rc7+":
            lines.append(f"{crc}\t{symbol}\t{module}\t{kind}\t{namespace}")
        elif layout == "5.4":
            lines.append(f"{crc}\t{symbol}\t{namespace}\t{module}\t{kind}")
        else:
            lines.append(f"{crc}\t{symbol}\t{module}\t{kind}")
    table = load_kernel(str(_write(tmp_path, "Module.symvers", "\n".join(lines) + "\n")), _no_tree)
    assert table.problems == []
    udelay = table.exports["__udelay"]
    assert (udelay.owner, udelay.export.kind, udelay.export.crc) == (
        "vmlinux",
        ExportKind.PLAIN,
        0x9E7D6BD0,
    )
    storage = table.exports["usb_stor_probe1"]
    assert storage.owner == "drivers/usb/storage/usb-storage"
    assert storage.export.kind is ExportKind.GPL
    assert storage.export.namespace == ("" if layout == "<=5.3" else "USB_STORAGE")
    assert table.modversions is True


def test_symvers_without_modversions_has_no_crcs(tmp_path: Path) -> None:
    text = "0x00000000\t__udelay\tvmlinux\tEXPORT_SYMBOL\t\n"
    table = load_kernel(str(_write(tmp_path, "Module.symvers", text)), _no_tree)
    assert table.modversions is False
    assert table.exports["__udelay"].export.crc is None


def test_symvers_bad_rows_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    text = (
        "0x9e7d6bd0\t__udelay\tvmlinux\tEXPORT_SYMBOL\t\n"
        "garbage line\n"
        "zz\tx\tvmlinux\tEXPORT_SYMBOL\t\n"
    )
    table = load_kernel(str(_write(tmp_path, "Module.symvers", text)), _no_tree)
    assert list(table.exports) == ["__udelay"]
    assert [p.name for p in table.problems] == ["invalid-kernel-table"]
    assert "2 unreadable Module.symvers line(s): 2, 3" in table.problems[0].message


def test_debian_placeholder_system_map_is_detected(tmp_path: Path) -> None:
    text = (
        "ffffffffffffffff B The real System.map is in the linux-image-6.1.0-56-amd64-dbg package\n"
    )
    table = load_kernel(str(_write(tmp_path, "System.map-6.1.0-56-amd64", text)), _no_tree)
    assert table.exports == {}
    assert table.complete is False
    assert "placeholder" in table.problems[0].message


def test_system_map_lists_ksymtab_labels_as_exports(tmp_path: Path) -> None:
    text = (
        "ffffffff81000000 T _stext\n"
        "ffffffff82a1b2c0 r __ksymtab___udelay\n"
        "ffffffff82a1b2cc r __ksymtab_usb_disabled\n"
        "ffffffff810f0000 T __udelay\n"
    )
    table = load_kernel(str(_write(tmp_path, "System.map", text)), _no_tree)
    assert sorted(table.exports) == ["__udelay", "usb_disabled"]
    assert table.exports["__udelay"].export.kind is ExportKind.UNKNOWN
    assert table.has_kinds is False and table.complete is True


def test_headers_folder_gives_symvers_and_vermagic(tmp_path: Path) -> None:
    _write(tmp_path, "Module.symvers", "0x9e7d6bd0\t__udelay\tvmlinux\tEXPORT_SYMBOL\t\n")
    _write(tmp_path, "include/generated/utsrelease.h", '#define UTS_RELEASE "6.1.0-56-amd64"\n')
    _write(
        tmp_path,
        "include/config/auto.conf",
        "CONFIG_X86_64=y\nCONFIG_SMP=y\nCONFIG_PREEMPT_BUILD=y\nCONFIG_MODULE_UNLOAD=y\n"
        "CONFIG_MODVERSIONS=y\n",
    )
    table = load_kernel(str(tmp_path), _no_tree)
    assert table.vermagic == "6.1.0-56-amd64 SMP preempt mod_unload modversions "
    assert vermagic_from_headers(str(tmp_path)) == table.vermagic


def test_lib_modules_tree_prefers_build_symvers(tmp_path: Path) -> None:
    headers = tmp_path / "usr/src/linux-headers-x"
    _write(headers, "Module.symvers", "0x9e7d6bd0\t__udelay\tvmlinux\tEXPORT_SYMBOL\t\n")
    tree = tmp_path / "lib/modules/6.1.0-56-amd64"
    (tree / "kernel").mkdir(parents=True)
    (tree / "build").symlink_to(headers)
    _write(tree, "modules.builtin", "kernel/drivers/usb/core/usbcore.ko\nnot-a-module\n")
    table = load_kernel(str(tree), _no_tree)
    assert table.source.endswith("build/Module.symvers")
    assert "__udelay" in table.exports
    assert table.builtin == {"usbcore"}
    assert [p.message for p in table.problems] == ["invalid modules.builtin line: not-a-module"]


def test_kernel_none_and_missing_running_tree() -> None:
    assert choose_kernel("none", _no_tree).table is None
    choice = choose_kernel(None, _no_tree)
    if not Path(f"/lib/modules/{platform.release()}").exists():
        assert choice.table is None
        assert "kernel symbols were not checked" in choice.note


def test_kernel_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(KernelSpecError):
        load_kernel(str(tmp_path / "nope"), _no_tree)
    with pytest.raises(KernelSpecError):
        load_kernel(str(_write(tmp_path, "notes.txt", "hello\n")), _no_tree)


@pytest.mark.parametrize(
    ("module_magic", "kernel_magic", "has_crcs", "same"),
    [
        # Release differs, module has __versions: accepted (kernel/module/version.c).
        (
            "6.1.0-55-amd64 SMP preempt mod_unload modversions ",
            "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
            True,
            True,
        ),
        # Same strings, no __versions: whole string compared.
        (
            "6.1.0-55-amd64 SMP preempt mod_unload modversions ",
            "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
            False,
            False,
        ),
        (
            "6.1.0-56-rt-amd64 SMP preempt_rt mod_unload modversions ",
            "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
            True,
            False,
        ),
        # The trailing space is part of the magic.
        (
            "6.1.0-56-amd64 SMP preempt mod_unload modversions",
            "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
            True,
            False,
        ),
    ],
)
def test_same_magic_mirrors_the_loader(
    module_magic: str, kernel_magic: str, has_crcs: bool, same: bool
) -> None:
    assert same_magic(module_magic, kernel_magic, has_crcs) is same


def test_lib_modules_tree_without_build_infers_vmlinux_exports(tmp_path: Path) -> None:
    """No build/Module.symvers: module exports are exact, vmlinux exports are what the tree's
    modules import (with the CRC they recorded), and the table says it is incomplete."""
    from kmodlint.extract import extract_binary
    from tests.corpus_support import CORPUS
    from tests.test_corpus import run_kmodlint

    seeds = CORPUS / "km000-seeds-mod1-mod2" / "built"
    tree = tmp_path / "lib/modules/6.1.0-56-amd64"
    (tree / "kernel/drivers").mkdir(parents=True)
    (tree / "kernel/drivers/mod1.ko").write_bytes((seeds / "mod1.ko").read_bytes())
    _write(tree, "modules.builtin", "kernel/lib/crc32.ko\n")

    def read_tree(files: list) -> list:
        extracted = [extract_binary(path, shown) for path, shown in files]
        return [(e.module, e.problems) for e in extracted]

    table = load_kernel(str(tree), read_tree)
    mod1 = extract_binary(str(seeds / "mod1.ko"), "mod1.ko").module
    assert mod1 is not None and mod1.versions
    assert table.exports["myadd"].owner == "mod1"
    assert table.exports["_printk"].owner == "vmlinux"
    assert table.exports["_printk"].export.crc == mod1.versions["_printk"]
    assert (table.complete, table.has_kinds, table.builtin) == (False, False, {"crc32"})
    assert table.vermagic == mod1.vermagic

    result = run_kmodlint(
        "check", str(seeds / "mod2.ko"), "--kernel", str(tree), "--format", "json", "--no-cache"
    )
    assert json.loads(result.stdout)["findings"] == []
    assert "vmlinux exports were inferred" in result.stderr


# ---------------------------------------------------------------------------------------
# Strict where laxness lies (issue 11): unreadable rows are counted and make the table
# incomplete; CRCs are 32-bit hex as modpost writes them.

GOOD_ROW = "0x9e7d6bd0\t__udelay\tvmlinux\tEXPORT_SYMBOL\t"


@pytest.mark.parametrize(
    "crc",
    ["-0x5", "0x" + "1" * 200, "1_000", "0x1_000", "0x", "0x123456789", " 0x5", "5", "0xg1"],
)
def test_a_crc_that_is_not_32_bit_hex_is_an_unreadable_row(tmp_path: Path, crc: str) -> None:
    text = f"{GOOD_ROW}\n{crc}\tusb_disabled\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
    table = load_kernel(str(_write(tmp_path, "Module.symvers", text)), _no_tree)
    assert list(table.exports) == ["__udelay"]
    assert table.complete is False
    assert [p.message.split(";")[0] for p in table.problems] == [
        "1 unreadable Module.symvers line(s): 2"
    ]


@pytest.mark.parametrize("crc", ["0x0", "0xDEADBEEF", "0X1", "0x00000000"])
def test_32_bit_hex_crcs_are_read(tmp_path: Path, crc: str) -> None:
    text = f"{crc}\t__udelay\tvmlinux\tEXPORT_SYMBOL\t\n"
    table = load_kernel(str(_write(tmp_path, "Module.symvers", text)), _no_tree)
    assert table.problems == [] and table.complete is True
    assert list(table.exports) == ["__udelay"]


def test_rows_modpost_never_writes_are_unreadable(tmp_path: Path) -> None:
    rows = [
        GOOD_ROW,
        "0x1\tsym a\tvmlinux\tEXPORT_SYMBOL\t",  # a blank in a name
        "0x1\t\tvmlinux\tEXPORT_SYMBOL\t",  # no name
        "0x1\tsym\t\tEXPORT_SYMBOL\t",  # no module
        "0x1\tsym\tvmlinux\tEXPORT_SYMBOL\tNS\textra",  # six columns
        "0x1\tsym\tvmlinux\tEXPORT_SYMBOL_WHATEVER\t",
        "0x1\tsy\x01m\tvmlinux\tEXPORT_SYMBOL\t",
    ]
    table = load_kernel(str(_write(tmp_path, "Module.symvers", "\n".join(rows))), _no_tree)
    assert list(table.exports) == ["__udelay"]
    assert "6 unreadable Module.symvers line(s): 2, 3, 4, 5, 6 and 1 more" in (
        table.problems[0].message
    )
    assert "treated as incomplete" in table.problems[0].message
    assert table.complete is False


def test_a_nul_separated_symvers_is_unreadable_and_incomplete(tmp_path: Path) -> None:
    rows = [GOOD_ROW.replace("__udelay", f"sym{i}") for i in range(50)]
    path = tmp_path / "Module.symvers"
    path.write_bytes("\0".join(rows).encode())
    table = load_kernel(str(path), _no_tree)
    assert table.exports == {}
    assert table.complete is False
    assert table.problems[0].message.startswith("1 unreadable Module.symvers line(s): 1;")


def test_an_empty_symvers_in_a_headers_folder_is_incomplete(tmp_path: Path) -> None:
    _write(tmp_path, "headers/Module.symvers", "")
    table = load_kernel(str(tmp_path / "headers"), _no_tree)
    assert table.complete is False
    assert "lists no exports" in table.problems[0].message


def test_system_map_garbage_lines_make_it_incomplete(tmp_path: Path) -> None:
    text = "ffffffff82a1b2c0 r __ksymtab___udelay\nnot an address line\nzz T x\n"
    table = load_kernel(str(_write(tmp_path, "System.map", text)), _no_tree)
    assert list(table.exports) == ["__udelay"]
    assert table.complete is False
    assert table.problems[0].message.startswith("2 unreadable System.map line(s);")


def _check(capsys: pytest.CaptureFixture[str], kernel: Path, tmp_path: Path) -> list[str]:
    from kmodlint import cli

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    cli.main(
        [
            "check",
            str(corpus / "km301-unresolved-symbol" / "built"),
            str(corpus / "km502-unused-namespace-import" / "built"),
            "--kernel",
            str(kernel),
            "--isolated",
            "--no-cache",
            "--format",
            "json",
        ]
    )
    return [f"{f['rule']}: {f['message']}" for f in json.loads(capsys.readouterr().out)["findings"]]


def test_an_unreadable_row_silences_the_rules_that_need_a_complete_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = Path(__file__).resolve().parent.parent / "corpus/targets/deb-6.1.0-56/Module.symvers"
    clean = target.read_text()
    rules = [f.split(":")[0] for f in _check(capsys, target, tmp_path)]
    assert "unresolved-symbol" in rules and "unused-namespace-import" in rules
    for damage in ("garbage line\n", "-0x5\tmyadd\tvmlinux\tEXPORT_SYMBOL\t\n"):
        kernel = _write(tmp_path, "damaged/Module.symvers", clean + damage)
        found = _check(capsys, kernel, tmp_path)
        rules = [f.split(":")[0] for f in found]
        assert "unresolved-symbol" not in rules and "unused-namespace-import" not in rules
        tables = [f for f in found if f.startswith("invalid-kernel-table")]
        assert len(tables) == 1 and "1 unreadable Module.symvers line(s)" in tables[0]


def test_a_table_of_millions_of_rows_is_cut_and_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint.kernel import symvers

    # the bound scaled down: a real one of 1,000,000 rows costs ~10 s and ~350 MB
    monkeypatch.setattr(symvers, "MAX_ROWS", 100)
    rows = "".join(f"0x{i:08x}\tsym_{i}\tvmlinux\tEXPORT_SYMBOL\t\n" for i in range(250))
    table = load_kernel(str(_write(tmp_path, "Module.symvers", rows)), _no_tree)
    assert len(table.exports) == 100
    assert table.complete is False
    assert [p.message.split(";")[0] for p in table.problems] == [
        "more than 100 Module.symvers rows: the rest was not read"
    ]
    labels = "".join(f"ffffffff8{i:07x} r __ksymtab_sym_{i}\n" for i in range(250))
    table = load_kernel(str(_write(tmp_path, "System.map", labels)), _no_tree)
    assert len(table.exports) == 100 and table.complete is False
    assert table.problems[0].message.startswith("more than 100 __ksymtab_ entries")


def test_garbage_in_modules_builtin_is_named_five_times_then_counted(tmp_path: Path) -> None:
    _write(tmp_path, "headers/Module.symvers", GOOD_ROW + "\n")
    garbage = "".join(f"junk\x1b[2J{i}\n" for i in range(1000))
    _write(tmp_path, "headers/modules.builtin", "kernel/crypto/crc32.ko\n" + garbage)
    table = load_kernel(str(tmp_path / "headers"), _no_tree)
    assert table.builtin == {"crc32"}
    messages = [p.message for p in table.problems]
    assert len(messages) == 6
    assert messages[0] == "invalid modules.builtin line: junk\\x1b[2J0"  # escaped, not raw
    assert messages[-1] == "995 more invalid modules.builtin line(s)"


def test_symvers_lines_are_read_one_at_a_time(tmp_path: Path) -> None:
    from kmodlint.kernel.symvers import lines

    assert list(lines("a\r\nb\n\nc")) == ["a", "b", "", "c"]
    assert list(lines("")) == []
    text = f"{GOOD_ROW}\r\n" + GOOD_ROW.replace("__udelay", "x\x0cy") + "\r\n"
    table = load_kernel(str(_write(tmp_path, "Module.symvers", text)), _no_tree)
    assert list(table.exports) == ["__udelay"]  # a form feed is no line break in modpost
    assert table.problems[0].message.startswith("1 unreadable Module.symvers line(s): 2;")


def test_kernel_tables_that_are_fifos_or_devices_say_why(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo.symvers"
    os.mkfifo(fifo)
    headers = tmp_path / "headers"
    headers.mkdir()
    (headers / "Module.symvers").symlink_to("/dev/zero")
    for spec, path in ((fifo, fifo), (headers, headers / "Module.symvers")):
        with pytest.raises(KernelSpecError) as caught:
            load_kernel(str(spec), _no_tree)
        assert str(caught.value) == f"--kernel {path}: cannot be read: not a regular file"
    (headers / "Module.symvers").unlink()
    _write(headers, "Module.symvers", GOOD_ROW + "\n")
    os.mkfifo(headers / "modules.builtin")
    table = load_kernel(str(headers), _no_tree)
    assert list(table.exports) == ["__udelay"] and table.builtin == set()
    assert [p.message for p in table.problems] == ["not read: not a regular file"]
