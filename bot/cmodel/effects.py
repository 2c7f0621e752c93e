"""One implementation per effect kind named in rules/primitives.toml.

Each effect is a function of one Call (bot.cmodel.effect_api): it reads the call's arguments,
changes the world, notes what it did for the trace and returns the call's value (or None). A call
that breaks an invariant raises c.fail(kind, ...), kind being an id of bot.sim.invariants. The
`@effect` registration declares the primitive-table keys the effect reads; kernel facts (which
field links a page on a list, which lists a new mm starts with) come from the rules and layouts.
"""

from __future__ import annotations

from bot.cmodel.effect_api import Abort, Call, MachineAPI, Param, effect
from bot.cmodel.slab import check_access, check_reinit
from bot.cmodel.world import (
    GLOBAL_BASE,
    GLOBAL_SIZE,
    MM_BASE,
    MM_SIZE,
    PAGE_FRAME,
    STRUCT_PAGE_BASE,
    STRUCT_PAGE_SIZE,
    Thread,
    World,
    addr_of_page,
    page_index,
    page_of_addr,
)
from bot.sim import semantics as sem
from bot.sim.core import Violation

__all__ = ["Abort", "check_may_sleep", "check_table_write", "enter_reader", "free_checked", "obj_name"]


def obj_name(w: World, addr: int) -> str:
    hit = w.object_at(addr)
    return hit[1][3] if hit else f"{addr:#x}"


def page_label(addr: int) -> str:
    if STRUCT_PAGE_BASE <= addr < STRUCT_PAGE_BASE + 0x1000 * STRUCT_PAGE_SIZE:
        return f"page#{page_index(addr)}"
    return f"{addr:#x}"


def table_label(addr: int) -> str:
    page = page_of_addr(addr)
    off = addr - addr_of_page(page)
    return f"page#{page_index(page)}+{off:#x}"


# ---- contexts -------------------------------------------------------------------------------
def check_may_sleep(c: Call) -> None:
    """A primitive with may_sleep = true runs: that is a violation in atomic context. An allocation
    (gfp_arg) may sleep only when its GFP flags allow direct reclaim (GFP_KERNEL, not GFP_ATOMIC)."""
    if c.rule.gfp_arg >= 0:
        reclaim = c.m.program.consts.get("__GFP_DIRECT_RECLAIM")
        if reclaim is not None and not c.arg(c.rule.gfp_arg) & reclaim:
            return
    t = c.t
    why = sem.atomic_reason(t.ctx, len(t.locks), t.bh, len(t.locks) + t.preempt, t.rcu)
    if why:
        raise c.fail("sleep_in_atomic", f"{c.name}() may sleep but runs in atomic context ({why})",
                     call=c.name, atomic=why)


def enter_reader(t: Thread) -> None:
    """t becomes an RCU reader: a new read-side section starts unless it already was one."""
    if not t.reader:
        t.rsec += 1


# ---- lists ----------------------------------------------------------------------------------
def _touch_node(c: Call, node: int, verb: str) -> str:
    """Checks shared by every write to a list_head; returns the owning object's name."""
    check_access(c.m, c.w, c.t, node, verb, write=True)
    c.alive(node, verb)
    check_table_write(c.m, c.w, c.t, node, f"{c.name}()")
    owner = obj_name(c.w, node)
    broken = sem.list_write_breaks(c.w.nodes.get(node) == "rcu")
    if broken:
        raise c.fail(broken, f"{c.name}() writes {owner}'s list_head, which is the memory of "
                     "its queued rcu_head", object="rcu_head", owner=owner)
    return owner


@effect("list_add", where=Param(str, "tail", choices=("head", "tail")))
def list_add(c: Call) -> None:
    w = c.w
    node, head = c.arg(0), c.arg(1)
    owner = _touch_node(c, node, "links")
    broken = sem.list_add_breaks(w.list_of(node) is not None, queued=False)  # queued: _touch_node
    if broken:
        raise c.fail(broken, f"{c.name}() links {owner}, which is already on a list", object="list_head",
                     owner=owner)
    _link(c, node, head, c.rule["where"])
    c.note(f"links {owner} on the list")


