"""One implementation per effect kind named in rules/primitives.toml.

An effect gets the machine, the world, the running thread, its rule table, the call's name and
call-free argument expressions. It returns the call's value (or None) and raises Abort with a
Violation when the call breaks an invariant. Violation kinds are the simulator's shared vocabulary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cmodel.effect_api import Param, effect
from bot.cmodel.world import (
    FN_BASE,
    MM_BASE,
    MM_SIZE,
    STRUCT_PAGE_BASE,
    STRUCT_PAGE_SIZE,
    Thread,
    World,
    addr_of_page,
    page_index,
    page_of_addr,
)
from bot.sim.core import Event, Violation

if TYPE_CHECKING:
    from bot.cmodel.machine import Machine


class Abort(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.detail)
        self.violation = violation


def _arg(m: Machine, w: World, t: Thread, args: list, i: int) -> int:
    return m.eval(w, t, args[i]) if i < len(args) else 0


def _note(m: Machine, t: Thread, line: int, events: list[Event], what: str) -> None:
    f = t.frames[-1]
    src = m._src(f.fn, line)
    events.append(Event(t.name, f"{src}  [{what}]" if src else what, m._where_at(f.fn, line)))


def _violation(m: Machine, t: Thread, kind: str, detail: str, **attrs: str) -> Abort:
    base = {"ctx": t.ctx, "function": t.frames[-1].fn if t.frames else "", "at": m._where(t)}
    base.update(attrs)
    return Abort(Violation(kind, detail, tuple(sorted(base.items()))))


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


def _in_atomic(t: Thread) -> str:
    if t.ctx == "softirq":
        return "softirq"
    if t.locks:
        return "spinlock held"
    if t.bh:
        return "softirqs disabled"
    if t.rcu:
        return "rcu_read_lock held"
    return ""


# ---- RCU ------------------------------------------------------------------------------------
@effect("rcu_queue")
def rcu_queue(m, w, t, rule, name, args, line, events, violations):
    head = _arg(m, w, t, args, 0)
    fn_addr = _arg(m, w, t, args, 1)
    fn = m.fn_names[fn_addr - FN_BASE] if 0 <= fn_addr - FN_BASE < len(m.fn_names) else "?"
    m.check_alive(w, t, head, "queues the rcu_head of")
    owner = obj_name(w, head)
    if any(c[0] == head for c in w.cbs):
        raise _violation(m, t, "rcu_head_requeued",
                         f"{name}() on {owner}'s rcu_head while it is still queued for a callback",
                         object="rcu_head", owner=owner)
    listed = w.list_of(head)
    if listed is not None:
        raise _violation(m, t, "rcu_head_overlays_list",
                         f"{name}() on {owner}'s rcu_head while the same memory links {owner} on a list",
                         object="rcu_head", owner=owner)
    cpu = t.cpu if t.cpu >= 0 else 0
    w.cbs = w.cbs + ((head, fn, cpu, w.gp_started + 1),)
    w.nodes[head] = "rcu"
    _note(m, t, line, events, f"queues {owner}'s rcu_head for {fn}() after a grace period")
    return None


def _enter_reader(t: Thread) -> None:
    if not t.reader:
        t.rsec += 1


@effect("rcu_read_lock")
def rcu_read_lock(m, w, t, rule, name, args, line, events, violations):
    _enter_reader(t)
    t.rcu += 1
    _note(m, t, line, events, "enters an RCU read-side section")
    return None


@effect("rcu_read_unlock")
def rcu_read_unlock(m, w, t, rule, name, args, line, events, violations):
    t.rcu = max(0, t.rcu - 1)
    _note(m, t, line, events, "leaves the RCU read-side section")
    return None


def check_may_sleep(m, t, name) -> None:
    why = _in_atomic(t)
    if why:
        raise _violation(m, t, "sleep_in_atomic", f"{name}() may sleep but runs in atomic context ({why})",
                         call=name, atomic=why)


@effect("synchronize_rcu")
def synchronize_rcu(m, w, t, rule, name, args, line, events, violations):
    t.wait_gp = w.gp_started + 1
    _note(m, t, line, events, "sleeps until a full grace period has elapsed")
    return None


@effect("rcu_barrier")
def rcu_barrier(m, w, t, rule, name, args, line, events, violations):
    t.wait_gp = -1
    _note(m, t, line, events, "waits for every queued RCU callback to run")
    return None


# ---- locks ----------------------------------------------------------------------------------
@effect("lock", bh=Param(bool, False, doc="the lock also disables softirqs (and so is an RCU reader)"))
def lock(m, w, t, rule, name, args, line, events, violations):
    addr = _arg(m, w, t, args, 0)
    m.check_alive(w, t, addr, "locks a spinlock in")
    bh = rule["bh"]
    w.locks[addr] = (t.name, bh)
    t.locks = t.locks + (addr,)
    if bh:
        _enter_reader(t)
        t.bh += 1
    lname = m._lock_name(addr)
    if addr in m.lock_addrs.values():
        m._check_costs(t, name, "lock", "global")
    _note(m, t, line, events, f"takes {lname}" + (" (softirqs off)" if bh else " (softirqs on)"))
    return None


@effect("unlock")
def unlock(m, w, t, rule, name, args, line, events, violations):
    addr = _arg(m, w, t, args, 0)
    held = w.locks.pop(addr, None)
    if held is not None:
        t.locks = tuple(x for x in t.locks if x != addr)
        if held[1]:
            t.bh = max(0, t.bh - 1)
    _note(m, t, line, events, f"releases {m._lock_name(addr)}")
    return None


@effect("bh_disable")
def bh_disable(m, w, t, rule, name, args, line, events, violations):
    _enter_reader(t)
    t.bh += 1
    return None


@effect("bh_enable")
def bh_enable(m, w, t, rule, name, args, line, events, violations):
    t.bh = max(0, t.bh - 1)
    return None


# ---- atomics --------------------------------------------------------------------------------
@effect("atomic", op=Param(str, choices=("xor", "add", "sub", "store", "load")), ptr_arg=Param(int, 0), val_arg=Param(int, 1),
        const=Param(int, None, doc="the operand, when it is not an argument"),
        returns=Param(str, "new", choices=("new", "old", "zero", "none")))
def atomic(m, w, t, rule, name, args, line, events, violations):
    ptr = _arg(m, w, t, args, rule["ptr_arg"])
    val = rule["const"] if rule["const"] is not None else _arg(m, w, t, args, rule["val_arg"])
    m.check_alive(w, t, ptr, f"does {name}() on")
    old = w.mem.get(ptr, 0)
    op = rule["op"]
    new = {"xor": old ^ val, "add": old + val, "sub": old - val, "store": val, "load": old}[op]
    new &= 0xFFFF_FFFF
    if new & 0x8000_0000:
        new -= 1 << 32
    if op != "load":
        w.mem[ptr] = new
    ret = rule["returns"]
    if op != "load":
        _note(m, t, line, events, f"{old & 0xFFFFFFFF:#x} -> {new & 0xFFFFFFFF:#x}")
    if ret == "new":
        return new
    if ret == "old":
        return old
    if ret == "zero":
        return int(new == 0)
    return None


# ---- lists ----------------------------------------------------------------------------------
def _touch_node(m, w: World, t: Thread, node: int, name: str, verb: str) -> str:
    """Checks shared by every write to a list_head; returns the owning object's name."""
    m.check_alive(w, t, node, verb)
    check_table_write(m, w, t, node, f"{name}()")
    owner = obj_name(w, node)
    if w.nodes.get(node) == "rcu":
        raise _violation(m, t, "rcu_head_overlays_list",
                         f"{name}() writes {owner}'s list_head, which is the memory of its queued rcu_head",
                         object="rcu_head", owner=owner)
    return owner


