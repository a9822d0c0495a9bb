"""What the analysis says, as data: where (`Location`), how bad (`Severity`), what a rule
yields (`Hit`) and what a report holds (`Finding`). Everything after the engine (settings,
suppressions, baselines, fingerprints, reporters) imports these, not the engine."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kmodlint.model import Module


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int | None = None
    col: int | None = None


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check yields; the engine adds the rule's code, name and severity."""

    module: Module | None
    message: str
    key: str = ""
    symbol: str | None = None
    location: Location | None = None
    path: str | None = None  # for findings about an input with no module


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    line: int | None
    col: int | None
    module: str | None
    key: str
    symbol: str | None
    # the kernel table the finding was found against, in a kernel matrix (several --kernel)
    kernel: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.path, self.line or 0, self.col or 0, self.code, self.key, self.message)
