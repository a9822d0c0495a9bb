"""Print the corpus todo-marker count so known limits cannot pile up unseen."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.corpus_support import CORPUS, read_annotations

    cases = [p for p in CORPUS.iterdir() if p.is_dir() and p.name != "targets"]
    todo = 0
    for case in cases:
        try:
            todo += sum(1 for a in read_annotations(case) if a.kind.startswith("todo"))
        except Exception:  # a malformed case already failed its own test
            continue
        expect_file = case / "expect.toml"
        if expect_file.exists():
            todo += expect_file.read_text().count("todo =")
    terminalreporter.write_line(f"corpus: {len(cases)} cases, {todo} todo markers")
