"""Scenario explorations looked up by the code they actually ran, in two levels.

Level 1 (the lookup key) is what a scenario's exploration reads besides function bodies: the model
(an architecture's instance's runs go under its model's name: models.explored_as), the scenario's text (its code, parameters, live tables, fault scope), the budgets, and the
program's data (defines, constants, types, globals, static locks, parameters, notes, layout).
Under one such key lie the runs made so far, each with the conditions its result holds under
(level 2): the fingerprint of every function it entered (while setting up, too), the names its
code could look up among the program's functions, each found present or absent, and, when it
could have made a function pointer, every function's name.

Why a match gives the result a fresh exploration would (the machine, bot/cmodel/machine.py and
models.make_machine, is deterministic in what it reads):
- a function's body is read only once the function is entered (its frame is on a stack); its
  fingerprint holds its compiled code and the source lines a trace may quote;
- every other question about the program's functions is whether a name is one: a call's or a
  value's name in code being run (call or primitive, shared access, choice point, lock, function
  pointer), a name in primitives.toml (a rule's init or release hook), a primitive's synthetic
  `$call:` wrapper (made when its name is not a function). All those names are strings of the
  entered code, of the define texts it may evaluate, or of what the interpreter reads besides the
  code (_named_outside_code): each keeps its answer;
- a function pointer's value is its place among all functions' names (and primitives'), so a run
  whose code may evaluate a function's or a primitive's name as a value matches only the same
  names; a run that cannot make one never reads that order (no other value falls in its range);
- everything else it reads is level 1, or the environment every cache key holds.
So two programs agreeing on all of these run every step alike: the same states, the same traces.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from dataclasses import dataclass, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.cache import VerdictCache
from bot.cmodel.ir import Id

log = logging.getLogger(__name__)

_IDENT = re.compile(r"[A-Za-z_]\w*")
SYNTHETIC = "$call:"  # machine._synthetic: a primitive queued as a callback
OWN = "scenario:"  # a scenario's own functions: compiled from its text, which level 1 holds


@dataclass(frozen=True)
class Conditions:
    """What a stored run's result holds under, besides its level-1 key: the threads' part, and the
    setup's (its functions, or else what it left)."""

    entered: tuple[tuple[str, str], ...]  # (function, fingerprint) of what the threads entered, sorted
    present: tuple[str, ...]  # other names the threads' code could look up that were functions
    absent: tuple[str, ...]  # names the threads' code could look up that were not
    outside: tuple[str, ...]  # the names the interpreter reads besides the code that were functions
    numbering: str  # the digest of every function's name when it could make a function pointer, else ""
    setup: tuple[tuple[str, str], ...]  # (function, fingerprint) of what only the setup entered
    setup_present: tuple[str, ...]
    setup_absent: tuple[str, ...]
    outcome: str  # what the setup left (setup_outcome()); "" when it ran nothing the threads do not

    def threads_hold(self, facts: _Facts, outside: frozenset[str]) -> bool:
        return (_names_hold(facts, self.present, self.absent, self.entered)
                and (not self.numbering or self.numbering == facts.names_digest)
                and self.outside == facts.present_of(outside))

    def setup_holds(self, facts: _Facts) -> bool:
        """The setup runs the same code: it leaves the same."""
        return _names_hold(facts, self.setup_present, self.setup_absent, self.setup)


def _names_hold(facts: _Facts, present: tuple[str, ...], absent: tuple[str, ...],
                entered: tuple[tuple[str, str], ...]) -> bool:
    names = facts.names
    return (names.issuperset(present) and names.isdisjoint(absent)
            and all(n in names and facts.fingerprint(n) == fp for n, fp in entered))


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
    from bot.cmodel.models import scenario_machine

    if cache is None:
        return explore(spec, bound, sc, budget_states, budget_seconds)
    facts = _facts(bound.program)
    first = scenario_key(spec, bound, sc, budget_states, budget_seconds)
    outside = _named_outside_code(spec.directory)
    runs = [(sub, c) for sub, c in cache.runs("scenario", first) if c.threads_hold(facts, outside)]
    same = [sub for sub, c in runs if c.setup_holds(facts)]
    m = None
    if not same and any(c.outcome for _s, c in runs):  # the setup runs other code: it may leave the same
        m = scenario_machine(spec, bound, sc)
        outcome = setup_outcome(m)
        same = [sub for sub, c in runs if c.outcome and c.outcome == outcome]
    for sub in same:
        hit = cache.run_value("scenario", first, sub)
        if hit is not None:
            res, obs = hit
            log.debug("%s/%s: the same code was explored before: its result is reused", spec.name, sc.name)
            return res, Replayed(obs, lambda: _fresh_machine(spec, bound, sc))
    cache.misses += 1
    res, m = explore(spec, bound, sc, budget_states, budget_seconds, m)
    stopped_by_time = res.verdict == "inconclusive" and res.states <= budget_states
    conds = None if stopped_by_time else conditions(m, facts, outside)
    if conds is not None:
        cache.put_run("scenario", first, conds, (res, m.obs))
    return res, m


