"""The pure parts of benchmarks/scale.py's tree generator: renaming, in-place edits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "scale.py"
    spec = importlib.util.spec_from_file_location("benchmark_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


scale = _load()


def test_a_tail_shared_export_gets_the_same_bytes_in_both_names() -> None:
    renamer = scale.Renamer(1, frozenset({b"foo", b"xfoo"}), {})
    assert renamer.export_name(b"foo") == b"goo"
    # xfoo's tail is foo: renamed at both starts, so a table storing foo inside xfoo agrees
    assert renamer.export_name(b"xfoo") == b"ygoo"
    assert renamer.symbol(b"__ksymtab_xfoo") == b"__ksymtab_ygoo"
    assert renamer.symbol(b"__crc_foo") == b"__crc_goo"
    assert renamer.symbol(b"printk") is None  # a kernel symbol keeps its name


def test_the_rotation_is_a_bijection_of_identifier_characters() -> None:
    table = scale.rotation(7)
    chars = scale.SYMBOL_CHARS
    assert sorted(table[c] for c in chars) == sorted(chars)
    assert all(table[c] in chars for c in chars)
    assert table[ord("-")] == ord("-")


def test_module_names_keep_their_dashes() -> None:
    renamer = scale.Renamer(1, frozenset(), {b"serpent_avx": b"Xerpent_avx"})
    assert renamer.module(b"serpent-avx") == b"Xerpent-avx"
    assert renamer.module(b"serpent_avx") == b"Xerpent_avx"
    assert renamer.module(b"builtin_mod") == b"builtin_mod"
    assert renamer.path("kernel/crypto/serpent-avx.ko", 3) == "kernel/copy3/crypto/Xerpent-avx.ko"


def test_edits_refuse_to_change_a_locked_string_sharing_bytes() -> None:
    data = bytearray(b"\0xfoo\0")
    edits = scale.Edits(data)
    edits.must(2, b"goo")  # "foo" stored as the tail of "xfoo"
    edits.lock(1, b"xfoo")  # a kernel symbol
    with pytest.raises(scale.BenchError):
        edits.apply()


def test_edits_apply_consistent_renames_of_shared_bytes() -> None:
    data = bytearray(b"\0xfoo\0")
    edits = scale.Edits(data)
    edits.must(2, b"goo")
    edits.must(1, b"ygoo")
    edits.apply()
    assert data == bytearray(b"\0ygoo\0")


def test_closure_subset_keeps_dependencies_and_order() -> None:
    order = ["a.ko", "b.ko", "c.ko", "d.ko"]
    deps = {"b.ko": ["d.ko"], "d.ko": []}
    assert scale.closure_subset(order, deps, 2) == ["a.ko", "b.ko", "d.ko"]


def test_dep_lines_stop_at_depmods_next_file() -> None:
    out = b"a.ko:\nb.ko: a.ko\n# Aliases extracted from modules themselves.\nalias x a\n"
    assert scale.dep_lines(out) == [b"a.ko:", b"b.ko: a.ko"]


def test_renamed_makefile() -> None:
    text = "obj-$(CONFIG_E1000E) += e1000e.o\n\ne1000e-objs := 82571.o ich8lan.o \\\n\t mac.o\n"
    assert scale.renamed_makefile(text, "_c2") == (
        "obj-m += e1000e_c2.o\n\ne1000e_c2-objs := 82571.o ich8lan.o \\\n\t mac.o\n"
    )
