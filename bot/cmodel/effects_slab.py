"""Slab caches and objects: kmem_cache_create() with its SLAB flags and constructor, kmem_cache_alloc()
/ kmem_cache_zalloc() / kmalloc(), kmem_cache_free() / kfree(), and lock initialisation (the rules
are stated in bot.cmodel.slab)."""

from __future__ import annotations

from bot.cmodel.effect_api import Call, Param, effect
from bot.cmodel.effects import check_owner_in_grace
from bot.cmodel.slab import check_reinit, forget, slab_object, typesafe
from bot.cmodel.world import CACHE_BASE, SLAB_OBJ_BASE, SLAB_OBJ_SIZE
from bot.sim import semantics as sem


@effect("kmem_cache_create", name_arg=Param(int, 0), flags_arg=Param(int, 3),
        ctor_arg=Param(int, 4, doc="-1: no constructor argument"),
        type_arg=Param(int, -1, doc="KMEM_CACHE(struct, flags): the argument naming the object's type"))
def kmem_cache_create(c: Call) -> int:
    w, rule = c.w, c.rule
    n = sum(1 for o in w.objects.values() if o[0] == "kmem_cache")
    cache = CACHE_BASE + n * 0x40
    ty = c.type_arg(rule["type_arg"]) if rule["type_arg"] >= 0 else None
    name = c.str_arg(rule["name_arg"]) or ty or f"cache{n}"
    w.objects[cache] = ("kmem_cache", 0x40, True, f"kmem_cache {name.strip(chr(34))}", "")
    w.mem[cache] = c.arg(rule["flags_arg"])
    w.mem[cache + 8] = c.arg(rule["ctor_arg"]) if rule["ctor_arg"] >= 0 else 0
    flags = "SLAB_TYPESAFE_BY_RCU" if w.mem[cache] & c.m.program.consts.get("SLAB_TYPESAFE_BY_RCU", 0) else ""
    ctor = c.m.fn_name(w.mem[cache + 8]) if w.mem[cache + 8] else ""
    c.note(f"creates {w.objects[cache][3]}" + (f", {flags}" if flags else "") + (f", constructor {ctor}()" if ctor else ""))
    return cache


@effect("kmem_alloc", cache_arg=Param(int, 0, doc="-1: no cache (kmalloc)"),
        zero=Param(bool, False, doc="the object is zeroed (kmem_cache_zalloc, kzalloc)"),
        label=Param(str, "slab", doc="what the trace calls a new object"))
def kmem_alloc(c: Call) -> int:
    w, t = c.w, c.t
    cache = c.arg(c.rule["cache_arg"]) if c.rule["cache_arg"] >= 0 else 0
    freed = [o for o, (oc, _g, _n) in w.slabs.items() if oc == cache and not w.objects[o][2]]
    if freed:
        obj = max(freed, key=lambda o: w.slabs[o][2])  # the one freed last
        _kind, size, _alive, name, _fb = w.objects[obj]
        w.objects[obj] = ("slab", size, True, name, "")
        w.slabs[obj] = (cache, w.slabs[obj][1] + 1, 0)
        c.note(f"hands out {name} again (freed earlier: no constructor runs)")
    else:
        n = len(w.slabs)
        obj = SLAB_OBJ_BASE + n * SLAB_OBJ_SIZE
        cname = w.objects[cache][3].removeprefix("kmem_cache ") if cache in w.objects else c.rule["label"]
        name = f"{cname}#{n}"
        w.objects[obj] = ("slab", SLAB_OBJ_SIZE, True, name, "")
        w.slabs[obj] = (cache, 1, 0)
        c.note(f"allocates {name}")
        ctor = w.mem.get(cache + 8, 0) if cache in w.objects else 0
        if ctor and c.m.has_function(c.m.fn_name(ctor)):
            c.call_after(c.m.fn_name(ctor), [obj])
    forget(t, obj)
    if c.rule["zero"] or _gfp_zero(c):
        check_reinit(c.m, w, t, obj, f"{c.name}()")
        for a in [a for a in w.mem if obj <= a < obj + SLAB_OBJ_SIZE]:
            del w.mem[a]
    return obj


def _gfp_zero(c: Call) -> bool:
    """The allocation's GFP flags ask for a zeroed object (__GFP_ZERO)."""
    flag = c.m.program.consts.get("__GFP_ZERO", 0)
    return bool(flag and c.rule.gfp_arg >= 0 and c.arg(c.rule.gfp_arg) & flag)


@effect("kmem_free", ptr_arg=Param(int, 0),
        owner_field=Param(str, "", doc="the page-table page field that owns such an object (struct.member)"))
def kmem_free(c: Call) -> None:
    w, t = c.w, c.t
    addr = c.arg(c.rule["ptr_arg"])
    obj = slab_object(w, addr)
    if obj is None:
        if addr:
            c.m.obs.notes.add(f"{c.name}() of memory the model did not allocate")
        return
    _kind, size, alive, name, _fb = w.objects[obj]
    queued = any(obj <= cb.head < obj + size for cb in w.rcu.cbs + w.srcu.cbs)  # batch entries: head < 0
    broken = sem.free_breaks(alive, False, queued)
    if broken == "double_free":
        raise c.fail(broken, f"{c.name}() frees {name} a second time", object="slab", owner=name)
    if broken:
        raise c.fail(broken, f"{c.name}() frees {name} while its rcu_head is still queued",
                     object="slab", owner=name, freed_by="direct")
    if not typesafe(c.m, w, obj):
        held = next((h for a, h in w.locks.items() if obj <= a < obj + size and h[0] != t.name), None)
        if held is not None:
            raise c.fail("lock_in_freed_memory", f"{c.name}() frees {name} while {held[0]} holds a lock in it",
                         object="slab", owner=name)
    if c.rule["owner_field"]:
        check_owner_in_grace(c, obj, name, c.rule["owner_field"])
    freed_by = {"softirq": "call_rcu", "workqueue": "workqueue"}.get(t.ctx, "direct")
    w.objects[obj] = ("slab", size, False, name, freed_by)
    cache, gen, _n = w.slabs[obj]
    w.slabs[obj] = (cache, gen, 1 + max(n for _c, _g, n in w.slabs.values()))  # the free order: LIFO reuse
    forget(t, obj)
    c.note(f"frees {name}")


@effect("lock_init")
def lock_init(c: Call) -> None:
    """spin_lock_init() and its kin: the lock is unlocked afterwards."""
    addr = c.arg(0)
    c.alive(addr, "initialises a lock in")
    check_reinit(c.m, c.w, c.t, addr, f"{c.name}()")
    held = c.w.locks.pop(addr, None)
    if held is not None:
        c.m.obs.notes.add(f"{c.name}() on a lock that was held")
