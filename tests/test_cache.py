"""The cache: a result is reused only while every file it was computed from is unchanged,
never across a change of kmodlint's own code; it has a size bound; `cache clean` empties
it. And the source pool gives the same answers under `spawn` (settings as arguments)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

import kmodlint.cache
import kmodlint.cfront.sources
import kmodlint.pool
from kmodlint.cache import Cache, evict, note_absent, read_recorded, recorded
from kmodlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
# Same length, so only the contents tell the two apart.
EXPORT = "#define HEXPORT(x) EXPORT_SYMBOL(x)    \n"
EXPORT_GPL = "#define HEXPORT(x) EXPORT_SYMBOL_GPL(x)\n"
SOURCE = """#include <linux/module.h>
#include "hmod.h"
int hmod_fn(void) { return 1; }
HEXPORT(hmod_fn);
MODULE_LICENSE("GPL");
"""


def _module(root: Path) -> Path:
    drv = root / "drv"
    drv.mkdir()
    (drv / "Kbuild").write_text("obj-m += hmod.o\n")
    (drv / "hmod.c").write_text(SOURCE)
    (drv / "hmod.h").write_text(EXPORT)
    return drv


def _export_kinds(drv: Path, cache_dir: Path, capsys, *extra: str) -> list[str]:
    argv = ["symbols", str(drv), "--format", "json", "--config", "none", "--kernel", "none"]
    assert main([*argv, "--cache-dir", str(cache_dir), "-q", "-j", "1", *extra]) == 0
    data = json.loads(capsys.readouterr().out)
    return [e["kind"] for m in data["modules"] for e in m["exports"]]


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The files analysed (cache misses) in this process (-j 1: no pool)."""
    seen: list[str] = []
    real = kmodlint.cfront.sources.analyse_source

    def counting(job):
        seen.append(job.path)
        return real(job)

    monkeypatch.setattr(kmodlint.cfront.sources, "analyse_source", counting)
    return seen