def _link(c: Call, node: int, head: int, where: str) -> None:
    check_access(c.m, c.w, c.t, head, "links onto a list in", write=True)
    c.alive(head, "links onto a list in")
    members = c.w.lists.get(head, ())
    c.w.lists[head] = (node,) + members if where == "head" else members + (node,)
    c.w.nodes[node] = "linked"


@effect("list_move", where=Param(str, "head", choices=("head", "tail")))
def list_move(c: Call) -> None:
    """list_move(): unlink the node from the list it is on, link it onto another."""
    w = c.w
    node, head = c.arg(0), c.arg(1)
    owner = _touch_node(c, node, "moves")
    old = w.list_of(node)
    broken = sem.list_del_breaks(old is not None, False, initialised=w.nodes.get(node) == "init")
    if broken:
        raise c.fail(broken, f"{c.name}() on {owner}, which is not on any list", object="list_head",
                     owner=owner)
    if old is not None:
        w.lists[old] = tuple(x for x in w.lists[old] if x != node)
    _link(c, node, head, c.rule["where"])
    c.note(f"moves {owner} to another list")


@effect("list_splice", where=Param(str, "head", choices=("head", "tail")),
        init=Param(bool, False, doc="the emptied list is left initialised (list_splice_init)"))
def list_splice(c: Call) -> None:
    """list_splice(list, head): every node of `list` joins `head`'s list."""
    w = c.w
    src, head = c.arg(0), c.arg(1)
    c.alive(src, "splices a list in")
    moving = w.lists.get(src, ())
    check_access(c.m, w, c.t, head, "splices onto a list in", write=True)
    c.alive(head, "splices onto a list in")
    members = w.lists.get(head, ())
    w.lists[head] = moving + members if c.rule["where"] == "head" else members + moving
    if c.rule["init"]:
        w.lists[src] = ()
        w.nodes[src] = "init"
    else:
        w.lists.pop(src, None)  # the old head still points into the nodes: it reads as not empty
        w.nodes[src] = "garbage"


@effect("list_del", init=Param(bool, False, doc="the node is left initialised (list_del_init), not poisoned"))
def list_del(c: Call) -> None:
    w = c.w
    node = c.arg(0)
    owner = _touch_node(c, node, "unlinks")
    head = w.list_of(node)
    state = w.nodes.get(node, "garbage")
    broken = sem.list_del_breaks(head is not None, False, initialised=state == "init")
    if broken:
        raise c.fail(broken, f"{c.name}() on {owner}, which is not on any list (its list_head is "
                     f"{state})", object="list_head", owner=owner)
    if head is not None:
        w.lists[head] = tuple(x for x in w.lists[head] if x != node)
    w.nodes[node] = "init" if c.rule["init"] else "poison"
    c.note(f"unlinks {owner}" if head is not None else f"{owner} was not listed: no-op")


@effect("init_list_head")
def init_list_head(c: Call) -> None:
    w = c.w
    node = c.arg(0)
    _touch_node(c, node, "initialises a list_head in")
    check_reinit(c.m, w, c.t, node, f"{c.name}()")
    if node in w.lists:
        w.lists[node] = ()  # a head: its old members are cut off
    head = w.list_of(node)
    if head is not None:
        w.lists[head] = tuple(x for x in w.lists[head] if x != node)
        c.m.obs.notes.add(f"{c.name}() on a linked node")
    w.nodes[node] = "init"


@effect("list_unlinked")
def list_unlinked(c: Call) -> int:
    """hlist_unhashed(): the node is on no list."""
    node = c.arg(0)
    c.alive(node, "tests a list node in")
    return int(c.w.list_of(node) is None)


@effect("list_singular")
def list_singular(c: Call) -> int:
    head = c.arg(0)
    c.alive(head, "tests a list in")
    return int(len(c.w.lists.get(head, ())) == 1)