@effect("list_add", where=Param(str, "tail", choices=("head", "tail")))
def list_add(m, w, t, rule, name, args, line, events, violations):
    node = _arg(m, w, t, args, 0)
    head = _arg(m, w, t, args, 1)
    owner = _touch_node(m, w, t, node, name, "links")
    m.check_alive(w, t, head, "links onto a list in")
    if w.list_of(node) is not None:
        raise _violation(m, t, "list_double_add", f"{name}() links {owner}, which is already on a list",
                         object="list_head", owner=owner)
    members = w.lists.get(head, ())
    w.lists[head] = (node,) + members if rule["where"] == "head" else members + (node,)
    w.nodes[node] = "linked"
    _note(m, t, line, events, f"links {owner} on the list")
    return None


@effect("list_del", init=Param(bool, False, doc="the node is left initialised (list_del_init), not poisoned"))
def list_del(m, w, t, rule, name, args, line, events, violations):
    node = _arg(m, w, t, args, 0)
    owner = _touch_node(m, w, t, node, name, "unlinks")
    head = w.list_of(node)
    state = w.nodes.get(node, "garbage")
    if head is None and state != "init":
        raise _violation(m, t, "list_del_unlinked",
                         f"{name}() on {owner}, which is not on any list (its list_head is {state})",
                         object="list_head", owner=owner)
    if head is not None:
        w.lists[head] = tuple(x for x in w.lists[head] if x != node)
    w.nodes[node] = "init" if rule["init"] else "poison"
    _note(m, t, line, events, f"unlinks {owner}" if head is not None else f"{owner} was not listed: no-op")
    return None


