"""`check --kernel A --kernel B ...` (issue 14, deliverable 2): the modules x kernels matrix,
against the shipped Debian 12 tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmodlint.kerneltables.store import SHIPPED_DIR, find, load, open_file, to_kernel_table
from tests.corpus_support import CORPUS, run_kmodlint

SEEDS = str(CORPUS / "km000-seeds-mod1-mod2" / "built")  # built against 6.1.0-56-amd64
SOURCES = str(Path(__file__).parent / "fixtures" / "matrix")
KERNELS = [
    "--kernel",
    "debian-12/6.1.0-5[56]-amd64",
    "--kernel",
    "debian-12/6.1.0-47-amd64",
    "--kernel",
    "debian-12/6.12.118*",
]
SHOWN = [
    "debian-12/6.1.0-55-amd64",
    "debian-12/6.1.0-56-amd64",
    "debian-12/6.1.0-47-amd64",
    "debian-12/6.12.118+deb12-amd64",
    "debian-12/6.12.118+deb12-arm64",
]


def _matrix(*args: str) -> tuple[dict, list[dict]]:
    result = run_kmodlint("check", *args, *KERNELS, "--isolated", "--format", "json", "-q")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    return document["matrix"], document["findings"]


def test_binary_cells_are_the_loaders_reasons() -> None:
    """mod1/mod2 were built against 6.1.0-56: 6.1.0-55 has the same CRCs (Debian's ABI
    number moved for other reasons), 6.1.0-47's module_layout differs (struct module
    changed), 6.12 changes _printk's CRC too, arm64 cannot take an x86-64 object."""
    matrix, findings = _matrix(SEEDS)
    assert matrix["kernels"] == SHOWN
    cells = matrix["modules"]["mod1"]
    assert cells["debian-12/6.1.0-55-amd64"] == {"loads": True, "reasons": [], "notes": []}
    assert cells["debian-12/6.1.0-56-amd64"] == {"loads": True, "reasons": [], "notes": []}
    assert cells["debian-12/6.1.0-47-amd64"]["reasons"] == [
        "disagrees about version of module_layout"
    ]
    assert cells["debian-12/6.12.118+deb12-amd64"]["reasons"] == [
        "disagrees about version of _printk, module_layout"
    ]
    assert cells["debian-12/6.12.118+deb12-arm64"]["reasons"] == [
        "built for EM_X86_64, kernel is arm64"
    ]
    assert matrix["loads_on"] == SHOWN[:2]
    assert findings and all(f["kernel"] in SHOWN for f in findings)
    # the ELF machine check comes first: nothing else is said about an arm64 kernel
    assert not [f for f in findings if f["kernel"].endswith("arm64")]
    crc = [f for f in findings if f["code"] == "KM402" and f["module"] == "mod1"]
    assert {(f["kernel"], f["symbol"]) for f in crc} >= {
        ("debian-12/6.1.0-47-amd64", "module_layout"),
        ("debian-12/6.12.118+deb12-amd64", "_printk"),
    }
    assert not [f for f in crc if f["kernel"] == "debian-12/6.1.0-56-amd64"]


def test_text_matrix_and_summary() -> None:
    result = run_kmodlint("check", SEEDS, *KERNELS, "--isolated", "-q")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("debian-12/6.1.0-47-amd64"))
    assert row.count("disagrees about version of module_layout") == 2  # mod1 and mod2
    assert "the whole set loads on 2 of 5 kernels" in lines
    assert "mod1: loads on 2 of 5 kernels" in lines


def test_near_miss_same_abi_loads_everywhere() -> None:
    """Near-miss: the kernels whose CRCs match the build's: every cell `loads`, exit 0."""
    result = run_kmodlint(
        "check", SEEDS, "--kernel", "debian-12/6.1.0-5[567]-amd64", "--isolated", "-q"
    )
    assert result.returncode == 0, result.stdout
    assert "the whole set loads on 3 of 3 kernels" in result.stdout
    assert "disagrees" not in result.stdout


