"""Hostile inputs, generated at test time (never stored): the worst of each kind the bot must bound.
Shared by the tests (which assert the bound) and bench/bench_hostile.py (which measures its cost)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = (REPO / "examples" / "rcu-head-shared.patch").read_text()


def many_hunks(n: int, path: str = "arch/s390/mm/pgalloc.c") -> str:
    """One patch email of n small hunks that match nothing in the model of `path`."""
    head = (f"From: Dev <dev@example.org>\nSubject: [PATCH] many hunks\nMessage-ID: <many-{n}@example.org>\n\n"
            f"x\n---\ndiff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n")
    hunks = [f"@@ -{10 + i * 10},3 +{10 + i * 10},4 @@\n \tint a{i};\n+\tint b{i};\n \tint c{i};\n \tint d{i};\n"
             for i in range(n)]
    return head + "".join(hunks)


def big_new_file(lines: int) -> str:
    """One patch adding a C file of `lines` lines to a modeled path."""
    path = "arch/powerpc/mm/pgtable-frag.c"
    body = "".join(f"+static int filler_{i}(int x) {{ return x + {i}; }}\n" for i in range(lines))
    return (f"From: Dev <dev@example.org>\nSubject: [PATCH] a big file\nMessage-ID: <big-{lines}@example.org>\n\n"
            f"x\n---\ndiff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{lines} @@\n{body}")


def self_calling_patch() -> str:
    """The bundled example, with a function that calls itself for ever on the path it reviews."""
    return EXAMPLE.replace(
        "+void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)\n+{\n+\tstruct page *page = virt_to_page(pgtable);\n",
        "+static void walk(struct page *page)\n+{\n+\tpage->pt_mm = page->pt_mm + 1;\n+\twalk(page);\n+}\n+\n"
        "+void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)\n+{\n+\tstruct page *page = virt_to_page(pgtable);\n"
        "+\n+\twalk(page);\n").replace("@@ -81,3 +81,21 @@", "@@ -81,3 +81,29 @@")


def wide_scenario(threads: int) -> str:
    """A litmus scenario of `threads` threads: its first state alone has that many successors."""
    out = ['title = "wide"', 'description = "many threads, one state with many successors"',
           "[expect]", 'verdict = "safe"', "violations = []", "[objects]", 'pg = { type = "page" }']
    for i in range(threads):
        out += [f"[threads.t{i}]", f"cpu = {i}", 'ops = ["use(pg, read)", "use(pg, read)"]']
    return "\n".join(out) + "\n"


def headerless_gz(messages: int) -> bytes:
    """A small .gz of many messages without a header: each one is a skip record."""
    one = b"From x Mon Jan  1 00:00:00 2024\n\x01 not a header\n\n"
    return gzip.compress(one * messages, 9)


def zeros_gz(size: int, head: bytes = b"From x Mon Jan  1 00:00:00 2024\nSubject: x\n\n") -> bytes:
    """A gzip bomb: an mbox of one message of `size` zero bytes, in about size/1000 compressed bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [c.compress(head)] + [c.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + c.flush()


def big_thread_mbox(replies: int, msgid: str = "big-thread@example.org") -> bytes:
    """A thread of one patch and many small replies, as public-inbox serves it (mboxrd)."""
    patch = EXAMPLE.split("\n", 1)[1].replace("<example-rcu-head-shared-1@example.org>", f"<{msgid}>")
    out = [b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + patch.encode() + b"\n"]
    for i in range(replies):
        out.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: R <r@example.org>\nSubject: Re: x\n"
                   b"Message-ID: <r%d@example.org>\nIn-Reply-To: <%s>\n\n> quoted\nreply %d\n\n"
                   % (i, msgid.encode(), i))
    return b"".join(out)


def many_patches_mbox(n: int) -> bytes:
    """n copies of the bundled example patch, each its own posting: a search result that takes long."""
    one = EXAMPLE.split("\n", 1)[1]
    return b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
                    + one.replace("example-rcu-head-shared-1@", f"copy-{i}@").encode() + b"\n" for i in range(n))


# -- servers on 127.0.0.1 ---------------------------------------------------------------------------


