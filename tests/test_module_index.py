"""The binaries' index (kmodlint/module_index.py): one JSON file per tree in the cache,
every model read back exactly as the inspector made it, used only while each module file
is unchanged, never loaded from a file someone else could have written."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

import kmodlint.cache
import kmodlint.pool
from kmodlint.cache import Cache
from kmodlint.extract import Extraction, extract_binary
from kmodlint.model import Module
from kmodlint.module_index import (
    _SPECIAL,
    IndexedModule,
    ModuleIndex,
    Unencodable,
    decode_extraction,
    encode_extraction,
)
from kmodlint.pool import extract_all

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


def _binaries() -> list[Path]:
    found = sorted(FIXTURES.glob("arch/*/*.ko")) + sorted(REPO.glob("corpus/*/built/*.ko"))
    assert len(found) > 10
    return found


def _facts(extraction: Extraction) -> tuple[object, ...]:
    """Every field (an indexed module is of a subclass, so == alone would say no)."""
    module = extraction.module
    fields = [] if module is None else dataclasses.fields(module)
    return (extraction.problems, *(getattr(module, spec.name) for spec in fields))


def test_every_model_reads_back_identical() -> None:
    for path in _binaries():
        extraction = extract_binary(str(path), str(path))
        text = json.dumps(encode_extraction(extraction))
        back = decode_extraction(json.loads(text))
        assert back.module is None or isinstance(back.module, Module)
        assert _facts(back) == _facts(extraction), path
        assert repr(_facts(back)) == repr(_facts(extraction)), path  # order, tuple-ness too


def test_a_module_field_the_codec_does_not_know_is_not_indexed() -> None:
    module = Module("m", "m.ko", "binary")
    for spec in dataclasses.fields(Module):
        value = getattr(module, spec.name)
        # every field is a scalar or has an encoding of its own
        assert spec.name in _SPECIAL or value is None or type(value) in (str, int, bool)
    extraction = extract_binary(str(_binaries()[0]), "x.ko")
    assert extraction.module is not None
    extraction.module.source = object()  # type: ignore[assignment]
    with pytest.raises(Unencodable):
        encode_extraction(extraction)


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The module files read (index misses); the window in which a file's stat is not
    trusted shortened to 0.3 s, so files copied by the test are old enough after 0.4 s."""
    monkeypatch.setattr(kmodlint.cache, "_RACY_NS", 300_000_000)
    seen: list[str] = []
    real = kmodlint.pool.extract_binary

    def counting(path: str, display: str):
        seen.append(os.path.basename(path))
        return real(path, display)

    monkeypatch.setattr(kmodlint.pool, "extract_binary", counting)
    return seen


def _tree(tmp_path: Path) -> list[tuple[str, str]]:
    tree = tmp_path / "tree"
    tree.mkdir()
    inputs = []
    for source in sorted(FIXTURES.glob("arch/*/mod1.ko")):
        target = tree / f"{source.parent.name}.ko"
        shutil.copyfile(source, target)
        inputs.append((str(target), target.name))
    time.sleep(0.4)  # their last change (the copy's ctime) is now outside the racy window
    return inputs


def test_one_index_file_reused_while_the_files_are_unchanged(tmp_path, reads) -> None:
    inputs = _tree(tmp_path)
    cache = tmp_path / "cache"
    first = extract_all(inputs, 1, Cache(cache))
    assert len(reads) == len(inputs)
    files = [p for p in cache.glob("v*/**/*") if p.is_file()]
    assert len(files) == 1 and files[0].parent.name == "trees"
    assert files[0].read_bytes().startswith(b"{")  # JSON: loading it runs no code
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert files[0].parent.stat().st_mode & 0o777 == 0o700
    # recorded long after their last change: no content hash taken
    entries = json.loads(files[0].read_bytes())["entries"]
    assert all(dep[5] == "" for deps, _ in entries.values() for dep in deps)

    again = extract_all(inputs, 1, Cache(cache))
    assert len(reads) == len(inputs)
    assert [_facts(e) for e in again] == [_facts(e) for e in first]

    changed = Path(inputs[0][0])
    changed.write_bytes(changed.read_bytes()[:100])  # truncated: one diagnostic
    third = extract_all(inputs, 1, Cache(cache))
    assert reads[len(inputs) :] == [changed.name]
    assert third[0].module is None and len(third[0].problems) == 1
    assert [_facts(e) for e in third[1:]] == [_facts(e) for e in first[1:]]