@effect("init_list_head")
def init_list_head(m, w, t, rule, name, args, line, events, violations):
    node = _arg(m, w, t, args, 0)
    _touch_node(m, w, t, node, name, "initialises a list_head in")
    head = w.list_of(node)
    if head is not None:
        w.lists[head] = tuple(x for x in w.lists[head] if x != node)
        m.obs.notes.add(f"{name}() on a linked node")
    w.nodes[node] = "init"
    return None


@effect("list_empty")
def list_empty(m, w, t, rule, name, args, line, events, violations):
    addr = _arg(m, w, t, args, 0)
    m.check_alive(w, t, addr, "tests a list in")
    if addr in w.lists:
        return int(not w.lists[addr])
    return int(w.nodes.get(addr) == "init" and w.list_of(addr) is None)


@effect("list_entry", first=Param(bool, False, doc="the first entry of the list the argument heads (list_first_entry)"))
def list_entry(m, w, t, rule, name, args, line, events, violations):
    head = _arg(m, w, t, args, 0)
    m.check_alive(w, t, head, "reads a list in")
    ty = args[1][1] if len(args) > 1 else "struct page"
    member = args[2][1] if len(args) > 2 else "lru"
    off = m.field_info(ty, member)[0]
    if not rule["first"]:
        return head - off
    members = w.lists.get(head, ())
    return (members[0] if members else head) - off


@effect("container_of", pure=True)
def container_of(m, w, t, rule, name, args, line, events, violations):
    ptr = _arg(m, w, t, args, 0)
    ty = args[1][1] if len(args) > 1 else "struct page"
    member = args[2][1] if len(args) > 2 else "rcu_head"
    return ptr - m.field_info(ty, member)[0]


# ---- pages ----------------------------------------------------------------------------------
@effect("virt_to_page", pure=True)
def virt_to_page(m, w, t, rule, name, args, line, events, violations):
    return page_of_addr(_arg(m, w, t, args, 0))


@effect("page_to_virt", pure=True)
def page_to_virt(m, w, t, rule, name, args, line, events, violations):
    return addr_of_page(_arg(m, w, t, args, 0))