@contextmanager
def serve(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server running `answer` on every connection; yields its base URL."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        try:
            conn.recv(65536)  # the request
            answer(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/inbox"
    finally:
        stop.set()
        t.join()
        srv.close()


def drip(head: bytes, body: bytes, every: float) -> Callable[[socket.socket], None]:
    """Send head at once, then body one byte every `every` seconds."""
    def answer(conn: socket.socket) -> None:
        conn.sendall(head)
        for b in body:
            time.sleep(every)
            conn.sendall(bytes([b]))
    return answer


def static(body: bytes, content_type: str = "application/gzip") -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % (content_type.encode(), len(body)) + body)
    return answer


# -- C that costs the front ends much per line ------------------------------------------------------


def in_example(lines: list[str], name: str) -> str:
    """The bundled example (a modeled file, reviewed with its finding) with `lines` added before its
    new pte_free_defer(), which they leave alone."""
    anchor = "+void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)\n"
    assert anchor in EXAMPLE and "@@ -81,3 +81,21 @@" in EXAMPLE
    added = "".join(f"+{ln}\n" for ln in lines)
    return (EXAMPLE.replace(anchor, added + anchor)
            .replace("@@ -81,3 +81,21 @@", f"@@ -81,3 +81,{21 + len(lines)} @@")
            .replace("<example-rcu-head-shared-1@example.org>", f"<{name}@example.org>"))


def dense_line(tokens: int) -> str:
    """A function whose one statement is `tokens` tokens long."""
    return in_example(["static int dense(int a)", "{", "\treturn " + "a+" * (tokens // 2) + "a;", "}"],
                      f"dense-{tokens}")


def deep_nesting(depth: int, kind: str = "(") -> str:
    """A function nesting parentheses (or blocks) `depth` deep."""
    if kind == "(":
        body = ["\treturn " + "(" * depth + "a" + ")" * depth + ";"]
    else:
        body = ["{"] * depth + ["a++;"] + ["}"] * depth + ["return a;"]
    return in_example(["static int nested(int a)", "{", *body, "}"], f"nested-{kind}-{depth}")


def macro_bomb(levels: int, uses: int) -> str:
    """Macros doubling `levels` times (each use is 2**levels tokens), used on `uses` lines, and a
    macro that expands to itself: what the preprocessor must bound in all, not only per line."""
    defs = ["#define B0 x", *(f"#define B{i} B{i - 1} B{i - 1}" for i in range(1, levels + 1)),
            "#define SELF(x) SELF(SELF(x))"]
    body = [f"\tx = SELF(B{levels});" for _ in range(uses)]
    return in_example([*defs, "static int bomb(int x)", "{", *body, "\treturn x;", "}"], f"bomb-{levels}-{uses}")


# -- MIME and header bombs ----------------------------------------------------------------------------

_HEAD, _, _BODY = EXAMPLE.partition("\n\n")
_PLAIN_HEAD = "\n".join(ln for ln in _HEAD.split("\n")[1:] if not ln.lower().startswith(("content-", "mime-")))


def nested_multipart(depth: int) -> str:
    """The example patch at the bottom of `depth` nested multiparts."""
    opens = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\n\n" for i in range(depth))
    closes = "".join(f"\n--b{i}--\n" for i in reversed(range(depth + 1)))
    return (f"{_PLAIN_HEAD}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n{opens}"
            f"--b{depth}\nContent-Type: text/plain\n\n{_BODY}{closes}")


def wide_multipart(parts: int) -> str:
    """The example patch after `parts` empty parts."""
    empty = "--b\nContent-Type: text/plain\n\n\n" * parts
    return (f"{_PLAIN_HEAD}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{empty}"
            f"--b\nContent-Type: text/plain\n\n{_BODY}\n--b--\n")


def huge_headers(lines: int, width: int = 60) -> str:
    """The example patch under `lines` extra header lines, half of them folded onto one Subject."""
    fold = "".join(f"\n\t{'s' * width}" for _ in range(lines // 2))
    extra = "".join(f"X-Filler-{i}: {'h' * width}\n" for i in range(lines - lines // 2))
    head = _PLAIN_HEAD.replace("Subject: [PATCH]", f"Subject: [PATCH]{fold}\n\t")
    return f"{head}\n{extra}\n{_BODY}"


def many_recipients(n: int) -> str:
    """The example patch sent to `n` addresses, some with encoded display names."""
    cc = ",\n\t".join(f"=?utf-8?q?N=C3=A9{i}?= <r{i}@example.org>" if i % 2 else f"r{i}@example.org"
                      for i in range(n))
    return _PLAIN_HEAD.replace("Cc: linuxppc-dev@example.org", f"Cc: {cc}") + "\n\n" + _BODY


def zeros_streams(kind: str, size: int, head: bytes = b"From x Mon Jan  1 00:00:00 2024\nSubject: x\n\n") -> bytes:
    """A bomb in xz, bz2 or gzip made of one small compressed stream of 16 MiB of zeros, repeated:
    readers decode concatenated streams one after the other, so this decodes to about `size` bytes."""
    import bz2
    import lzma

    pack = {"xz": lambda b: lzma.compress(b, preset=1), "bz2": lambda b: bz2.compress(b, 9),
            "gz": lambda b: gzip.compress(b, 9)}[kind]
    block = pack(b"\0" * (16 << 20))
    return pack(head) + block * max(1, size >> 24)