def _fresh_machine(spec: Any, bound: Any, sc: Any) -> Any:
    """The machine models.run_scenario explores, set up and not run (with the scenario's parameters)."""
    from bot.cmodel.models import scenario_machine

    return scenario_machine(spec, bound, sc)


def scenario_key(spec: Any, bound: Any, sc: Any, budget_states: int, budget_seconds: float) -> str:
    """Level 1: what the exploration reads besides the program's functions (of the model, what a
    machine reads: an architecture's instance's runs are its model's, models.explored_as)."""
    from bot.cmodel.models import explored_as

    facts = _facts(bound.program)
    h = hashlib.sha256()
    for part in (explored_as(spec), _text_of(sc), f"{budget_states}\0{budget_seconds!r}", facts.data):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def conditions(m: Any, facts: _Facts, outside: frozenset[str]) -> Conditions | None:
    """Level 2 of an explored machine (None: it entered a function its program lacks, so the
    argument above does not cover it and nothing is stored)."""
    from bot.cmodel.primitives import primitives

    threads = _looked_up(m, facts, set(m.obs.ran))
    setup = _looked_up(m, facts, set(m.setup.ran) - set(m.obs.ran))
    if threads is None or setup is None:
        return None
    values = threads[3] | setup[3]
    pointers = bool(values & facts.names) or bool(values & primitives().keys())
    return Conditions(entered=threads[0], present=threads[1], absent=threads[2], outside=facts.present_of(outside),
                      numbering=facts.names_digest if pointers else "", setup=setup[0], setup_present=setup[1],
                      setup_absent=setup[2], outcome=setup_outcome(m) if setup[0] else "")


def _looked_up(m: Any, facts: _Facts, entered: set[str]) -> tuple | None:
    """Of code that entered these functions: their fingerprints, the names it could look up that
    are functions and those that are not, and the names it could read as values."""
    code = m.program.functions
    looked: set[str] = set()
    values: set[str] = set()
    own = []
    for fn in entered:
        if fn not in code:
            return None
        strings, ids = _names_of(code[fn])
        looked |= strings
        values |= ids
        if fn.startswith(SYNTHETIC):
            looked.add(fn.removeprefix(SYNTHETIC))
        elif not fn.startswith(OWN):
            if fn not in facts.names:
                return None
            own.append(fn)
    todo = list(values)
    while todo:  # a define read as a value evaluates its text
        text = facts.prog.defines.get(todo.pop())
        for n in _identifiers(str(text)) if text is not None else ():
            if n not in values:
                values.add(n)
                todo.append(n)
    looked |= values
    names = facts.names
    return (tuple(sorted((n, facts.fingerprint(n)) for n in own)),
            tuple(sorted(looked.intersection(names).difference(entered))),
            tuple(sorted(n for n in looked.difference(names) if not n.startswith((OWN, SYNTHETIC)))), values)


@dataclass
class SetUp:
    """What a scenario's machine was left with by its setup and its threads' first steps, and what
    that run read besides level 1 (its conditions: every function it entered, the threads' own code
    included, and the names its code could look up)."""

    spec: Any
    conds: Conditions
    world: Any  # its initial world, thawed from its frozen form (shared: a machine's init is only frozen)
    setup: Any  # models.SetupRun (shared: nothing edits one)
    synthetic: dict[str, Any]  # the `$call:` wrappers its run made in its program


MEMO_SETUPS = 256  # level-1 keys
SETUPS_PER_KEY = 8
_SETUPS: dict[tuple, list[SetUp]] = {}  # (id(model), scenario text, program data) → most recent first


def earlier_set_up(spec: Any, sc: Any, base: Any) -> SetUp | None:
    """A machine set up before whose run reads, of the scenario's copy of `base`, what it read then:
    the same level 1 (the model, the scenario, the program's data) and conditions that hold (the
    argument above: making a machine is the first steps of its exploration). Then the setup and the
    threads' first steps would leave what they left then."""
    facts = _facts(base)
    outside = _named_outside_code(spec.directory)
    for e in _SETUPS.get((id(spec), _text_of(sc), facts.data), ()):
        if e.spec is spec and e.conds.threads_hold(facts, outside):
            return e
    return None