@effect("page_flag", flag=Param(str), op=Param(str, choices=("set", "clear", "test", "test_clear")))
def page_flag(m, w, t, rule, name, args, line, events, violations):
    page = _arg(m, w, t, args, 0)
    m.check_alive(w, t, page, f"does {name}() on")
    flag = rule["flag"]
    cur = w.flags.get(page, frozenset())
    op = rule["op"]
    was = int(flag in cur)
    if op == "set":
        w.flags[page] = cur | {flag}
        _note(m, t, line, events, f"{page_label(page)} is now {flag}")
    elif op == "clear":
        w.flags[page] = cur - {flag}
    elif op == "test_clear":
        w.flags[page] = cur - {flag}
        _note(m, t, line, events, f"{page_label(page)} was {'' if was else 'not '}{flag}")
    return was


@effect("alloc_page")
def alloc_page(m, w, t, rule, name, args, line, events, violations):
    n = w.next_page
    w.next_page += 1
    page = STRUCT_PAGE_BASE + n * STRUCT_PAGE_SIZE
    w.objects[page] = ("page", STRUCT_PAGE_SIZE, True, f"page#{n}", "")
    w.mem[page + m.field_info("struct page", "_refcount")[0]] = 1
    w.nodes[page + m.field_info("struct page", "lru")[0]] = "garbage"
    _note(m, t, line, events, f"allocates page#{n}")
    return page


@effect("page_ctor", pure=True)
def page_ctor(m, w, t, rule, name, args, line, events, violations):
    return 1


def _grace_tables_on(w: World, page: int) -> list[int]:
    lo = addr_of_page(page)
    return [tab for tab, need in w.grace.items() if lo <= tab < lo + 4096 and w.gp_done < need]


@effect("page_dtor")
def page_dtor(m, w, t, rule, name, args, line, events, violations):
    page = _arg(m, w, t, args, 0)
    m.check_alive(w, t, page, f"runs {name}() on")
    pending = _grace_tables_on(w, page)
    if pending:
        # Soft: the lock is gone, but whether the page itself then goes too early is worth knowing.
        v = _violation(m, t, "ptlock_freed_in_grace",
                       f"{name}() frees {page_label(page)}'s page-table lock before the grace period of "
                       f"{table_label(pending[0])} ends", object="ptlock", owner=page_label(page), soft="1")
        violations.append(v.violation)
        _note(m, t, line, events, v.violation.detail)
    return None


def _free_page(m, w, t, page, name, line, events) -> None:
    hit = w.objects.get(page)
    label = page_label(page)
    if hit is None:
        m.obs.notes.add(f"{name}() of memory the model did not allocate")
        return
    if not hit[2]:
        raise _violation(m, t, "double_free", f"{name}() frees {label} a second time", object="page",
                         owner=label)
    pending = _grace_tables_on(w, page)
    if pending:
        raise _violation(m, t, "table_freed_in_grace",
                         f"{name}() frees {label} while lockless readers may still be inside "
                         f"{table_label(pending[0])} (its grace period has not ended)", object="table",
                         owner=label)
    lru = page + m.field_info("struct page", "lru")[0]
    if w.list_of(lru) is not None:
        raise _violation(m, t, "use_after_free", f"{name}() frees {label} while it is still on a list",
                         object="page", owner=label, freed_by="direct")
    if w.nodes.get(lru) == "rcu":
        raise _violation(m, t, "use_after_free",
                         f"{name}() frees {label} while its rcu_head is still queued", object="page",
                         owner=label, freed_by="direct")
    checked = set(m.prims[name]["flags_checked_at_free"])
    left = checked & w.flags.get(page, frozenset())
    if left:
        raise _violation(m, t, "flag_set_at_free",
                         f"{name}() frees {label} with PG_{sorted(left)[0]} still set (bad page state)",
                         object="page", owner=label)
    freed_by = {"softirq": "call_rcu", "workqueue": "workqueue"}.get(t.ctx, "direct")
    w.objects[page] = (hit[0], hit[1], False, hit[3], freed_by)
    _note(m, t, line, events, f"frees {label}")


