"""The mutable world one interpreter step works on, and its frozen (hashable) form.

Addresses are plain integers in a made-up address space, so the code under review does its own bit
arithmetic on them (half index from `table & ~PAGE_MASK`, low-bit tags in pt_mm, `table | 1`).
Struct layouts come from the model, so overlays such as page->rcu_head over page->lru are just two
fields at the same address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from bot.sim.semantics import INITIAL, Rcu, is_reader

# Bases of the address space. A page's struct page and its 4K data frame are one object.
STRUCT_PAGE_BASE = 0x10_0000_0000
STRUCT_PAGE_SIZE = 64
PAGE_SHIFT = 12  # a page's data frame in the model's address space is 4K
PAGE_FRAME = 1 << PAGE_SHIFT
DATA_BASE = 0x40_0000_0000
MM_BASE = 0x20_0000_0000
MM_SIZE = 0x1000
GLOBAL_BASE = 0x30_0000_0000
GLOBAL_SIZE = 0x40
GLOBAL_VARS_BASE = GLOBAL_BASE + 0x8000  # file-scope variables of the code under review
CACHE_BASE = GLOBAL_BASE + 0x20000  # kmem_cache descriptors
SLAB_OBJ_BASE = GLOBAL_BASE + 0x200000  # slab objects, SLAB_OBJ_SIZE apart
SLAB_OBJ_SIZE = 0x400
SLAB_OBJ_END = SLAB_OBJ_BASE + 0x1000 * SLAB_OBJ_SIZE
FN_BASE = 0x70_0000_0000
STACK_BASE = 0x60_0000_0000  # stack slots of locals whose address is taken


class FrozenFrame(NamedTuple):
    fn: str
    pc: int
    locals: tuple[tuple[str, int], ...]
    dst: tuple | None


class FrozenThread(NamedTuple):
    """A thread that is not running in this step: hashable, read through the same field names."""

    name: str
    ctx: str
    cpu: int
    frames: tuple[FrozenFrame, ...]
    bh: int
    rcu: int
    rsec: int
    wait_gp: int
    locks: tuple[int, ...]
    final: tuple[tuple[str, int], ...]
    preempt: int
    srcu: int
    ssec: int
    wait_sgp: int
    seen: tuple[tuple[int, int], ...]
    origin: tuple[str, int]
    barrier: frozenset[int]

    @property
    def reader(self) -> bool:
        return is_reader(self.rcu, self.bh, len(self.locks) + self.preempt, self.ctx == "softirq")

    @property
    def srcu_reader(self) -> bool:
        return self.srcu > 0


@dataclass
class Frame:
    fn: str
    pc: int
    locals: dict[str, int]
    dst: tuple | None = None  # lvalue in the caller that receives the return value
    # The locals are in sorted order (thawed so, and no name added since): freezing need not sort them.
    # Not a field of the frozen form: a class default, set on the instance by thaw() and by the machine.
    ordered = False

    def freeze(self) -> FrozenFrame:
        loc = self.locals
        return _new(FrozenFrame, (self.fn, self.pc, tuple(loc.items()) if self.ordered else tuple(sorted(loc.items())),
                                  self.dst))

    @staticmethod
    def thaw(t: tuple) -> Frame:
        f = object.__new__(Frame)  # the fields set directly: thawing is on the checker's hottest path
        f.__dict__.update(fn=t[0], pc=t[1], locals=dict(t[2]), dst=t[3], ordered=True)
        return f


@dataclass
class Thread:
    name: str  # "CPU0", "softirq@CPU0", "kworker/u0"
    ctx: str  # "process" | "softirq" | "workqueue"
    cpu: int  # -1 for a kworker, which interrupts nobody
    frames: list[Frame]  # the innermost one thawed; a caller's frame may stay a FrozenFrame until it runs again
    bh: int = 0  # softirq-disable depth (spin_lock_bh, local_bh_disable)
    rcu: int = 0  # rcu_read_lock depth
    rsec: int = 0  # read-side section counter, so a GP waits only for sections that began before it
    wait_gp: int = 0  # synchronize_rcu: blocked until this many GPs are done
    locks: tuple[int, ...] = ()  # spinlocks held (each disables preemption); sleeping locks are not here
    final: tuple[tuple[str, int], ...] = ()  # a finished scenario thread's variables (tables it holds)
    preempt: int = 0  # preempt_disable() depth (rcu_read_lock_sched, local_irq_save count as well)
    srcu: int = 0  # srcu_read_lock() depth: an SRCU reader is not an RCU reader, nor atomic
    ssec: int = 0  # SRCU read-side section counter, as rsec is for RCU
    wait_sgp: int = 0  # synchronize_srcu: blocked until this many SRCU GPs are done; -1: srcu_barrier
    seen: tuple[tuple[int, int], ...] = ()  # slab objects this reader found: (object, its generation then)
    origin: tuple[str, int] = ()  # a callback: its domain ("rcu" | "srcu") and the rcu_head it was queued on
    barrier: frozenset[int] = frozenset()  # rcu_barrier / srcu_barrier (wait_gp or wait_sgp -1): the heads it waits for

    def freeze(self) -> FrozenThread:
        d = self.__dict__
        return _new(FrozenThread, (
            d["name"], d["ctx"], d["cpu"],
            tuple([f.freeze() if type(f) is Frame else f for f in d["frames"]]),
            d["bh"], d["rcu"], d["rsec"], d["wait_gp"], d["locks"], d["final"], d["preempt"], d["srcu"], d["ssec"],
            d["wait_sgp"], d["seen"], d["origin"], d["barrier"]))

    @staticmethod
    def thaw(t: tuple) -> Thread:
        """The thread, its innermost frame thawed: only that one runs until it returns (pop_frame())."""
        th = object.__new__(Thread)
        d = th.__dict__
        d.update(zip(_THREAD_FIELDS, t))
        frames = t[3]
        if frames:
            top = frames[-1]
            f = object.__new__(Frame)
            f.__dict__.update(fn=top[0], pc=top[1], locals=dict(top[2]), dst=top[3], ordered=True)
            d["frames"] = [*frames[:-1], f]
        else:
            d["frames"] = []
        return th

    def pop_frame(self) -> Frame:
        """Return from the innermost frame; its caller's frame is thawed to run on."""
        f = self.frames.pop()
        if self.frames and type(self.frames[-1]) is not Frame:
            self.frames[-1] = Frame.thaw(self.frames[-1])
        return f  # type: ignore[return-value]

    @property
    def reader(self) -> bool:
        return is_reader(self.rcu, self.bh, len(self.locks) + self.preempt, self.ctx == "softirq")

    @property
    def srcu_reader(self) -> bool:
        return self.srcu > 0


