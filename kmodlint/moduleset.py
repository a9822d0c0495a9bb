"""A module set: the modules checked together, the target kernel, and how they tie together.

Every undefined symbol is resolved the way the loader would see it once the set is loaded:
first to a module of the set, then to the target kernel. The dependency graph (importer ->
exporter, the symbols on each edge) gives the load order and the cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from kmodlint.kernel.table import KernelTable
from kmodlint.model import Export, InputProblem, Module, normalise_module_name

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class Provider:
    owner: str  # module name, or "vmlinux"
    export: Export
    in_set: bool


# scripts/mod/modpost.c: ignore_undef_symbol() — resolved at final link or by the loader.
_IGNORED_UNDEFINED = {"__this_module", "_GLOBAL_OFFSET_TABLE_"}
_IGNORED_PREFIXES_BY_MACHINE = {
    "EM_PPC": ("_restgpr_", "_savegpr_", "_rest32gpr_", "_save32gpr_", "_restvr_", "_savevr_"),
    "EM_PPC64": ("_restgpr0_", "_savegpr0_", "_restvr_", "_savevr_", ".TOC."),
    "EM_S390": ("__s390_indirect_jump_r",),
}


def is_ignored_undefined(module: Module, symbol: str) -> bool:
    if symbol in _IGNORED_UNDEFINED:
        return True
    prefixes = _IGNORED_PREFIXES_BY_MACHINE.get(module.machine)
    return prefixes is not None and bool(prefixes) and symbol.startswith(prefixes)


@dataclass
class ModuleSet:
    modules: list[Module]
    kernel: KernelTable | None = None
    problems: list[InputProblem] = field(default_factory=list)
    # Relative module paths in modules.order order (depmod's line order), when known.
    order: list[str] = field(default_factory=list)
    relative_paths: dict[str, str] = field(default_factory=dict)  # module name -> path

    def __post_init__(self) -> None:
        self.modules.sort(key=lambda module: (module.name, module.path))
        unique: dict[str, Module] = {}
        for module in self.modules:
            key = normalise_module_name(module.name)
            if key in unique:
                self.problems.append(
                    InputProblem(
                        "duplicate-module",
                        module.path,
                        f"module name '{module.name}' is also used by {unique[key].path}; "
                        "the kernel can load only one of them, this one was not analysed",
                        module=module.name,
                        line=module.source.location.line if module.source else None,
                    )
                )
                continue
            unique[key] = module
        self.modules = list(unique.values())
        self.by_name = unique
        if self.kernel is not None:
            self.kernel = self.kernel.without_modules(set(unique))

    @cached_property
    def exports_by_symbol(self) -> dict[str, list[tuple[Module, Export]]]:
        found: dict[str, list[tuple[Module, Export]]] = {}
        for module in self.modules:
            for export in module.exports:
                found.setdefault(export.symbol, []).append((module, export))
        return found

    @cached_property
    def exporters(self) -> dict[str, list[Module]]:
        return {s: [m for m, _ in pairs] for s, pairs in self.exports_by_symbol.items()}

    @cached_property
    def resolution(self) -> dict[str, dict[str, Provider]]:
        """module name -> {imported symbol -> who provides it}."""
        resolved: dict[str, dict[str, Provider]] = {}
        kernel = self.kernel.exports if self.kernel else {}
        for module in self.modules:
            providers: dict[str, Provider] = {}
            # A source module's imports are the names its code uses that someone exports.
            used = module.source.references if module.source else module.undefined
            for symbol in sorted(used):
                if is_ignored_undefined(module, symbol):
                    continue
                found = next(
                    (
                        pair
                        for pair in self.exports_by_symbol.get(symbol, ())
                        if pair[0] is not module
                    ),
                    None,
                )
                if found is not None:
                    providers[symbol] = Provider(found[0].name, found[1], in_set=True)
                elif symbol in kernel:
                    row = kernel[symbol]
                    owner = row.owner.rsplit("/", 1)[-1]
                    providers[symbol] = Provider(owner, row.export, in_set=False)
            resolved[module.name] = providers
        return resolved

    def unresolved(self, module: Module) -> list[str]:
        """Non-weak imports nobody provides. Empty when no complete kernel table is known,
        since then a miss proves nothing."""
        if self.kernel is None or not self.kernel.complete:
            return []
        providers = self.resolution[module.name]
        # A module re-exporting a name it only imports is export-without-definition; the
        # same root cause is not reported twice.
        own_exports = {export.symbol for export in module.exports}
        return [
            symbol
            for symbol, weak in sorted(module.undefined.items())
            if not weak
            and symbol not in providers
            and symbol not in own_exports
            and not is_ignored_undefined(module, symbol)
        ]

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        """importer -> exporter, for modules of the set; edge attribute `symbols`."""
        import networkx as nx  # ~0.2 s: only runs that build the graph pay for it

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(module.name for module in self.modules)
        for importer, providers in self.resolution.items():
            for symbol, provider in providers.items():
                if not provider.in_set:
                    continue
                if graph.has_edge(importer, provider.owner):
                    graph.edges[importer, provider.owner]["symbols"].append(symbol)
                else:
                    graph.add_edge(importer, provider.owner, symbols=[symbol])
        return graph

    @cached_property
    def layers(self) -> list[list[str]]:
        """Stacking layers: layer 0 depends on nothing in the set; a module sits one layer
        above the highest module it needs. Modules of one cycle share a layer."""
        import networkx as nx

        condensed = nx.condensation(self.graph)
        level: dict[int, int] = {}
        for node in reversed(list(nx.topological_sort(condensed))):
            successors = [level[s] for s in condensed.successors(node)]
            level[node] = 1 + max(successors) if successors else 0
        grouped: dict[int, list[str]] = {}
        for node, depth in level.items():
            grouped.setdefault(depth, []).extend(condensed.nodes[node]["members"])
        return [sorted(grouped[depth]) for depth in sorted(grouped)]

    @cached_property
    def cycles(self) -> list[list[str]]:
        """One cycle per strongly connected component, as `a, b, a` starting at the smallest
        name (depmod reports `Cycle detected: a -> b -> a`)."""
        found: list[list[str]] = []
        if not any(p.in_set for providers in self.resolution.values() for p in providers.values()):
            return found  # no edge inside the set, so no loop: networkx is not needed
        import networkx as nx

        for component in nx.strongly_connected_components(self.graph):
            if len(component) < 2:
                continue
            start = min(component)
            edges = nx.find_cycle(self.graph.subgraph(component), source=start)
            path = [edge[0] for edge in edges]
            rotate = path.index(min(path))
            path = path[rotate:] + path[:rotate]
            found.append([*path, path[0]])
        return sorted(found)

    @cached_property
    def kernel_modules(self) -> set[str]:
        """Normalised names of the modules the target kernel's table lists as owners."""
        if self.kernel is None:
            return set()
        return {
            normalise_module_name(row.owner.rsplit("/", 1)[-1])
            for row in self.kernel.exports.values()
            if row.owner != "vmlinux"
        }

    def dependencies(self, module: Module) -> set[str]:
        """Names of the modules `module` needs loaded first (set and target modules)."""
        return {
            provider.owner
            for provider in self.resolution[module.name].values()
            if provider.owner != "vmlinux"
        }