@effect("free_page", flags_checked_at_free=Param(tuple, ()))
def free_page(m, w, t, rule, name, args, line, events, violations):
    _free_page(m, w, t, _arg(m, w, t, args, 0), name, line, events)
    return None


@effect("free_pages_addr", flags_checked_at_free=Param(tuple, ()))
def free_pages_addr(m, w, t, rule, name, args, line, events, violations):
    _free_page(m, w, t, page_of_addr(_arg(m, w, t, args, 0)), name, line, events)
    return None


def check_table_write(m, w: World, t: Thread, addr: int, what: str) -> None:
    """Nothing may write into a retired table before its grace period ends: readers still walk it."""
    size = m.table_size
    for tab, need in w.grace.items():
        if tab <= addr < tab + size and w.gp_done < need:
            raise _violation(m, t, "table_written_in_grace",
                             f"{what} writes into {table_label(tab)} before its grace period ends",
                             object="table", owner=table_label(tab))


@effect("memset")
def memset(m, w, t, rule, name, args, line, events, violations):
    addr = _arg(m, w, t, args, 0)
    m.check_alive(w, t, addr, "writes into")
    check_table_write(m, w, t, addr, f"{name}()")
    return None


@effect("tlb_remove_table", callback=Param(str, doc="the function the batch runs after a grace period"))
def tlb_remove_table(m, w, t, rule, name, args, line, events, violations):
    table = _arg(m, w, t, args, 1 if len(args) > 1 else 0)
    cpu = t.cpu if t.cpu >= 0 else 0
    # The batch has no rcu_head in the page: key the queued entry by the (negated) table value.
    w.cbs = w.cbs + ((-table, rule["callback"], cpu, w.gp_started + 1),)
    _note(m, t, line, events, f"batches {table_label(table & ~3)} for {rule['callback']}() after a grace period")
    return None


# ---- mm lifetime ----------------------------------------------------------------------------
def _mm_count(m) -> int:
    return m.field_info("struct mm_struct", "mm_count")[0]


@effect("new_mm", list_heads=Param(tuple, doc="list heads of mm_context_t initialised empty"))
def new_mm(m, w, t, rule, name, args, line, events, violations):
    n = w.next_mm
    w.next_mm += 1
    mm = MM_BASE + n * MM_SIZE
    w.objects[mm] = ("mm", MM_SIZE, True, f"mm#{n}", "")
    w.mem[mm + _mm_count(m)] = 1
    ctx = m.field_info("struct mm_struct", "context")[0]
    for member in rule["list_heads"]:
        head = mm + ctx + m.field_info("mm_context_t", member)[0]
        w.lists[head] = ()
        w.nodes[head] = "init"
    return mm


@effect("mm_get")
def mm_get(m, w, t, rule, name, args, line, events, violations):
    mm = _arg(m, w, t, args, 0)
    m.check_alive(w, t, mm, "pins")
    w.mem[mm + _mm_count(m)] = w.mem.get(mm + _mm_count(m), 0) + 1
    _note(m, t, line, events, f"{obj_name(w, mm)}.mm_count -> {w.mem[mm + _mm_count(m)]}")
    return None


def _mm_dec(m, w, t, mm, name, line, events) -> bool:
    m.check_alive(w, t, mm, "drops a reference to")
    cnt = w.mem.get(mm + _mm_count(m), 0) - 1
    w.mem[mm + _mm_count(m)] = cnt
    _note(m, t, line, events, f"{obj_name(w, mm)}.mm_count -> {cnt}")
    return cnt == 0


