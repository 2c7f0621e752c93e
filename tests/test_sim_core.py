from bot.sim.core import Event, Step, Violation, check


class Counter:
    """n independent counters each counting to k: (k+1)^n states; a violation when all reach k."""

    name = "counter"

    def __init__(self, n: int, k: int, bad: bool = True) -> None:
        self.n, self.k, self.bad = n, k, bad

    def init_states(self):
        yield (0,) * self.n

    def actions(self, s):
        return [i for i in range(self.n) if s[i] < self.k]

    def step(self, s, i):
        t = s[:i] + (s[i] + 1,) + s[i + 1 :]
        v = (Violation("all_done", "all counters full"),) if self.bad and all(x == self.k for x in t) else ()
        return Step(t, (Event(f"T{i}", "inc"),), v)

    def at_quiescence(self, s):
        return ()


def test_shortest_counterexample() -> None:
    r = check(Counter(2, 3))
    assert r.verdict == "unsafe"
    assert len(r.counterexamples[0].trace) == 6


def test_budget_gives_inconclusive_not_a_hang() -> None:
    r = check(Counter(6, 9, bad=False), budget_states=1000)
    assert r.verdict == "inconclusive"
    assert "budget" in r.reason and not r.explored_all
    r = check(Counter(6, 9, bad=False), budget_states=10**9, budget_seconds=0.2)
    assert r.verdict == "inconclusive" and r.seconds < 2


def test_safe_when_fully_explored() -> None:
    r = check(Counter(2, 2, bad=False))
    assert (r.verdict, r.states, r.explored_all, r.reduced) == ("safe", 9, True, False)


def test_stop_at_first() -> None:
    r = check(Counter(3, 3), stop_at_first=True)
    assert r.verdict == "unsafe" and not r.explored_all
