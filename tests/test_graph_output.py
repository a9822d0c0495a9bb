"""`kmodlint deps` drawings, the CLI run (in this process, as a new one would) on corpus
binaries."""

from __future__ import annotations

import functools
import json
import re

from kmodlint.reporters.picture import cap
from tests.corpus_support import CORPUS, run_kmodlint

TARGET = str(CORPUS / "targets" / "deb-6.1.0-56")
SEEDS = str(CORPUS / "km000-seeds-mod1-mod2" / "built")
CHAIN = str(CORPUS / "km302-near-miss-chain" / "built")
CYCLE = str(CORPUS / "km302-dependency-cycle" / "built")
LAYER_BOX = re.compile(r"^\| layer (\d+) +\| (.*?) *\|$")


@functools.cache  # tests share identical runs
def deps(*args: str) -> str:
    result = run_kmodlint("deps", *args, "--no-cache")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_layers_are_drawn_top_down_with_the_kernel_at_the_bottom() -> None:
    text = deps(CHAIN, "--kernel", TARGET)
    lines = text.splitlines()
    boxes = [(int(m[1]), m[2]) for m in map(LAYER_BOX.match, lines) if m]
    assert boxes == [(3, "modchaina"), (2, "modchainb"), (1, "modchainc")]
    layers = json.loads(deps(CHAIN, "--kernel", TARGET, "--format", "json"))["layers"]
    assert [[name] for _, name in reversed(boxes)] == layers
    kernel = next(i for i, line in enumerate(lines) if line.startswith("| kernel"))
    assert kernel > max(i for i, line in enumerate(lines) if LAYER_BOX.match(line))
    assert "6.1.0-56-amd64" in lines[kernel]
    assert "deb-6.1.0-56/Module.symvers" in text
    assert lines[-1 - lines[::-1].index("") - 1].startswith("+====")  # the stack's floor
    off = deps(CHAIN, "--kernel", "none")
    assert re.search(r"^\| kernel +\| not checked", off, re.MULTILINE)


def test_edges_sit_under_the_upper_layer_and_list_symbols_on_request() -> None:
    plain = deps(SEEDS, "--kernel", TARGET).splitlines()
    assert "    mod2 -> mod1 (1 symbol)" in plain
    lines = deps(SEEDS, "--kernel", TARGET, "--symbols").splitlines()
    edge = lines.index("    mod2 -> mod1: myadd")
    upper = next(i for i, line in enumerate(lines) if line.startswith("| layer 2"))
    lower = next(i for i, line in enumerate(lines) if line.startswith("| layer 1"))
    assert upper < edge < lower
    # What each module takes from the kernel, above the kernel box.
    assert any(re.match(r"    mod1 -> kernel: .*_printk", line) for line in lines)


def test_long_symbol_lists_are_capped() -> None:
    names = [f"s{i:02}" for i in range(12)]
    assert cap(names, 8) == ", ".join(names[:8]) + " ... and 4 more"
    assert cap(names[:3], 8) == "s00, s01, s02"


def test_modprobe_and_rmmod_follow_the_json_load_order() -> None:
    for paths in ((CHAIN,), (SEEDS, CHAIN, CYCLE)):
        order = json.loads(deps(*paths, "--kernel", TARGET, "--format", "json"))["load_order"]
        text = deps(*paths, "--kernel", TARGET)
        load = text[text.index("load order:") :].split("unload order:")[0]
        unload = text.split("unload order:\n")[1]
        assert re.findall(r"^  modprobe (\S+)$", load, re.MULTILINE) == order
        assert re.findall(r"^  rmmod (\S+)$", unload, re.MULTILINE) == order[::-1]


def test_cycles_are_marked_in_their_layer_and_listed() -> None:
    text = deps(CYCLE, "--kernel", TARGET, "--symbols")
    boxes = [m[2] for m in map(LAYER_BOX.match, text.splitlines()) if m]
    assert boxes == ["modcyca [cycle 1]  modcycb [cycle 1]"]
    assert "  cycle 1: modcyca -> modcycb -> modcyca" in text.splitlines()
    assert "    modcyca -> modcycb: cycb_pong  [cycle 1]" in text.splitlines()
    assert "(not loadable while the cycles remain)" in text
    data = json.loads(deps(CYCLE, "--kernel", TARGET, "--format", "json"))
    assert data["cycles"] == [["modcyca", "modcycb", "modcyca"]]
    assert all(edge["cycle"] for edge in data["edges"])
    chain = json.loads(deps(CHAIN, "--kernel", TARGET, "--format", "json"))
    assert not any(edge["cycle"] for edge in chain["edges"])
    assert "[cycle" not in deps(CHAIN, "--kernel", TARGET)