@effect("llist", op=Param(str, choices=("add", "del_all", "del_first", "empty")))
def llist(c: Call) -> int:
    """Lock-less lists: the chain is kept in memory (node->next at offset 0, head->first at 0), as the
    iterators that follow it (llist_for_each_entry) read it."""
    w, op = c.w, c.rule["op"]
    if op == "add":
        node, head = c.arg(0), c.arg(1)
        owner = _touch_node(c, node, "links")
        broken = sem.list_add_breaks(w.nodes.get(node) == "linked", queued=False)
        if broken:
            raise c.fail(broken, f"{c.name}() links {owner}, which is already on a list",
                         object="list_head", owner=owner)
        check_access(c.m, w, c.t, head, "links onto a list in", write=True)
        c.alive(head, "links onto a list in")
        first = w.mem.get(head, 0)
        w.mem[node] = first
        w.mem[head] = node
        w.nodes[node] = "linked"
        c.note(f"pushes {owner} on the lock-less list")
        return int(first == 0)
    head = c.arg(0)
    c.alive(head, "reads a list in")
    first = w.mem.get(head, 0)
    if op == "empty":
        return int(first == 0)
    if op == "del_first":
        if first:
            w.mem[head] = w.mem.get(first, 0)
            w.nodes[first] = "garbage"
        return first
    node = first
    while node and w.nodes.get(node) == "linked":
        w.nodes[node] = "garbage"  # taken off: the chain stays readable through the returned first node
        node = w.mem.get(node, 0)
    w.mem[head] = 0
    return first


@effect("list_empty")
def list_empty(c: Call) -> int:
    w = c.w
    addr = c.arg(0)
    c.alive(addr, "tests a list in")
    if addr in w.lists:
        return int(not w.lists[addr])
    return int(w.nodes.get(addr) == "init" and w.list_of(addr) is None)


def _member_offset(c: Call) -> int | None:
    """container_of()-style arguments 1 and 2: the struct and the member the pointer is inside."""
    ty, member = c.type_arg(1), c.type_arg(2)
    if ty is None or member is None:
        c.m.obs.unresolved.add(f"{c.name}() without a type and a member name")
        return None
    return c.m.field_offset(ty, member)


@effect("list_entry", first=Param(bool, False, doc="the first entry of the list the argument heads"),
        last=Param(bool, False, doc="the last entry of the list the argument heads"),
        or_null=Param(bool, False, doc="NULL when that list is empty"))
def list_entry(c: Call) -> int:
    head = c.arg(0)
    c.alive(head, "reads a list in")
    off = _member_offset(c)
    if off is None:
        return 0
    if not (c.rule["first"] or c.rule["last"]):
        return head - off
    members = c.w.lists.get(head, ())
    if not members and c.rule["or_null"]:
        return 0
    return (members[-1 if c.rule["last"] else 0] if members else head) - off


@effect("container_of", pure=True)
def container_of(c: Call) -> int:
    off = _member_offset(c)
    return 0 if off is None else c.arg(0) - off


# ---- pages ----------------------------------------------------------------------------------
@effect("virt_to_page", pure=True)
def virt_to_page(c: Call) -> int:
    return page_of_addr(c.arg(0))


@effect("page_to_virt", pure=True)
def page_to_virt(c: Call) -> int:
    return addr_of_page(c.arg(0))


@effect("page_flag", flag=Param(str), op=Param(str, choices=("set", "clear", "test", "test_clear", "clear_set"),
                                                doc="clear_set: a destructor; the flag must be set"))
def page_flag(c: Call) -> int:
    w = c.w
    page = c.arg(0)
    c.alive(page, f"does {c.name}() on")
    flag, op = c.rule["flag"], c.rule["op"]
    cur = w.flags.get(page, frozenset())
    was = int(flag in cur)
    if op == "set":
        w.flags[page] = cur | {flag}
        c.note(f"{page_label(page)} is now {flag}")
    elif op == "clear":
        w.flags[page] = cur - {flag}
    elif op == "test_clear":
        w.flags[page] = cur - {flag}
        c.note(f"{page_label(page)} was {'' if was else 'not '}{flag}")
    elif op == "clear_set":  # a destructor: the state it tears down must be there
        if not was:
            raise c.fail("double_free", f"{c.name}() on {page_label(page)}, which is no longer {flag}: its "
                         "destructor runs twice (or without its constructor)", object=flag, owner=page_label(page))
        w.flags[page] = cur - {flag}
    return was


@effect("alloc_page", order_arg=Param(int, -1, doc="the argument holding the order (remembered for compound_order())"),
        address=Param(bool, False, doc="returns the page's address rather than its struct page"),
        fails_with=Param(str, "", doc="a model or scenario parameter under which the allocation fails"))