@dataclass
class World:
    mem: dict[int, int] = field(default_factory=dict)
    # base → (kind, size, alive, name, how it was freed: "" | "direct" | "call_rcu" | "workqueue")
    objects: dict[int, tuple[str, int, bool, str, str]] = field(default_factory=dict)
    lists: dict[int, tuple[int, ...]] = field(default_factory=dict)  # head → nodes in order
    nodes: dict[int, str] = field(default_factory=dict)  # node → "garbage" | "init" | "rcu" | "poison"
    flags: dict[int, frozenset[str]] = field(default_factory=dict)  # struct page → page flags
    # RCU grace periods and queued callbacks (bot.sim.semantics); a GP waits for (thread, rsec) pairs
    rcu: Rcu = INITIAL
    work: tuple[tuple[str, int], ...] = ()  # queued work: (function, argument)
    # lock → (holder, bh): the holder thread's name, or "shared:" and the names of the shared holders
    locks: dict[int, tuple[str, bool]] = field(default_factory=dict)
    grace: dict[int, int] = field(default_factory=dict)  # retired table → GPs that must be done
    threads: list[Thread | FrozenThread] = field(default_factory=list)  # thawed only when run
    next_page: int = 0
    next_mm: int = 0
    # SRCU, a grace-period domain of its own with the same rules; its GP waits for (thread, ssec) pairs
    srcu: Rcu = INITIAL
    # slab object → (its cache, generation, when it was freed: 0 while allocated, else a rising count)
    slabs: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    faults: int = 0  # allocations that may still be made to fail on this path (allocations_may_fail())

    # A thawed World reads its frozen tuple's parts on first use (the _Lazy descriptors below), and
    # freezing takes the parts nobody used as they were: a step touches a few of its dicts, and
    # sorting every dict of every state was the largest cost of exploring. The frozen form is the
    # same either way.
    def freeze(self) -> tuple:
        d = self.__dict__
        src = d.get("_src")
        if src is None:
            return _freeze(self.mem, self.objects, self.lists, self.nodes, self.flags, self.rcu, self.work, self.locks,
                           self.grace, self.threads, self.next_page, self.next_mm, self.srcu, self.slabs, self.faults)
        g = d.get
        mem, objects, lists, nodes, flags = g("mem"), g("objects"), g("lists"), g("nodes"), g("flags")
        locks, grace, slabs = g("locks"), g("grace"), g("slabs")
        return (
            src[0] if mem is None else tuple(sorted(mem.items())),
            src[1] if objects is None else tuple(sorted(objects.items())),
            src[2] if lists is None else tuple(sorted(lists.items())),
            src[3] if nodes is None else tuple(sorted(nodes.items())),
            src[4] if flags is None else tuple(sorted((k, v) for k, v in flags.items() if v)),
            d["rcu"], d["work"],
            src[7] if locks is None else tuple(sorted(locks.items())),
            src[8] if grace is None else tuple(sorted(grace.items())),
            tuple([t.freeze() if type(t) is Thread else t for t in d["threads"]]),
            d["next_page"], d["next_mm"], d["srcu"],
            src[13] if slabs is None else tuple(sorted(slabs.items())), d["faults"],
        )

    @staticmethod
    def thaw(t: tuple) -> World:
        w = object.__new__(World)
        w.__dict__.update(_src=t, rcu=t[5], work=t[6], threads=list(t[9]), next_page=t[10], next_mm=t[11], srcu=t[12],
                          faults=t[14])
        return w

    def running(self, i: int) -> Thread:
        """Thread i, thawed for mutation."""
        t = self.threads[i]
        if type(t) is not Thread:
            t = Thread.thaw(t)
            self.threads[i] = t
        return t

    def has(self, part: str) -> bool:
        """Whether one of the dicts thawed on first use has entries, without thawing it."""
        d = self.__dict__
        v = d.get(part)
        return bool(v) if v is not None else bool(d["_src"][_LAZY[part]])

    # objects --------------------------------------------------------------------------------
    def object_at(self, addr: int) -> tuple[int, tuple[str, int, bool, str, str]] | None:
        d = self.__dict__
        objects = d.get("objects")  # read where it is: a step that only reads it need not thaw it
        items = objects.items() if objects is not None else d["_src"][1]
        for base, obj in items:
            if base <= addr < base + obj[1]:
                return base, obj
        # A page's data frame belongs to the page object.
        if DATA_BASE <= addr < STRUCT_PAGE_BASE * 16:
            sp = page_of_addr(addr)
            for base, obj in items:
                if base == sp:
                    return sp, obj
        return None

    def running_callbacks(self, domain: str) -> frozenset[int]:
        """The rcu_heads of the callbacks of a domain ("rcu" | "srcu") being invoked now."""
        return frozenset(t.origin[1] for t in self.threads if t.origin and t.origin[0] == domain)

    def list_of(self, node: int) -> int | None:
        for head, members in self.lists.items():
            if node in members:
                return head
        return None


