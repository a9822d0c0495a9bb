"""Many files' facts into one source module, shaped like a binary module's model."""

from __future__ import annotations

from kmodlint.cfront.facts import FileFacts, SourceExport
from kmodlint.diagnostics import Location
from kmodlint.model import Export, ExportKind, Module, SourceInfo, Target
from kmodlint.source_facts import ExternDecl

_KINDS = {kind.value: kind for kind in ExportKind}


def build_module(name: str, location: Location, files: list[FileFacts]) -> Module:
    module = Module(name=name, path=location.path, origin="source")
    info = SourceInfo(location=location, files=[f.path for f in files])
    module.source = info
    # A header's declarations come with every file that includes it: each kept once
    # (a module's files share their headers; the copies were most of a tree's memory).
    externs: dict[ExternDecl, None] = {}
    for facts in files:
        externs.update(dict.fromkeys(facts.externs))
        for definition in facts.definitions.values():
            known = info.definitions.get(definition.name)
            # A non-static definition anywhere in the module is the one the linker sees.
            if known is None or (known.is_static and not definition.is_static):
                info.definitions[definition.name] = definition
        info.maybe_defined |= facts.macro_names
        info.params.extend(facts.params)
        info.section_refs.extend(facts.section_refs)
        for tag in facts.modinfo:
            module.modinfo.append((tag.tag, tag.value))
            info.modinfo_locations.setdefault((tag.tag, tag.value), tag.loc)
        info.init = info.init or facts.init
        info.exit = info.exit or facts.exit
        if facts.ast_error:
            info.unparsed[facts.path] = facts.ast_error
    info.externs = list(externs)
    module.has_init = info.init is not None
    module.has_exit = info.exit is not None
    for name_, definition in info.definitions.items():
        binding = "local" if definition.is_static else "global"
        kind = "func" if definition.is_function else "object"
        section = {"init": ".init.text", "exit": ".exit.text"}.get(definition.section or "", "")
        module.defined[name_] = (binding, kind, section)
    for facts in files:
        for symbol, where in facts.references.items():
            if symbol not in module.defined:
                info.references.setdefault(symbol, where)
    declared = {extern.name for extern in info.externs}
    # An import the loader would look up: used by the compiled code (the AST's uses where
    # the file parsed, else the token scan's), declared by the module, not defined in it.
    used: set[str] = set()
    for facts in files:
        used |= facts.ast_uses if facts.ast_parsed else set(facts.references)
    module.undefined = {
        symbol: False
        for symbol in info.references
        if symbol in declared and symbol in used and symbol not in info.maybe_defined
    }
    for facts in files:
        for export in facts.exports:
            module.exports.append(_export(export, info))
    return module


def _export(export: SourceExport, info: SourceInfo) -> Export:
    definition = info.definitions.get(export.symbol)
    if definition is not None:
        target = Target.LOCAL if definition.is_static else Target.GLOBAL
        section = ""
        if definition.section:
            kind = "text" if definition.is_function else "data"
            section = f".{definition.section}.{kind}"
    elif export.symbol in info.maybe_defined:
        target, section = Target.UNKNOWN, ""
    else:
        target, section = Target.UNDEFINED, ""
    return Export(
        export.symbol,
        _KINDS.get(export.kind, ExportKind.PLAIN),
        namespace=export.namespace or "",
        target=target,
        init_exit=section,
        location=export.loc,
    )
