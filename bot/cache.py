"""The verdict cache: what was judged once is looked up, never judged again.

Two kinds of entry, in one sqlite file (under the user's cache directory, or a path the caller
gives, e.g. beside the list bot's state):

  scenario  one scenario's exploration (the checker's result and what it observed), keyed by what
            decides it: the compiled code of every function the scenario can reach from its own
            code (plus the program's constants, types and defines), the scenario, the model, the
            budgets, and the environment below. The code under review is keyed as compiled, with
            the source lines it maps to, so a repost or an unchanged patch in a later revision costs
            a lookup, and so does every scenario a patch does not reach.
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
import re
import sqlite3
import sys
import time
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.safepickle import DataUnpickler

log = logging.getLogger(__name__)

SCHEMA = 1
MAX_BLOB = 64 << 20  # a larger entry is never written, nor read back
MAX_DB_BYTES = 1 << 30  # past this the least recently used half is dropped on open
STALE_SECONDS = 86_400  # entries of another environment older than this are dropped on open
# Options fields that decide how a review is computed, not what it says.
NOT_VERDICT_OPTIONS = frozenset({"jobs", "cache", "cache_path"})


# ---- where, and under which environment ------------------------------------------------------

def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "review-bot" / "verdicts.sqlite"


@lru_cache(maxsize=1)
def environment() -> str:
    """Hash of everything besides the input that can change a verdict."""
    from bot import __version__
    from bot.paths import models_dir, rules_dir

    h = hashlib.sha256(f"schema {SCHEMA}\0version {__version__}\0python {sys.version}\0".encode())
    pkg = Path(__file__).resolve().parent
    for root, suffix in ((pkg, ".py"), (rules_dir(), ""), (models_dir(), "")):
        for rel, path in _files(root, suffix):
            h.update(f"{rel}\0".encode())
            with open(path, "rb") as f:
                h.update(f.read())
    for mod in ("tree_sitter", "tree_sitter_c"):  # the C parser decides what the code compiles to
        spec = importlib.util.find_spec(mod)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            for rel, path in _files(Path(loc), ""):
                st = os.stat(path)
                h.update(f"{mod}/{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _files(root: Path, suffix: str) -> list[tuple[str, str]]:
    """(relative path, path) of every file under root whose name ends with suffix, sorted."""
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for n in names:
            if n.endswith(suffix):
                path = os.path.join(d, n)
                out.append((os.path.relpath(path, root), path))
    return sorted(out)


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

def _load(blob: bytes) -> Any:
    if len(blob) > MAX_BLOB:
        raise pickle.UnpicklingError("entry too large")
    return DataUnpickler(io.BytesIO(blob)).load()


# ---- the store ---------------------------------------------------------------------------------

class VerdictCache:
    """One sqlite file; one connection per process (a pool worker opens its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = environment()
        self.hits = 0
        self.misses = 0
        self.db: sqlite3.Connection | None = None
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
            db.execute(f"PRAGMA user_version={SCHEMA}")
        db.execute("SELECT count(*) FROM entry WHERE key = ''").fetchone()  # a corrupt file fails here
        self._prune(db)
        return db

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM entry WHERE env != ? AND used < ?", (self.env, time.time() - STALE_SECONDS))
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
        if pages * size > MAX_DB_BYTES:
            db.execute("DELETE FROM entry WHERE key IN (SELECT key FROM entry ORDER BY used LIMIT "
                       "(SELECT count(*) / 2 FROM entry))")
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

    def get_many(self, kind: str, keys: list[str]) -> list[Any | None]:
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
                out[i] = _load(blob)
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


_OPEN: dict[tuple[int, str], VerdictCache] = {}


def for_options(options: Any) -> VerdictCache | None:
    """The cache the options ask for (None with --no-cache), one connection per process."""
    if not getattr(options, "cache", True):
        return None
    path = Path(getattr(options, "cache_path", "") or default_path())
    key = (os.getpid(), str(path))
    if key not in _OPEN:
        _OPEN[key] = VerdictCache(path)
    return _OPEN[key]


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


# ---- scenarios ------------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_]\w*")


class Replayed:
    """What a cached exploration gives back in place of the machine: its observations, and the
    machine itself (set up, never explored) built on first use, for a replay of a counterexample."""

    _OWN = frozenset({"obs", "_build", "_machine"})

    def __init__(self, obs: Any, build: Any) -> None:
        self.obs = obs
        self._build = build
        self._machine: Any = None

    def _real(self) -> Any:
        if self._machine is None:
            self._machine = self._build()
        return self._machine

    def __getattr__(self, name: str) -> Any:  # anything but obs is the machine's
        if name in Replayed._OWN:
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in Replayed._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self._real(), name, value)


