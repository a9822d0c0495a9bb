"""kmodlint's own settings file: `[tool.kmodlint]` in pyproject.toml, or `.kmodlint.toml` /
`kmodlint.toml` (same keys, no header).

The closest ancestor of the paths given wins and files are never merged (ruff's model); the
command line is a second layer on top of the file. Every mistake in the file is a usage
error naming the file, with a did-you-mean, because a silently ignored key is a check that
silently does not run.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kmodlint.diagnostics import Finding, Severity
from kmodlint.folders import ancestors
from kmodlint.rule import all_rules
from kmodlint.safe_io import SETTINGS_LIMIT, read_regular
from kmodlint.selection import SelectionError, hint, resolve_selection

# Searched in this order in each folder, like ruff's .ruff.toml, ruff.toml, pyproject.toml.
FILE_NAMES = (".kmodlint.toml", "kmodlint.toml", "pyproject.toml")
FAIL_ON = ("error", "warning", "info", "never")
RULE_LISTS = ("select", "extend-select", "ignore", "extend-ignore")
KNOWN_KEYS = (
    *RULE_LISTS,
    "per-file-ignores",
    "per-module-ignores",
    "severity",
    "kernel",
    "config",
    "exclude",
    "fail-on",
)


EMPTY_SELECTOR_HINT = "give rule codes (KM301), prefixes (KM3), names (unresolved-symbol) or ALL"


class SettingsError(ValueError):
    pass


def origin_note(settings: Settings) -> str | None:
    """The first note of a run: which settings file is in force (and the closer ones that
    govern some paths), so a file in a parent folder never applies unseen; one that others
    can write to (or whose folder they can write to) says so."""
    if settings.file is None:
        return None
    note = f"settings from {settings.file}{_writable_by_others(settings.file)}"
    for scope in settings.scoped:
        assert scope.file is not None
        note += f"; for files under {scope.base}: {scope.file}{_writable_by_others(scope.file)}"
    return note


def _writable_by_others(path: str) -> str:
    """' (writable by others ...)' when anyone else on the machine could change `path`: it,
    or its folder without the sticky bit (/tmp's is set: others cannot replace the file)."""
    try:
        mode = os.stat(path).st_mode
        folder = os.stat(os.path.dirname(os.path.abspath(path))).st_mode
    except OSError:
        return ""
    if mode & 0o002 or (folder & 0o002 and not folder & 0o1000):
        return " (writable by others: anyone on this machine can change what is checked)"
    return ""


@dataclass(slots=True)
class Layer:
    """One source of selection options: the settings file, then the command line."""

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Settings:
    file: str | None = None  # the settings file used, if any
    base: str = "."  # folder relative globs and paths are resolved against
    file_layer: Layer = field(default_factory=Layer)
    cli_layer: Layer = field(default_factory=Layer)
    per_file_ignores: dict[str, set[str]] = field(default_factory=dict)  # glob -> codes
    per_module_ignores: dict[str, set[str]] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)  # code -> severity
    kernel: str | None = None
    config: str | None = None
    exclude: list[str] = field(default_factory=list)
    fail_on: str = "warning"
    # Settings files closer to some of the paths than this one (ruff's model: each file is
    # governed by its closest settings file, whatever the order of the paths).
    scoped: list[Settings] = field(default_factory=list)

    def for_path(self, path: str) -> Settings:
        """The settings governing `path`: the closest scoped file above it, else these."""
        absolute = os.path.abspath(path)
        best = self
        for scope in self.scoped:
            inside = absolute == scope.base or absolute.startswith(scope.base + os.sep)
            if inside and (best is self or len(scope.base) > len(best.base)):
                best = scope
        return best

    def all_selected(self) -> set[str]:
        """Every rule some path's settings select: what has to run."""
        chosen = self.selected()
        for scope in self.scoped:
            chosen |= scope.selected()
        return chosen

    def selected(self) -> set[str]:
        """Default (every rule but the opt-in ones), then the file's layer, then the CLI's.
        Within a layer the most specific selector wins (ruff): `ignore = ["KM9"]` with
        `extend-select = ["KM950"]` runs KM950; a tie goes to ignore."""
        rules = all_rules()
        codes = [r.code for r in rules]
        chosen = {r.code for r in rules if r.default_enabled}
        for layer in (self.file_layer, self.cli_layer):
            on = _specificity([*(layer.select or []), *layer.extend_select])
            off = _specificity([*layer.ignore, *layer.extend_ignore])
            base = set() if layer.select is not None else chosen
            chosen = {
                code
                for code in codes
                if (on.get(code, -1) > off.get(code, -1))
                or (code in base and code not in on and code not in off)
            }
        return chosen

    def is_excluded(self, path: str) -> bool:
        scope = self.for_path(path)
        return bool(scope.exclude) and _matches_path(scope.exclude, path, scope.base)

    @property
    def any_exclude(self) -> bool:
        return bool(self.exclude) or any(scope.exclude for scope in self.scoped)


