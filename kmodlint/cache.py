"""Per-file cache of source facts, outside the analysed tree (binary modules have one index
per tree instead: kmodlint/module_index.py, which reuses the file records made here).

Key: a fingerprint of kmodlint's own installed files (a code change must never reuse an
older result, whatever the version string says) + the path (absolute and as given) + the
settings the result depends on (`salt`). The key says nothing about file contents: an
entry carries the list of every file the result was computed from (the file itself, the
driver's headers, `#include "x.c"`, `_shipped` copies, the headers cpp read) with its size,
mtime, ctime, inode and a content hash, plus the files whose absence mattered (an include
looked for in a folder first). On load each one is checked; any change is a miss. Stat
equality is trusted only when the file's last change is well before the moment it was
recorded; otherwise (same size, same second: a timestamp can lie) the contents are hashed
and compared.

Values are pickles, written atomically so parallel runs never see half a file, and
authenticated: each entry is HMAC-SHA256(key, its name + payload) + payload, with a random
per-user key kept in the cache folder (`key`, mode 0600, made with O_EXCL, read only when
this user owns it and nobody else can read it). A pickle can run code when loaded, and a
cache folder can come from elsewhere (a shared or restored CI cache, a folder another
user can write): an entry whose MAC does not verify is a miss and is never unpickled.
Folders are created 0700 whatever the umask. The MAC keeps out whoever cannot read the key;
a restored cache that brings its own key is trusted as far as whoever wrote it. The
directory has a size bound (KMODLINT_CACHE_SIZE, default 1 GiB): at most once per run the
least recently used entries are removed until it fits. `kmodlint cache clean` empties it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import hashlib
import hmac
import os
import pickle
import re
import secrets
import shutil
import stat as stat_module
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import kmodlint
from kmodlint import __version__
from kmodlint.safe_io import MB, SOURCE_LIMIT, read_regular, read_regular_stat

_SCHEMA = "5"
DEFAULT_MAX_BYTES = 1 << 30
# A file changed less than this before it was recorded may change again without a new
# timestamp (coarse file-system clocks, FAT's 2 s): its contents are compared instead.
_RACY_NS = 2_000_000_000
# Entries used less than this long ago are not touched again on a hit (one write per hour
# at most, so a warm run stays read-only in practice).
_TOUCH_NS = 3600 * 1_000_000_000
# Between two size checks by successive runs, unless a run wrote much.
_EVICT_INTERVAL_S = 600
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# kmodlint cache\n"
# What `cache clean` may delete in a cache folder: only what kmodlint itself creates there,
# so a mistyped --cache-dir never empties someone's home.
_VERSION_DIR = re.compile(r"v\d[\w.+]*-\d+")  # results of one kmodlint version and schema
_OWN_NAMES = re.compile(
    rf"{_VERSION_DIR.pattern}|stubenv-.*|defines|CACHEDIR\.TAG|\.evict-stamp|key"
)

_KEY_NAME = "key"
_KEY_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
# An entry bigger than this is not read (a cache folder is input too).
_ENTRY_LIMIT = 256 * MB

# One file a result was computed from: (absolute path, size, mtime_ns, ctime_ns, inode,
# content hash, when it was recorded in ns). Size -1: the file must not exist.
Dep = tuple[str, int, int, int, int, str, int]


def default_cache_dir() -> Path:
    explicit = os.environ.get("KMODLINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kmodlint"


# ---------------------------------------------------------------------------------------
# Where kmodlint writes what it derives (the materialised stub environment, configuration
# headers for cpp): the cache folder the user chose, else (--no-cache, or a folder that
# cannot be written) a temporary folder of this run, removed at exit. Set in the main
# process by the pool before any work and handed to each worker by its initializer.

_WORK_DIR: str | None = None
_TEMP_DIRS: list[str] = []


def set_work_dir(path: str | None) -> None:
    global _WORK_DIR
    _WORK_DIR = path


def work_dir() -> str:
    """The folder for derived files; when no run chose one (a library call), the default
    cache folder (as the environment names it now) if it can be written, else a
    temporary one."""
    if _WORK_DIR is not None:
        return _WORK_DIR
    default = default_cache_dir()
    if default not in _DEFAULT_WORK:
        _DEFAULT_WORK[default] = choose_work_dir(default)
    return _DEFAULT_WORK[default]


def current_work_dir() -> str | None:
    """The folder a run set, if any (to restore it after a nested run)."""
    return _WORK_DIR


_DEFAULT_WORK: dict[Path, str] = {}


def choose_work_dir(cache_dir: Path | None) -> str:
    """`cache_dir` (created 0700) when it can be written; otherwise a temporary folder,
    said once on stderr: the AST path then costs a materialised stub environment per
    run, and the user should know why a run is slower than it could be."""
    if cache_dir is not None:
        try:
            private_dir(cache_dir)
            if os.access(cache_dir, os.W_OK | os.X_OK):
                return str(cache_dir)
            reason = "not writable"
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.filename and os.path.abspath(exc.filename) != os.path.abspath(cache_dir):
                reason = f"{exc.filename}: {reason}"
        print(
            f"kmodlint: cache folder {cache_dir}: {reason}; this run works in a temporary "
            "folder instead (give --cache-dir or KMODLINT_CACHE_DIR a writable one)",
            file=sys.stderr,
        )
    if not _TEMP_DIRS:
        _TEMP_DIRS.append(tempfile.mkdtemp(prefix="kmodlint-"))  # 0700
        atexit.register(shutil.rmtree, _TEMP_DIRS[0], True)
    return _TEMP_DIRS[0]


def max_cache_bytes() -> int:
    """KMODLINT_CACHE_SIZE: bytes, or with a K/M/G suffix (powers of 1024)."""
    text = os.environ.get("KMODLINT_CACHE_SIZE", "").strip().upper().removesuffix("B")
    match = re.fullmatch(r"(\d+)([KMG]?)", text)
    if not match:
        return DEFAULT_MAX_BYTES
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)]
    return int(match.group(1)) * scale


@functools.cache
def package_fingerprint() -> str:
    """kmodlint's own files (.py and the stub environment data), by name, size and mtime:
    an edited or reinstalled kmodlint gets new keys. Computed once per process."""
    root = os.path.dirname(os.path.abspath(kmodlint.__file__))
    parts: list[str] = [__version__]
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            parts.append(f"{os.path.relpath(path, root)}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def files_stamp(paths: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """(size, mtime_ns) of a few settings files (a generated stub environment), for a salt."""
    stamp = []
    for path in paths:
        try:
            stat = os.stat(path)
            stamp.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            stamp.append((-1, 0))
    return tuple(stamp)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------
# Recording what a computation reads. A worker runs one job at a time, so a module-level
# table is enough; it is None (recording off) outside `recorded()`.

_RECORDING: dict[str, Dep] | None = None


def recording() -> bool:
    return _RECORDING is not None


def discard_recording() -> None:
    """The result being computed must not be cached (an exception stopped it: a
    MemoryError, a bug of kmodlint's, says nothing lasting about the files): with no
    file recorded the pool does not store it, and the next run tries again."""
    if _RECORDING is not None:
        _RECORDING.clear()


def note(dep: Dep) -> None:
    """`dep` was read by the computation being recorded (the first reading counts)."""
    if _RECORDING is not None:
        _RECORDING.setdefault(dep[0], dep)


def note_absent(path: str) -> None:
    """The result depends on `path` not being a file (an include looked for there first)."""
    if _RECORDING is not None:
        full = os.path.abspath(path)
        _RECORDING.setdefault(full, (full, -1, 0, 0, 0, "", 0))


def note_file(path: str) -> None:
    """A file another program read (cpp): recorded from the disk now."""
    if _RECORDING is None:
        return
    full = os.path.abspath(path)
    if full in _RECORDING:
        return
    try:
        read_recorded(full)
    except OSError:
        note_absent(full)


def read_recorded(
    path: str, always_hash: bool = True, limit: int = SOURCE_LIMIT
) -> tuple[bytes, Dep]:
    """The bytes of `path` and their record (the stat of the open file, taken before
    reading, and the hash of exactly the bytes read); noted when recording. Without
    `always_hash` the hash is taken only when it could be asked for: when recording and
    the file changed too recently for its stat to be trusted (`still_current`); a tree of
    old .ko files is not hashed. Only a regular file of at most `limit` bytes is read
    (safe_io): a FIFO, a device or a huge file is an OSError saying so."""
    now = time.time_ns()
    try:
        data, stat = read_regular_stat(path, limit)
    except OSError:
        # An unreadable file gives a result too (a problem to report): it must not outlive
        # the file becoming readable, so its existence invalidates it.
        note_absent(path)
        raise
    dep: Dep = (
        os.path.abspath(path),
        len(data),
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        stat.st_ino,
        _digest(data)
        if always_hash
        or (_RECORDING is not None and now - max(stat.st_mtime_ns, stat.st_ctime_ns) <= _RACY_NS)
        else "",
        now,
    )
    note(dep)
    return data, dep


def still_current(dep: Dep) -> bool:
    """Whether `dep` certainly still describes its file, from a stat alone (no reading):
    False when it changed or when its timestamps cannot tell (changed near recording)."""
    path, size, mtime, ctime, ino, _, recorded_at = dep
    try:
        stat = os.stat(path)
    except OSError:
        return size == -1
    if size == -1:
        return False
    return (
        stat.st_size == size
        and stat.st_mtime_ns == mtime
        and stat.st_ctime_ns == ctime
        and stat.st_ino == ino
        and recorded_at - max(mtime, ctime) > _RACY_NS
    )


def _unchanged(dep: Dep) -> bool:
    """Whether the file still has the contents `dep` recorded: a stat when the timestamps
    can be trusted, else its hash."""
    path, size = dep[0], dep[1]
    if size == -1:
        return not os.path.isfile(path)
    if still_current(dep):
        return True
    try:
        # at most the recorded size: a file grown or turned into a FIFO is a miss, not a hang
        return _digest(read_regular(path, size)) == dep[5]
    except OSError:
        return False


def recorded(function: Callable[[object], object], item: object) -> tuple[object, list[Dep]]:
    """`function(item)` and the files it read. Top level, so a pool can run it."""
    global _RECORDING
    _RECORDING = {}
    try:
        result = function(item)
        return result, list(_RECORDING.values())
    finally:
        _RECORDING = None


# ---------------------------------------------------------------------------------------


def private_dir(path: str | os.PathLike[str]) -> None:
    """`mkdir -p` with every folder it creates 0700, whatever the umask (Path.mkdir and
    os.makedirs give the parents the umask's mode: 0777 under umask 000)."""
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", folder) from None
        else:
            os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask too


def read_own_file(path: str, forbidden_mode: int, limit: int) -> bytes | None:
    """The bytes of `path` when it is a regular file of this user's, no mode bit of
    `forbidden_mode` is set (0o077: nobody else may read or write it; 0o022: nobody else
    may write it) and it holds at most `limit` bytes; None otherwise. Not a symlink, and
    a FIFO never blocks. (The cache key and the binary index are read through it.)"""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat_module.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & forbidden_mode
            or info.st_size > limit
        ):
            return None
        chunks = []
        total = 0
        while chunk := os.read(fd, min(limit + 1, 16 << 20)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew since the fstat
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_key(path: str) -> bytes | None:
    """The key, when it is a regular file of this user's that nobody else can read or
    write (else someone else may know it)."""
    key = read_own_file(path, 0o077, _KEY_BYTES)
    return key if key is not None and len(key) == _KEY_BYTES else None


def cache_key(root: Path) -> bytes | None:
    """This user's key in `root`, made on first use; None when there is none to trust
    (an unwritable folder without one, one owned by someone else): no entry is then
    read or written."""
    path = os.path.join(root, _KEY_NAME)
    key = _read_key(path)
    if key is not None:
        return key
    try:
        private_dir(root)
        # written whole under a temporary name (mkstemp: 0600, O_EXCL), then linked into
        # place: link() fails if a key exists, so two runs never use different keys and
        # no run ever reads half a key
        fd, temp = tempfile.mkstemp(dir=root, prefix=".tmp-key-")
        try:
            os.write(fd, secrets.token_bytes(_KEY_BYTES))
            os.fchmod(fd, 0o600)
            os.close(fd)
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    except OSError:
        return None
    return _read_key(path)


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    # the entry's name is covered too: a valid entry moved to another key is a miss
    return hmac.new(key, name.encode("ascii") + b"\0" + payload, hashlib.sha256).digest()


class Cache:
    def __init__(self, directory: Path, max_bytes: int | None = None) -> None:
        self.root = directory
        self.directory = directory / f"v{__version__}-{_SCHEMA}"
        self.max_bytes = max_cache_bytes() if max_bytes is None else max_bytes
        self.fingerprint = package_fingerprint()
        # Per run: a file shared by many results (a driver's header) is checked once.
        self._verdicts: dict[tuple[str, int, int, int, int, str], bool] = {}
        self._stored_bytes = 0
        self._checked_size = False
        self._key: bytes | None = None
        self._key_read = False

    @property
    def secret(self) -> bytes | None:
        """The MAC key, read (or made) once per run."""
        if not self._key_read:
            self._key_read = True
            self._key = cache_key(self.root)
        return self._key

    def key(self, path: str, salt: str = "") -> str | None:
        """`salt` names the settings the result depends on (configuration, -D, -I)."""
        if not os.path.exists(path):
            return None
        # The path as given is part of the key too: cached models carry locations spelled
        # as in the run that filled the cache, and findings (suppressions, baselines) must
        # name the file the way this run does. Contents are not: they are checked on load.
        ident = f"{self.fingerprint}\0{os.path.abspath(path)}\0{path}\0{salt}"
        return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def load(self, key: str) -> object | None:
        raw = self._verified(key)
        if raw is None:
            return None
        try:
            found: object = pickle.loads(raw)
        except Exception:  # a damaged value under a good MAC cannot happen; a miss anyway
            return None
        return found

    def holds(self, key: str) -> bool:
        """Whether `load(key)` would find a current entry, without unpickling its value:
        a run asks this of every item first and loads each value only when its turn
        comes, so a tree's results are never all in memory at once."""
        return self._verified(key) is not None

    def _verified(self, key: str) -> bytes | None:
        """The pickled value of the entry `key`, when it is signed with this user's key
        and every file it was computed from is unchanged."""
        secret = self.secret
        if secret is None:
            return None
        try:
            data, info = read_regular_stat(str(self._file(key)), _ENTRY_LIMIT)
        except OSError:
            return None
        mac, payload = data[:_MAC_BYTES], data[_MAC_BYTES:]
        if not hmac.compare_digest(mac, _mac(secret, key, payload)):
            return None  # not written with this user's key: never unpickled
        try:
            deps, value = pickle.loads(payload)
        except Exception:  # an entry of an older layout: a miss, never an error
            return None
        if not isinstance(value, bytes):
            return None  # the layout before values were pickled on their own
        last_use = info.st_mtime_ns
        for dep in deps:
            verdict = self._verdicts.get(dep[:6])
            if verdict is None:
                verdict = self._verdicts[dep[:6]] = _unchanged(dep)
            if not verdict:
                return None
        if time.time_ns() - last_use > _TOUCH_NS:
            # Eviction removes the least recently used first; mtime says when that was.
            with contextlib.suppress(OSError):
                os.utime(self._file(key))
        return value

    def store(self, key: str, value: object, deps: list[Dep]) -> None:
        secret = self.secret
        if secret is None:
            return  # no key to sign with: an unsigned entry would only ever be a miss
        target = self._file(key)
        # the value pickled on its own: `holds` checks an entry without unpickling it
        value_bytes = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        payload = pickle.dumps((deps, value_bytes), protocol=pickle.HIGHEST_PROTOCOL)
        temp = None
        try:
            private_dir(target.parent)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(_mac(secret, key, payload))
                handle.write(payload)
                self._stored_bytes += handle.tell()
            os.replace(temp, target)
            temp = None
        except OSError:
            # A read-only or full cache directory must never fail the run.
            pass
        finally:
            if temp is not None:  # never leave a .tmp-* behind (a full disk)
                with contextlib.suppress(OSError):
                    os.unlink(temp)

    def maybe_evict(self) -> None:
        """Keep the folder under its bound; called after a run stored its results. The walk
        costs a stat per entry, so it runs once per run, and only every few minutes across
        runs unless this run wrote an eighth of the bound."""
        if self._checked_size or not self._stored_bytes:
            return
        self._checked_size = True
        stamp = self.root / ".evict-stamp"
        try:
            recent = time.time() - stamp.stat().st_mtime < _EVICT_INTERVAL_S
        except OSError:
            recent = False
        if recent and self._stored_bytes < self.max_bytes // 8:
            return
        try:
            stamp.touch()
            tag = self.root / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(_CACHEDIR_TAG, encoding="ascii")
        except OSError:
            pass
        evict(self.root, self.max_bytes)


def _entries(root: Path) -> list[tuple[int, int, str]]:
    """(last use ns, size, path) of every cached result, of every kmodlint version."""
    out: list[tuple[int, int, str]] = []
    try:
        versions = [
            e.path for e in os.scandir(root) if e.is_dir() and _VERSION_DIR.fullmatch(e.name)
        ]
    except OSError:
        return out
    for version in versions:
        for folder, _, files in os.walk(version):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                out.append((max(stat.st_mtime_ns, stat.st_atime_ns), stat.st_size, path))
    return out


def evict(root: Path, max_bytes: int) -> tuple[int, int]:
    """Remove the least recently used entries until the cached results take at most
    `max_bytes` (down to 3/4 of it, so the next runs do not evict again at once).
    Returns (entries removed, bytes freed)."""
    entries = _entries(root)
    total = sum(size for _, size, _ in entries)
    if total <= max_bytes:
        return 0, 0
    target = max_bytes * 3 // 4
    removed = freed = 0
    for _, size, path in sorted(entries):
        if total - freed <= target:
            break
        try:
            os.unlink(path)
        except OSError:
            continue
        removed += 1
        freed += size
    return removed, freed


def clean(root: Path) -> list[tuple[str, int]]:
    """`kmodlint cache clean`: delete what kmodlint keeps in `root` (results of every
    version, materialised stub environments, configuration headers). Returns each removed
    top-level name with the bytes it held."""
    removed: list[tuple[str, int]] = []
    try:
        children = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return removed
    for entry in children:
        if not _OWN_NAMES.fullmatch(entry.name):
            continue
        size = _size_of(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
        removed.append((entry.name, size))
    return removed


def _size_of(path: str) -> int:
    if not os.path.isdir(path) or os.path.islink(path):
        try:
            return os.lstat(path).st_size
        except OSError:
            return 0
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total