def test_json_keeps_its_original_fields() -> None:
    data = json.loads(deps(SEEDS, "--kernel", TARGET, "--format", "json"))
    assert {"layers", "load_order", "edges", "cycles"} <= set(data)
    assert data["edges"][0]["from"] == "mod2" and data["edges"][0]["symbols"] == ["myadd"]
    assert data["unload_order"] == data["load_order"][::-1]
    assert "6.1.0-56-amd64" in data["kernel"]


MERMAID_NODE = re.compile(r"^\s+(\w+)\[")
MERMAID_EDGE = re.compile(r'^\s+(\w+) (-->\|"[^"]*"\||-\.->) (\w+)$')


def test_mermaid_is_well_formed() -> None:
    for kernel in (TARGET, "none"):
        text = deps(SEEDS, CHAIN, CYCLE, "--kernel", kernel, "--format", "mermaid")
        lines = text.splitlines()
        assert re.match(r"(flowchart|graph) (TB|TD|BT)$", lines[0])
        declared = {m[1] for m in map(MERMAID_NODE.match, lines) if m}
        edges = [m for m in map(MERMAID_EDGE.match, lines) if m]
        assert edges
        assert len(edges) == sum("-->" in line or "-.->" in line for line in lines)
        for edge in edges:
            assert edge[1] in declared and edge[3] in declared, edge[0]
        assert sum(line.strip().startswith("subgraph ") for line in lines) == sum(
            line.strip() == "end" for line in lines
        )
        assert ("kernel[(" in text) == (kernel != "none")
    cycle = deps(CYCLE, "--kernel", "none", "--format", "mermaid").splitlines()
    style = next(line for line in cycle if line.strip().startswith("linkStyle"))
    assert style.split()[1] == "0,1" and "stroke:red" in style
    assert "  class m0,m1 cycle" in cycle
    chain = deps(CHAIN, "--kernel", "none", "--format", "mermaid")
    assert "linkStyle" not in chain and "kernel" not in chain


def test_dot_is_well_formed_and_marks_cycles() -> None:
    text = deps(CHAIN, "--kernel", TARGET, "--format", "dot")
    assert text.startswith("digraph modules {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    declared = set(re.findall(r'^  ("[^"]+")(?: \[[^\]]*\])?;$', text, re.MULTILINE))
    for upper, lower in re.findall(r'^  ("[^"]+") -> ("[^"]+")', text, re.MULTILINE):
        assert upper in declared and lower in declared
    assert '"(kernel)"' in declared
    assert '{ rank=same; "modchaina"; }  // layer 3' in text
    assert '"(kernel)"' not in deps(CHAIN, "--kernel", "none", "--format", "dot")
    cycle = deps(CYCLE, "--kernel", "none", "--format", "dot")
    assert cycle.count('color="red"') == 2


def test_output_is_deterministic() -> None:
    args = (CYCLE, CHAIN, SEEDS, "--kernel", TARGET, "--format", "text", "--symbols")
    # Uncached runs: another run, inputs given in another order.
    again = run_kmodlint("deps", *args, "--no-cache", "-j", "1").stdout
    assert again == deps(SEEDS, CHAIN, CYCLE, *args[3:]) == deps(*args)


def test_kernel_modules_the_set_needs_are_named_in_the_kernel_box() -> None:
    # No corpus case imports from a kernel module, so the picture is built by hand.
    from kmodlint.reporters.picture import Picture
    from kmodlint.reporters.stacking import stacking_text

    drawn = Picture(
        layers=[["mydrv"]],
        edges=[],
        cycles=[],
        cycle_of={},
        load_order=["mydrv"],
        kernel="6.1.0-56-amd64 (Module.symvers)",
        kernel_edges={"mydrv": ["usb_register_driver"]},
        kernel_modules=["usbcore"],
    )
    text = stacking_text(drawn, symbols=True)
    assert "its modules needed: usbcore" in text
    assert "    mydrv -> kernel: usb_register_driver" in text.splitlines()
