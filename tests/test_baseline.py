"""The baseline: written from today's findings, then only new findings are reported."""

from __future__ import annotations

import json
from pathlib import Path

from kmodlint.baseline import apply as apply_baseline
from kmodlint.baseline import write as write_baseline
from kmodlint.diagnostics import Finding, Severity
from tests.tree_support import STATIC_EXPORT, check, copy_case, findings, replace_line

STATIC_LINE = 16  # modstatic.c: EXPORT_SYMBOL(modstatic_hidden);


def test_round_trip_moved_line_new_finding_and_stale_entries(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    source = drv / "modstatic.c"
    base = tmp_path / "baseline.json"
    result = check(str(drv), "--write-baseline", str(base))
    assert result.returncode == 0, result.stderr  # findings exist, yet writing succeeds
    document = json.loads(base.read_text())
    assert document["findings"] == [
        {
            "code": "KM101",
            "rule": "static-export",
            "module": "modstatic",
            "key": "modstatic_hidden",
            "count": 1,
        }
    ]
    assert "line" not in base.read_text()
    assert check(str(drv), "--baseline", str(base)).returncode == 0
    assert findings(str(drv), "--baseline", str(base)) == []

    # Lines added above move the finding: still baselined (no line numbers).
    source.write_text("/* moved */\n\n" + source.read_text())
    assert findings(str(drv)) == [("modstatic.c", STATIC_LINE + 2, "KM101")]
    assert findings(str(drv), "--baseline", str(base)) == []

    # A new static export after the baseline is reported, alone, and fails the run.
    source.write_text(
        source.read_text() + "static int extra(void) { return 0; }\nEXPORT_SYMBOL(extra);\n"
    )
    result = check(str(drv), "--baseline", str(base), "--format", "json")
    assert result.returncode == 1
    new = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["key"]) for f in new] == [("KM101", "extra")]

    # Fixing the baselined finding: only the new one is left, and stderr says the file
    # can shrink.
    replace_line(source, STATIC_LINE + 2 - 4, "int modstatic_hidden(int x)")
    result = check(str(drv), "--baseline", str(base), "--format", "json")
    assert [f["key"] for f in json.loads(result.stdout)["findings"]] == ["extra"]
    assert "1 baseline entry no longer occurs" in result.stderr


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    base = tmp_path / "baseline.json"
    base.write_text("{not json")
    result = check(str(drv), "--baseline", str(base))
    assert result.returncode == 2
    assert "is not JSON" in result.stderr
    result = check(str(drv), "--baseline", str(tmp_path / "missing.json"))
    assert result.returncode == 2


def _finding(module: str | None, key: str, path: str = "drv/Kbuild", message: str = "m") -> Finding:
    return Finding(
        "KM603", "extern-in-source", Severity.WARNING, message, path, 3, 1, module, key, key
    )


def test_counts_report_only_the_extra_occurrences(tmp_path: Path) -> None:
    """Same fingerprint twice, baselined once: one is new. A keyless module-level finding
    is its message (the same from a Kbuild line or a .ko); a finding with no module uses
    its path relative to the baseline file, so the file works from any directory."""
    base = str(tmp_path / "b.json")
    twice = [_finding("moda", "foo"), _finding("moda", "foo")]
    keyless = _finding("modb", "", path=str(tmp_path / "drv" / "Kbuild"))
    moduleless = _finding(None, "", path=str(tmp_path / "drv" / "x.ko"), message="bad")
    write_baseline(base, [twice[0], keyless, moduleless])
    text = Path(base).read_text()
    assert '"key": "m"' in text and '"key": "drv/x.ko|bad"' in text
    same_from_binary = _finding("modb", "", path=str(tmp_path / "modb.ko"))
    filtered = apply_baseline(base, [*twice, same_from_binary, moduleless])
    assert filtered.new == [twice[1]] and filtered.gone == 0
    filtered = apply_baseline(base, [_finding("moda", "foo")])
    assert filtered.new == [] and filtered.gone == 2