def test_sources_cells_say_which_kernels_export_what_they_use() -> None:
    """apigone: mempool_create is gone from 6.12's exports and pwm_get moved into the PWM
    namespace; propdrv (Proprietary) calls recalibrate_cpu_khz, GPL-only on 6.12 and not an
    arm64 export; stable (the near-miss) uses what every kernel exports."""
    matrix, findings = _matrix(SOURCES, "--config", f"{SOURCES}/config.fragment")
    cells = matrix["modules"]
    assert all(cell["loads"] and not cell["reasons"] for cell in cells["stable"].values())
    assert cells["apigone"]["debian-12/6.1.0-47-amd64"]["loads"]
    assert cells["apigone"]["debian-12/6.12.118+deb12-amd64"]["reasons"] == [
        "Unknown symbol mempool_create",
        "namespace PWM not imported",
    ]
    assert cells["propdrv"]["debian-12/6.1.0-56-amd64"]["loads"]
    assert cells["propdrv"]["debian-12/6.12.118+deb12-amd64"]["reasons"] == [
        "GPL-only recalibrate_cpu_khz"
    ]
    assert cells["propdrv"]["debian-12/6.12.118+deb12-arm64"]["reasons"] == [
        "Unknown symbol recalibrate_cpu_khz"
    ]
    located = [f for f in findings if f["code"] == "KM501"]
    assert located and all(f["path"].endswith("apigone.c") and f["line"] for f in located)


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_machine_formats_name_the_kernel_on_every_finding(fmt: str) -> None:
    result = run_kmodlint("check", SEEDS, *KERNELS, "--isolated", "-q", "--format", fmt)
    assert result.returncode == 1
    if fmt == "sarif":
        results = json.loads(result.stdout)["runs"][0]["results"]
        assert results and all(r["properties"]["kernel"] in SHOWN for r in results)
        assert all(r["message"]["text"].startswith("[kernel debian-12/") for r in results)
    else:
        lines = result.stdout.splitlines()
        assert lines and all("[kernel debian-12/" in line for line in lines)


def test_a_loading_cell_says_what_the_loader_prints() -> None:
    """With the KM7 rules selected: modnoret (built without retpolines, unsigned, out of
    tree) loads on 6.1.0-56-amd64 with taints O and E and the retpoline warning, from the
    table's CONFIG_MODULE_SIG and CONFIG_RETPOLINE; arm64 has no retpolines to miss."""
    case = CORPUS / "km705-missing-retpoline" / "built"
    result = run_kmodlint(
        "check",
        str(case),
        "--kernel",
        "debian-12/6.1.0-56-*",
        "--isolated",
        "-q",
        "--extend-select",
        "KM7",
        "--format",
        "json",
    )
    cells = json.loads(result.stdout)["matrix"]["modules"]["modnoret"]
    assert cells["debian-12/6.1.0-56-amd64"]["notes"] == [
        "missing-retpoline",
        "taint E",
        "taint O",
    ]
    assert not cells["debian-12/6.1.0-56-arm64"]["loads"]


def test_a_matrix_is_for_check_only() -> None:
    result = run_kmodlint("deps", SEEDS, *KERNELS, "--isolated")
    assert result.returncode == 2 and "matrix" in result.stderr


def test_columns_build_the_same_table_as_the_record() -> None:
    ref = find("debian-12/6.12.118+deb12-arm64")[0]
    fast = load(ref)
    slow = to_kernel_table(open_file(ref.path).kernel(ref.name), ref.full_name)
    assert fast.exports == slow.exports and fast.vermagic == slow.vermagic
    assert Path(ref.path).parent == Path(SHIPPED_DIR)


def test_did_you_mean_is_difflibs_answer() -> None:
    """unresolved-symbol's suggestion (rules/linking.py _close_name) skips candidates by
    two necessary bounds before difflib's work: the same answers as get_close_matches."""
    import difflib

    from kmodlint.rules.linking import _close_name

    new = sorted(load(find("debian-12/6.12.118+deb12-amd64")[0]).exports)
    old = sorted(set(load(find("debian-12/6.1.0-56-amd64")[0]).exports) - set(new))
    words = [*old[::8], "kmallc", "pci_enable_msi", "__dev_kfree_skb_any", "x", ""]
    for word in words:
        expected = difflib.get_close_matches(word, new, n=1, cutoff=0.85)
        assert _close_name(word, new, 0.85) == (expected[0] if expected else None), word