def remember_set_up(spec: Any, sc: Any, base: Any, m: Any) -> None:
    """What make_machine() left in m, for earlier_set_up() (nothing when it entered a function its
    program lacks)."""
    from bot.cmodel.primitives import primitives
    from bot.cmodel.world import World

    facts = _facts(base)
    code = m.program.functions
    ran = _looked_up(m, facts, set(m.setup.ran) | m.obs.ran | {n for n in code if n.startswith(OWN)})
    if ran is None:
        return
    pointers = bool(ran[3] & facts.names) or bool(ran[3] & primitives().keys())
    conds = Conditions(entered=ran[0], present=ran[1], absent=ran[2],
                       outside=facts.present_of(_named_outside_code(spec.directory)),
                       numbering=facts.names_digest if pointers else "", setup=(), setup_present=(), setup_absent=(),
                       outcome="")
    key = (id(spec), _text_of(sc), facts.data)
    if key not in _SETUPS and len(_SETUPS) >= MEMO_SETUPS:
        _SETUPS.clear()
    runs = _SETUPS.setdefault(key, [])
    runs.insert(0, SetUp(spec, conds, World.thaw(m.init.freeze()), m.setup,
                         {n: f for n, f in code.items() if n.startswith(SYNTHETIC)}))
    del runs[SETUPS_PER_KEY:]


def setup_outcome(m: Any) -> str:
    """A digest of what a machine set up and not yet run starts from besides its program's code: its
    initial state, the setup's variables, and what was observed so far. Once per set-up machine
    (its lookup and its conditions both ask; nothing changes either after make_machine)."""
    setup, init = m.setup, m.init
    hit = _OUTCOMES.get(id(setup))
    if hit is not None and hit[0] is setup and hit[1] is init:
        return hit[2]
    text = _stable((init.freeze(), sorted(setup.vars.items()), setup.obs))
    out = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if len(_OUTCOMES) >= MEMO_FUNCTIONS:
        _OUTCOMES.clear()
    _OUTCOMES[id(setup)] = (setup, init, out)
    return out


_OUTCOMES: dict[int, tuple[Any, Any, str]] = {}  # id(a machine's SetupRun) → (it, its initial world, outcome)


def _stable(x: Any) -> str:
    """A text of x that is the same in every process, for a digest: its repr when that holds no set
    and no dict (only a set's order follows the strings' hashes, and a dict's repr cannot be told
    from a set's), else a tuple, list, dict or dataclass part by part, else repr(_canonical(x)).
    Each form is tagged and each part's text length-prefixed, so distinct values give distinct
    texts."""
    text = repr(x)
    if "{" not in text and "set(" not in text:
        return "r" + text
    if isinstance(x, (tuple, list)):
        return f"t{type(x).__qualname__}(" + "".join(f"{len(t)}:{t}" for t in map(_stable, x))
    if type(x) is dict:  # in its order, as _canonical() keeps it
        return "d" + "".join(f"{len(t)}:{t}" for kv in x.items() for t in map(_stable, kv))
    if is_dataclass(x) and not isinstance(x, type):
        return f"o{type(x).__qualname__}(" + "".join(
            f"{len(t)}:{t}" for f in fields(x) for t in (f.name, _stable(getattr(x, f.name))))
    return "c" + repr(_canonical(x))


class _Facts:
    """What every scenario's lookup reads of one program, worked out once for it: its data besides
    the functions, its functions' names, and per function (when first asked) its fingerprint."""

    def __init__(self, prog: Any) -> None:
        self.prog = prog
        self.shape = _shape(prog)
        self.names = frozenset(prog.functions)
        self.names_digest = hashlib.sha256("\0".join(sorted(self.names)).encode("utf-8", "surrogatepass")).hexdigest()
        self.data = _stable([(f.name, getattr(prog, f.name)) for f in fields(prog)
                             if f.name not in ("functions", "origin")])
        self._fps: dict[str, str] = {}
        self._present: dict[frozenset[str], tuple[str, ...]] = {}

    def present_of(self, names: frozenset[str]) -> tuple[str, ...]:
        hit = self._present.get(names)
        if hit is None:
            hit = self._present[names] = tuple(sorted(names & self.names))
        return hit

    def fingerprint(self, name: str) -> str:
        """_fingerprint() of one of the program's functions."""
        fp = self._fps.get(name)
        if fp is None:
            fp = self._fps[name] = _fingerprint(self.prog.functions[name], self.prog.origin.get(name))
        return fp


MEMO_FINGERPRINTS = 8192
_FPS: dict[tuple[int, int], tuple[Any, Any, str]] = {}  # (id(function), id(its lines)) → (them, fingerprint)


