"""The effect API: what an effect kind (rules/primitives.toml `effect = ...`) sees and may do.

An effect is a function of one Call: the primitive's checked rule, the callee's name, its argument
expressions (evaluated on demand), its source line, and the running thread and world. It returns
the call's value (or None), raises the Abort that Call.fail() builds when the call breaks an
invariant, and reaches the interpreter only through the small MachineAPI protocol below, so effects
and the machine do not import each other.

An effect kind registers with the parameters a primitive table may give it; the loader
(bot.cmodel.primitives) checks each table against that declaration, so an unknown effect, an
unknown key or a wrong type is a load error naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Protocol

from bot.cmodel.ir import Deref, Field, Id, Index, Str
from bot.sim.core import Event, Violation

if TYPE_CHECKING:
    from bot.cmodel.layout import Layout
    from bot.cmodel.program import Program
    from bot.cmodel.world import Thread, World

_REQUIRED: Any = object()


class Param(NamedTuple):
    """One parameter an effect reads from its primitive's table."""

    kind: type  # str, int, bool or tuple (an array of strings)
    default: Any = _REQUIRED  # _REQUIRED: every primitive of this effect must give it
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Primitive:
    """One table of rules/primitives.toml, checked: the effect it runs and that effect's parameters."""

    name: str
    effect: str
    why: str
    may_sleep: bool = False  # the call may sleep: running it in atomic context is a violation
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    gfp_arg: int = -1  # may_sleep only when this argument's GFP flags allow direct reclaim
    may_fail: bool = False  # an allocation that may fail: it then returns 0 (NULL, false) and does nothing

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


class Abort(Exception):
    """A call broke an invariant: the thread's step ends here with this violation."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.detail)
        self.violation = violation


class Observations(Protocol):
    costs: dict[str, str]
    unknown: set[str]
    unresolved: set[str]
    notes: set[str]


class MachineAPI(Protocol):
    """What an effect may ask of the interpreter."""

    program: Program
    layout: Layout
    prims: Mapping[str, Primitive]
    obs: Observations
    table_size: int

    def eval(self, w: World, t: Thread, e: tuple) -> int: ...
    def type_of(self, t: Thread, e: tuple) -> str: ...
    def store(self, w: World, t: Thread, lhs: tuple, val: int) -> None: ...
    def has_function(self, name: str) -> bool: ...
    def check_alive(self, w: World, t: Thread, addr: int, what: str) -> None: ...
    def field_offset(self, struct: str, path: str) -> int: ...
    def role_offset(self, role: str) -> int: ...
    def source(self, fn: str, line: int) -> str: ...
    def source_at(self, fn: str, line: int) -> tuple[str, str]: ...
    def where_at(self, fn: str, line: int) -> str: ...
    def where(self, t: Thread) -> str: ...
    def fn_name(self, addr: int) -> str: ...
    def lock_name(self, addr: int) -> str: ...
    def is_global_lock(self, addr: int) -> bool: ...
    def note_cost(self, t: Thread, name: str, on: str, detail: str = "") -> None: ...


class Call:
    """One primitive call being run: its rule, name, arguments and line, and where it runs."""

    __slots__ = ("m", "w", "t", "rule", "name", "args", "line", "events", "violations", "after")

    def __init__(self, m: MachineAPI, w: World, t: Thread, rule: Primitive, name: str, args: list,
                 line: int, events: list[Event], violations: list[Violation]) -> None:
        self.m, self.w, self.t, self.rule, self.name = m, w, t, rule, name
        self.args, self.line, self.events, self.violations = args, line, events, violations
        self.after: tuple[str, list[int]] | None = None  # a function of the code to run once the call is done

    def arg(self, i: int) -> int:
        """The value of argument i (0 when the call has fewer)."""
        args = self.args
        return self.m.eval(self.w, self.t, args[i]) if i < len(args) else 0

    def set_arg(self, i: int, value: int) -> None:
        """Store into argument i: a macro that assigns its argument (local_irq_save(flags))."""
        if i < len(self.args) and isinstance(self.args[i], Id | Field | Deref | Index):
            self.m.store(self.w, self.t, self.args[i], value)

    def type_arg(self, i: int) -> str | None:
        """Argument i when it is a type or member name (container_of(p, struct page, lru))."""
        if i < len(self.args) and isinstance(self.args[i][1], str):
            return self.args[i][1]
        return None

    @property
    def function(self) -> str:
        return self.t.frames[-1].fn if self.t.frames else ""

    def alive(self, addr: int, verb: str) -> None:
        """The call touches addr: it must not be freed."""
        self.m.check_alive(self.w, self.t, addr, verb)

    def note(self, what: str) -> None:
        """A trace step for this call: its source text and what it did."""
        frames = self.t.frames
        src, where = self.m.source_at(frames[-1].fn if frames else "", self.line)
        self.events.append(Event(self.t.name, f"{src}  [{what}]" if src else what, where))

    def event(self, what: str) -> None:
        """A trace step in the thread's own words (no source quote)."""
        self.events.append(Event(self.t.name, what, self.m.where(self.t)))

    def fail(self, kind: str, detail: str, **attrs: str) -> Abort:
        """The Abort to raise: the call breaks invariant `kind` (an id of bot.sim.invariants)."""
        base = {"ctx": self.t.ctx, "function": self.function, "at": self.m.where(self.t)}
        base.update(attrs)
        return Abort(Violation(kind, detail, tuple(sorted(base.items()))))

    def str_arg(self, i: int) -> str | None:
        """Argument i when it is a string literal (a cache's name)."""
        arg = self.args[i] if i < len(self.args) else None
        if isinstance(arg, Str):
            return arg.text
        return None

    def call_after(self, fn: str, args: list[int]) -> None:
        """Run fn(args) of the code under review when this call returns (a constructor, a release)."""
        self.after = (fn, args)

    def soft(self, kind: str, detail: str, **attrs: str) -> None:
        """A violation that is reported while exploration goes on (the run continues past it)."""
        v = self.fail(kind, detail, soft="1", **attrs).violation
        self.violations.append(v)
        self.note(v.detail)


@dataclass(frozen=True)
class EffectKind:
    name: str
    fn: Callable[[Call], int | None]
    params: Mapping[str, Param]
    pure: bool  # touches no shared state: the interpreter need not interleave at it


EFFECTS: dict[str, EffectKind] = {}


def effect(name: str, pure: bool = False, **params: Param) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an effect kind and the primitive-table keys it reads."""
    def reg(fn: Callable[..., Any]) -> Callable[..., Any]:
        EFFECTS[name] = EffectKind(name, fn, MappingProxyType(dict(params)), pure)
        return fn
    return reg