def alloc_page(c: Call) -> int:
    w = c.w
    fails = c.rule["fails_with"]
    if fails and c.m.program.params.get(fails):
        c.note(f"the allocation fails ({fails})")
        return 0
    n = w.next_page
    w.next_page += 1
    page = STRUCT_PAGE_BASE + n * STRUCT_PAGE_SIZE
    w.objects[page] = ("page", STRUCT_PAGE_SIZE, True, f"page#{n}", "")
    w.mem[page + c.m.role_offset("page_refcount")] = 1
    w.nodes[page + c.m.role_offset("page_list")] = "garbage"
    if c.rule["order_arg"] >= 0:
        order = c.arg(c.rule["order_arg"])
        if order:
            w.flags[page] = frozenset({f"order:{order}"})
    c.note(f"allocates page#{n}")
    return addr_of_page(page) if c.rule["address"] else page


@effect("page_order")
def page_order(c: Call) -> int:
    for f in c.w.flags.get(c.arg(0), frozenset()):
        if f.startswith("order:"):
            return int(f[6:])
    return 0


@effect("page_ctor", pure=True, split_lock=Param(bool, True, doc="the constructor allocates a split page-table lock"))
def page_ctor(c: Call) -> int:
    page = c.arg(0)
    made = {"pgtable", "ptlock"} if c.rule["split_lock"] else {"pgtable"}
    c.w.flags[page] = c.w.flags.get(page, frozenset()) | made  # undone by exactly one dtor
    return 1


def in_grace(w: World, need: int) -> bool:
    """A retired table's grace is still running. need > 0: until that many grace periods are done
    (RCU walkers); need < 0: only IRQ-off walkers, until -need grace periods or an IPI to every CPU
    (which sets it to 0)."""
    return sem.in_grace(w.rcu, abs(need))


def _grace_tables_on(w: World, page: int, lockers_only: bool = False) -> list[int]:
    """Tables on the page still in their grace period; lockers_only: only those that walkers
    under rcu_read_lock() may be inside, the ones that take the table's lock (IRQ-off walkers
    such as GUP-fast never do)."""
    lo = addr_of_page(page)
    return [tab for tab, need in w.grace.items()
            if lo <= tab < lo + PAGE_FRAME and in_grace(w, need) and (need > 0 or not lockers_only)]


@effect("page_dtor")
def page_dtor(c: Call) -> None:
    page = c.arg(0)
    c.alive(page, f"runs {c.name}() on")
    cur = c.w.flags.get(page, frozenset())
    if "pgtable" not in cur:
        raise c.fail("double_free", f"{c.name}() on {page_label(page)}, which is no longer a page table: its "
                     "destructor runs twice (or without its constructor)", object="pgtable", owner=page_label(page))
    c.w.flags[page] = cur - {"pgtable", "ptlock"}
    pending = _grace_tables_on(c.w, page, lockers_only=True)
    if pending:
        # Soft: the lock is gone, but whether the page itself then goes too early is worth knowing.
        c.soft("ptlock_freed_in_grace", f"{c.name}() frees {page_label(page)}'s page-table lock before the "
               f"grace period of {table_label(pending[0])} ends", object="ptlock", owner=page_label(page))