def _mm_free(m, w, t, mm, line, events, rule) -> None:
    if t.ctx in rule["forbid_ctx"]:
        raise _violation(m, t, "final_mmdrop_in_softirq",
                         f"the final mmdrop runs __mmdrop() for {obj_name(w, mm)} in {t.ctx} context",
                         object="mm", owner=obj_name(w, mm))
    hit = w.objects.get(mm)
    if hit is None:
        return
    if not hit[2]:
        raise _violation(m, t, "double_free", f"{obj_name(w, mm)} is freed twice", object="mm")
    freed_by = {"softirq": "call_rcu", "workqueue": "workqueue"}.get(t.ctx, "direct")
    w.objects[mm] = (hit[0], hit[1], False, hit[3], freed_by)
    events.append(Event(t.name, f"__mmdrop() frees {hit[3]}", m._where(t)))


@effect("mm_put", release=Param(str, doc="the primitive the final reference drop runs"))
def mm_put(m, w, t, rule, name, args, line, events, violations):
    mm = _arg(m, w, t, args, 0)
    if _mm_dec(m, w, t, mm, name, line, events):
        _mm_free(m, w, t, mm, line, events, m.prims[rule["release"]])
    return None


@effect("mm_put_async", release=Param(str, doc="the primitive the final reference drop queues as work"))
def mm_put_async(m, w, t, rule, name, args, line, events, violations):
    mm = _arg(m, w, t, args, 0)
    if _mm_dec(m, w, t, mm, name, line, events):
        w.work = w.work + ((rule["release"], mm),)
        events.append(Event(t.name, f"queues {rule['release']}({obj_name(w, mm)}) on a workqueue", m._where(t)))
    return None


@effect("mm_free", forbid_ctx=Param(tuple, ()))
def mm_free(m, w, t, rule, name, args, line, events, violations):
    _mm_free(m, w, t, _arg(m, w, t, args, 0), line, events, rule)
    return None


# ---- scenario contract ----------------------------------------------------------------------
@effect("retire_table")
def retire_table(m, w, t, rule, name, args, line, events, violations):
    tab = _arg(m, w, t, args, 0)
    w.grace[tab] = w.gp_started + 1
    _note(m, t, line, events, f"pmd cleared: readers may still walk {table_label(tab)} until a grace period ends")
    return None


@effect("claim_table")
def claim_table(m, w, t, rule, name, args, line, events, violations):
    tab = _arg(m, w, t, args, 0)
    if not tab:
        return None
    m.check_alive(w, t, tab, "fills")
    need = w.grace.get(tab)
    if need is not None and w.gp_done < need:
        raise _violation(m, t, "table_reused_in_grace",
                         f"{table_label(tab)} is handed out again before the grace period of its deferred "
                         f"free has ended", object="table", owner=table_label(tab))
    _note(m, t, line, events, f"fills {table_label(tab)} with new entries")
    return None


# ---- plain values ---------------------------------------------------------------------------
@effect("model_param", pure=True, param=Param(str, "", doc="the model parameter (default: the primitive's name)"))
def model_param(m, w, t, rule, name, args, line, events, violations):
    return int(m.program.params.get(rule["param"] or name, 0))


@effect("passthrough", pure=True)
def passthrough(m, w, t, rule, name, args, line, events, violations):
    return _arg(m, w, t, args, 0)


@effect("const", pure=True, value=Param(int, 0))
def const(m, w, t, rule, name, args, line, events, violations):
    return rule["value"]


@effect("nop", pure=True)
def nop(m, w, t, rule, name, args, line, events, violations):
    return 0


@effect("new_gather")
def new_gather(m, w, t, rule, name, args, line, events, violations):
    from bot.cmodel.world import GLOBAL_BASE, GLOBAL_SIZE
    base = GLOBAL_BASE + 0x10000 + len([b for b in w.objects if b >= GLOBAL_BASE + 0x10000]) * GLOBAL_SIZE
    w.objects[base] = ("mmu_gather", GLOBAL_SIZE, True, "tlb", "")
    w.mem[base + m.field_info("struct mmu_gather", "mm")[0]] = _arg(m, w, t, args, 0)
    return base