def test_a_module_changed_within_the_racy_window_is_hashed(tmp_path, reads) -> None:
    inputs = _tree(tmp_path)
    fresh = Path(inputs[0][0])
    os.utime(fresh)  # changed just now: its stat alone cannot tell a later rewrite
    cache = tmp_path / "cache"
    extract_all(inputs, 1, Cache(cache))
    index = ModuleIndex(Cache(cache), [path for path, _ in inputs])
    entries = json.loads(Path(index.file).read_bytes())["entries"]
    hashes = {os.path.basename(deps[0][0]): deps[0][5] for deps, _ in entries.values()}
    assert hashes[fresh.name] != ""
    assert sum(1 for value in hashes.values() if value) == 1


def test_an_index_someone_else_can_write_is_ignored(tmp_path, reads) -> None:
    inputs = _tree(tmp_path)
    cache = tmp_path / "cache"
    extract_all(inputs, 1, Cache(cache))
    index = Path(ModuleIndex(Cache(cache), [path for path, _ in inputs]).file)
    index.chmod(0o622)
    extract_all(inputs, 1, Cache(cache))
    assert len(reads) == 2 * len(inputs)  # not trusted: everything read again
    # and rewritten by this user, private again
    assert index.stat().st_mode & 0o777 == 0o600
    extract_all(inputs, 1, Cache(cache))
    assert len(reads) == 2 * len(inputs)


def test_a_corrupt_index_is_a_miss_not_an_error(tmp_path, reads) -> None:
    inputs = _tree(tmp_path)
    cache = tmp_path / "cache"
    first = extract_all(inputs, 1, Cache(cache))
    index = Path(ModuleIndex(Cache(cache), [path for path, _ in inputs]).file)
    for damage in (b"{not json", b'{"format": 1}', index.read_bytes()[:-2000] + b"}"):
        index.write_bytes(damage)
        index.chmod(0o600)
        again = extract_all(inputs, 1, Cache(cache))
        assert [_facts(e) for e in again] == [_facts(e) for e in first]


def test_an_indexed_module_decodes_its_definitions_when_asked(tmp_path, reads) -> None:
    inputs = _tree(tmp_path)
    cache = tmp_path / "cache"
    first = extract_all(inputs, 1, Cache(cache))
    again = extract_all(inputs, 1, Cache(cache))
    module = again[0].module
    assert isinstance(module, IndexedModule) and module._pending is not None
    assert first[0].module is not None
    assert module.defined == first[0].module.defined and module._pending is None
    module.defined = {"x": ("global", "func", ".text")}  # assignable like any field
    assert module.defined == {"x": ("global", "func", ".text")}


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_workers_hand_back_the_encoding_and_the_models_are_the_same(
    tmp_path, monkeypatch, cached
) -> None:
    inputs = [(str(path), path.name) for path in _binaries()[:6]]
    alone = extract_all(inputs, 1, None)
    monkeypatch.setattr(kmodlint.pool, "_POOL_THRESHOLD", 1)
    cache = Cache(tmp_path / "cache") if cached else None
    pooled = extract_all(inputs, 2, cache)
    assert all(isinstance(e.module, IndexedModule) for e in pooled if e.module is not None)
    assert [_facts(e) for e in pooled] == [_facts(e) for e in alone]
    if cached:  # and what they encoded is the index
        again = extract_all(inputs, 1, Cache(tmp_path / "cache"))
        assert [_facts(e) for e in again] == [_facts(e) for e in alone]
