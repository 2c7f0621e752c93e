"""Atomic words: atomic_t / atomic_long_t / atomic64_t / refcount_t arithmetic, compare-and-exchange,
conditional updates, bit operations, and the page and folio reference counts built on them.

The model is sequentially consistent, so the _relaxed/_acquire/_release orderings of a family are
the same effect; what differs between members is the operation, its operand, the width and what the
call returns (rules/families.toml). A reference count that reaches zero may free its page
(put_page(), folio_put()) with the same checks as any other free of a page.
"""

from __future__ import annotations

from bot.cmodel.effect_api import Call, Param, effect
from bot.cmodel.effects import free_checked

_OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "xor": lambda a, b: a ^ b,
        "and": lambda a, b: a & b, "or": lambda a, b: a | b, "andnot": lambda a, b: a & ~b,
        "store": lambda a, b: b, "load": lambda a, b: a}

_BITS = Param(int, 32, choices=(), doc="width of the word: 32 (atomic_t, refcount_t) or 64 (atomic_long_t, atomic64_t)")
_ROLE = Param(str, "", doc="the word is this layout role of the object the pointer argument points to (page_refcount)")
_FLAGS = Param(tuple, (), doc="page flags that must be clear when a count reaching zero frees the page")


def wrap(v: int, bits: int) -> int:
    """v as a signed integer of `bits` bits (two's complement wrap-around)."""
    mask = (1 << bits) - 1
    v &= mask
    return v - (1 << bits) if v >> (bits - 1) else v


def _word(c: Call, ptr_arg: int) -> tuple[int, int]:
    """(object argument, address of the word) of an atomic call."""
    obj = c.arg(ptr_arg)
    role = c.rule["role"]
    return obj, obj + c.m.role_offset(role) if role else obj


def _store(c: Call, addr: int, old: int, new: int) -> None:
    c.w.mem[addr] = new
    bits = c.rule["bits"]
    mask = (1 << bits) - 1
    c.note(f"{old & mask:#x} -> {new & mask:#x}")


def _maybe_free(c: Call, obj: int, new: int) -> None:
    if new == 0 and c.rule["free_at_zero"]:
        free_checked(c, obj, c.rule["flags_checked_at_free"])


@effect("atomic", op=Param(str, choices=tuple(_OPS)), ptr_arg=Param(int, 0), val_arg=Param(int, 1),
        const=Param(int, None, doc="the operand, when it is not an argument"),
        returns=Param(str, "new", choices=("new", "old", "zero", "negative", "none")),
        bits=_BITS, role=_ROLE, flags_checked_at_free=_FLAGS,
        free_at_zero=Param(bool, False, doc="the last reference frees the page (put_page)"))
def atomic(c: Call) -> int | None:
    rule = c.rule
    obj, ptr = _word(c, rule["ptr_arg"])
    val = rule["const"] if rule["const"] is not None else c.arg(rule["val_arg"])
    c.alive(ptr, f"does {c.name}() on")
    old = c.w.mem.get(ptr, 0)
    op = rule["op"]
    new = wrap(_OPS[op](old, val), rule["bits"])
    if op != "load":
        _store(c, ptr, old, new)
        _maybe_free(c, obj, new)
    ret = rule["returns"]
    if ret == "new":
        return new
    if ret == "old":
        return old
    if ret == "zero":
        return int(new == 0)
    if ret == "negative":
        return int(new < 0)
    return None


@effect("cmpxchg", ptr_arg=Param(int, 0), old_arg=Param(int, 1), new_arg=Param(int, 2),
        new=Param(int, None, doc="the value stored, when no argument gives it (page_ref_freeze stores 0)"),
        bits=_BITS, role=_ROLE,
        by_pointer=Param(bool, False, doc="try_cmpxchg: old_arg points to the expected value, which a failure "
                                          "overwrites with the current one"),
        returns=Param(str, "old", choices=("old", "success")))
def cmpxchg(c: Call) -> int:
    rule = c.rule
    _obj, ptr = _word(c, rule["ptr_arg"])
    c.alive(ptr, f"does {c.name}() on")
    bits = rule["bits"]
    old = c.w.mem.get(ptr, 0)
    expect_at = c.arg(rule["old_arg"]) if rule["by_pointer"] else 0
    expect = c.w.mem.get(expect_at, 0) if rule["by_pointer"] else c.arg(rule["old_arg"])
    ok = wrap(old, bits) == wrap(expect, bits)
    if ok:
        _store(c, ptr, old, wrap(rule["new"] if rule["new"] is not None else c.arg(rule["new_arg"]), bits))
    elif rule["by_pointer"]:
        c.w.mem[expect_at] = old
    if rule["by_pointer"] or rule["returns"] == "success":
        return int(ok)
    return old


_WHEN = {"old_ne": lambda old, u: old != u, "old_ge0": lambda old, u: old >= 0,
         "old_le0": lambda old, u: old <= 0, "new_ge0": lambda old, u: old - 1 >= 0}


@effect("atomic_unless", ptr_arg=Param(int, 0), delta=Param(int, None, doc="the amount added, when no argument gives it"),
        delta_arg=Param(int, 1), sign=Param(int, 1, doc="-1: the amount is subtracted"),
        when=Param(str, "old_ne", choices=tuple(_WHEN), doc="the update applies when the old value passes this test"),
        unless=Param(int, None, doc="old_ne: the value that stops the update, when no argument gives it"),
        unless_arg=Param(int, 2), bits=_BITS, role=_ROLE,
        returns=Param(str, "applied", choices=("applied", "old", "new")))
def atomic_unless(c: Call) -> int:
    rule = c.rule
    _obj, ptr = _word(c, rule["ptr_arg"])
    c.alive(ptr, f"does {c.name}() on")
    old = c.w.mem.get(ptr, 0)
    delta = rule["delta"] if rule["delta"] is not None else c.arg(rule["delta_arg"])
    stop = rule["unless"] if rule["unless"] is not None else c.arg(rule["unless_arg"])
    applied = _WHEN[rule["when"]](old, stop)
    new = wrap(old + rule["sign"] * delta, rule["bits"])
    if applied:
        _store(c, ptr, old, new)
    ret = rule["returns"]
    return int(applied) if ret == "applied" else old if ret == "old" else new


@effect("bitop", nr_arg=Param(int, 0), ptr_arg=Param(int, 1),
        op=Param(str, choices=("set", "clear", "change", "test")),
        returns=Param(str, "none", choices=("old", "none")))
def bitop(c: Call) -> int | None:
    rule = c.rule
    nr = c.arg(rule["nr_arg"])
    base = c.arg(rule["ptr_arg"])
    addr = base + (nr // 64) * 8
    bit = 1 << (nr % 64)
    c.alive(addr, f"does {c.name}() on")
    word = c.w.mem.get(addr, 0)
    was = int(bool(word & bit))
    op = rule["op"]
    if op != "test":
        new = word | bit if op == "set" else word & ~bit if op == "clear" else word ^ bit
        c.w.mem[addr] = new
        c.note(f"bit {nr} {'set' if new & bit else 'clear'}")
    return was if rule["returns"] == "old" else None
