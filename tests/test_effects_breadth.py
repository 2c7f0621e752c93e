"""The primitive families and effects beyond the fragment model, each on a small model of its own:
atomics and reference counts, bit operations, lock kinds, RCU and SRCU, slab caches, unknown calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cmodel.primitives import primitives
from tests.breadth_model import run_model, scenario

CODE = r"""
int fetch_then_return(struct obj *o)
{
	int old = atomic_fetch_add(5, &o->o_ref);
	int new = atomic_add_return_relaxed(2, &o->o_ref);
	return old * 100 + new;
}

long long_wraps(struct obj *o)
{
	atomic_long_set(&o->o_long, 0x7fffffffffffffff);
	return atomic_long_inc_return(&o->o_long) < 0;
}

int try_swap(struct obj *o)
{
	int ok;

	o->o_val = 3;  /* the expected value */
	atomic_set(&o->o_ref, 7);
	ok = atomic_try_cmpxchg(&o->o_ref, &o->o_val, 9);
	if (ok)
		return -1;
	ok = atomic_try_cmpxchg(&o->o_ref, &o->o_val, 9);  /* o_val now holds 7 */
	return ok * 100 + atomic_read(&o->o_ref);
}

int refs(struct obj *o)
{
	refcount_set(&o->o_ref, 1);
	if (!refcount_inc_not_zero(&o->o_ref))
		return -1;
	refcount_dec(&o->o_ref);
	return refcount_dec_and_test(&o->o_ref) + 10 * atomic_inc_not_zero(&o->o_ref);
}

int bits(struct obj *o)
{
	set_bit(3, &o->o_bits);
	return test_and_set_bit(3, &o->o_bits) * 10 + test_and_clear_bit(70, &o->o_bits);
}
"""


def test_family_members_compute_what_the_kernel_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a wrong value frees the object twice: the scenario fails with the double free
    sc = "".join(scenario(name, "o = kzalloc(128, GFP_KERNEL);", f"r = {fn}(o); if (r != {want}) {{ kfree(o); kfree(o); }}")
                 for name, fn, want in [("fetch", "fetch_then_return", 7), ("long", "long_wraps", 1),
                                        ("try", "try_swap", 109), ("refs", "refs", 1), ("bits", "bits", 10)])
    ran = run_model(tmp_path, monkeypatch, CODE, sc)
    for name in ("fetch", "long", "try", "refs", "bits"):
        assert ran.verdict(name) == "safe", (name, ran.details(name))


def test_a_family_generates_every_spelling_from_one_rule() -> None:
    prims = primitives()
    for name in ("atomic_fetch_add_relaxed", "atomic64_sub_and_test", "atomic_long_try_cmpxchg_acquire",
                 "refcount_inc_not_zero", "test_and_set_bit_lock", "__clear_bit", "spin_lock_irqsave_nested",
                 "read_trylock", "write_unlock_irqrestore", "mutex_lock_killable", "down_read_trylock",
                 "hlist_add_head_rcu", "list_del_init_careful", "llist_del_all", "folio_put", "page_ref_dec_and_test"):
        assert name in prims, name
    assert prims["atomic64_fetch_or_release"].params["bits"] == 64
    assert prims["atomic_fetch_or_release"].params["returns"] == "old"
    assert prims["read_lock_bh"].params["shared"] and prims["read_lock_bh"].params["bh"]
    assert prims["mutex_lock"].may_sleep and prims["mutex_lock"].params["sleeps"]


LOCKS = r"""
void sleep_under_spinlock(struct holder *h)
{
	spin_lock(&h->h_lock);
	mutex_lock(&h->h_mutex);
	mutex_unlock(&h->h_mutex);
	spin_unlock(&h->h_lock);
}

void sleep_under_mutex(struct holder *h)
{
	mutex_lock(&h->h_mutex);
	synchronize_rcu();
	mutex_unlock(&h->h_mutex);
}

void reader(struct holder *h)
{
	read_lock(&h->h_lock);
	h->h_obj = 0;
	read_unlock(&h->h_lock);
}

int try_twice(struct holder *h)
{
	int a = spin_trylock(&h->h_lock);
	int b = spin_trylock(&h->h_lock);
	if (a)
		spin_unlock(&h->h_lock);
	return a * 10 + b;
}