def _specificity(selectors: list[str]) -> dict[str, int]:
    """Code -> length of the longest selector naming it (ALL 0, a name beats any prefix)."""
    best: dict[str, int] = {}
    for selector in selectors:
        selector = selector.strip()
        if not selector:
            continue
        weight = 0 if selector.upper() == "ALL" else 99 if "-" in selector else len(selector)
        for code in resolve_selection([selector]):
            best[code] = max(best.get(code, -1), weight)
    return best


def find_settings_file(paths: Iterable[str]) -> str | None:
    """The closest settings file above the first path that has one."""
    for given in paths:
        start = given if os.path.isdir(given) else os.path.dirname(given) or "."
        for folder in ancestors(start):
            for name in FILE_NAMES:
                candidate = os.path.join(folder, name)
                if os.path.isfile(candidate) and _is_settings_file(candidate):
                    return candidate
    return None


def _is_settings_file(path: str) -> bool:
    # A pyproject.toml counts only when it has a [tool.kmodlint] table (ruff does the same),
    # so a Python project above a driver tree does not hide a closer kmodlint.toml.
    if os.path.basename(path) != "pyproject.toml":
        return True
    # A broken pyproject.toml is reported, not skipped: skipping it would silently apply a
    # settings file further up instead.
    tool = _read_toml(path).get("tool", {})
    return isinstance(tool, dict) and "kmodlint" in tool