def run_scenario(spec: Any, bound: Any, sc: Any, budget_states: int, budget_seconds: float,
                 cache: VerdictCache | None) -> tuple[Any, Any]:
    """models.run_scenario, looked up first. A run stopped by its time budget is not stored: what
    it found depends on the machine's speed."""
    from bot.cmodel.models import run_scenario as explore

    if cache is None:
        return explore(spec, bound, sc, budget_states, budget_seconds)
    key = scenario_key(spec, bound, sc, budget_states, budget_seconds)
    hit = cache.get("scenario", key)
    if hit is not None:
        res, obs = hit
        log.debug("%s/%s: the same code was explored before: its result is reused", spec.name, sc.name)
        return res, Replayed(obs, lambda: _fresh_machine(spec, bound, sc))
    res, m = explore(spec, bound, sc, budget_states, budget_seconds)
    stopped_by_time = res.verdict == "inconclusive" and res.states <= budget_states
    if not stopped_by_time:
        cache.put("scenario", key, (res, m.obs))
    return res, m


def _fresh_machine(spec: Any, bound: Any, sc: Any) -> Any:
    """The machine models.run_scenario explores, set up and not run (with the scenario's parameters)."""
    from bot.cmodel.models import scenario_machine

    return scenario_machine(spec, bound, sc)


