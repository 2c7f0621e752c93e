"""Litmus-style scenario files (TOML): parsing and compilation to flat instruction lists.

A scenario names objects, threads (each with a context and a list of kernel-like ops), named
functions (RCU callbacks, destructors) and its own expected outcome, like a herd7 litmus test:

    title = "reader vs. free without a grace period"
    [expect]
    verdict = "unsafe"
    violations = ["reader_saw_free"]
    [objects]
    pg = { type = "page" }
    [threads.walker]
    cpu = 0
    ops = ["rcu_read_lock()", "use(pg)", "rcu_read_unlock()"]
    [threads.freer]
    cpu = 1
    ops = ["free(pg)"]

Locations are `object.field`; a field used as an rcu_head or list node is a *slot*, a field used as
the second argument of list_add is a list head, a field given to spin_lock is a lock. Overlays
(`overlay = [["rcu_head", "lru"]]` on an object) make two fields one slot. An `if` is an inline
table: `{ if = "live(half1)", then = [...], else = [...] }`; conditions are live(X), found(X)
(the last deref(X) found it published), same(X) (found, still published, not freed or reused
since: the re-check under the object's lock), listed(X.f), flag(X.f), test_and_clear(X.f), joined
with && and negated with !.

SRCU is a second grace-period domain with RCU's rules: srcu_read_lock()/srcu_read_unlock() (a
reader that holds up only SRCU grace periods, and may sleep), synchronize_srcu(), call_srcu(X.f, fn)
and srcu_barrier().

Readers reach RCU-protected objects through a pointer: deref(X) is rcu_dereference() and finds X
only while it is published; unpublish(X) is the pmd_clear()/rcu_assign_pointer(p, NULL) that a
freer does before deferring the free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.datafile import DataError, Fields, display, read_toml
from bot.sim.invariants import BY_ID

CONTEXTS = ("process", "softirq", "workqueue")
VERDICTS = ("safe", "unsafe", "inconclusive")
INVARIANT_IDS = tuple(BY_ID)

# op name -> argument kinds: o object, s slot, l lock, L list head, f function, F flag, m mode
OPS: dict[str, tuple[str, ...]] = {
    "rcu_read_lock": (),
    "rcu_read_unlock": (),
    "synchronize_rcu": (),
    "rcu_barrier": (),
    "call_rcu": ("s", "f"),
    "srcu_read_lock": (),
    "srcu_read_unlock": (),
    "synchronize_srcu": (),
    "srcu_barrier": (),
    "call_srcu": ("s", "f"),
    "spin_lock": ("l",),
    "spin_unlock": ("l",),
    "spin_lock_bh": ("l",),
    "spin_unlock_bh": ("l",),
    "local_bh_disable": (),
    "local_bh_enable": (),
    "preempt_disable": (),
    "preempt_enable": (),
    "might_sleep": (),
    "mmgrab": ("o",),
    "mmdrop": ("o",),
    "mmdrop_async": ("o",),
    "free": ("o",),
    "alloc": ("o",),
    "kmem_cache_alloc": ("o",),
    "kmem_cache_free": ("o",),
    "deref": ("o",),
    "publish": ("o",),
    "unpublish": ("o",),
    "use": ("o", "m?"),
    "list_add": ("s", "L"),
    "list_del": ("s",),
    "set_flag": ("F",),
    "clear_flag": ("F",),
    "call": ("f",),
}
CONDS = ("live", "same", "found", "listed", "flag", "test_and_clear")
_CALL = re.compile(r"^\s*(!?)\s*([A-Za-z_]\w*)\s*\((.*)\)\s*;?\s*$")


class ScenarioError(DataError):
    """A scenario file that cannot be read or compiled; the message says where."""


@dataclass(frozen=True)
class Obj:
    name: str
    type: str  # mm | page | table | ptlock | obj | lock | ... (free-form, reported as `object`)
    refs: int = 0  # mm_count (mmgrab/mmdrop) or 0
    allocated: bool = True
    typesafe: bool = False  # from a SLAB_TYPESAFE_BY_RCU cache
    init_lock: str = "ctor"  # typesafe: locks initialised in the constructor or on every alloc
    leak_check: bool = False  # must be freed at quiescence
    final: str = ""  # the function __mmdrop() runs instead of the plain free(mm) (must free it itself)
    flags: tuple[str, ...] = ()  # flags set initially


@dataclass(frozen=True)
class Instr:
    op: str  # an OPS key, or "jump_unless" / "jump"
    args: tuple[Any, ...]
    text: str  # the source text, for traces


@dataclass
class Thread:
    name: str
    ctx: str
    cpu: int
    code: int  # index into Scenario.codes


@dataclass
class Scenario:
    name: str
    title: str
    description: str
    path: str
    objects: list[Obj]
    obj_index: dict[str, int]
    slots: list[str]  # canonical slot names ("pg.rcu_head" when overlaid with "pg.lru")
    slot_index: dict[str, int]  # every field name (overlays included) -> slot
    slot_obj: list[int]
    locks: list[str]
    lock_index: dict[str, int]
    lock_obj: list[int]
    lists: list[str]
    list_index: dict[str, int]
    list_obj: list[int]
    flags: list[str]  # "pg.active"
    flag_index: dict[str, int]
    flag_obj: list[int]
    codes: list[tuple[Instr, ...]]
    code_names: list[str]
    functions: dict[str, int]  # function name -> code
    mmdrop_code: dict[int, int]  # mm object -> code of its __mmdrop
    threads: list[Thread]
    listed: dict[int, int]  # slot -> list, initially
    ncpus: int
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_verdict(self) -> str:
        return str(self.expect.get("verdict", ""))

    @property
    def expected_violations(self) -> list[str]:
        return list(self.expect.get("violations", []))

    @property
    def hazards(self) -> list[str]:
        return list(self.expect.get("hazards", []))

    @property
    def costs(self) -> list[str]:
        return list(self.expect.get("costs", []))


MAX_SCENARIO_BYTES = 256 * 1024  # a litmus scenario is a few threads (the bundled ones < 6 KB)


def load(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{display(p)}: {p.stat().st_size} bytes, more than a scenario holds "
                                f"({MAX_SCENARIO_BYTES} bytes)")
        data = read_toml(p)
    except DataError as e:
        raise ScenarioError(str(e)) from None
    return compile_scenario(data, name=p.stem, path=display(p))


def compile_scenario(data: dict[str, Any], name: str = "scenario", path: str = "") -> Scenario:
    return _Compiler(data, name, path).run()


class _Compiler:
    def __init__(self, data: dict[str, Any], name: str, path: str) -> None:
        self.data, self.name, self.path = data, name, path
        self.objects: list[Obj] = []
        self.obj_index: dict[str, int] = {}
        self.overlay: dict[str, str] = {}  # "pg.lru" -> "pg.rcu_head" (canonical)
        self.slots: list[str] = []
        self.slot_index: dict[str, int] = {}
        self.locks: list[str] = []
        self.lock_index: dict[str, int] = {}
        self.lists: list[str] = []
        self.list_index: dict[str, int] = {}
        self.flags: list[str] = []
        self.flag_index: dict[str, int] = {}
        self.codes: list[tuple[Instr, ...]] = []
        self.code_names: list[str] = []
        self.functions: dict[str, int] = {}

    def err(self, msg: str) -> ScenarioError:
        return ScenarioError(f"{self.path or self.name}: {msg}")

    def fields(self, data: Any, where: str = "") -> Fields:
        try:
            return Fields(data, self.path or self.name, where)
        except DataError as e:
            raise ScenarioError(str(e)) from None

    def run(self) -> Scenario:
        try:
            return self._run()
        except ScenarioError:
            raise
        except DataError as e:
            raise ScenarioError(str(e)) from None

    def _run(self) -> Scenario:
        d = self.fields(self.data)
        for oname, od in d.get("objects", dict, {}).items():
            self._object(oname, d.sub(f"objects.{oname}", od))
        fdecl = d.get("functions", dict, {})
        for fname in fdecl:  # reserve ids first: functions may call each other
            self.functions[fname] = self._reserve(fname)
        for fname, ops in fdecl.items():
            self.codes[self.functions[fname]] = self._block(ops, f"function {fname}")
        mmdrop_code = {}
        for i, o in enumerate(self.objects):
            if o.type == "mm" or o.refs:
                if o.final and o.final not in self.functions:
                    raise self.err(f"object {o.name}: final names unknown function {o.final!r}")
                ops = [f"call({o.final})"] if o.final else [f"free({o.name})"]
                code = self._reserve(f"__mmdrop({o.name})")
                self.codes[code] = self._block(ops, f"__mmdrop({o.name})")
                mmdrop_code[i] = code
        threads = []
        used_cpus: set[int] = set()
        tdecl = d.get("threads", dict, {})
        if not tdecl:
            raise self.err("no [threads]")
        for n, (tname, raw) in enumerate(tdecl.items()):
            td = d.sub(f"threads.{tname}", raw)
            ctx = td.choice("ctx", CONTEXTS, "process")
            cpu = td.get("cpu", int, n)
            if ctx == "process":
                if cpu in used_cpus:
                    raise self.err(f"thread {tname}: CPU{cpu} already runs a process-context thread")
                used_cpus.add(cpu)
            code = self._reserve(tname)
            self.codes[code] = self._block(td.get("ops", list, []), f"thread {tname}")
            td.close()
            threads.append(Thread(tname, ctx, cpu, code))
        listed = {}
        init = d.sub("init", d.get("init", dict, {}))
        for node, head in init.mapping("listed", str).items():
            listed[self._slot(node)] = self._list(head)
        init.close()
        ef = d.sub("expect", d.get("expect", dict))
        exp: dict[str, Any] = {"verdict": ef.choice("verdict", VERDICTS)}
        for key in ("violations", "hazards", "costs"):
            exp[key] = list(ef.strs(key))
        unknown = set(exp["violations"]) - set(INVARIANT_IDS)
        if unknown:
            raise self.err(f"[expect] violation {sorted(unknown)[0]!r} is not an invariant id")
        ef.close()
        ncpus = max([t.cpu for t in threads] + [0]) + 1
        ncpus = max(ncpus, d.get("cpus", int, 0))
        title = d.get("title", str, self.name)
        description = d.get("description", str, "").strip()
        d.close()
        return Scenario(
            name=self.name,
            title=title,
            description=description,
            path=self.path,
            objects=self.objects,
            obj_index=self.obj_index,
            slots=self.slots,
            slot_index=self.slot_index,
            slot_obj=[self.obj_index[s.split(".")[0]] for s in self.slots],
            locks=self.locks,
            lock_index=self.lock_index,
            lock_obj=[self.obj_index[s.split(".")[0]] for s in self.locks],
            lists=self.lists,
            list_index=self.list_index,
            list_obj=[self.obj_index[s.split(".")[0]] for s in self.lists],
            flags=self.flags,
            flag_index=self.flag_index,
            flag_obj=[self.obj_index[s.split(".")[0]] for s in self.flags],
            codes=self.codes,
            code_names=self.code_names,
            functions=self.functions,
            mmdrop_code=mmdrop_code,
            threads=threads,
            listed=listed,
            ncpus=ncpus,
            expect=exp,
        )

    def _object(self, oname: str, od: Fields) -> None:
        otype = od.get("type", str)
        o = Obj(
            name=oname,
            type=otype,
            refs=od.get("refs", int, 1 if otype == "mm" else 0),
            allocated=od.get("allocated", bool, True),
            typesafe=od.get("typesafe", bool, False),
            init_lock=od.choice("init_lock", ("ctor", "alloc"), "ctor"),
            leak_check=od.get("leak_check", bool, False),
            final=od.get("final", str, ""),
            flags=od.strs("flags"),
        )
        overlay = od.get("overlay", list, [])
        if not all(isinstance(g, list) and g and all(isinstance(f, str) for f in g) for g in overlay):
            raise self.err(f"[objects.{oname}] key 'overlay' must be an array of arrays of field names")
        od.close()
        self.obj_index[oname] = len(self.objects)
        self.objects.append(o)
        for group in overlay:
            canon = f"{oname}.{group[0]}"
            for f in group:
                self.overlay[f"{oname}.{f}"] = canon
        for f in o.flags:
            self._flag(f"{oname}.{f}")

    def _reserve(self, name: str) -> int:
        self.codes.append(())
        self.code_names.append(name)
        return len(self.codes) - 1

    def _objname(self, s: str) -> int:
        if s not in self.obj_index:
            raise self.err(f"unknown object {s!r}")
        return self.obj_index[s]

    def _field(self, s: str, what: str) -> str:
        if "." not in s:
            raise self.err(f"{what} {s!r} must be object.field")
        self._objname(s.split(".")[0])
        return s

    def _slot(self, s: str) -> int:
        s = self.overlay.get(self._field(s, "slot"), s)
        if s not in self.slot_index:
            self.slot_index[s] = len(self.slots)
            self.slots.append(s)
        return self.slot_index[s]

    def _lock(self, s: str) -> int:
        if "." not in s:  # a standalone lock object (a global spinlock)
            self._objname(s)
        if s not in self.lock_index:
            self.lock_index[s] = len(self.locks)
            self.locks.append(s)
        return self.lock_index[s]

    def _list(self, s: str) -> int:
        self._field(s, "list head")
        if s not in self.list_index:
            self.list_index[s] = len(self.lists)
            self.lists.append(s)
        return self.list_index[s]

    def _flag(self, s: str) -> int:
        self._field(s, "flag")
        if s not in self.flag_index:
            self.flag_index[s] = len(self.flags)
            self.flags.append(s)
        return self.flag_index[s]

    def _func(self, s: str) -> int:
        if s not in self.functions:
            raise self.err(f"unknown function {s!r}")
        return self.functions[s]

    def _block(self, ops: list[Any], where: str) -> tuple[Instr, ...]:
        out: list[Instr] = []
        self._emit(ops, out, where)
        return tuple(out)

    def _emit(self, ops: list[Any], out: list[Instr], where: str) -> None:
        for op in ops:
            if isinstance(op, dict):
                if "if" not in op:
                    raise self.err(f"{where}: a table op must be an if: {op!r}")
                extra = set(op) - {"if", "then", "else"}
                if extra:
                    raise self.err(f"{where}: unknown key {sorted(extra)[0]!r} in an if (keys: if, then, else)")
                cond = self._cond(str(op["if"]), where)
                j = len(out)
                out.append(Instr("jump_unless", (cond, -1), f"if ({op['if']})"))
                self._emit(op.get("then", []), out, where)
                if op.get("else"):
                    k = len(out)
                    out.append(Instr("jump", (-1,), "else"))
                    out[j] = Instr("jump_unless", (cond, len(out)), out[j].text)
                    self._emit(op["else"], out, where)
                    out[k] = Instr("jump", (len(out),), "end if")
                else:
                    out[j] = Instr("jump_unless", (cond, len(out)), out[j].text)
            else:
                out.append(self._instr(str(op), where))

    def _instr(self, text: str, where: str) -> Instr:
        m = _CALL.match(text)
        if not m or m.group(1):
            raise self.err(f"{where}: cannot read op {text!r} (expected name(args))")
        name, argtext = m.group(2), m.group(3)
        if name not in OPS:
            raise self.err(f"{where}: unknown op {name!r}")
        raw = [a.strip() for a in argtext.split(",") if a.strip()]
        kinds = OPS[name]
        need = len([k for k in kinds if not k.endswith("?")])
        if not need <= len(raw) <= len(kinds):
            raise self.err(f"{where}: {name} takes {len(kinds)} argument(s): {text!r}")
        args: list[Any] = []
        for k, a in zip(kinds, raw):
            k = k.rstrip("?")
            if k == "o":
                args.append(self._objname(a))
            elif k == "s":
                args.append(self._slot(a))
            elif k == "l":
                args.append(self._lock(a))
            elif k == "L":
                args.append(self._list(a))
            elif k == "f":
                args.append(self._func(a))
            elif k == "F":
                args.append(self._flag(a))
            elif k == "m":
                if a not in ("read", "write"):
                    raise self.err(f"{where}: use mode must be read or write: {text!r}")
                args.append(a)
        if name == "use" and len(args) == 1:
            args.append("read")
        return Instr(name, tuple(args), text.strip().rstrip(";"))

    def _cond(self, text: str, where: str) -> tuple[tuple[bool, str, int], ...]:
        """A conjunction of (negated, test, operand)."""
        terms = []
        for part in text.split("&&"):
            m = _CALL.match(part)
            if not m or m.group(2) not in CONDS:
                raise self.err(f"{where}: cannot read condition {part.strip()!r}; tests are {CONDS}")
            neg, test, arg = bool(m.group(1)), m.group(2), m.group(3).strip()
            if test in ("live", "same", "found"):
                operand = self._objname(arg)
            elif test == "listed":
                operand = self._slot(arg)
            else:
                operand = self._flag(arg)
            terms.append((neg, test, operand))
        if any(t[1] == "test_and_clear" for t in terms) and len(terms) > 1:
            raise self.err(f"{where}: test_and_clear must stand alone in a condition")
        return tuple(terms)
