"""The pipeline called with a `Request` (no argparse, no printing), on corpus inputs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from kmodlint import pipeline
from kmodlint.request import Request, UsageError
from tests.corpus_support import CORPUS

TARGET = str(CORPUS / "targets" / "deb-6.1.0-56")
UNRESOLVED = CORPUS / "km301-unresolved-symbol" / "built"
CYCLE = CORPUS / "km302-dependency-cycle"
VERMAGIC = CORPUS / "km401-vermagic-mismatch" / "built"
SUPPRESSIONS = CORPUS / "km950-unused-suppression"
TABLES = ("debian-12/6.1.0-56-amd64", "debian-12/6.1.0-47-amd64")


def _request(*paths: Path | str, **fields: Any) -> Request:
    """A quick, cache-free request; sources read without a kernel .config."""
    defaults: dict[str, Any] = {"jobs": 1, "use_cache": False, "config": "none"}
    return Request("check", tuple(map(str, paths)), **{**defaults, **fields})


def _check(request: Request) -> tuple[pipeline.CheckReport, list[str]]:
    notes: list[str] = []
    options = pipeline.resolve_settings(request)
    return pipeline.check(request, options, notes.append), notes


def test_check_reports_the_findings_and_says_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report, _ = _check(_request(UNRESOLVED, kernels=(TARGET,)))
    assert capsys.readouterr() == ("", "")  # notes go to the callback, never to a stream
    unresolved = [f for f in report.findings if f.code == "KM301"]
    assert [(f.module, f.symbol) for f in unresolved] == [("mod2", "myadd")]
    assert report.modules_checked == 1  # mod2.ko alone
    assert report.fail_on == "warning"  # the default: the CLI turns this into exit 1
    assert report.matrix is None and report.baseline_written is None


def test_notes_arrive_in_order_and_settings_apply() -> None:
    report, notes = _check(_request(SUPPRESSIONS, kernels=("none",)))
    assert notes[0].startswith("settings from ") and notes[0].endswith("kmodlint.toml")
    assert "kernel checks are off (--kernel none)" in notes
    assert {f.code for f in report.findings} == {"KM950"}
    assert all(f.path and f.path.startswith(str(SUPPRESSIONS)) for f in report.findings)
    # --isolated: the case's settings file is not read, so its note is gone too
    _, isolated = _check(_request(SUPPRESSIONS, kernels=("none",), isolated=True))
    assert not any(note.startswith("settings from ") for note in isolated)


def test_selection_and_fail_on_come_from_the_request() -> None:
    report, _ = _check(_request(UNRESOLVED, kernels=(TARGET,), select=("KM3",), fail_on="never"))
    assert report.findings and {f.code[:3] for f in report.findings} == {"KM3"}
    assert report.fail_on == "never"


def test_focus_plan_is_its_own_field_and_filters_the_findings() -> None:
    request = _request(CYCLE / "modcyca.c", kernels=("none",), focus=True)
    options = pipeline.resolve_settings(request)
    notes: list[str] = []
    inputs = pipeline.load_inputs(request, options, notes.append)
    assert inputs.focus is not None and inputs.focus.note in notes
    assert {m.name for m in inputs.loaded.module_set.modules} == {"modcyca", "modcycb"}
    assert request.focus is True  # the request is unchanged: the plan lives beside it
    report, _ = _check(request)
    assert [f.code for f in report.findings] == ["KM302"]
    # pre-commit passes whatever changed: no module to check is an empty report there
    readme, _ = _check(_request(CORPUS / "README.md", kernels=("none",), focus=True))
    assert readme.findings == [] and readme.modules_checked == 0


def test_write_baseline_then_baseline(tmp_path: Path) -> None:
    known = tmp_path / "baseline.json"
    written, _ = _check(_request(CYCLE, kernels=("none",), write_baseline=str(known)))
    assert written.baseline_written == len(written.findings) > 0
    assert known.is_file()
    report, notes = _check(_request(CYCLE, kernels=("none",), baseline=str(known)))
    assert report.findings == [] and report.baseline_written is None
    assert not any("baseline" in note for note in notes)  # nothing went away


def test_several_kernels_make_a_matrix() -> None:
    report, _ = _check(_request(VERMAGIC, kernels=TABLES))
    assert report.matrix is not None
    assert report.matrix.kernels == list(TABLES)
    assert report.matrix.modules == ["modrt"]
    assert not any(report.matrix.cells["modrt", k].loads for k in TABLES)
    assert "vermagic" in report.matrix.cells["modrt", TABLES[0]].reasons
    assert {f.kernel for f in report.findings if f.code == "KM401"} == set(TABLES)
    with pytest.raises(UsageError, match="--write-baseline takes one --kernel"):
        _check(_request(VERMAGIC, kernels=TABLES, write_baseline="/tmp/unused.json"))


def test_deps_and_symbols_stop_after_loading() -> None:
    request = dataclasses.replace(_request(CYCLE / "built", kernels=(TARGET,)), command="deps")
    inputs = pipeline.load_inputs(request, pipeline.resolve_settings(request), lambda _: None)
    assert inputs.focus is None
    module_set = inputs.loaded.module_set
    assert {m.name for m in module_set.modules} == {"modcyca", "modcycb"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"paths": ("no/such/path",)}, "no/such/path: no such file or directory"),
        ({"baseline": "/no/such/baseline.json"}, "--baseline /no/such/baseline.json: not a"),
        ({"output": "/no/such/folder/report.txt"}, "the folder /no/such/folder does not exist"),
        ({"kernel_source": "/no/such/tree"}, "--kernel-source /no/such/tree: not a directory"),
    ],
)
def test_usage_is_checked_before_anything_is_loaded(
    fields: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmodlint import loading

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded despite a usage error")

    monkeypatch.setattr(loading, "load_set", never)
    request = dataclasses.replace(_request(CYCLE, kernels=("none",)), **fields)
    with pytest.raises(UsageError, match=message.replace(".", r"\.")):
        _check(request)


def test_a_folder_with_nothing_to_check_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no module found in"):
        _check(_request(tmp_path, kernels=("none",)))


def test_cap_jobs() -> None:
    assert pipeline.cap_jobs(None) is None
    assert pipeline.cap_jobs(10_000) == len(os.sched_getaffinity(0))