void gfp_atomic_under_lock(struct holder *h)
{
	spin_lock(&h->h_lock);
	h->h_obj = kmalloc(64, GFP_ATOMIC);
	spin_unlock(&h->h_lock);
}

void gfp_kernel_under_lock(struct holder *h)
{
	spin_lock(&h->h_lock);
	h->h_obj = kmalloc(64, GFP_KERNEL);
	spin_unlock(&h->h_lock);
}
"""


def test_lock_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = "h = kzalloc(64, GFP_KERNEL);"
    sc = (scenario("spin-then-mutex", setup, "sleep_under_spinlock(h);")
          + scenario("mutex-then-sync", setup, "sleep_under_mutex(h);")
          + scenario("two-readers", setup, "reader(h);", "reader(h);")
          + scenario("trylock", setup, "r = try_twice(h);")
          + scenario("gfp-atomic", setup, "gfp_atomic_under_lock(h);")
          + scenario("gfp-kernel", setup, "gfp_kernel_under_lock(h);"))
    ran = run_model(tmp_path, monkeypatch, LOCKS, sc)
    assert ran.hazards("spin-then-mutex") == {"SLEEP_IN_ATOMIC"}
    assert ran.verdict("mutex-then-sync") == "safe"  # a mutex holder may sleep
    assert ran.verdict("two-readers") == "safe"  # readers share an rwlock
    assert ran.verdict("trylock") == "safe"
    assert ran.verdict("gfp-atomic") == "safe"  # GFP_ATOMIC never sleeps
    assert ran.hazards("gfp-kernel") == {"SLEEP_IN_ATOMIC"}


RCU = r"""
static void free_obj(struct rcu_head *head)
{
	struct obj *o = container_of(head, struct obj, o_rcu);

	kfree(o);
}

void read_rcu(struct holder *h)
{
	struct obj *o;

	rcu_read_lock();
	o = h->h_obj;
	if (o)
		o->o_val = 1;
	rcu_read_unlock();
}

void read_srcu(struct holder *h)
{
	struct obj *o;
	int idx;

	idx = srcu_read_lock(&h->h_lock);
	o = h->h_obj;
	if (o)
		o->o_val = 1;
	srcu_read_unlock(&h->h_lock, idx);
}

void unpublish_call_rcu(struct holder *h)
{
	struct obj *o = h->h_obj;

	h->h_obj = 0;
	call_rcu(&o->o_rcu, free_obj);
}

void unpublish_call_srcu(struct holder *h)
{
	struct obj *o = h->h_obj;

	h->h_obj = 0;
	call_srcu(&h->h_lock, &o->o_rcu, free_obj);
}

void unpublish_kfree_rcu(struct holder *h)
{
	struct obj *o = h->h_obj;

	h->h_obj = 0;
	kfree_rcu(o, o_rcu);
}

void unpublish_synchronize_srcu(struct holder *h)
{
	struct obj *o = h->h_obj;

	h->h_obj = 0;
	synchronize_srcu(&h->h_lock);
	kfree(o);
}
"""


def test_rcu_and_srcu_are_separate_domains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = "h = kzalloc(64, GFP_KERNEL); h->h_obj = kzalloc(128, GFP_KERNEL);"
    sc = (scenario("rcu-reader-call-rcu", setup, "read_rcu(h);", "unpublish_call_rcu(h);")
          + scenario("rcu-reader-kfree-rcu", setup, "read_rcu(h);", "unpublish_kfree_rcu(h);")
          + scenario("srcu-reader-call-srcu", setup, "read_srcu(h);", "unpublish_call_srcu(h);")
          + scenario("srcu-reader-synchronize-srcu", setup, "read_srcu(h);", "unpublish_synchronize_srcu(h);")
          + scenario("srcu-reader-call-rcu", setup, "read_srcu(h);", "unpublish_call_rcu(h);")
          + scenario("rcu-reader-call-srcu", setup, "read_rcu(h);", "unpublish_call_srcu(h);"))
    ran = run_model(tmp_path, monkeypatch, RCU, sc)
    for safe in ("rcu-reader-call-rcu", "rcu-reader-kfree-rcu", "srcu-reader-call-srcu", "srcu-reader-synchronize-srcu"):
        assert ran.verdict(safe) == "safe", (safe, ran.details(safe))
    # an RCU grace period does not wait for SRCU readers, nor an SRCU one for RCU readers
    assert "use_after_free" in ran.kinds("srcu-reader-call-rcu")
    assert "use_after_free" in ran.kinds("rcu-reader-call-srcu")


SLAB = r"""
static struct kmem_cache *cachep;

