"""The verdict cache: what was judged once is looked up, never judged again.

Two kinds of entry, in one sqlite file (under the user's cache directory, or a path the caller
gives, e.g. beside the list bot's state):

  scenario  one scenario's exploration (the checker's result and what it observed), looked up by
            what it depends on besides the functions it runs, then matched on the code of the
            functions it entered (bot.scenario_cache): a repost, an unchanged patch in a later
            revision, or a patch changing only functions the scenario never enters costs a lookup.
  review    one posting's whole review, keyed by the posting, every posting of its context, the
            options, and the environment: a second run over the same input is a lookup.

The environment is a hash of the package version, the engine's own source (bot/), rules/ and
models/, and the C grammar: any change to one of them makes every older entry unreachable.

Entries are pickles read back through an unpickler that builds nothing but bot's own dataclasses
and plain data; a corrupt or foreign file is a miss (and is rebuilt), never an error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import operator
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Iterable
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot import envstamp
from bot.safepickle import DataUnpickler

log = logging.getLogger(__name__)

SCHEMA = 2
MAX_BLOB = 64 << 20  # a larger entry is never written, nor read back
MAX_DB_BYTES = 1 << 30  # past this the least recently used half is dropped on open
MAX_CONDS = 8192  # runs' conditions kept read in memory
STALE_SECONDS = 86_400  # entries of another environment older than this are dropped on open
# Options fields that decide how a review is computed, not what it says.
NOT_VERDICT_OPTIONS = frozenset({"jobs", "cache", "cache_path"})


# ---- where, and under which environment ------------------------------------------------------

def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "review-bot" / "verdicts.sqlite"


@lru_cache(maxsize=4)
def environment(stamp_dir: Path | None = None) -> str:
    """Hash of everything besides the input that can change a verdict. With stamp_dir (the cache's
    directory) the files' digests are kept there between processes (bot.envstamp): the same hash,
    without reading the ~240 files that did not change."""
    from bot import __version__
    from bot.paths import models_dir, rules_dir

    h = hashlib.sha256(f"schema {SCHEMA}\0version {__version__}\0python {sys.version}\0".encode())
    pkg = Path(__file__).resolve().parent
    names, paths = [], []
    for label, root, suffix in (("bot", pkg, ".py"), ("rules", rules_dir(), ""), ("models", models_dir(), "")):
        for rel, path in envstamp.files(root, suffix):
            names.append(f"{label}/{rel}")
            paths.append(path)
    for name, d in zip(names, envstamp.digests(paths, stamp_dir)):
        h.update(f"{name}\0".encode())
        h.update(d)
    for mod in ("tree_sitter", "tree_sitter_c"):  # the C parser decides what the code compiles to
        spec = importlib.util.find_spec(mod)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            for rel, path in envstamp.files(Path(loc), ""):
                st = os.stat(path)
                h.update(f"{mod}/{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def digest(obj: Any) -> str:
    """A content hash of plain data or bot dataclasses (equal pickles mean equal objects)."""
    return hashlib.sha256(pickle.dumps(obj, protocol=5)).hexdigest()


def posting_digest(p: Any) -> str:
    """digest(p) of a posting, computed faster: its hunk lines (most of a year's objects) go in as
    tuples of their fields, taken at C speed, instead of pickled objects. Every field of
    the posting, its file diffs, hunks and lines counts, as in digest(); an object of another type
    (a subclass) where one of these belongs makes it digest() itself."""
    try:
        data = _posting_data(p)
    except _OtherType:
        return digest(p)
    return hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()


class _OtherType(Exception):
    pass


def _posting_data(p: Any) -> tuple:
    from bot.patch import Posting

    if type(p) is not Posting:
        raise _OtherType
    v = list(_all_fields(Posting)(p))
    v[_names(Posting).index("files")] = _files_data(p.files)
    return tuple(v)


def files_digest(files: list[Any]) -> str:
    """A content hash of a posting's file diffs alone (every field of theirs counts, as in
    posting_digest()): postings with equal diffs build equal programs."""
    try:
        data = _files_data(files)
    except _OtherType:
        return digest(files)
    return hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()


def _files_data(files: list[Any]) -> list:
    from bot.patch import FileDiff, Hunk, HunkLine

    line_fields = _all_fields(HunkLine)
    hunk_fields, at_lines = _all_fields(Hunk), _names(Hunk).index("lines")
    file_fields, at_hunks = _all_fields(FileDiff), _names(FileDiff).index("hunks")
    # one type test per list: set(map(type, ...)) runs at C speed
    if not set(map(type, files)) <= {FileDiff}:
        raise _OtherType
    out = []
    for fd in files:
        if not set(map(type, fd.hunks)) <= {Hunk}:
            raise _OtherType
        hunks = []
        for h in fd.hunks:
            if not set(map(type, h.lines)) <= {HunkLine}:
                raise _OtherType
            v = list(hunk_fields(h))
            v[at_lines] = list(map(line_fields, h.lines))
            hunks.append(v)
        v = list(file_fields(fd))
        v[at_hunks] = hunks
        out.append(v)
    return out


@lru_cache(maxsize=8)
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@lru_cache(maxsize=8)
def _all_fields(cls: type) -> Any:
    """obj → the tuple of its fields' values (a class of at least two fields)."""
    return operator.attrgetter(*_names(cls))