def free_checked(c: Call, page: int, flags_checked: tuple[str, ...]) -> None:
    """Return a page to the allocator, with the checks every free of a page makes."""
    w = c.w
    hit = w.objects.get(page)
    label = page_label(page)
    if hit is None:
        c.m.obs.notes.add(f"{c.name}() of memory the model did not allocate")
        return
    link = page + c.m.role_offset("page_list")
    linked, queued = w.list_of(link) is not None, w.nodes.get(link) == "rcu"
    broken = sem.free_breaks(hit[2], linked, queued)
    if broken == "double_free":
        raise c.fail(broken, f"{c.name}() frees {label} a second time", object="page", owner=label)
    pending = _grace_tables_on(w, page)
    if pending:
        raise c.fail("table_freed_in_grace", f"{c.name}() frees {label} while lockless readers may still be "
                     f"inside {table_label(pending[0])} (its grace period has not ended)", object="table",
                     owner=label)
    if broken:
        why = "it is still on a list" if linked else "its rcu_head is still queued"
        raise c.fail(broken, f"{c.name}() frees {label} while {why}", object="page", owner=label, freed_by="direct")
    left = set(flags_checked) & w.flags.get(page, frozenset())
    if left:
        flag = "ptlock" if "ptlock" in left else sorted(left)[0]
        what = {"ptlock": "without its page-table destructor: its split lock is never freed",
                "pgtable": "without its page-table destructor: it stays counted in NR_PAGETABLE"}.get(
                    flag, f"with PG_{flag} still set (bad page state)")
        raise c.fail("flag_set_at_free", f"{c.name}() frees {label} {what}", object="page", owner=label, flag=flag)
    w.objects[page] = (hit[0], hit[1], False, hit[3], sem.freed_by(c.t.ctx))
    c.note(f"frees {label}")


_FLAGS_AT_FREE = Param(tuple, (), doc="page flags that must be clear when the page is freed")


@effect("free_page", flags_checked_at_free=_FLAGS_AT_FREE,
        after_ipi=Param(bool, False, doc="an IPI reaches every CPU before the free (a TLB flush's)"),
        page_arg=Param(int, 0, doc="the argument holding the page (tlb_remove_page(tlb, page))"))
def free_page(c: Call) -> None:
    page = c.arg(c.rule["page_arg"])
    if c.rule["after_ipi"]:
        lo = addr_of_page(page)
        for tab, need in list(c.w.grace.items()):
            if need < 0 and lo <= tab < lo + PAGE_FRAME:
                c.w.grace[tab] = 0  # the flush's IPI has reached every CPU first
    free_checked(c, page, c.rule["flags_checked_at_free"])


@effect("free_pages_addr", flags_checked_at_free=_FLAGS_AT_FREE)
def free_pages_addr(c: Call) -> None:
    free_checked(c, page_of_addr(c.arg(0)), c.rule["flags_checked_at_free"])


def check_table_write(m: MachineAPI, w: World, t: Thread, addr: int, what: str) -> None:
    """Nothing may write into a retired table before its grace period ends: readers still walk it."""
    size = m.table_size
    for tab, need in w.grace.items():
        if tab <= addr < tab + size and in_grace(w, need):
            base = {"ctx": t.ctx, "function": t.frames[-1].fn if t.frames else "", "at": m.where(t),
                    "object": "table", "owner": table_label(tab)}
            raise Abort(Violation("table_written_in_grace",
                                  f"{what} writes into {table_label(tab)} before its grace period ends",
                                  tuple(sorted(base.items()))))


@effect("memset")
def memset(c: Call) -> None:
    addr = c.arg(0)
    c.alive(addr, "writes into")
    check_table_write(c.m, c.w, c.t, addr, f"{c.name}()")


@effect("tlb_remove_table", callback=Param(str, doc="the function the batch runs after a grace period"))
def tlb_remove_table(c: Call) -> None:
    w = c.w
    table = c.arg(1 if len(c.args) > 1 else 0)
    # The batch has no rcu_head in the page: key the queued entry by the (negated) table value.
    w.rcu = sem.call_rcu(w.rcu, -table, c.rule["callback"], c.t.cpu, table)
    c.note(f"batches {table_label(table & ~3)} for {c.rule['callback']}() after a grace period")


# ---- slab objects a page-table page owns (the objects themselves: bot.cmodel.effects_slab) -----
def slab_owner(m: MachineAPI, w: World, obj: int, field: str) -> int | None:
    """The page whose `field` ("struct ptdesc.ptl") points at obj: the page-table page owning it (a
    live one before a freed page whose stale field still points at the object, handed out again)."""
    struct, _, member = field.rpartition(".")
    off = m.field_offset(struct, member)
    stale = None
    for base, o in w.objects.items():
        if o[0] == "page" and w.mem.get(base + off) == obj:
            if o[2]:
                return base
            stale = base if stale is None else stale
    return stale


