"""Small driver trees in tmp_path, copied from corpus source cases, and the real CLI on them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.corpus_support import CORPUS, run_kmodlint

STATIC_EXPORT = CORPUS / "km101-static-export"  # modstatic.c:16 EXPORT_SYMBOL of a static
NO_DESCRIPTION = CORPUS / "km205-missing-description"  # Kbuild:1 obj-m of modnodesc


def copy_case(case: Path, dest: Path) -> Path:
    """The case's Kbuild and C files (not built/, not its expectations files)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in case.iterdir():
        if path.suffix in (".c", ".h") or path.name in ("Kbuild", "Makefile"):
            shutil.copy(path, dest / path.name)
    return dest


def check(*args: str, cwd: Path | None = None):
    """`kmodlint check` without a target kernel or .config, so only the tree matters."""
    return run_kmodlint(
        "check", "--kernel", "none", "--config", "none", "--no-cache", *args, cwd=cwd
    )


def findings(*args: str, cwd: Path | None = None) -> list[tuple[str, int | None, str]]:
    """(file name, line, code) of every finding of a JSON run."""
    result = check("--format", "json", "--fail-on", "never", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return sorted(
        (Path(f["path"]).name, f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]
    )


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")