def options_digest(options: Any) -> str:
    return digest([(f.name, getattr(options, f.name)) for f in fields(options) if f.name not in NOT_VERDICT_OPTIONS])


# ---- reading entries back safely -------------------------------------------------------------

def _load(blob: bytes, unpickler: type[DataUnpickler] = DataUnpickler) -> Any:
    if len(blob) > MAX_BLOB:
        raise pickle.UnpicklingError("entry too large")
    return unpickler(io.BytesIO(blob)).load()


# ---- the store ---------------------------------------------------------------------------------

class VerdictCache:
    """One sqlite file; one connection per process (a pool worker opens its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = environment(path.parent)
        self.hits = 0
        self.misses = 0
        self.db: sqlite3.Connection | None = None
        self._conds: dict[str, Any] = {}  # a run's conditions by their digest, read once
        try:
            self.db = self._open()
        except (sqlite3.Error, OSError) as e:
            log.info("verdict cache %s unreadable (%s): rebuilding it", path, e)
            self._rebuild()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA:
            db.execute("DROP TABLE IF EXISTS entry")
            db.execute("CREATE TABLE entry (key TEXT PRIMARY KEY, env TEXT NOT NULL, used REAL NOT NULL, "
                       "value BLOB NOT NULL)")
            db.execute("CREATE INDEX entry_env ON entry (env, used)")
            db.execute("DROP TABLE IF EXISTS run")
            # runs of one scenario under one key (bot.scenario_cache): each its own row, so that
            # processes storing side by side never overwrite each other's
            db.execute("CREATE TABLE run (key TEXT NOT NULL, sub TEXT NOT NULL, env TEXT NOT NULL, "
                       "used REAL NOT NULL, conds BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, sub))")
            db.execute("CREATE INDEX run_env ON run (env, used)")
            db.execute(f"PRAGMA user_version={SCHEMA}")
        db.execute("SELECT count(*) FROM entry WHERE key = ''").fetchone()  # a corrupt file fails here
        self._prune(db)
        return db

    def _prune(self, db: sqlite3.Connection) -> None:
        for table in ("entry", "run"):
            db.execute(f"DELETE FROM {table} WHERE env != ? AND used < ?", (self.env, time.time() - STALE_SECONDS))
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
        if pages * size > MAX_DB_BYTES:
            db.execute("DELETE FROM entry WHERE key IN (SELECT key FROM entry ORDER BY used LIMIT "
                       "(SELECT count(*) / 2 FROM entry))")
            db.execute("DELETE FROM run WHERE rowid IN (SELECT rowid FROM run ORDER BY used LIMIT "
                       "(SELECT count(*) / 2 FROM run))")
            db.execute("VACUUM")

    def _rebuild(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except OSError:
                pass
        try:
            self.db = self._open()
        except (sqlite3.Error, OSError) as e:
            log.warning("verdict cache %s unusable (%s): judging without it", self.path, e)
            self.db = None

    def _key(self, kind: str, key: str) -> str:
        return hashlib.sha256(f"{kind}\0{self.env}\0{key}".encode()).hexdigest()

    def get(self, kind: str, key: str) -> Any | None:
        return self.get_many(kind, [key])[0]

    def get_many(self, kind: str, keys: list[str],
                 unpickler: type[DataUnpickler] = DataUnpickler) -> list[Any | None]:
        """The entries under keys (None: absent or unreadable); unpickler: what may be built besides
        bot's dataclasses (a DataUnpickler with more in ALSO)."""
        out: list[Any | None] = [None] * len(keys)
        if self.db is None or not keys:
            return out
        full = [self._key(kind, k) for k in keys]
        found: dict[str, bytes] = {}
        try:
            for i in range(0, len(full), 500):
                part = full[i:i + 500]
                q = f"SELECT key, value FROM entry WHERE key IN ({','.join('?' * len(part))})"
                found.update(self.db.execute(q, part).fetchall())
        except sqlite3.Error as e:
            log.info("verdict cache read failed (%s): rebuilding it", e)
            self._rebuild()
            return out
        used = []
        for i, fk in enumerate(full):
            blob = found.get(fk)
            if blob is None:
                continue
            try:
                out[i] = _load(blob, unpickler)
                used.append(fk)
            except Exception as e:  # noqa: BLE001 - any unreadable entry is a miss, and is overwritten
                log.info("verdict cache entry unreadable (%s): judging again", e)
        self.hits += len(used)
        self.misses += len(keys) - len(used)
        return out

    def put(self, kind: str, key: str, value: Any) -> None:
        self.put_many(kind, [(key, value)])

    def put_many(self, kind: str, items: Iterable[tuple[str, Any]]) -> None:
        if self.db is None:
            return
        now = time.time()
        rows = []
        for key, value in items:
            blob = pickle.dumps(value, protocol=5)
            if len(blob) <= MAX_BLOB:
                rows.append((self._key(kind, key), self.env, now, blob))
        if not rows:
            return
        try:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO entry (key, env, used, value) VALUES (?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            log.info("verdict cache write failed (%s): not cached", e)
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass


    # ---- runs: several under one key, each valid under its own conditions ------------------------
    def runs(self, kind: str, key: str) -> list[tuple[str, Any]]:
        """(id, conditions) of every run stored under key, the most recent first."""
        if self.db is None:
            return []
        try:
            rows = self.db.execute("SELECT sub, conds FROM run WHERE key = ? ORDER BY used DESC",
                                   (self._key(kind, key),)).fetchall()
        except sqlite3.Error as e:
            log.info("verdict cache read failed (%s): rebuilding it", e)
            self._rebuild()
            return []
        out = []
        for sub, blob in rows:
            conds = self._conds.get(sub)
            if conds is None:
                if len(self._conds) >= MAX_CONDS:
                    self._conds.clear()
                conds = self._conds[sub] = self._read(blob)
            if conds is not None:
                out.append((sub, conds))
        return out

    def run_value(self, kind: str, key: str, sub: str) -> Any | None:
        """The value of one run runs() listed (None: gone meanwhile, or unreadable)."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM run WHERE key = ? AND sub = ?",
                                  (self._key(kind, key), sub)).fetchone()
        except sqlite3.Error as e:
            log.info("verdict cache read failed (%s): rebuilding it", e)
            self._rebuild()
            return None
        value = self._read(row[0]) if row else None
        self.hits += value is not None
        return value

    def put_run(self, kind: str, key: str, conds: Any, value: Any) -> None:
        if self.db is None:
            return
        blobs = pickle.dumps(conds, protocol=5), pickle.dumps(value, protocol=5)
        if max(map(len, blobs)) > MAX_BLOB:
            return
        sub = hashlib.sha256(blobs[0]).hexdigest()
        try:
            self.db.execute("INSERT OR REPLACE INTO run (key, sub, env, used, conds, value) VALUES (?, ?, ?, ?, ?, ?)",
                            (self._key(kind, key), sub, self.env, time.time(), *blobs))
        except sqlite3.Error as e:
            log.info("verdict cache write failed (%s): not cached", e)

    def _read(self, blob: bytes) -> Any | None:
        try:
            return _load(blob)
        except Exception as e:  # noqa: BLE001 - any unreadable entry is a miss, and is overwritten
            log.info("verdict cache entry unreadable (%s): judging again", e)
            return None


_OPEN: dict[tuple[int, str], VerdictCache] = {}
_CURRENT: dict[int, VerdictCache | None] = {}  # pid → what its latest for_options() returned


def for_options(options: Any) -> VerdictCache | None:
    """The cache the options ask for (None with --no-cache), one connection per process."""
    pid = os.getpid()
    if not getattr(options, "cache", True):
        _CURRENT[pid] = None
        return None
    path = Path(getattr(options, "cache_path", "") or default_path())
    key = (pid, str(path))
    if key not in _OPEN:
        _OPEN[key] = VerdictCache(path)
    _CURRENT[pid] = _OPEN[key]
    return _OPEN[key]


def current() -> VerdictCache | None:
    """The cache this process's latest for_options() returned (None: none, or --no-cache): where
    what the judging computes by content alone (parsed C) is kept too. A forked worker has none
    until it asks for one itself (a connection is never used across a fork)."""
    return _CURRENT.get(os.getpid())


# ---- reviews ------------------------------------------------------------------------------------

def review_keys(postings: list[Any], context: list[Any], options: Any,
                digests: dict[int, str] | None = None) -> list[str | None]:
    """One key per posting (None: not cacheable). A review may read any posting of its context, so
    the key holds all of them. With a kernel tree the tree is input too: such reviews are judged
    again (their scenarios still hit the scenario cache, which is keyed by the tree's code)."""
    if getattr(options, "tree", None):
        return [None] * len(postings)
    digests = digests if digests is not None else {}
    for p in list(postings) + list(context):
        if id(p) not in digests:
            digests[id(p)] = posting_digest(p)
    ctx = hashlib.sha256("\0".join(digests[id(q)] for q in context).encode()).hexdigest()
    opts = options_digest(options)
    return [f"{opts}\0{ctx}\0{digests[id(p)]}" for p in postings]


def detach(review: Any) -> Any:
    """The review without its posting (the posting is the caller's, and is input, not verdict)."""
    import copy

    out = copy.copy(review)
    out.posting = None
    return out
