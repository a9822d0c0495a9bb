"""modules.dep exactly as kmod's depmod writes it (tools/depmod.c, v30).

- Lines follow the module array: modules.order order first (`depmod_modules_sort`), the
  rest after it in the iteration order of depmod's module-name hash.
- Each module's direct dependencies are the owners of its undefined symbols, in symbol
  table order, then of its other `__versions` names (`depmod_load_dependencies` ->
  `mod_add_dependency`); only modules count, vmlinux exports add no edge, weak references
  count like strong ones, and of two exporters of a name the later module wins.
- `depmod_calculate_dependencies`: Kahn's sort over "users" counts, roots kept on a stack
  (pushed in array order, popped from the top) -> `dep_sort_idx`.
- A line lists the full transitive closure (`mod_fill_all_unique_dependencies`) sorted by
  `dep_sort_idx` (`dep_cmp`), so `a -> b -> c` prints `a.ko: b.ko c.ko` and modprobe loads
  the list from the end.
"""

from __future__ import annotations

import os

from kmodlint.model import Module
from kmodlint.moduleset import ModuleSet


def _signed_char(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def hash_superfast(key: bytes) -> int:
    """kmod shared/hash.c: hash_superfast() (Paul Hsieh's SuperFastHash), as compiled on x86:
    little-endian 16-bit loads, signed `char`."""
    mask = 0xFFFFFFFF
    length = len(key)
    value = length
    blocks, remainder = divmod(length, 4)
    position = 0
    for _ in range(blocks):
        value = (value + (key[position] | key[position + 1] << 8)) & mask
        tmp = ((key[position + 2] | key[position + 3] << 8) << 11) ^ value
        value = ((value << 16) ^ tmp) & mask
        value = (value + (value >> 11)) & mask
        position += 4
    if remainder == 3:
        value = (value + (key[position] | key[position + 1] << 8)) & mask
        value ^= (value << 16) & mask
        value ^= (_signed_char(key[position + 2]) << 18) & mask
        value = (value + (value >> 11)) & mask
    elif remainder == 2:
        value = (value + (key[position] | key[position + 1] << 8)) & mask
        value ^= (value << 11) & mask
        value = (value + (value >> 17)) & mask
    elif remainder == 1:
        value = (value + _signed_char(key[position])) & mask
        value ^= (value << 10) & mask
        value = (value + (value >> 1)) & mask
    value ^= (value << 3) & mask
    value = (value + (value >> 5)) & mask
    value ^= (value << 4) & mask
    value = (value + (value >> 17)) & mask
    value ^= (value << 25) & mask
    value = (value + (value >> 6)) & mask
    return value


def _modname(relative_path: str) -> str:
    return relative_path.rsplit("/", 1)[-1].split(".", 1)[0].replace("-", "_")


def array_order(ms: ModuleSet, relative: dict[str, str], order: list[str]) -> list[Module]:
    """depmod's module array: its 512-bucket name hash in iteration order (bucket, then
    name), then stably re-sorted so modules.order lines come first, in that order."""
    position = {path: index for index, path in enumerate(order)}
    unordered = len(position)

    def hash_key(module: Module) -> tuple[int, bytes]:
        name = os.fsencode(_modname(relative[module.name]))
        return (hash_superfast(name) & 511, name)

    def order_key(module: Module) -> int:
        path = relative[module.name]
        return position.get(path.rsplit(".ko", 1)[0] + ".ko", unordered)

    return sorted(sorted(ms.modules, key=hash_key), key=order_key)


def depmod_owners(modules: list[Module]) -> dict[str, str]:
    """Export name -> module name as depmod's symbol hash ends up: `hash_add` replaces, so
    of two exporters the later one in array order wins."""
    owners: dict[str, str] = {}
    for module in modules:
        for export in module.exports:
            owners[export.symbol] = module.name
    return owners


def direct_dependencies(module: Module, owners: dict[str, str]) -> list[str]:
    """Set modules `module` needs, in the order depmod meets them: undefined symbols in
    symbol-table order (weak ones too), then `__versions` names that are not undefined
    (`libkmod-elf.c: kmod_elf_get_dependency_symbols`)."""
    # A name both undefined and in __versions meets its owner first as undefined, so the
    # versions need no filtering; dict.fromkeys keeps each owner where it first appears.
    names = [*module.undefined, *(module.versions or ())]
    if "\0." in "\0" + "\0".join(names):  # PPC64 ELFv1 function descriptors: .name
        names = [name[1:] if name.startswith(".") else name for name in names]
    deps = dict.fromkeys(map(owners.get, names))
    deps.pop(None, None)
    deps.pop(module.name, None)
    return list(deps)  # type: ignore[arg-type]


def dep_sort_index(modules: list[Module], direct: dict[str, list[str]]) -> dict[str, int]:
    users = {m.name: 0 for m in modules}
    for deps in direct.values():
        for dep in deps:
            users[dep] += 1
    roots = [m.name for m in modules if users[m.name] == 0]
    index: dict[str, int] = {}
    while roots:
        source = roots.pop()
        index[source] = len(index)
        for dep in direct[source]:
            users[dep] -= 1
            if users[dep] == 0:
                roots.append(dep)
    # Modules left over sit in cycles; depmod refuses to write anything then. Give them
    # stable indexes after the rest so the output stays deterministic.
    for module in modules:
        index.setdefault(module.name, len(index))
    return index


def modules_dep_lines(ms: ModuleSet, relative: dict[str, str], order: list[str]) -> list[str]:
    modules = array_order(ms, relative, order)
    owners = depmod_owners(modules)
    direct = {m.name: direct_dependencies(m, owners) for m in modules}
    sort_index = dep_sort_index(modules, direct)
    lines = []
    for module in modules:
        closure: set[str] = set()
        stack = list(direct[module.name])
        while stack:
            name = stack.pop()
            if name in closure or name == module.name:
                continue
            closure.add(name)
            stack.extend(direct[name])
        deps = sorted(closure, key=lambda name: sort_index[name])
        line = relative[module.name] + ":"
        if deps:
            line += " " + " ".join(relative[name] for name in deps)
        lines.append(line)
    return lines