def _read_toml(path: str) -> dict[str, Any]:
    try:
        # a settings file in the analysed tree is input like any other: a FIFO or a
        # symlink to /dev/zero is refused, a huge one too (safe_io)
        return tomllib.loads(read_regular(path, SETTINGS_LIMIT).decode("utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib recurses per nesting level ([[[[...]]]])
        raise SettingsError(f"{path}: invalid TOML: nested too deeply") from exc


def load_settings(path: str) -> Settings:
    document = _read_toml(path)
    table: Any = document
    if os.path.basename(path) == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("kmodlint", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.kmodlint] must be a table")
    return _parse(table, path)


def _parse(table: dict[str, Any], path: str) -> Settings:
    settings = Settings(file=path, base=os.path.dirname(os.path.abspath(path)))
    reader = _TableReader(path)
    for key in table:
        if key not in KNOWN_KEYS:
            raise reader.fail(f"unknown key '{key}'{hint(key, KNOWN_KEYS)}")
    layer = settings.file_layer
    for key in RULE_LISTS:
        if key in table:
            reader.rules(key, table[key])  # validated now, so the error names the file
            setattr(layer, key.replace("-", "_"), table[key])
    reader.ignores(table, settings)
    reader.severities(table.get("severity", {}), settings)
    for key in ("kernel", "config"):
        if key in table:
            value = table[key]
            if not isinstance(value, str):
                raise reader.fail(f"'{key}' must be a string (a path, or 'none')")
            # Relative to the settings file, so the file means the same from any cwd.
            setattr(settings, key, value if value == "none" else os.path.join(settings.base, value))
    if "exclude" in table:
        settings.exclude = reader.strings("exclude", table["exclude"])
    if "fail-on" in table:
        if table["fail-on"] not in FAIL_ON:
            value = str(table["fail-on"])
            raise reader.fail(f"'fail-on': '{value}' is not one of {', '.join(FAIL_ON)}")
        settings.fail_on = table["fail-on"]
    return settings


class _TableReader:
    """Checks the values of one settings file; every error names the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str) -> SettingsError:
        return SettingsError(f"{self.path}: {message}")

    def strings(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"'{key}' must be a list of strings")
        return value

    def rules(self, key: str, value: Any) -> set[str]:
        selectors = self.strings(key, value)
        if any(not selector.strip() for selector in selectors):
            # `select = [""]` would silently run no rule at all
            raise self.fail(
                f"'{key}': an empty rule selector names no rule ({EMPTY_SELECTOR_HINT})"
            )
        try:
            return resolve_selection(selectors)
        except SelectionError as exc:
            raise self.fail(f"'{key}': {exc}") from exc

    def ignores(self, table: dict[str, Any], settings: Settings) -> None:
        for key, target in (
            ("per-file-ignores", settings.per_file_ignores),
            ("per-module-ignores", settings.per_module_ignores),
        ):
            value = table.get(key, {})
            if not isinstance(value, dict):
                raise self.fail(f"'{key}' must be a table of glob = [rules]")
            for glob, listed in value.items():
                target[glob] = self.rules(f"{key}.{glob}", listed)

    def severities(self, severity: Any, settings: Settings) -> None:
        if not isinstance(severity, dict):
            raise self.fail("'severity' must be a table of rule = \"error|warning|info\"")
        levels = [s.value for s in Severity]
        for selector, level in severity.items():
            if level not in levels:
                near = hint(str(level), levels)
                raise self.fail(
                    f"severity.{selector}: '{level}' is not one of {', '.join(levels)}{near}"
                )
            for code in self.rules(f"severity.{selector}", [selector]):
                settings.severity[code] = Severity(level)


def resolve(
    paths: list[str],
    explicit: str | None,
    isolated: bool,
    cli_layer: Layer,
    kernel: str | None,
    config: str | None,
    fail_on: str | None,
) -> Settings:
    """The effective settings: the file's (unless --isolated) with the command line on top."""
    if isolated and explicit is not None:
        raise SettingsError("--isolated ignores every settings file: drop it or --settings")
    if isolated:
        settings = Settings()
    elif explicit is not None:
        settings = load_settings(explicit)
    else:
        # Run-wide options (kernel, config, fail-on) come from the settings file of the
        # paths' common folder; each path's findings follow its own closest file.
        folders = [
            os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths
        ]
        common = os.path.commonpath(folders) if folders else os.path.abspath(".")
        found = find_settings_file([common])
        settings = load_settings(found) if found else Settings()
        closer = {find_settings_file([p]) for p in paths} - {found, None}
        settings.scoped = [load_settings(f) for f in sorted(f for f in closer if f)]
        for scope in settings.scoped:
            scope.cli_layer = cli_layer
    settings.cli_layer = cli_layer
    try:
        for selectors in (cli_layer.select or [], cli_layer.extend_select, cli_layer.ignore):
            resolve_selection(selectors)
        resolve_selection(cli_layer.extend_ignore)
    except SelectionError as exc:
        raise SettingsError(str(exc)) from exc
    if kernel is not None:
        settings.kernel = kernel
    if config is not None:
        settings.config = config
    if fail_on is not None:
        settings.fail_on = fail_on
    return settings


def apply_selection(findings: list[Finding], settings: Settings) -> list[Finding]:
    """Drop the findings of rules the finding's own settings file does not select (the run
    executes every rule some path selects)."""
    if not settings.scoped:
        return findings
    return [f for f in findings if f.code in settings.for_path(f.path).selected()]


def apply_ignores(findings: list[Finding], root: Settings) -> list[Finding]:
    """Drop what per-file-ignores (by path) and per-module-ignores (by module) switch off,
    each finding by the settings file that governs its path."""
    if not root.scoped and not root.per_file_ignores and not root.per_module_ignores:
        return findings
    kept = []
    for finding in findings:
        settings = root.for_path(finding.path)
        if any(
            finding.code in codes and _matches_path([glob], finding.path, settings.base)
            for glob, codes in settings.per_file_ignores.items()
        ):
            continue
        module = (finding.module or "").replace("-", "_")
        if finding.module is not None and any(
            finding.code in codes and fnmatch.fnmatchcase(module, glob.replace("-", "_"))
            for glob, codes in settings.per_module_ignores.items()
        ):
            continue
        kept.append(finding)
    return kept


def apply_severity(findings: list[Finding], root: Settings) -> list[Finding]:
    if not root.severity and not any(scope.severity for scope in root.scoped):
        return findings
    changed = []
    for finding in findings:
        severity = root.for_path(finding.path).severity
        changed.append(
            replace(finding, severity=severity[finding.code])
            if finding.code in severity
            else finding
        )
    return changed


def _matches_path(globs: list[str], path: str, base: str) -> bool:
    """Globs are relative to the settings file's folder; one without a '/' also matches a
    file or folder name anywhere below it (ruff and .gitignore read them the same way)."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, base).replace(os.sep, "/")
    parts = relative.split("/")
    for glob in globs:
        pattern = glob.strip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if "/" not in pattern and any(fnmatch.fnmatchcase(p, pattern) for p in parts):
            return True
        # A pattern naming a folder covers everything below it.
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            return True
    return False


def describe(settings: Settings) -> str:
    """--show-settings: the effective values, one per line, TOML-shaped."""
    names = {r.code: r.name for r in all_rules()}
    lines = [f"# settings file: {settings.file or '(none)'}"]
    lines.append(f"selected = {_codes(settings.selected(), names)}")
    for glob, codes in sorted(settings.per_file_ignores.items()):
        lines.append(f'per-file-ignores."{glob}" = {_codes(codes, names)}')
    for glob, codes in sorted(settings.per_module_ignores.items()):
        lines.append(f'per-module-ignores."{glob}" = {_codes(codes, names)}')
    for code, level in sorted(settings.severity.items()):
        lines.append(f'severity.{code} = "{level.value}"  # {names[code]}')
    lines.append(f"kernel = {_text(settings.kernel)}")
    lines.append(f"config = {_text(settings.config)}")
    lines.append(f"exclude = {_list(settings.exclude)}")
    lines.append(f'fail-on = "{settings.fail_on}"')
    for scope in settings.scoped:
        lines.append("")
        lines.append(f"# files under {scope.base} follow {scope.file}")
        lines.append(f"selected = {_codes(scope.selected(), names)}")
        for glob, codes in sorted(scope.per_file_ignores.items()):
            lines.append(f'per-file-ignores."{glob}" = {_codes(codes, names)}')
        for code, level in sorted(scope.severity.items()):
            lines.append(f'severity.{code} = "{level.value}"  # {names[code]}')
        lines.append(f"exclude = {_list(scope.exclude)}")
    return "\n".join(lines) + "\n"


def _codes(codes: Iterable[str], names: dict[str, str]) -> str:
    return _list(f"{c} {names[c]}" for c in sorted(codes))


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _text(value: str | None) -> str:
    return f'"{value}"' if value is not None else "(default)"
