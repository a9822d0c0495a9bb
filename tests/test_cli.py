"""The command line, run for real as a subprocess on corpus binaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus_support import CORPUS
from tests.test_corpus import run_kmodlint

TARGET = str(CORPUS / "targets" / "deb-6.1.0-56")
SEEDS = CORPUS / "km000-seeds-mod1-mod2" / "built"
CHAIN = CORPUS / "km302-near-miss-chain" / "built"
CYCLE = CORPUS / "km302-dependency-cycle" / "built"
UNRESOLVED = CORPUS / "km301-unresolved-symbol" / "built"
JSON_FIELDS = {"rule", "code", "severity", "message", "path", "line", "module", "symbol"}


def test_clean_set_exits_zero_with_a_summary() -> None:
    result = run_kmodlint("check", str(SEEDS), "--kernel", TARGET, "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 errors, 0 warnings, 0 info in 2 modules"


def test_text_findings_are_gcc_style_and_exit_one() -> None:
    result = run_kmodlint("check", str(UNRESOLVED), "--kernel", TARGET, "--no-cache")
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    path, severity, rest = first.split(": ", 2)
    assert path.endswith("mod2.ko")
    assert severity == "error"
    assert rest.endswith("[KM301 unresolved-symbol]")
    assert "myadd" in rest


def test_json_has_the_documented_fields() -> None:
    result = run_kmodlint("check", str(UNRESOLVED), "--kernel", TARGET, "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    assert findings
    for finding in findings:
        assert set(finding) >= JSON_FIELDS
        assert finding["line"] is None  # binaries have no line
    myadd = next(f for f in findings if f["symbol"] == "myadd")
    assert (myadd["rule"], myadd["code"], myadd["module"]) == ("unresolved-symbol", "KM301", "mod2")


def test_select_ignore_and_fail_on() -> None:
    base = ["check", str(UNRESOLVED), "--kernel", TARGET, "--format", "json"]
    only = run_kmodlint(*base, "--select", "KM3")
    assert {f["code"][:3] for f in json.loads(only.stdout)["findings"]} == {"KM3"}
    ignored = run_kmodlint(*base, "--ignore", "unresolved-symbol,KM304")
    codes = {f["code"] for f in json.loads(ignored.stdout)["findings"]}
    assert "KM301" not in codes and "KM304" not in codes
    assert run_kmodlint(*base, "--fail-on", "never").returncode == 0
    typo = run_kmodlint(*base, "--select", "unresolved-symbols")
    assert typo.returncode == 2
    assert "did you mean unresolved-symbol" in typo.stderr


def test_deps_modules_dep_is_the_transitive_closure_in_depmod_order() -> None:
    result = run_kmodlint("deps", str(CHAIN), "--kernel", TARGET, "--format", "modules.dep")
    assert result.returncode == 0, result.stderr
    # Without modules.order the lines follow depmod's name hash (test_depmod_compat).
    assert sorted(result.stdout.splitlines()) == [
        "modchaina.ko: modchainb.ko modchainc.ko",
        "modchainb.ko: modchainc.ko",
        "modchainc.ko:",
    ]


def test_deps_layers_json_and_dot() -> None:
    data = json.loads(run_kmodlint("deps", str(CHAIN), "--format", "json").stdout)
    assert data["layers"] == [["modchainc"], ["modchainb"], ["modchaina"]]
    assert data["load_order"] == ["modchainc", "modchainb", "modchaina"]
    assert data["cycles"] == []
    text = run_kmodlint("deps", str(CHAIN), "--kernel", "none").stdout
    assert "| layer 3  | modchaina" in text
    assert "unload order:\n  rmmod modchaina\n  rmmod modchainb\n  rmmod modchainc\n" in text
    dot = run_kmodlint("deps", str(CYCLE), "--format", "dot").stdout
    assert dot.startswith("digraph modules {")
    assert dot.count('color="red"') == 2


def test_symbols_json_and_table() -> None:
    data = json.loads(
        run_kmodlint("symbols", str(SEEDS), "--kernel", "none", "--format", "json").stdout
    )
    mod1 = next(m for m in data["modules"] if m["name"] == "mod1")
    assert mod1["licenses"] == ["GPL"]
    assert mod1["exports"][0]["symbol"] == "myadd"
    assert mod1["exports"][0]["kind"] == "EXPORT_SYMBOL"
    assert mod1["exports"][0]["namespace"] is None
    mod2 = next(m for m in data["modules"] if m["name"] == "mod2")
    assert "myadd" in mod2["undefined"]
    table = run_kmodlint("symbols", str(SEEDS), "--kernel", "none").stdout
    assert "mod1: exports" in table and "EXPORT_SYMBOL" in table


def test_rules_and_explain() -> None:
    listing = run_kmodlint("rules").stdout
    assert "KM203" in listing and "gpl-only-symbol" in listing
    doc = run_kmodlint("explain", "gpl-only-symbol").stdout
    assert "## Kernel behaviour" in doc and "kernel/module/main.c" in doc
    assert run_kmodlint("explain", "no-such-rule").returncode == 2


def test_output_is_deterministic_across_job_counts(tmp_path: Path) -> None:
    runs = [
        run_kmodlint(
            "check", str(CORPUS), "--kernel", TARGET, "--format", "json", "-j", jobs, "--no-cache"
        ).stdout
        for jobs in ("1", "2")
    ]
    assert runs[0] == runs[1]


def test_jobs_are_capped_at_the_cpus_this_process_may_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """-j 300 started 302 processes on 2 cores: beyond the CPUs it only adds contention."""
    from kmodlint import cli, loading

    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    asked: list[int | None] = []
    real = loading.load_set

    def spy(*args: object, **kwargs: object) -> object:
        asked.append(kwargs["jobs"])  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "load_set", spy)
    (tmp_path / "good.c").write_text(
        '#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("x");\n'
    )
    base = ["check", str(tmp_path / "good.c"), "--kernel", "none", "--isolated", "--no-ast"]
    for jobs, used in (("300", 2), ("2", 2), ("1", 1)):
        assert cli.main([*base, "--config", "none", "-j", jobs]) == 0
        assert asked.pop() == used
    assert cli.main([*base, "--config", "none"]) == 0
    assert asked.pop() is None  # the default: the CPU count, decided by the pool
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    assert "(default and most: the CPU count; 1: none)" in " ".join(capsys.readouterr().out.split())


def test_the_arguments_become_one_typed_request() -> None:
    """cli.py only parses: the pipeline gets a frozen Request, and --focus stays a bool."""
    import dataclasses

    from kmodlint import cli
    from kmodlint.request import Request, UsageError

    parser = cli.build_parser()
    kernel = ["--kernel", "debian-12/6.1.0-5*"]
    options = ["--select", "KM3,KM4", "--define", "X=1", "--no-cache", "-j", "3"]
    args = parser.parse_args(["check", "a.c", "b.c", *kernel, *options, "--baseline", "k.json"])
    request = cli.build_request(args)
    assert isinstance(request, Request)
    assert request.paths == ("a.c", "b.c")
    assert len(request.kernels) > 1  # the pattern expanded: a matrix
    assert request.kernel == request.kernels[0]
    assert (request.select, request.ignore, request.defines) == (("KM3", "KM4"), (), (("X", "1"),))
    assert (request.jobs, request.use_cache, request.baseline) == (3, False, "k.json")
    assert request.focus is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.focus = True  # type: ignore[misc]
    focused = cli.build_request(parser.parse_args(["check", "--focus", "a.c", "--kernel", "none"]))
    assert focused.focus is True and focused.kernels == ("none",)
    deps = parser.parse_args(["deps", "--kernel", "debian-12/6.1.0-5*"])
    with pytest.raises(UsageError, match="make a matrix: `check` only"):
        cli.build_request(deps)
    with pytest.raises(UsageError, match="--ignore '' names no rule"):
        cli.build_request(parser.parse_args(["check", "--ignore", ""]))
