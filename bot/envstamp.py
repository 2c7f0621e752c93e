"""Content digests of the files the verdict cache's environment covers, kept between processes.

The environment (bot.cache.environment) is a hash of the engine's source, rules/ and models/:
about 240 files, 1.3 MB, read and hashed by every process that opens the cache (~8 ms of a
one-patch check). Here each file's SHA-256 is kept in a stamp file beside the cache, with the
file's size, mtime, ctime, inode and device, and taken from it while they are all unchanged, as
git's index does. The ctime is what makes that sound: any write to a file, and any utime() that
sets its mtime back, sets its ctime to the current time, which no call can set back. A file
changed within SETTLED_NS of the stamp being written could change again within the same tick of
the filesystem's clock and keep all five: its digest is not kept, it is read again next time.
A stamp that is absent, unreadable or damaged costs a full read and is written again; a line it
holds for a file that changed is just not used.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from bot.sidefile import write_quietly

STAMP = "environment.stamp"
MAGIC = "review-bot environment stamp 1"
SETTLED_NS = 2_000_000_000  # ctime and mtime this much older than the stamp: past any clock tick
MAX_BYTES = 4 << 20  # a larger stamp is not read

Stat = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def files(root: Path, suffix: str) -> list[tuple[str, str]]:
    """(relative path, path) of every file under root whose name ends with suffix, sorted;
    __pycache__ directories left out."""
    out: list[tuple[str, str]] = []
    stack = [(str(root), "")]
    while stack:
        d, rel = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir():  # as os.walk: a link to a directory is neither walked nor a file
                    if e.name != "__pycache__" and not e.is_symlink():
                        stack.append((e.path, f"{rel}{e.name}/"))
                elif e.name.endswith(suffix):
                    out.append((rel + e.name, e.path))
    out.sort()
    return out


def digests(paths: list[str], stamp_dir: Path | None) -> list[bytes]:
    """The SHA-256 of each file's content, in order: from the stamp in stamp_dir where the file is
    as the stamp recorded it, read otherwise (the stamp is then written again)."""
    known = _read(stamp_dir / STAMP) if stamp_dir is not None else {}
    now = time.time_ns()
    out: list[bytes] = []
    keep: dict[str, tuple[Stat, bytes]] = {}
    changed = False
    for path in paths:
        st = os.stat(path)
        stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        hit = known.get(path)
        if hit is not None and hit[0] == stat:
            digest = hit[1]
        else:
            digest = content_digest(path)
            changed = True
        out.append(digest)
        if max(st.st_mtime_ns, st.st_ctime_ns) < now - SETTLED_NS and "\n" not in path:
            keep[path] = (stat, digest)
        else:
            changed = True  # not kept yet: a later process reads it again, and tries to keep it
    if stamp_dir is not None and (changed or len(keep) != len(known)):
        _write(stamp_dir / STAMP, keep)
    return out


def content_digest(path: str) -> bytes:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


def _read(path: Path) -> dict[str, tuple[Stat, bytes]]:
    """The stamp's entries; {} for a stamp that is absent or not one (its bad lines are left out)."""
    try:
        with open(path, "rb") as f:
            blob = f.read(MAX_BYTES + 1)
    except OSError:
        return {}
    if len(blob) > MAX_BYTES:
        return {}
    try:
        lines = blob.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return {}
    if lines[0] != MAGIC:
        return {}
    out: dict[str, tuple[Stat, bytes]] = {}
    for line in lines[1:]:
        parts = line.split(" ", 6)
        if len(parts) != 7 or len(parts[5]) != 64:
            continue
        try:
            stat = (int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4]))
            out[parts[6]] = (stat, bytes.fromhex(parts[5]))
        except ValueError:
            continue
    return out


def _write(path: Path, entries: dict[str, tuple[Stat, bytes]]) -> None:
    """The stamp, written whole under a temporary name and renamed; not at all where it cannot be."""
    text = "".join(f"{' '.join(map(str, stat))} {digest.hex()} {p}\n" for p, (stat, digest) in entries.items())
    write_quietly(path, f"{MAGIC}\n{text}".encode())