def check_owner_in_grace(c: Call, obj: int, name: str, field: str) -> None:
    """A slab object a page-table page owns (its split lock) freed while walkers that take the
    table's lock may still be inside one of its tables: soft, exploration goes on."""
    owner = slab_owner(c.m, c.w, obj, field)
    if owner is None:
        return
    pending = _grace_tables_on(c.w, owner, lockers_only=True)
    if pending:
        c.soft("ptlock_freed_in_grace", f"{c.name}() frees {page_label(owner)}'s {name} before the grace "
               f"period of {table_label(pending[0])} ends", object="ptlock", owner=page_label(owner))


# ---- mm lifetime ----------------------------------------------------------------------------
@effect("new_mm", list_heads=Param(tuple, doc="list heads in struct mm_struct (member paths) set up empty"),
        init=Param(str, "", doc="the architecture's hook a new mm runs, init(tsk, mm), when the code defines it"))
def new_mm(c: Call) -> int:
    w = c.w
    n = w.next_mm
    w.next_mm += 1
    mm = MM_BASE + n * MM_SIZE
    w.objects[mm] = ("mm", MM_SIZE, True, f"mm#{n}", "")
    w.mem[mm + c.m.role_offset("mm_count")] = 1
    struct = c.m.layout.role("mm_count")[0]
    for path in c.rule["list_heads"]:
        head = mm + c.m.field_offset(struct, path)
        w.lists[head] = ()
        w.nodes[head] = "init"
    if c.rule["init"] and c.m.has_function(c.rule["init"]):
        c.call_after(c.rule["init"], [0, mm])
    return mm


@effect("mm_get")
def mm_get(c: Call) -> None:
    mm = c.arg(0)
    c.alive(mm, "pins")
    count = mm + c.m.role_offset("mm_count")
    c.w.mem[count] = c.w.mem.get(count, 0) + 1
    c.note(f"{obj_name(c.w, mm)}.mm_count -> {c.w.mem[count]}")


def _mm_dec(c: Call, mm: int) -> bool:
    c.alive(mm, "drops a reference to")
    count = mm + c.m.role_offset("mm_count")
    cnt = c.w.mem.get(count, 0) - 1
    c.w.mem[count] = cnt
    c.note(f"{obj_name(c.w, mm)}.mm_count -> {cnt}")
    return cnt == 0


def _mm_free(c: Call, mm: int, forbid_ctx: tuple[str, ...]) -> None:
    w, t = c.w, c.t
    if sem.forbidden_in(t.ctx, forbid_ctx):
        raise c.fail("final_mmdrop_in_softirq", f"the final mmdrop runs __mmdrop() for {obj_name(w, mm)} in "
                     f"{t.ctx} context", object="mm", owner=obj_name(w, mm))
    hit = w.objects.get(mm)
    if hit is None:
        return
    if not hit[2]:
        raise c.fail("double_free", f"{obj_name(w, mm)} is freed twice", object="mm")
    w.objects[mm] = (hit[0], hit[1], False, hit[3], sem.freed_by(t.ctx))
    c.event(f"__mmdrop() frees {hit[3]}")


@effect("mm_put", release=Param(str, doc="what the final reference drop runs: the model's function of that "
                                         "name (its teardown), else the primitive"))
def mm_put(c: Call) -> None:
    mm = c.arg(0)
    if _mm_dec(c, mm):
        release = c.rule["release"]
        if c.m.has_function(release):
            c.call_after(release, [mm])  # __mmdrop() as the model states it: destroy_context(), then free_mm()
        else:
            _mm_free(c, mm, c.m.prims[release]["forbid_ctx"])


@effect("mm_put_async", release=Param(str, doc="the primitive the final reference drop queues as work"))
def mm_put_async(c: Call) -> None:
    mm = c.arg(0)
    if _mm_dec(c, mm):
        release = c.rule["release"]
        c.w.work = c.w.work + ((release, mm),)
        c.event(f"queues {release}({obj_name(c.w, mm)}) on a workqueue")


@effect("mm_free", forbid_ctx=Param(tuple, (), doc="contexts the final free must never run in"))
def mm_free(c: Call) -> None:
    _mm_free(c, c.arg(0), c.rule["forbid_ctx"])


# ---- scenario contract ----------------------------------------------------------------------
@effect("retire_table", readers=Param(str, "rcu", choices=("rcu", "irq"),
                                     doc="irq: only IRQ-off walkers (GUP-fast) may still be inside the table"))