@pytest.mark.parametrize("same_mtime", [True, False], ids=["same-size-and-mtime", "new-mtime"])
@pytest.mark.parametrize("ast", [True, False], ids=["ast", "token"])
def test_header_change_after_cached_run(
    tmp_path, cache_dir, capsys, calls, same_mtime, ast
) -> None:
    """(`cache_dir`: an empty cache but for the session's stub environment.)"""
    drv = _module(tmp_path)
    extra = () if ast else ("--no-ast",)
    assert _export_kinds(drv, cache_dir, capsys, *extra) == ["EXPORT_SYMBOL"]
    assert _export_kinds(drv, cache_dir, capsys, *extra) == ["EXPORT_SYMBOL"]
    assert len(calls) == 1  # the second run was served by the cache
    header = drv / "hmod.h"
    before = header.stat()
    header.write_text(EXPORT_GPL)
    assert header.stat().st_size == before.st_size
    if same_mtime:
        os.utime(header, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        os.utime(header, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert _export_kinds(drv, cache_dir, capsys, *extra) == ["EXPORT_SYMBOL_GPL"]
    assert len(calls) == 2
    # and --no-cache agrees
    assert _export_kinds(drv, cache_dir, capsys, "--no-cache", *extra) == ["EXPORT_SYMBOL_GPL"]


def test_touched_header_with_same_contents_still_hits(tmp_path, capsys, calls) -> None:
    drv = _module(tmp_path)
    cache_dir = tmp_path / "cache"
    _export_kinds(drv, cache_dir, capsys, "--no-ast")
    os.utime(drv / "hmod.h", ns=(1, 1))  # `touch` or a checkout: contents are compared
    assert _export_kinds(drv, cache_dir, capsys, "--no-ast") == ["EXPORT_SYMBOL"]
    assert len(calls) == 1


def test_header_created_where_it_is_looked_for_first_misses(tmp_path, capsys, calls) -> None:
    """`#include "hmod.h"` found in an include folder: a hmod.h created beside the .c
    later comes first, so the file's absence was an input too."""
    drv = _module(tmp_path)
    (drv / "inc").mkdir()
    (drv / "hmod.h").rename(drv / "inc" / "hmod.h")
    (drv / "Kbuild").write_text("ccflags-y += -I$(src)/inc\nobj-m += hmod.o\n")
    cache_dir = tmp_path / "cache"
    assert _export_kinds(drv, cache_dir, capsys, "--no-ast") == ["EXPORT_SYMBOL"]
    (drv / "hmod.h").write_text(EXPORT_GPL)
    assert _export_kinds(drv, cache_dir, capsys, "--no-ast") == ["EXPORT_SYMBOL_GPL"]
    assert len(calls) == 2


def test_changed_package_fingerprint_misses(tmp_path, capsys, calls, monkeypatch) -> None:
    drv = _module(tmp_path)
    cache_dir = tmp_path / "cache"
    _export_kinds(drv, cache_dir, capsys, "--no-ast")
    _export_kinds(drv, cache_dir, capsys, "--no-ast")
    assert len(calls) == 1
    monkeypatch.setattr(kmodlint.cache, "package_fingerprint", lambda: "edited-kmodlint")
    assert _export_kinds(drv, cache_dir, capsys, "--no-ast") == ["EXPORT_SYMBOL"]
    assert len(calls) == 2


def test_binary_keys_carry_the_package_fingerprint(tmp_path, monkeypatch) -> None:
    ko = tmp_path / "m.ko"
    ko.write_bytes(b"\x7fELF")
    first = Cache(tmp_path / "cache").key(str(ko))
    monkeypatch.setattr(kmodlint.cache, "package_fingerprint", lambda: "edited-kmodlint")
    assert Cache(tmp_path / "cache").key(str(ko)) != first


def test_package_fingerprint_follows_the_package_files(tmp_path, monkeypatch) -> None:
    fingerprint = kmodlint.cache.package_fingerprint
    assert fingerprint() == fingerprint()  # once per process
    package = tmp_path / "kmodlint"
    (package / "cfront" / "stubenv").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rule.py").write_text("x = 1\n")
    (package / "cfront" / "stubenv" / "prelude.h").write_text("#define A 1\n")
    monkeypatch.setattr(kmodlint, "__file__", str(package / "__init__.py"))
    compute = fingerprint.__wrapped__  # the uncached computation
    first = compute()
    (package / "rule.py").write_text("x = 22\n")  # an edit: another size
    second = compute()
    os.utime(package / "cfront" / "stubenv" / "prelude.h", ns=(1, 1))  # data too
    assert len({first, second, compute()}) == 3


def test_entry_checks_every_recorded_file(tmp_path) -> None:
    source, header = tmp_path / "a.c", tmp_path / "a.h"
    source.write_text("int a;\n")
    header.write_text("#define A 1\n")

    def analyse(path: str) -> str:
        read_recorded(path)
        read_recorded(str(header))
        note_absent(str(tmp_path / "inc.h"))
        return "facts"

    result, deps = recorded(analyse, str(source))
    assert result == "facts" and len(deps) == 3
    cache = Cache(tmp_path / "cache")
    key = cache.key(str(source))
    assert key is not None
    cache.store(key, result, deps)
    assert Cache(tmp_path / "cache").load(key) == "facts"
    (tmp_path / "inc.h").write_text("")
    assert Cache(tmp_path / "cache").load(key) is None
    (tmp_path / "inc.h").unlink()
    header.write_text("#define A 2\n")
    assert Cache(tmp_path / "cache").load(key) is None


def test_old_records_trust_the_stat_and_recent_ones_the_contents(tmp_path, monkeypatch) -> None:
    """Stat equality decides only when the file's last change is well before the moment it
    was recorded; a recent one (same second: timestamps can lie) is hashed."""
    path = tmp_path / "x.h"
    path.write_text("#define X 1\n")
    _, dep = read_recorded(str(path))
    hashed: list[bytes] = []
    real = kmodlint.cache._digest

    def digest(data: bytes) -> str:
        hashed.append(data)
        return real(data)

    monkeypatch.setattr(kmodlint.cache, "_digest", digest)
    assert kmodlint.cache._unchanged(dep)
    assert hashed  # recorded right after the write: compared by contents
    hashed.clear()
    old = (*dep[:6], dep[6] + 10_000_000_000)  # as if recorded 10 s after the change
    assert kmodlint.cache._unchanged(old)
    assert not hashed
    wrong = (*dep[:5], "0" * 32, dep[6])
    assert not kmodlint.cache._unchanged(wrong)


def test_eviction_removes_least_recently_used_first(tmp_path) -> None:
    cache = Cache(tmp_path, max_bytes=10_000)
    keys = [f"{i:02x}" + "0" * 62 for i in range(8)]
    now = time.time()
    for age, key in enumerate(keys):
        cache.store(key, b"x" * 2000, [])
        stamp = now - 1000 * (len(keys) - age)  # keys[0] is the oldest
        os.utime(cache._file(key), (stamp, stamp))
    removed, freed = evict(tmp_path, 10_000)
    assert removed >= 3 and freed > 0
    left = [key for key in keys if cache._file(key).exists()]
    assert left == keys[len(keys) - len(left) :]  # the newest stay
    assert sum(cache._file(k).stat().st_size for k in left) <= 10_000 * 3 // 4
    assert evict(tmp_path, 10_000) == (0, 0)


def test_store_checks_the_bound_once_per_run(tmp_path) -> None:
    cache = Cache(tmp_path, max_bytes=3000)
    for i in range(4):
        cache.store(f"{i:02x}" + "0" * 62, b"x" * 2000, [])
    cache.maybe_evict()
    assert sum(f.stat().st_size for f in cache.directory.rglob("*") if f.is_file()) <= 3000
    assert (tmp_path / "CACHEDIR.TAG").exists()


def test_cache_clean_removes_only_kmodlint_files(tmp_path, capsys, monkeypatch) -> None:
    drv = _module(tmp_path)
    cache_dir = tmp_path / "cache"
    _export_kinds(drv, cache_dir, capsys, "--no-ast")
    (cache_dir / "notes.txt").write_text("not ours")
    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(cache_dir))
    assert main(["cache", "clean"]) == 0
    out = capsys.readouterr().out
    assert f"v{kmodlint.__version__}-" in out and "removed" in out
    assert sorted(p.name for p in cache_dir.iterdir()) == ["notes.txt"]
    assert main(["cache", "clean", "--cache-dir", str(tmp_path / "none")]) == 0
    assert "removed 0 item(s)" in capsys.readouterr().out


def test_source_pool_under_spawn_sees_the_configuration(tmp_path, capsys, monkeypatch) -> None:
    """Workers started by `spawn` inherit nothing: the --config must reach them as
    arguments, or the exports under #ifdef CONFIG_FOO vanish (and get cached)."""
    count = 70  # above the pool threshold (pool._POOL_THRESHOLD)
    drv = tmp_path / "drv"
    drv.mkdir()
    names = [f"m{i}" for i in range(count)]
    (drv / "Kbuild").write_text("".join(f"obj-m += {n}.o\n" for n in names))
    for name in names:
        (drv / f"{name}.c").write_text(
            "#include <linux/module.h>\n"
            f"int {name}_fn(void) {{ return 0; }}\n"
            "#ifdef CONFIG_FOO\n"
            f"EXPORT_SYMBOL({name}_fn);\n"
            "#endif\n"
            'MODULE_LICENSE("GPL");\n'
        )
    config = tmp_path / "config"
    config.write_text("CONFIG_FOO=y\n")
    monkeypatch.setenv("KMODLINT_MP_START", "spawn")
    started: list[str] = []

    class Pool(kmodlint.pool.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs) -> None:
            started.append(kwargs["mp_context"].get_start_method())
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(kmodlint.pool, "ProcessPoolExecutor", Pool)
    argv = ["symbols", str(drv), "--format", "json", "--kernel", "none", "--config", str(config)]
    argv += ["--no-ast", "-q", "-j", "2", "--cache-dir", str(tmp_path / "cache")]
    for _ in range(2):  # computed by the workers, then read back from the cache
        assert main(argv) == 0
        data = json.loads(capsys.readouterr().out)
        exports = {e["symbol"] for m in data["modules"] for e in m["exports"]}
        assert exports == {f"{n}_fn" for n in names}
    assert started == ["spawn"]  # the first run used the pool, the second the cache


def test_binary_rewritten_with_same_size_and_mtime_misses(tmp_path) -> None:
    from kmodlint.pool import extract_all

    ko = tmp_path / "mod1.ko"
    shutil.copyfile(FIXTURES / "arch" / "arm64" / "mod1.ko", ko)
    cache_dir = tmp_path / "cache"
    first = extract_all([(str(ko), "mod1.ko")], 1, Cache(cache_dir))
    assert first[0].module is not None and not first[0].problems
    before = ko.stat()
    ko.write_bytes(b"\0" * before.st_size)  # same size; mtime put back
    os.utime(ko, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = extract_all([(str(ko), "mod1.ko")], 1, Cache(cache_dir))
    assert again[0].module is None and again[0].problems


def test_header_only_cpp_reads_is_an_input_too(tmp_path, cache_dir, capsys, calls) -> None:
    """A header the token scan cannot find (in an ancestor's include/, where the AST path
    looks for it) reaches the result through cpp: its linemarkers name it."""
    drv = tmp_path / "drv"
    (drv / "sub").mkdir(parents=True)
    (drv / "include").mkdir()
    (drv / "sub" / "Kbuild").write_text("obj-m += hmod.o\n")
    (drv / "sub" / "hmod.c").write_text(SOURCE)
    header = drv / "include" / "hmod.h"
    header.write_text(EXPORT)
    assert _export_kinds(drv, cache_dir, capsys) == ["EXPORT_SYMBOL"]
    before = header.stat()
    header.write_text(EXPORT_GPL)
    os.utime(header, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _export_kinds(drv, cache_dir, capsys) == ["EXPORT_SYMBOL_GPL"]
    assert len(calls) == 2


class _Result:
    """A result that can be watched being freed (a weak reference to it dies)."""

    def __init__(self, value: int) -> None:
        self.value = value


def _make_result(path: str) -> _Result:
    read_recorded(path)  # the file the result is computed from: its cache entry's stamp
    return _Result(int(Path(path).stem))


def _numbered_files(folder: Path, count: int) -> list[str]:
    for number in range(count):
        (folder / f"{number}.c").write_text(f"int x{number};\n")
    return [str(folder / f"{number}.c") for number in range(count)]


@pytest.mark.parametrize("warm", [False, True])
def test_run_cached_lets_each_result_go_once_used(tmp_path, monkeypatch, warm: bool) -> None:
    """Issue 13: a tree's results are never all held at once; with a cache (warm) each
    entry is loaded only when its turn comes, cold each is handed on as computed."""
    import gc
    import weakref

    items = _numbered_files(tmp_path, 6)
    cache = Cache(tmp_path / "cache")
    keys = [cache.key(item) for item in items]
    loads: list[str] = []
    if warm:
        list(kmodlint.pool.run_cached(_make_result, items, keys, 1, cache, _Result))
        real_load = Cache.load

        def load(self: Cache, key: str) -> object | None:
            loads.append(key)
            return real_load(self, key)

        monkeypatch.setattr(Cache, "load", load)
    alive: list[weakref.ref[_Result]] = []
    results = kmodlint.pool.run_cached(_make_result, items, keys, 1, cache, _Result)
    for position, result in enumerate(results):
        assert result.value == position
        assert len(loads) == (position + 1 if warm else 0)  # loaded at its turn, not ahead
        alive.append(weakref.ref(result))
        del result
        gc.collect()
        # the generator still holds the one it just handed on, none before it
        assert [ref() for ref in alive[:-1]] == [None] * position


def test_an_entry_gone_between_check_and_load_is_computed_then(tmp_path, monkeypatch) -> None:
    (item,) = _numbered_files(tmp_path, 1)
    cache = Cache(tmp_path / "cache")
    key = cache.key(item)
    assert key is not None
    list(kmodlint.pool.run_cached(_make_result, [item], [key], 1, cache, _Result))
    real_holds = Cache.holds

    def holds_then_evicted(self: Cache, key: str) -> bool:
        found = real_holds(self, key)
        self._file(key).unlink()  # another run evicts it right after this one's check
        return found

    monkeypatch.setattr(Cache, "holds", holds_then_evicted)
    results = kmodlint.pool.run_cached(_make_result, [item], [key], 1, cache, _Result)
    assert [result.value for result in results] == [0]
    assert Cache(cache.root).load(key) is not None  # computed here and stored again


def test_an_entry_of_the_layout_before_holds_is_a_miss(tmp_path) -> None:
    """Entries pickled as (deps, value) before values were pickled on their own."""
    import pickle

    from kmodlint.cache import _mac

    cache = Cache(tmp_path / "cache")
    key = "cd" + "0" * 62
    cache.store(key, "value", [])
    assert cache.holds(key) and Cache(cache.root).load(key) == "value"
    secret = cache.secret
    assert secret is not None
    payload = pickle.dumps(([], "value"))
    cache._file(key).write_bytes(_mac(secret, key, payload) + payload)
    assert not Cache(cache.root).holds(key) and Cache(cache.root).load(key) is None
