"""Slab objects and their caches, as the interpreter tracks them.

A kmem_cache records its flags, object size and constructor. kmem_cache_alloc() hands out the
object its cache freed last (the adversarial order: an RCU reader that still holds a pointer meets
the new owner), and runs the constructor only for an object never handed out before. Each handing
out is a new generation of the object. A reader (a context inside an RCU read-side section, or
otherwise one, bot.sim.semantics.is_reader) remembers the generation of each slab object it finds; what it
may do once that generation is gone depends on the cache:

* SLAB_TYPESAFE_BY_RCU: the memory stays an object of the same type, so reading it and taking its
  lock are fine; writing into a newer generation is `reader_saw_reuse` (the reader did not re-check
  the object's identity under its lock), and re-initialising its lock or list heads while another
  context holds or uses them is `typesafe_reinit` (that belongs in the constructor);
* any other cache: any access to a freed or reallocated object is `use_after_free` (the object was
  reused inside the grace period its readers rely on).
"""

from __future__ import annotations

from bot.cmodel.effect_api import Abort, MachineAPI
from bot.cmodel.world import SLAB_OBJ_BASE, SLAB_OBJ_END, SLAB_OBJ_SIZE, Thread, World
from bot.sim.core import Violation

TYPESAFE_FLAG = "SLAB_TYPESAFE_BY_RCU"


def slab_object(w: World, addr: int) -> int | None:
    """The slab object addr points into, if any."""
    if not SLAB_OBJ_BASE <= addr < SLAB_OBJ_END:
        return None
    obj = SLAB_OBJ_BASE + (addr - SLAB_OBJ_BASE) // SLAB_OBJ_SIZE * SLAB_OBJ_SIZE
    return obj if obj in w.slabs else None


def typesafe(m: MachineAPI, w: World, obj: int) -> bool:
    cache = w.slabs[obj][0]
    flag = m.program.consts.get(TYPESAFE_FLAG, 0)
    return bool(cache and flag and w.mem.get(cache, 0) & flag)


def remember(w: World, t: Thread, value: int) -> None:
    """A reader loaded a pointer: if it points into a slab object, note the generation it found."""
    obj = slab_object(w, value)
    if obj is None or not t.reader or any(o == obj for o, _g in t.seen):
        return
    hit = w.objects.get(obj)
    if hit is not None and hit[2]:
        t.seen = tuple(sorted(t.seen + ((obj, w.slabs[obj][1]),)))


def forget(t: Thread, obj: int | None = None) -> None:
    """t stops relying on obj (it freed or allocated it), or on everything (it left its read side)."""
    t.seen = () if obj is None else tuple(x for x in t.seen if x[0] != obj)


def _fail(m: MachineAPI, t: Thread, kind: str, detail: str, **attrs: str) -> Abort:
    base = {"ctx": t.ctx, "function": t.frames[-1].fn if t.frames else "", "at": m.where(t)}
    base.update(attrs)
    return Abort(Violation(kind, detail, tuple(sorted(base.items()))))


def check_access(m: MachineAPI, w: World, t: Thread, addr: int, what: str, write: bool) -> bool:
    """The rules above for one access by t; True when the access is settled (no further liveness
    check applies: typesafe memory read by a reader)."""
    obj = slab_object(w, addr)
    if obj is None:
        return False
    hit = w.objects[obj]
    gen = w.slabs[obj][1]
    seen = next((g for o, g in t.seen if o == obj), None)
    stale = seen is not None and (seen != gen or not hit[2])
    if typesafe(m, w, obj):
        if stale and write:
            raise _fail(m, t, "reader_saw_reuse", f"{t.name} {what} {hit[3]}, which was freed and handed to a new "
                        "owner since it found it: nothing re-checked the object's identity", object="slab",
                        owner=hit[3])
        return bool(t.reader and (stale or not hit[2]) and not write)
    if stale:
        raise _fail(m, t, "use_after_free", f"{t.name} {what} {hit[3]} after it was freed and reallocated (it "
                    "found it before: the object was reused inside its grace period)", object="slab",
                    freed_by=hit[4] or "direct")
    return False


def check_reinit(m: MachineAPI, w: World, t: Thread, addr: int, what: str) -> None:
    """Initialising a lock or list head inside a typesafe object others may still hold or use."""
    obj = slab_object(w, addr)
    if obj is None or not typesafe(m, w, obj):
        return
    name = w.objects[obj][3]
    held = w.locks.get(addr)
    if held is not None and held[0] != t.name:
        raise _fail(m, t, "typesafe_reinit", f"{what} re-initialises a lock of {name} while {held[0]} holds it",
                    object="slab", owner=name)
    users = [x.name for x in w.threads if x.name != t.name and x.frames and any(o == obj for o, _g in x.seen)]
    if users:
        raise _fail(m, t, "typesafe_reinit", f"{what} re-initialises {name} while {', '.join(users)} may still use "
                    "it", object="slab", owner=name)
