"""Kernel tables without headers (issue 14, deliverable 1): the data-only format, the
shipped Debian 12 tables, `kmodlint kernels import|list`, `--kernel NAME`."""

from __future__ import annotations

import json
import lzma
import os
import shutil
import stat
from pathlib import Path

import pytest

from kmodlint.kerneltables.format import TableFormatError, decode, encode
from kmodlint.kerneltables.importing import from_headers, import_path, symvers_text
from kmodlint.kerneltables.record import KernelRecord, Row
from kmodlint.kerneltables.store import SHIPPED_DIR, find, open_file
from tests.corpus_support import CORPUS, run_kmodlint

INSTALLED = Path("/usr/src/linux-headers-6.1.0-56-amd64")
TARGET = CORPUS / "targets" / "deb-6.1.0-56"
SHIPPED = Path(SHIPPED_DIR) / "debian-12.kmtables.xz"
AMD64_ABIS = [
    *(f"6.1.0-{n}-amd64" for n in (47, 50, 53, 54, 55, 56, 57)),
    *(f"6.12.{n}+deb12-amd64" for n in (107, 111, 113, 115, 117, 118)),
]


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.skipif(
    not (INSTALLED / "Module.symvers").is_file(), reason="linux-headers-6.1.0-56 not installed"
)
def test_shipped_table_is_byte_for_byte_its_module_symvers() -> None:
    """The package the shipped 6.1.0-56-amd64 table was built from is installed here: its
    Module.symvers and the table's rows are the same bytes, in the same order."""
    record = open_file(str(SHIPPED)).kernel("6.1.0-56-amd64")
    assert symvers_text(record).encode() == (INSTALLED / "Module.symvers").read_bytes()
    headers = from_headers(str(INSTALLED))
    assert (record.vermagic, record.modversions, record.module_sig, record.retpoline) == (
        headers.vermagic,
        True,
        True,
        True,
    )
    assert record.vermagic == "6.1.0-56-amd64 SMP preempt mod_unload modversions "


def test_shipped_tables_cover_debian_12_amd64_and_arm64() -> None:
    names = open_file(str(SHIPPED)).names
    assert set(AMD64_ABIS) <= set(names)
    assert {n.replace("-amd64", "-arm64") for n in AMD64_ABIS} <= set(names)
    arm = open_file(str(SHIPPED)).summary("6.12.118+deb12-arm64")
    assert arm["arch"] == "arm64" and arm["vermagic"].endswith("aarch64")
    # the wheel budget: at most 4 MB added
    assert SHIPPED.stat().st_size < 4 * 1024 * 1024


def _record(name: str, crc: int | None = 0x1234ABCD) -> KernelRecord:
    return KernelRecord(
        name=name,
        release=name,
        arch="x86_64",
        vermagic=f"{name} SMP mod_unload modversions ",
        modversions=crc is not None,
        module_sig=True,
        retpoline=False,
        source="test",
        rows=[
            Row("zeta", "vmlinux", "EXPORT_SYMBOL", "", crc),
            Row("alpha", "drivers/x/mod-a", "EXPORT_SYMBOL_GPL", "NS_A", crc),
        ],
    )


def test_format_round_trips_and_interns_shared_symbols() -> None:
    data = encode("test", [_record("1.0-a"), _record("1.0-b", None)])
    document = json.loads(lzma.decompress(data))
    assert document["symbols"] == "alpha\nzeta"  # stored once for both kernels
    table_file = decode(data)
    assert table_file.kernel("1.0-a") == _record("1.0-a")
    assert table_file.kernel("1.0-b").rows[0].crc is None


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\x80\x04pickle", "not a kernel-table file"),
        (lzma.compress(b'{"format": "other"}'), "not a kernel-table file"),
        (
            lzma.compress(b'{"format": "kmodlint-kernel-tables", "version": 99}'),
            "version 99",
        ),
    ],
)
def test_format_refuses_what_it_did_not_write(blob: bytes, reason: str) -> None:
    with pytest.raises(TableFormatError, match=reason):
        decode(blob)


