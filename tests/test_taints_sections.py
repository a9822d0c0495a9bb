"""Issue 14: predicted taints (rules/taints.py) and section mismatches (kmodlint/sectioncheck.py,
kmodlint/frontends/sections.py) beyond the corpus cases."""

from __future__ import annotations

import json
from pathlib import Path

from kmodlint.kernel.options import flags_from_config
from kmodlint.sectioncheck import secref_allowed, section_mismatch
from tests.corpus_support import CORPUS, run_kmodlint

TARGET = CORPUS / "targets" / "deb-6.1.0-56"


def test_sectioncheck_table_is_modposts() -> None:
    assert section_mismatch(".text", ".init.text") == "TEXT_TO_ANY_INIT"
    assert section_mismatch(".text.unlikely", ".init.data") == "TEXT_TO_ANY_INIT"
    assert section_mismatch(".data", ".exit.text") == "DATA_TO_ANY_EXIT"
    assert section_mismatch(".init.text", ".exit.text") == "ANY_INIT_TO_ANY_EXIT"
    assert section_mismatch(".exit.text", ".init.text") == "ANY_EXIT_TO_ANY_INIT"
    assert section_mismatch(".meminit.text", ".init.text") == "XXXINIT_TO_SOME_INIT"
    # modpost checks neither .rodata nor .ref.text, nor init -> init
    assert section_mismatch(".rodata", ".init.text") is None
    assert section_mismatch(".ref.text", ".init.text") is None
    assert section_mismatch(".init.text", ".init.data") is None
    assert section_mismatch(".text", "") is None


def test_allow_list_is_secref_whitelist() -> None:
    assert secref_allowed(".data", "__param_arr_x", ".init.data", "x")
    assert secref_allowed(".data", "__param_ops_x", ".init.text", "set_x")
    assert secref_allowed(".data", "foo_ops", ".init.text", "foo_setup")
    assert secref_allowed(".data", "foo_driver", ".exit.text", "foo_remove")
    assert secref_allowed(".text", "f.constprop.0", ".init.data", "x")
    assert secref_allowed(".text", ".LC0", ".init.text", "g")
    assert secref_allowed(".text", "f", ".init.text", "_sinittext")
    assert secref_allowed(".data", "foo_hooks", ".exit.text", "foo_teardown") is None
    assert secref_allowed(".text", "f", ".init.text", "g") is None


def test_kernel_options_from_config() -> None:
    assert flags_from_config("CONFIG_MODULE_SIG=y\nCONFIG_RETPOLINE=y\n") == (True, True)
    assert flags_from_config("CONFIG_MITIGATION_RETPOLINE=y\n") == (False, True)
    assert flags_from_config("# CONFIG_MODULE_SIG is not set\n") == (False, False)


def test_symbols_shows_predicted_taints() -> None:
    """`symbols` predicts every taint, selected or not; E and the retpoline warning need
    the target's configuration."""
    built = CORPUS / "km702-out-of-tree-taint" / "built"
    args = ("symbols", str(built), "--format", "json", "--isolated")
    with_kernel = json.loads(run_kmodlint(*args, "--kernel", str(TARGET)).stdout)
    flags = [t["flag"] for t in with_kernel["modules"][0]["taints"]]
    assert flags == ["O", "E"]
    message = with_kernel["modules"][0]["taints"][1]["message"]
    assert message.startswith("modoot: module verification failed: signature and/or")
    without = json.loads(run_kmodlint(*args, "--kernel", "none").stdout)
    assert [t["flag"] for t in without["modules"][0]["taints"]] == ["O"]
    table = run_kmodlint("symbols", str(built), "--kernel", str(TARGET), "--isolated").stdout
    assert "taints" in table.splitlines()[0] and " OE" in table


def test_taint_rules_are_opt_in_but_the_retpoline_warning(tmp_path: Path) -> None:
    built = CORPUS / "km702-out-of-tree-taint" / "built"
    quiet = run_kmodlint("check", str(built), "--kernel", str(TARGET), "--isolated")
    assert "KM70" not in quiet.stdout
    loud = run_kmodlint(
        "check", str(built), "--kernel", str(TARGET), "--isolated", "--extend-select", "KM7"
    )
    assert "[KM702 out-of-tree-taint]" in loud.stdout and loud.returncode == 0


def _module_tree(root: Path, folder: str, name: str) -> None:
    (root / folder).mkdir(parents=True)
    (root / folder / "Makefile").write_text(f"obj-m += {name}.o\n")
    (root / folder / f"{name}.c").write_text(
        '#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("d");\n'
    )


def test_sources_predict_the_tags_modpost_adds(tmp_path: Path) -> None:
    """modpost's add_header() writes intree=Y unless the build is external and staging=Y
    under drivers/staging: a module in no kernel tree gets O (KM702), one in a kernel tree
    none, one in its drivers/staging the C taint (in `symbols`; KM704 runs on binaries)."""
    tree = tmp_path / "linux"
    (tree / "arch" / "x86").mkdir(parents=True)
    (tree / "Kbuild").write_text("obj-y += drivers/\n")
    (tree / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
    _module_tree(tree, "drivers/staging/oldcard", "oldcard")
    _module_tree(tree, "drivers/net/goodcard", "goodcard")
    _module_tree(tmp_path / "dkms-pkg", "src", "vendorcard")
    flags: dict[str, str] = {}
    found: dict[str, list[str]] = {}
    for path in (tree / "drivers" / "staging", tree / "drivers" / "net", tmp_path / "dkms-pkg"):
        common = (str(path), "--kernel", "none", "--isolated", "--format", "json")
        symbols = json.loads(run_kmodlint("symbols", *common).stdout)
        flags.update(
            {m["name"]: "".join(t["flag"] for t in m["taints"]) for m in symbols["modules"]}
        )
        run = run_kmodlint("check", *common, "--select", "KM702")
        for finding in json.loads(run.stdout)["findings"]:
            found.setdefault(finding["module"], []).append(finding["code"])
    assert flags == {"oldcard": "C", "goodcard": "", "vendorcard": "O"}
    assert found == {"vendorcard": ["KM702"]}