def _fingerprint(fn: Any, origin: list | None) -> str:
    """A hash of a function's compiled code and of the source lines that code maps to (a trace quotes
    their text and place): the patch's marks on a line (from_patch, added, after_removal) are left
    out, the machine never reads them (the judge reads them of the program it has, not of a run).
    Once per (function, lines): a program's copies, and the builds of a series, share both objects,
    and nothing edits either once a program holds them (Program.add_unit)."""
    key = (id(fn), id(origin))
    hit = _FPS.get(key)
    if hit is not None and hit[0] is fn and hit[1] is origin:
        return hit[2]
    lines = origin or []
    at = [_line_of(ins) for ins in fn.code]
    if all(isinstance(n, int) for n in at):  # else keep every line: a trace may quote any
        at.append(getattr(fn, "line", 1))
        lines = lines[max(1, min(at)) - 1:max(at)]
    quoted = pickle.dumps([(sl.file, sl.line, sl.text) for sl in lines], protocol=5)
    fp = hashlib.sha256(_code_hash(fn).encode() + b"\0" + quoted).hexdigest()
    if len(_FPS) >= MEMO_FINGERPRINTS:
        _FPS.clear()
    _FPS[key] = (fn, origin, fp)
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


MEMO_FUNCTIONS = 2048
MEMO_CODE = 512  # instructions: a larger function is walked each time, the memo stays small


def _memo(table: dict[int, tuple[Any, Any]], fn: Any, make: Any) -> Any:
    """make(fn), once per compiled function (the reference's functions are the same objects in every
    program built from it)."""
    hit = table.get(id(fn))
    if hit is not None and hit[0] is fn:
        return hit[1]
    out = make(fn)
    if len(getattr(fn, "code", ())) <= MEMO_CODE:
        if len(table) >= MEMO_FUNCTIONS:
            table.clear()
        table[id(fn)] = (fn, out)
    return out


_CODE: dict[int, tuple[Any, str]] = {}  # id(compiled function) → (it, a hash of its repr)
_NAMES: dict[int, tuple[Any, tuple[frozenset[str], frozenset[str]]]] = {}  # … → (it, _names_of(it))


def _code_hash(fn: Any) -> str:
    return _memo(_CODE, fn, lambda f: hashlib.sha256(repr(f).encode("utf-8", "surrogatepass")).hexdigest())


def _names_of(fn: Any) -> tuple[frozenset[str], frozenset[str]]:
    """Every string of a compiled function that could name a function (a superset of the names its
    code may look up: a type's text, with a space, cannot), and the names of its identifier nodes
    (what it may read as a value)."""
    def make(f: Any) -> tuple[frozenset[str], frozenset[str]]:
        strings: set[str] = set()
        ids: set[str] = set()
        _walk(f, strings, ids)
        return frozenset(s for s in strings if " " not in s), frozenset(ids)
    return _memo(_NAMES, fn, make)


def _walk(x: Any, strings: set[str], ids: set[str]) -> None:
    if isinstance(x, str):
        strings.add(x)
    elif isinstance(x, (tuple, list, set, frozenset)):
        if isinstance(x, Id):
            ids.add(x.name)
        for y in x:
            _walk(y, strings, ids)
    elif isinstance(x, dict):
        for k, v in x.items():
            _walk(k, strings, ids)
            _walk(v, strings, ids)
    elif is_dataclass(x) and not isinstance(x, type):
        for f in fields(x):
            _walk(getattr(x, f.name), strings, ids)


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


@lru_cache(maxsize=8)
def _named_outside_code(model_dir: Path) -> frozenset[str]:
    """Every identifier of what the interpreter reads besides the code: the values of the
    primitives' parameters (a primitive may run a function it names there, a hook or a callback),
    the layouts, the model's model.toml, and the interpreter's source. A primitive's own name is
    not among them: whether it is a function is asked only when code being run calls it or takes
    it as a value, which the run's names (present, absent) already hold. So a patch that defines
    an unrelated primitive's name as a function (the ptdesc conversion's pagetable_alloc) leaves
    every run that never names it looked up."""
    from bot.cmodel.primitives import primitives
    from bot.paths import models_dir

    pkg = Path(__file__).resolve().parent
    found: set[str] = set()
    for prim in primitives().values():
        for value in prim.params.values():
            for text in (value if isinstance(value, tuple) else (value,)):
                if isinstance(text, str):
                    found.update(_IDENT.findall(text))
    files = [*(models_dir() / "common").glob("*.toml"), Path(model_dir) / "model.toml"]
    files += [f for d in ("cmodel", "sim") for f in (pkg / d).glob("*.py")]
    for f in files:
        if f.is_file():
            found.update(_IDENT.findall(f.read_text("utf-8", "replace")))
    return frozenset(found)


def _offer_set_ups() -> None:
    """models.make_machine() asks this module for earlier set-up machines (models cannot import it)."""
    import sys

    from bot.cmodel import models

    models.SET_UPS = sys.modules[__name__]


_offer_set_ups()