static void obj_ctor(void *p)
{
	struct obj *o = p;

	spin_lock_init(&o->o_lock);
	INIT_LIST_HEAD(&o->o_list);
}

void make_cache(unsigned long flags)
{
	cachep = kmem_cache_create("objs", sizeof(struct obj), 0, flags, obj_ctor);
}

void make_plain_cache(unsigned long flags)
{
	cachep = kmem_cache_create("objs", sizeof(struct obj), 0, flags, NULL);
}

struct obj *get_obj(void)
{
	return kmem_cache_alloc(cachep, GFP_KERNEL);
}

struct obj *get_obj_init(void)
{
	struct obj *o = kmem_cache_alloc(cachep, GFP_KERNEL);

	spin_lock_init(&o->o_lock);
	INIT_LIST_HEAD(&o->o_list);
	return o;
}

/* the reader: finds the object under RCU, locks it, and (if it re-checks) makes sure it is still the one */
void touch(struct holder *h, int recheck)
{
	struct obj *o;

	rcu_read_lock();
	o = h->h_obj;
	if (o) {
		spin_lock(&o->o_lock);
		if (!recheck || h->h_obj == o)
			o->o_val = 1;
		spin_unlock(&o->o_lock);
	}
	rcu_read_unlock();
}

void replace(struct holder *h, int init)
{
	struct obj *o = h->h_obj;

	spin_lock(&o->o_lock);
	h->h_obj = 0;
	spin_unlock(&o->o_lock);
	kmem_cache_free(cachep, o);
	o = init ? get_obj_init() : get_obj();
	spin_lock(&o->o_lock);
	o->o_val = 2;
	spin_unlock(&o->o_lock);
}
"""


def test_typesafe_by_rcu_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def setup(flags: str, ctor: bool = True) -> str:
        mk = "make_cache" if ctor else "make_plain_cache"
        return f"h = kzalloc(64, GFP_KERNEL); {mk}({flags}); h->h_obj = {'get_obj' if ctor else 'get_obj_init'}();"
    ts = "SLAB_TYPESAFE_BY_RCU | SLAB_PANIC"
    sc = (scenario("ctor-recheck", setup(ts), "touch(h, 1);", "replace(h, 0);")
          + scenario("ctor-no-recheck", setup(ts), "touch(h, 0);", "replace(h, 0);")
          + scenario("init-on-alloc", setup(ts, ctor=False), "touch(h, 1);", "replace(h, 1);")
          + scenario("not-typesafe", setup("SLAB_PANIC"), "touch(h, 1);", "replace(h, 0);"))
    ran = run_model(tmp_path, monkeypatch, SLAB, sc)
    assert ran.verdict("ctor-recheck") == "safe", ran.details("ctor-recheck")
    assert "reader_saw_reuse" in ran.kinds("ctor-no-recheck")
    assert "typesafe_reinit" in ran.kinds("init-on-alloc")
    assert ran.hazards("ctor-no-recheck") == ran.hazards("init-on-alloc") == {"TYPESAFE_BY_RCU_REINIT"}
    # without SLAB_TYPESAFE_BY_RCU the reader touches freed (or reused) memory
    assert "use_after_free" in ran.kinds("not-typesafe")


UNKNOWN = r"""
void maybe_free(struct holder *h)
{
	struct obj *o = h->h_obj;

	trace_obj_seen(o);
	if (frob_should_free(o)) {
		h->h_obj = 0;
		kfree(o);
	}
}

void use(struct holder *h)
{
	struct obj *o = h->h_obj;

	if (o)
		o->o_val = 3;
}
"""


def test_unknown_calls_run_as_opaque_with_both_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = "h = kzalloc(64, GFP_KERNEL); h->h_obj = kzalloc(128, GFP_KERNEL);"
    ran = run_model(tmp_path, monkeypatch, UNKNOWN, scenario("both-ways", setup, "maybe_free(h);", "use(h);"))
    obs = ran.obs("both-ways")
    assert obs.unknown == {"trace_obj_seen", "frob_should_free"}
    assert obs.choices == {"frob_should_free"}  # a branch depends on it; trace_obj_seen's value is unused
    # the path where it returns non-zero frees the object the other thread uses
    assert "use_after_free" in ran.kinds("both-ways")