class _Lazy:
    """A dict of a thawed World, made from its frozen tuple's part on first use. A non-data
    descriptor: once made, or in a World built whole, the instance's own attribute wins."""

    def __init__(self, at: int) -> None:
        self.at = at

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, w: World | None, owner: type) -> object:
        if w is None:
            return self
        value = w.__dict__[self.name] = dict(w.__dict__["_src"][self.at])
        return value


# a World's dicts thawed on first use, and where each sits in its frozen tuple
_LAZY = {"mem": 0, "objects": 1, "lists": 2, "nodes": 3, "flags": 4, "locks": 7, "grace": 8, "slabs": 13}
for _name, _at in _LAZY.items():
    _lazy = _Lazy(_at)
    _lazy.__set_name__(World, _name)
    setattr(World, _name, _lazy)
_new = tuple.__new__  # a NamedTuple from a tuple, without its keyword-taking __new__
_THREAD_FIELDS = FrozenThread._fields


def _freeze(mem: dict, objects: dict, lists: dict, nodes: dict, flags: dict, rcu: Rcu, work: tuple, locks: dict,
            grace: dict, threads: list, next_page: int, next_mm: int, srcu: Rcu, slabs: dict, faults: int) -> tuple:
    return (
        tuple(sorted(mem.items())), tuple(sorted(objects.items())), tuple(sorted(lists.items())),
        tuple(sorted(nodes.items())), tuple(sorted((k, v) for k, v in flags.items() if v)), rcu, work,
        tuple(sorted(locks.items())), tuple(sorted(grace.items())),
        tuple(t.freeze() if isinstance(t, Thread) else t for t in threads), next_page, next_mm, srcu,
        tuple(sorted(slabs.items())), faults,
    )


def page_of_addr(addr: int) -> int:
    """virt_to_page() of the model's address space."""
    return STRUCT_PAGE_BASE + ((addr - DATA_BASE) >> PAGE_SHIFT) * STRUCT_PAGE_SIZE


def addr_of_page(page: int) -> int:
    """page_to_virt() of the model's address space."""
    return DATA_BASE + ((page - STRUCT_PAGE_BASE) // STRUCT_PAGE_SIZE << PAGE_SHIFT)


def page_index(page: int) -> int:
    return (page - STRUCT_PAGE_BASE) // STRUCT_PAGE_SIZE