def scenario_key(spec: Any, bound: Any, sc: Any, budget_states: int, budget_seconds: float) -> str:
    prog = bound.program
    facts = _facts(prog)
    reach = reached(spec, prog, sc)
    h = hashlib.sha256()
    # Every function's name counts: a function pointer's value is its place among them.
    for part in (spec.name, _text_of(sc), f"{budget_states}\0{budget_seconds!r}", facts.data, facts.names_text):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for n in sorted(reach):
        h.update(f"{n}\0{facts.fingerprint(n)}\0".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def reached(spec: Any, prog: Any, sc: Any) -> set[str]:
    """The functions of prog a scenario can run: those its code, the rules, the model's files or
    the program's defines name, and every function those name, as a call or as a pointer."""
    facts = _facts(prog)
    names = facts.names
    roots = {n for n in _identifiers(" ".join([sc.setup] + [t[2] for t in sc.threads])) if n in names}
    roots |= {n for n in sc.needs if n in names} | (_named_outside_code(spec.directory) & names)
    return facts.reachable(roots | facts.define_roots)


class _Facts:
    """What every scenario's key reads of one program, worked out once for it: its data besides
    the functions, its functions' names, what its defines name, and per function (when first
    asked) the functions its code names and its fingerprint."""

    def __init__(self, prog: Any) -> None:
        self.prog = prog
        self.shape = _shape(prog)
        self.names = frozenset(prog.functions)
        self.names_text = "\0".join(sorted(self.names))
        self.data = repr(_canonical([(f.name, getattr(prog, f.name)) for f in fields(prog)
                                     if f.name not in ("functions", "origin")]))
        self.define_roots = {n for text in prog.defines.values() for n in _identifiers(str(text)) if n in self.names}
        self._edges: dict[str, frozenset[str]] = {}
        self._fps: dict[str, str] = {}

    def reachable(self, roots: set[str]) -> set[str]:
        """Every function a name in the code can lead to, as a call or as a function pointer."""
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            edges = self._edges.get(n)
            if edges is None:
                edges = self._edges[n] = _strings_of(self.prog.functions[n]) & self.names
            todo += [m for m in edges if m not in seen]
        return seen

    def fingerprint(self, name: str) -> str:
        """A hash of the function's compiled code and of the source lines that code maps to (a trace
        quotes them)."""
        fp = self._fps.get(name)
        if fp is None:
            fn = self.prog.functions[name]
            origin = self.prog.origin.get(name) or []
            lines = [_line_of(ins) for ins in fn.code]
            if all(isinstance(n, int) for n in lines):  # else keep every line: a trace may quote any
                lines.append(getattr(fn, "line", 1))
                lo, hi = max(1, min(lines)), max(lines)
                origin = origin[lo - 1:hi]
            quoted = pickle.dumps(list(map(_all_fields(type(origin[0])), origin)) if origin else [], protocol=5)
            fp = self._fps[name] = hashlib.sha256(_code_hash(fn).encode() + b"\0" + quoted).hexdigest()
        return fp


_PLAIN = frozenset({int, str, float, bool, bytes, type(None)})  # what _canonical() gives back as it is


def _canonical(x: Any) -> Any:
    """x with every set in sorted order, so that its repr is the same in every process (a set's
    order follows the strings' hashes, which each process seeds differently)."""
    if isinstance(x, (set, frozenset)):
        return ("set", sorted((_canonical(y) for y in x), key=repr))
    if isinstance(x, dict):
        if set(map(type, x)) <= _PLAIN and set(map(type, x.values())) <= _PLAIN:  # a table of constants
            return ("dict", list(x.items()))
        return ("dict", [(_canonical(k), _canonical(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        if len(x) > 8 and set(map(type, x)) <= _PLAIN:
            return (type(x).__name__, list(x))
        return (type(x).__name__, [_canonical(y) for y in x])
    if is_dataclass(x) and not isinstance(x, type):
        return (type(x).__qualname__, [(f.name, _canonical(getattr(x, f.name))) for f in fields(x)])
    return x


def _shape(prog: Any) -> tuple:
    """What can grow on a program after it is built (a scenario's machine adds its own code)."""
    return (len(prog.defines), len(prog.static_locks), len(prog.notes))


_FACTS: dict[int, _Facts] = {}
MEMO_PROGRAMS = 64


def _facts(prog: Any) -> _Facts:
    hit = _FACTS.get(id(prog))
    if hit is not None and hit.prog is prog and hit.shape == _shape(prog):
        return hit
    if len(_FACTS) >= MEMO_PROGRAMS:
        _FACTS.clear()
    out = _FACTS[id(prog)] = _Facts(prog)
    return out


def _fingerprints(prog: Any) -> tuple[dict[str, str], frozenset[str]]:
    """Per function of prog its fingerprint (as in its scenarios' keys), and the functions' names."""
    facts = _facts(prog)
    return {n: facts.fingerprint(n) for n in facts.names}, facts.names


_CODE: dict[int, tuple[Any, str]] = {}  # id(compiled function) → (it, a hash of its repr)


def _code_hash(fn: Any) -> str:
    """A hash of a compiled function's code, once per function (the reference's functions are the
    same objects in every program built from it)."""
    hit = _CODE.get(id(fn))
    if hit is not None and hit[0] is fn:
        return hit[1]
    out = hashlib.sha256(repr(fn).encode("utf-8", "surrogatepass")).hexdigest()
    if len(getattr(fn, "code", ())) <= MEMO_CODE:
        if len(_CODE) >= MEMO_FUNCTIONS:
            _CODE.clear()
        _CODE[id(fn)] = (fn, out)
    return out


_SCENARIOS: dict[int, tuple[Any, str]] = {}  # id(scenario) → (it, its repr)


def _text_of(sc: Any) -> str:
    """A scenario's repr, once per scenario (the models' scenarios are loaded once per process)."""
    hit = _SCENARIOS.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    if len(_SCENARIOS) >= MEMO_FUNCTIONS:
        _SCENARIOS.clear()
    _SCENARIOS[id(sc)] = (sc, repr(sc))
    return _SCENARIOS[id(sc)][1]


@lru_cache(maxsize=1024)
def _identifiers(text: str) -> tuple[str, ...]:
    return tuple(_IDENT.findall(text))


def _line_of(ins: Any) -> int | None:
    """The source line of an instruction (the last field of the tuple, or its `line`)."""
    line = ins[-1] if isinstance(ins, tuple) and ins else getattr(ins, "line", None)
    return line if isinstance(line, int) else None


def _strings(x: Any, out: set[str]) -> None:
    if isinstance(x, str):
        out.add(x)
    elif isinstance(x, (tuple, list, set, frozenset)):
        for y in x:
            _strings(y, out)
    elif isinstance(x, dict):
        for k, v in x.items():
            _strings(k, out)
            _strings(v, out)
    elif is_dataclass(x) and not isinstance(x, type):
        for f in fields(x):
            _strings(getattr(x, f.name), out)


_STRS: dict[int, tuple[Any, frozenset[str]]] = {}  # id(compiled function) → (it, its strings)
MEMO_FUNCTIONS = 2048
MEMO_CODE = 512  # instructions: a larger function is walked each time, the memo stays small


def _strings_of(fn: Any) -> frozenset[str]:
    """Every string in a compiled function, once per function: each scenario of a program walks
    the same functions."""
    hit = _STRS.get(id(fn))
    if hit is not None and hit[0] is fn:
        return hit[1]
    found: set[str] = set()
    _strings(fn, found)
    out = frozenset(found)
    if len(getattr(fn, "code", ())) <= MEMO_CODE:
        if len(_STRS) >= MEMO_FUNCTIONS:
            _STRS.clear()
        _STRS[id(fn)] = (fn, out)
    return out


@lru_cache(maxsize=8)
def _named_outside_code(model_dir: Path) -> frozenset[str]:
    """Every identifier of what the interpreter reads besides the code (the primitives, which may
    run a function they name as a callback; the layouts; the model's model.toml) and of the
    interpreter's source. Other rules (call sites, costs, hazard texts) start no function."""
    from bot.paths import models_dir, rules_dir

    pkg = Path(__file__).resolve().parent
    files = [rules_dir() / "primitives.toml", *(models_dir() / "common").glob("*.toml"), Path(model_dir) / "model.toml"]
    files += [f for d in ("cmodel", "sim") for f in (pkg / d).glob("*.py")]
    found: set[str] = set()
    for f in files:
        if f.is_file():
            found.update(_IDENT.findall(f.read_text("utf-8", "replace")))
    return frozenset(found)
