"""The one model both front ends produce: a module's facts, whatever they were read from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kmodlint.diagnostics import Location
from kmodlint.source_facts import Definition, ExternDecl, Param


class ExportKind(StrEnum):
    PLAIN = "EXPORT_SYMBOL"
    GPL = "EXPORT_SYMBOL_GPL"
    GPL_FUTURE = "EXPORT_SYMBOL_GPL_FUTURE"
    # System.map lists export names without their kind.
    UNKNOWN = "EXPORT_SYMBOL?"

    @property
    def gpl_only(self) -> bool:
        return self is ExportKind.GPL


class Target(StrEnum):
    """What an export entry points at, as the ksymtab relocation shows it."""

    GLOBAL = "global"
    LOCAL = "local"
    UNDEFINED = "undefined"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class Export:
    symbol: str
    kind: ExportKind
    namespace: str = ""
    crc: int | None = None
    target: Target = Target.UNKNOWN
    # True when the exported object lives in an .init*/.exit* section.
    init_exit: str = ""
    location: Location | None = None


# (binding, kind, section): binding "global"/"weak"/"local", kind "func"/"object"/...
# A plain tuple: a distribution tree holds half a million of them, and plain tuples unpickle
# from the cache several times faster than named tuples or dataclasses.
SymbolDef = tuple[str, str, str]
BINDING, KIND, SECTION = 0, 1, 2


@dataclass(slots=True)
class Module:
    """One loadable module: every fact the rules may ask about."""

    name: str
    path: str
    origin: str  # "binary" or "source"
    exports: list[Export] = field(default_factory=list)
    # Undefined symbol -> True when the reference is weak (a weak miss is not an error).
    undefined: dict[str, bool] = field(default_factory=dict)
    defined: dict[str, SymbolDef] = field(default_factory=dict)
    modinfo: list[tuple[str, str]] = field(default_factory=list)
    # __versions (or __version_ext_*) CRCs; None when the module carries no version table.
    versions: dict[str, int] | None = None
    # same_magic() skips the release only for a basic `__versions` section (6.14+ modules
    # may carry the extended tables alone).
    has_versions_section: bool = False
    has_init: bool = False
    has_exit: bool = False
    elf_class: int = 64
    big_endian: bool = False
    machine: str = ""
    # The image ends with "~Module signature appended~\n" (kernel/module/signing.c).
    signed: bool = False
    # References modpost's sectioncheck[] flags, (fromsec, fromsym, tosec, tosym), from the
    # relocations (kmodlint/frontends/sections.py); the rule applies modpost's allow-list.
    section_refs: list[tuple[str, str, str, str]] = field(default_factory=list)
    # Facts only sources have (locations, C types, params); None for binaries.
    source: SourceInfo | None = None

    def use_location(self, symbol: str) -> Location | None:
        """Where a source module first uses `symbol` (None for binaries)."""
        return self.source.references.get(symbol) if self.source else None

    def modinfo_location(self, tag: str, value: str | None = None) -> Location | None:
        if self.source is None:
            return None
        for (key, text), where in self.source.modinfo_locations.items():
            if key == tag and (value is None or text == value):
                return where
        return None

    def info(self, tag: str) -> list[str]:
        return [value for key, value in self.modinfo if key == tag]

    def first_info(self, tag: str) -> str | None:
        values = self.info(tag)
        return values[0] if values else None

    @property
    def licenses(self) -> list[str]:
        return self.info("license")

    @property
    def vermagic(self) -> str | None:
        return self.first_info("vermagic")

    @property
    def imported_namespaces(self) -> list[str]:
        return self.info("import_ns")

    @property
    def depends(self) -> list[str] | None:
        """`depends=` as written by modpost; None when the tag is absent."""
        value = self.first_info("depends")
        if value is None:
            return None
        return [name for name in value.split(",") if name]


@dataclass(slots=True)
class SourceInfo:
    """What a module built from C sources adds to the common facts."""

    location: Location  # its obj-m line in Kbuild, or line 1 of a lone .c
    files: list[str] = field(default_factory=list)
    # Every name the code uses that the module does not define, at its first use; the
    # module set decides which of them are imports.
    references: dict[str, Location] = field(default_factory=dict)
    modinfo_locations: dict[tuple[str, str], Location] = field(default_factory=dict)
    init: Location | None = None
    exit: Location | None = None
    params: list[Param] = field(default_factory=list)
    externs: list[ExternDecl] = field(default_factory=list)
    definitions: dict[str, Definition] = field(default_factory=dict)
    maybe_defined: set[str] = field(default_factory=set)  # declaration-macro arguments
    unparsed: dict[str, str] = field(default_factory=dict)  # file -> why the AST failed
    # Kbuild objects with no source (generated at build time or missing): what they define
    # is unknown, so nothing the module uses or exports counts as undefined.
    generated_parts: list[str] = field(default_factory=list)
    # (referring definition, referenced name, where): the uses inside each emitted function
    # body or initializer, for section-mismatch (the C front end fills it; empty until then).
    section_refs: list[tuple[str, str, Location]] = field(default_factory=list)


def normalise_module_name(name: str) -> str:
    """The kernel treats '-' and '_' in module names as the same character."""
    return name.replace("-", "_")


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A front-end diagnostic: something that could not be (fully) analysed."""

    name: str  # a KM9xx rule name
    path: str
    message: str
    module: str | None = None
    line: int | None = None
