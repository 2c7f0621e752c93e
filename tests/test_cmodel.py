"""The C interpreter on small synthetic code: arithmetic the kernel relies on, control flow, the
splice of hunks onto a reference, and what makes a scenario unjudgeable."""

from __future__ import annotations

from bot.cmodel.bind import BindReport, apply_hunks, reference_lines
from bot.cmodel.compile import compile_function
from bot.cmodel.cparse import parse_unit
from bot.cmodel.machine import Machine
from bot.cmodel.program import Program, SourceLine
from bot.cmodel.world import Frame, Thread, World
from bot.patch import FileDiff, Hunk, HunkLine


def run(src: str, fn: str, args: list[int] | None = None, types: dict[str, str] | None = None) -> tuple[int, Machine]:
    """Run fn to completion in one thread; return its result (stored in a caller local) and the machine."""
    prog = Program(consts={"PAGE_MASK": -4096, "PTRS_PER_PTE": 256}, types=types or {"pgtable_t": "pte_t *"})
    unit = parse_unit(src + "\nvoid __caller(void) { __r = " + fn + "(" +
                      ", ".join(f"__a{i}" for i in range(len(args or []))) + "); }\n")
    prog.add_unit(unit, [SourceLine("t.c", i + 1, ln, True) for i, ln in enumerate(src.splitlines())])
    m = Machine(prog, "t", World())
    t = Thread("CPU0", "process", 0, [Frame("__caller", 0, {f"__a{i}": a for i, a in enumerate(args or [])})])
    w = World()
    w.threads.append(t)
    steps = 0
    while t.frames and not (len(t.frames) == 1 and t.frames[0].pc == len(prog.functions["__caller"].code) - 1):
        m._exec(w, t, [], [])
        steps += 1
        assert steps < 10_000
    return t.frames[0].locals["__r"], m


def test_half_index_and_pointer_arithmetic_follow_c() -> None:
    src = """
unsigned long *second_half(unsigned long *table)
{
	unsigned int bit;

	bit = ((unsigned long) table & ~PAGE_MASK) / (PTRS_PER_PTE * sizeof(pte_t));
	table += PTRS_PER_PTE;
	return (unsigned long *)((unsigned long)table | (0x01U << bit));
}
"""
    value, _ = run(src, "second_half", [0x40_0000_0000])
    assert value == 0x40_0000_0000 + 2048 + 1


def test_unsigned_int_truncates_and_shifts() -> None:
    src = """
unsigned int top_byte(int v)
{
	unsigned int mask = v;

	mask = mask << 4;
	mask >>= 24;
	return mask;
}
"""
    value, _ = run(src, "top_byte", [-1])
    assert value == 0xFF


def test_switch_fallthrough_and_short_circuit() -> None:
    src = """
int pick(int half)
{
	int r = 0;

	switch (half) {
	case 0x01U:
	case 0x02U:
		r = 10;
		break;
	case 0x03U:
		r = 30;
		break;
	default:
		r = -1;
	}
	if (r > 0 && half != 2)
		r++;
	return r;
}
"""
    assert [run(src, "pick", [h])[0] for h in (1, 2, 3, 7)] == [11, 10, 31, -1]


def test_goto_jumps_to_its_label_forward_and_back() -> None:
    src = """
int count_down(int n)
{
	int steps = 0;

again:
	if (n <= 0)
		goto out;
	n--;
	steps++;
	goto again;
out:
	return steps * 10;
}
"""
    value, m = run(src, "count_down", [3])
    assert value == 30
    assert not m.obs.unresolved


def test_goto_to_a_label_the_hunks_do_not_show_is_unresolved() -> None:
    src = """
int early(int n)
{
	if (n)
		goto nomap;
	return 1;
}
"""
    value, m = run(src, "early", [1])
    assert any("nomap" in u for u in m.obs.unresolved)
    value, m = run(src, "early", [0])
    assert value == 1 and not m.obs.unresolved


def test_a_local_whose_address_is_taken_sees_writes_through_the_pointer() -> None:
    src = """
static void fill(long *out, long v)
{
	*out = v + 1;
}

long through_pointer(long v)
{
	long val = 5;

	fill(&val, v);
	return val * 10;
}
"""
    value, m = run(src, "through_pointer", [4])
    assert value == 50
    assert not m.obs.unresolved


def test_reading_a_name_nothing_assigns_is_unresolved() -> None:
    src = """
int f(int a)
{
	int b;

	return a + b + undefined_thing;
}
"""
    _value, m = run(src, "f", [1])
    assert any("reads b before assigning it" in u for u in m.obs.unresolved)
    assert any("undefined_thing" in u for u in m.obs.unresolved)


def test_hunks_are_spliced_where_their_pre_image_aligns() -> None:
    ref = """void a(void)
{
	x = 1;
	spin_lock(&lock);
	y = compute(x);
	spin_unlock(&lock);
}

void b(void)
{
	spin_lock(&lock);
	y = compute(x);
	spin_unlock(&lock);
}
"""
    # The hunk changes b() only; its context also matches a(), but its first line pins it to b().
    h = Hunk(40, 5, 40, 5, "void b(void)", [
        HunkLine(" ", "void b(void)", 40, 40), HunkLine(" ", "{", 41, 41),
        HunkLine(" ", "\tspin_lock(&lock);", 42, 42), HunkLine("-", "\ty = compute(x);", 43, None),
        HunkLine("+", "\ty = compute(x) + 1;", None, 43), HunkLine(" ", "\tspin_unlock(&lock);", 44, 44)])
    report = BindReport()
    lines = apply_hunks(reference_lines("ref.c", ref), FileDiff("k.c", "k.c", [h]), report)
    text = "\n".join(sl.text for sl in lines)
    assert report.applied == 1 and not report.failed
    assert text.count("compute(x) + 1") == 1 and text.index("compute(x) + 1") > text.index("void b(void)")
    added = [sl for sl in lines if sl.added]
    assert [(sl.file, sl.line) for sl in added] == [("k.c", 43)]
    assert compile_function(parse_unit(text).functions["b"]).code  # the splice still parses
