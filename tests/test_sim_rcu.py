from bot.sim import semantics as rcu


def test_callback_needs_a_gp_that_starts_after_the_call() -> None:
    r = rcu.start_gp(rcu.INITIAL, ["CPU0"])  # GP 1 in progress
    r = rcu.call_rcu(r, head=3, fn="cb", cpu=1)
    assert r.cbs[0].need == 2
    r = rcu.end_gp(rcu.reader_left(r, "CPU0"))
    assert rcu.ready(r) == ()  # GP 1 began before the call: not enough
    assert rcu.gp_wanted(r)
    r = rcu.end_gp(rcu.start_gp(r, []))
    assert [cb.head for cb in rcu.ready(r)] == [3]


def test_gp_waits_only_for_readers_present_at_its_start() -> None:
    r = rcu.start_gp(rcu.INITIAL, ["CPU0"])
    assert not rcu.gp_can_end(r)
    r = rcu.reader_left(r, "CPU1")  # a later reader does not matter
    assert not rcu.gp_can_end(r)
    r = rcu.reader_left(r, "CPU0")
    assert rcu.gp_can_end(r)
    assert rcu.end_gp(r).completed == 1


def test_ready_callbacks_are_a_set_and_take_removes_one() -> None:
    r = rcu.call_rcu(rcu.call_rcu(rcu.INITIAL, 5, "a", 0), 2, "b", 1)
    r = rcu.end_gp(rcu.start_gp(r, []))
    assert {cb.head for cb in rcu.ready(r)} == {2, 5}
    r = rcu.take(r, next(cb for cb in r.cbs if cb.head == 5))
    assert rcu.is_queued(r, 2) and not rcu.is_queued(r, 5)


def test_synchronize_need() -> None:
    assert rcu.need_for_new_request(rcu.INITIAL) == 1
    assert not rcu.gp_wanted(rcu.INITIAL)
    assert rcu.gp_wanted(rcu.INITIAL, [1])
    assert rcu.sync_done(rcu.Rcu(completed=1), 1)