def retire_table(c: Call) -> None:
    tab = c.arg(0)
    if c.rule["readers"] == "irq":
        c.w.grace[tab] = -sem.need_for_new_request(c.w.rcu)
        c.note(f"pmd cleared: IRQ-off walkers may still be inside {table_label(tab)} until an IPI reaches "
               "every CPU or a grace period ends")
        return
    c.w.grace[tab] = sem.need_for_new_request(c.w.rcu)
    c.note(f"pmd cleared: readers may still walk {table_label(tab)} until a grace period ends")


@effect("ipi_sync")
def ipi_sync(c: Call) -> None:
    """Every other CPU has taken an interrupt: none is still inside an IRQ-off walk it began before."""
    done = [tab for tab, need in c.w.grace.items() if need < 0 and in_grace(c.w, need)]
    for tab in done:
        c.w.grace[tab] = 0
    c.note("every CPU has taken the interrupt" + (
        f": IRQ-off walkers have left {', '.join(table_label(x) for x in done)}" if done else ""))


@effect("claim_table")
def claim_table(c: Call) -> None:
    tab = c.arg(0)
    if not tab:
        return
    c.alive(tab, "fills")
    need = c.w.grace.get(tab)
    if need is not None and in_grace(c.w, need):
        raise c.fail("table_reused_in_grace", f"{table_label(tab)} is handed out again before the grace period "
                     "of its deferred free has ended", object="table", owner=table_label(tab))
    c.note(f"fills {table_label(tab)} with new entries")


@effect("new_gather")
def new_gather(c: Call) -> int:
    w = c.w
    first = GLOBAL_BASE + 0x10000
    base = first + sum(1 for o in w.objects.values() if o[0] == "mmu_gather") * GLOBAL_SIZE
    w.objects[base] = ("mmu_gather", GLOBAL_SIZE, True, "tlb", "")
    w.mem[base + c.m.role_offset("gather_mm")] = c.arg(0)
    return base


# ---- plain values ---------------------------------------------------------------------------
@effect("opaque", pure=True)
def opaque(c: Call) -> int:
    """rules/opaque.toml: the interpreter runs these as it runs unknown calls (bot.cmodel.machine)."""
    return 0


@effect("model_param", pure=True, param=Param(str, "", doc="the model parameter (default: the primitive's name)"))
def model_param(c: Call) -> int:
    return int(c.m.program.params.get(c.rule["param"] or c.name, 0))


@effect("field", op=Param(str, choices=("load", "store")), val_arg=Param(int, 1),
        member=Param(str, doc="the member (\"mm_context_t.pte_frag\") of what argument 0 points to"))
def field(c: Call) -> int:
    """An accessor of one member: pte_frag_get(&mm->context) reads it, pte_frag_set() writes it."""
    struct, _, path = c.rule["member"].rpartition(".")
    addr = c.arg(0) + c.m.field_offset(struct, path)
    c.alive(addr, f"{'reads' if c.rule['op'] == 'load' else 'writes'} {path} of")
    if c.rule["op"] == "load":
        return c.w.mem.get(addr, 0)
    val = c.arg(c.rule["val_arg"])
    c.w.mem[addr] = val
    return val


@effect("assign")
def assign(c: Call) -> int:
    """WRITE_ONCE(x, v), rcu_assign_pointer(p, v): the store x = v."""
    val = c.arg(1)
    if c.args:
        c.m.store(c.w, c.t, c.args[0], val)
    return val


@effect("passthrough", pure=True)
def passthrough(c: Call) -> int:
    return c.arg(0)


@effect("const", pure=True, value=Param(int, 0))
def const(c: Call) -> int:
    return c.rule["value"]


@effect("nop", pure=True)
def nop(c: Call) -> int:
    return 0


@effect("faults")
def faults(c: Call) -> None:
    """Scenario: from here on, up to N calls that may fail (rules/primitives.toml `may_fail`) fail on
    some path: each such call is explored failing and succeeding while the budget lasts."""
    c.w.faults = max(0, c.arg(0))
    c.note(f"up to {c.w.faults} allocation(s) may fail from here on")