def test_import_headers_folder_then_check_by_name(data_home: Path, tmp_path: Path) -> None:
    result = run_kmodlint("kernels", "import", str(TARGET), "--distribution", "lab")
    assert result.returncode == 0, result.stderr
    assert "imported lab/6.1.0-56-amd64" in result.stdout
    for folder in (data_home / "kmodlint", data_home / "kmodlint" / "tables"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    listing = run_kmodlint("kernels", "list", "--format", "json")
    names = [k["name"] for k in json.loads(listing.stdout)["kernels"]]
    assert "lab/6.1.0-56-amd64" in names and "debian-12/6.1.0-56-amd64" in names
    # the same findings as with the headers folder itself
    module = CORPUS / "km301-unresolved-symbol" / "built"
    by_path = run_kmodlint("check", str(module), "--kernel", str(TARGET), "--isolated", "-q")
    by_name = run_kmodlint(
        "check", str(module), "--kernel", "lab/6.1.0-56-amd64", "--isolated", "-q"
    )
    assert by_name.stdout == by_path.stdout and by_name.returncode == by_path.returncode == 1
    assert "KM301" in by_name.stdout
    # a bare release prefers the user's table
    assert find("6.1.0-56-amd64")[0].full_name == "lab/6.1.0-56-amd64"


def test_import_a_linux_headers_deb(data_home: Path, tmp_path: Path) -> None:
    debs = sorted(Path("/work/cache/kdebs/amd64").glob("linux-headers-6.1.0-56-amd64_*.deb"))
    if not debs:
        pytest.skip("no linux-headers .deb downloaded here")
    record = import_path(str(debs[0]))
    assert record.name == "6.1.0-56-amd64" and record.source.startswith("linux-headers-6.1.0-56")
    assert symvers_text(record) == symvers_text(open_file(str(SHIPPED)).kernel(record.name))


def test_unknown_name_and_pattern_are_usage_errors(data_home: Path) -> None:
    module = str(CORPUS / "km301-unresolved-symbol" / "built")
    missing = run_kmodlint("check", module, "--kernel", "9.9.9-nope", "--isolated")
    assert missing.returncode == 2 and "kernel table" in missing.stderr
    pattern = run_kmodlint("check", module, "--kernel", "nowhere/*", "--isolated")
    assert pattern.returncode == 2 and "matches no kernel table" in pattern.stderr


def test_a_table_file_with_a_bad_entry_is_one_line(data_home: Path) -> None:
    folder = data_home / "kmodlint" / "tables"
    folder.mkdir(parents=True)
    (folder / "broken.kmtables.xz").write_bytes(b"not xz")
    listing = run_kmodlint("kernels", "list")
    assert listing.returncode == 0 and "broken.kmtables.xz" in listing.stderr


def test_shipped_data_is_declared_package_data() -> None:
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert '"kmodlint.kerneltables" = ["data/*.kmtables.xz"]' in text
    assert os.path.isfile(SHIPPED) and shutil.which("python3")


@pytest.mark.parametrize(
    ("field", "value"),
    [("vermagic", 5), ("crc", "zzzzzzzz" * 2), ("rows", True), ("complete", "yes")],
)
def test_a_malformed_kernel_entry_is_a_format_error(field: str, value: object) -> None:
    """A table from elsewhere is data: a field of the wrong type or a CRC that is not hex
    is a TableFormatError (one line, exit 2 for --kernel), never a crash in a rule."""
    document = json.loads(lzma.decompress(encode("test", [_record("1.0-a")])))
    document["kernels"][0][field] = value
    table_file = decode(lzma.compress(json.dumps(document).encode()))
    with pytest.raises(TableFormatError):
        table_file.columns("1.0-a")
    with pytest.raises(TableFormatError):
        table_file.kernel("1.0-a")


def test_a_malformed_user_table_is_a_usage_error(data_home: Path) -> None:
    document = json.loads(lzma.decompress(encode("bad", [_record("1.0-bad")])))
    document["kernels"][0]["crc"] = "not hex!" * 2
    folder = data_home / "kmodlint" / "tables"
    folder.mkdir(parents=True)
    (folder / "bad.kmtables.xz").write_bytes(lzma.compress(json.dumps(document).encode()))
    module = str(CORPUS / "km301-unresolved-symbol" / "built")
    result = run_kmodlint("check", module, "--kernel", "bad/1.0-bad", "--isolated")
    assert result.returncode == 2 and "malformed" in result.stderr, result.stderr


def test_import_a_module_symvers_and_config_needs_the_release(
    data_home: Path, tmp_path: Path
) -> None:
    """A build folder reduced to Module.symvers and .config does not say the release:
    `--release` gives it; the vermagic is rebuilt from the .config."""
    folder = tmp_path / "build"
    folder.mkdir()
    shutil.copy(TARGET / "Module.symvers", folder / "Module.symvers")
    shutil.copy(TARGET / "include" / "config" / "auto.conf", folder / ".config")
    refused = run_kmodlint("kernels", "import", str(folder / "Module.symvers"))
    assert refused.returncode == 2 and "--release" in refused.stderr
    done = run_kmodlint("kernels", "import", str(folder), "--release", "6.1.0-56-amd64")
    assert done.returncode == 0, done.stderr
    record = open_file(str(data_home / "kmodlint" / "tables" / "local.kmtables.xz")).kernel(
        "6.1.0-56-amd64"
    )
    assert record.vermagic == "6.1.0-56-amd64 SMP preempt mod_unload modversions "
    assert symvers_text(record) == (TARGET / "Module.symvers").read_text()


@pytest.mark.skipif(
    not (INSTALLED / "Module.symvers").is_file(), reason="linux-headers-6.1.0-56 not installed"
)
def test_the_shipped_table_checks_as_its_headers_folder_does() -> None:
    """`--kernel 6.1.0-56-amd64` (shipped) and `--kernel /usr/src/linux-headers-6.1.0-56-amd64`
    give the same findings (CRC mismatches, taints from the signing and retpoline flags)."""
    modules = [
        str(CORPUS / case / "built")
        for case in (
            "km000-seeds-mod1-mod2",
            "km705-missing-retpoline",
            "km402-crc-mismatch-kernel",
        )
        if (CORPUS / case / "built").is_dir()
    ]
    outputs = [
        run_kmodlint(
            "check",
            *modules,
            "--kernel",
            kernel,
            "--isolated",
            "--extend-select",
            "KM7",
            "--format",
            "json",
            "--fail-on",
            "never",
        ).stdout
        for kernel in (str(INSTALLED), "6.1.0-56-amd64")
    ]
    # the same findings; messages differ only where they name the target kernel
    same = [
        sorted((f["code"], f["module"], f["key"], f["path"]) for f in json.loads(out)["findings"])
        for out in outputs
    ]
    assert same[0] == same[1] and len(same[0]) > 5
