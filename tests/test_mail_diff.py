"""The diff parser: line numbers, repairs of bad hunks, and no exception on any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.diff import parse_diff

PATCH = """\
Subject: x

changelog line
---
 mm/a.c | 3 ++-

diff --git a/mm/a.c b/mm/a.c
index 1111111..2222222 100644
--- a/mm/a.c
+++ b/mm/a.c
@@ -10,4 +10,5 @@ static int foo(void)
 \tint a;
-\ta = 1;
+\ta = 2;
+\tb = 3;
 \treturn a;
 }
--\x20
2.39.2
"""


def test_line_numbers_follow_the_hunk_header():
    [f] = parse_diff(PATCH)
    assert (f.old_path, f.new_path, f.notes) == ("mm/a.c", "mm/a.c", [])
    [h] = f.hunks
    assert (h.old_start, h.old_len, h.new_start, h.new_len, h.section) == (10, 4, 10, 5, "static int foo(void)")
    assert [(ln.tag, ln.old_no, ln.new_no) for ln in h.lines] == [
        (" ", 10, 10), ("-", 11, None), ("+", None, 11), ("+", None, 12), (" ", 12, 13), (" ", 13, 14)]
    assert h.lines[3].text == "\tb = 3;"


def test_crlf_body_parses_the_same():
    [f] = parse_diff(PATCH.replace("\n", "\r\n"))
    assert [(ln.tag, ln.text, ln.new_no) for ln in f.hunks[0].lines] == [
        (ln.tag, ln.text, ln.new_no) for ln in parse_diff(PATCH)[0].hunks[0].lines]


def test_hunk_counts_too_large_truncates_with_a_note():
    bad = PATCH.replace("@@ -10,4 +10,5 @@", "@@ -10,9 +10,9 @@")
    [f] = parse_diff(bad)
    assert len(f.hunks[0].lines) == 6
    assert f.notes and "ends early" in f.notes[0]


def test_hunk_counts_too_small_ignores_uncounted_lines_with_a_note():
    bad = PATCH.replace("@@ -10,4 +10,5 @@", "@@ -10,2 +10,3 @@")
    [f] = parse_diff(bad)
    assert [ln.tag for ln in f.hunks[0].lines] == [" ", "-", "+", "+"]
    assert "uncounted" in f.notes[0]


def test_garbage_hunk_header_is_skipped():
    [f] = parse_diff(PATCH.replace("@@ -10,4 +10,5 @@", "@@ -x,4 +10 @@"))
    assert f.hunks == [] and "malformed hunk header" in f.notes[0]


def test_no_newline_marker_rename_binary_new_and_deleted_files():
    text = """\
diff --git a/old.c b/new.c
similarity index 90%
rename from old.c
rename to new.c
--- a/old.c
+++ b/new.c
@@ -1 +1 @@
-a
\\ No newline at end of file
+b
\\ No newline at end of file
diff --git a/logo.png b/logo.png
index 1..2 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/added.c b/added.c
new file mode 100644
--- /dev/null
+++ b/added.c
@@ -0,0 +1,2 @@
+int x;
+int y;
diff --git a/gone.c b/gone.c
deleted file mode 100644
--- a/gone.c
+++ /dev/null
@@ -1 +0,0 @@
-int z;
diff --git a/only-renamed.c b/renamed.c
similarity index 100%
rename from only-renamed.c
rename to renamed.c
"""
    files = parse_diff(text)
    assert [(f.old_path, f.new_path) for f in files] == [
        ("old.c", "new.c"), ("logo.png", "logo.png"), (None, "added.c"), ("gone.c", None),
        ("only-renamed.c", "renamed.c")]
    assert [(ln.tag, ln.text) for ln in files[0].hunks[0].lines] == [("-", "a"), ("+", "b")]
    assert files[1].binary and not files[1].hunks
    assert [ln.new_no for ln in files[2].hunks[0].lines] == [1, 2]
    assert files[3].hunks[0].lines[0].old_no == 1
    assert all(not f.notes for f in files)


def test_plain_diff_without_git_header_and_quoted_diff_ignored():
    text = "> --- a/x.c\n> +++ b/x.c\n> @@ -1 +1 @@\n> -a\n> +b\n\n--- a/y.c\n+++ b/y.c\n@@ -3 +3 @@\n-c\n+d\n"
    [f] = parse_diff(text)
    assert f.path == "y.c" and [ln.new_no for ln in f.hunks[0].post_image()] == [3]


def test_blank_context_line_whose_space_was_eaten():
    text = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n x\n\n-y\n+z\n"
    [f] = parse_diff(text)
    assert [(ln.tag, ln.old_no, ln.new_no) for ln in f.hunks[0].lines] == [
        (" ", 1, 1), (" ", 2, 2), ("-", 3, None), ("+", None, 3)]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str):
    parse_diff(text)


_line = st.sampled_from([" ", "-", "+", "", "\\ No newline", "@@ -1,2 +1,2 @@", "diff --git a/f b/f",
                         "--- a/f", "+++ b/f", "-- ", "@@ -0,0 +1 @@ x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_line, st.text(alphabet="ab \t", max_size=4)), max_size=40))
def test_numbers_are_consistent_on_diff_like_text(rows):
    text = "\n".join(a + b for a, b in rows)
    for f in parse_diff(text):
        for h in f.hunks:
            olds = [ln.old_no for ln in h.pre_image()]
            news = [ln.new_no for ln in h.post_image()]
            # numbering is contiguous from the header and never exceeds the declared lengths
            assert olds == list(range(h.old_start, h.old_start + len(olds)))
            assert news == list(range(h.new_start, h.new_start + len(news)))
            assert len(olds) <= h.old_len and len(news) <= h.new_len


def _hunks_of_tokens(per_hunk: list[int]) -> str:
    """A diff of one file whose n-th hunk adds one line of per_hunk[n] long identifiers."""
    out = ["diff --git a/mm/a.c b/mm/a.c", "--- a/mm/a.c", "+++ b/mm/a.c"]
    for k, n in enumerate(per_hunk):
        out += [f"@@ -{10 * k + 1},0 +{10 * k + 1},1 @@", "+" + " ".join(f"identifier_{k}_{i}" for i in range(n))]
    return "\n".join(out) + "\n"


def test_the_token_limit_counts_tokens_not_characters() -> None:
    """Long identifiers are one token each: hunks of exactly max_tokens tokens are all read, one
    more token is past the limit, wherever it falls."""
    text = _hunks_of_tokens([30, 40, 30])
    (whole,) = parse_diff(text, max_tokens=100)
    assert len(whole.hunks) == 3 and not whole.notes
    (cut,) = parse_diff(_hunks_of_tokens([30, 40, 31]), max_tokens=100)
    assert len(cut.hunks) == 3 and cut.notes == ["more than a review reads: 100 tokens of hunks; the rest of the "
                                                 "patch was not read"]
    (early,) = parse_diff(_hunks_of_tokens([101, 1]), max_tokens=100)
    assert len(early.hunks) == 1 and early.notes
