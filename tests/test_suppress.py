"""Inline suppressions on real findings, and the opt-in unused-suppression rule."""

from __future__ import annotations

from pathlib import Path

from tests.tree_support import (
    NO_DESCRIPTION,
    STATIC_EXPORT,
    check,
    copy_case,
    findings,
    replace_line,
)

STATIC_LINE = 16  # modstatic.c: EXPORT_SYMBOL(modstatic_hidden);
UNUSED = "--extend-select=unused-suppression"


def test_trailing_suppression_by_name_or_code(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    source = drv / "modstatic.c"
    assert findings(str(drv)) == [("modstatic.c", STATIC_LINE, "KM101")]
    for comment in ("/* kmodlint: ignore[static-export] */", "// kmodlint: ignore[KM104, KM101]"):
        replace_line(source, STATIC_LINE, f"EXPORT_SYMBOL(modstatic_hidden); {comment}")
        assert findings(str(drv)) == [], comment
        # KM104 lists a rule that ran and matched nothing: reported only when selected.
        expected = [("modstatic.c", STATIC_LINE, "KM950")] if "KM104" in comment else []
        assert findings(str(drv), UNUSED) == expected, comment


def test_suppression_of_another_rule_suppresses_nothing(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    replace_line(
        drv / "modstatic.c",
        STATIC_LINE,
        "EXPORT_SYMBOL(modstatic_hidden); /* kmodlint: ignore[duplicate-export] */",
    )
    assert findings(str(drv)) == [("modstatic.c", STATIC_LINE, "KM101")]
    assert findings(str(drv), UNUSED) == [
        ("modstatic.c", STATIC_LINE, "KM101"),
        ("modstatic.c", STATIC_LINE, "KM950"),
    ]


def test_own_line_covers_a_multi_line_statement(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    source = drv / "modstatic.c"
    replace_line(
        source,
        STATIC_LINE,
        "/* kmodlint: ignore[static-export] */\nEXPORT_SYMBOL(\n\tmodstatic_hidden);",
    )
    assert findings(str(drv), UNUSED) == []
    # A blank-free gap of code in between: the comment covers only the next statement.
    replace_line(source, STATIC_LINE, "/* kmodlint: ignore[static-export] */\nint filler;")
    assert findings(str(drv), UNUSED) == [
        ("modstatic.c", STATIC_LINE, "KM950"),
        ("modstatic.c", STATIC_LINE + 2, "KM101"),
    ]


def test_kbuild_suppression_on_the_obj_m_line(tmp_path: Path) -> None:
    drv = copy_case(NO_DESCRIPTION, tmp_path / "drv")
    assert findings(str(drv)) == [("Kbuild", 1, "KM205")]
    (drv / "Kbuild").write_text("obj-m += modnodesc.o\t# kmodlint: ignore[missing-description]\n")
    assert findings(str(drv), UNUSED) == []
    (drv / "Kbuild").write_text("# kmodlint: ignore[KM205, KM201]\nobj-m += modnodesc.o\n")
    assert findings(str(drv), UNUSED) == [("Kbuild", 1, "KM950")]  # KM201 is unused


def test_rule_list_is_mandatory_and_checked(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    source = drv / "modstatic.c"
    replace_line(source, STATIC_LINE, "EXPORT_SYMBOL(modstatic_hidden); /* kmodlint: ignore */")
    result = check(str(drv))
    assert result.returncode == 1  # a bare ignore silences nothing
    assert "[KM101 static-export]" in result.stdout
    assert "needs a rule list" in result.stderr
    replace_line(
        source, STATIC_LINE, "EXPORT_SYMBOL(modstatic_hidden); // kmodlint: ignore[static-exprt]"
    )
    result = check(str(drv))
    assert result.returncode == 1
    assert "unknown rule 'static-exprt'" in result.stderr
    assert "did you mean static-export?" in result.stderr


def test_unused_suppression_is_opt_in_and_follows_settings(tmp_path: Path) -> None:
    drv = copy_case(STATIC_EXPORT, tmp_path / "drv")
    replace_line(
        drv / "modstatic.c", 10, "EXPORT_SYMBOL(modstatic_visible); // kmodlint: ignore[KM101]"
    )
    everything = findings(str(drv), "--select", "ALL")
    assert ("modstatic.c", 10, "KM950") in everything
    assert findings(str(drv)) == [("modstatic.c", STATIC_LINE, "KM101")]
    (drv / "kmodlint.toml").write_text(
        'extend-select = ["unused-suppression"]\n[severity]\nunused-suppression = "info"\n'
    )
    assert ("modstatic.c", 10, "KM950") in findings(str(drv))
    result = check(str(drv))
    assert "modstatic.c:10:35: info: unused suppression" in result.stdout
    # A rule that did not run cannot prove its suppression unused.
    result = check(str(drv), "--ignore", "KM101")
    assert result.returncode == 0, result.stdout
    assert "unused suppression" not in result.stdout
