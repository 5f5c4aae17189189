"""Damage to journal files, made as a worn card or a torn write makes it: bytes changed on disk.

Only closed journals are damaged (the daemon or :class:`Journal` was closed, so the WAL
was folded into ``journal.db``), except where a test damages a WAL on purpose.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def flip(path: Path, needle: bytes, *, at: int = 0, mask: int = 0x01, occurrence: int = 0) -> int:
    """XOR ``mask`` into the byte ``at`` of the ``occurrence``-th copy of ``needle`` in the file;
    returns the file offset changed. Fails when the needle is not there (the test is wrong)."""
    data = bytearray(path.read_bytes())
    start = -1
    for _ in range(occurrence + 1):
        start = data.find(needle, start + 1)
        assert start >= 0, f"{needle!r} (copy {occurrence}) not found in {path}"
    offset = start + at
    data[offset] ^= mask
    path.write_bytes(bytes(data))
    return offset


LIVE = {
    "outbox": "SELECT group_concat(hex(payload)) FROM outbox",
    "ledger": "SELECT group_concat(hex(id_tag) || hex(started_at)) FROM transactions",
}


def flip_live(path: Path, needle: bytes, *, table: str, at: int = 0, mask: int = 0x01) -> int:
    """Like :func:`flip`, on the copy of ``needle`` that is the live row of ``table`` (a
    file also holds stale copies in free space: damage there changes nothing)."""
    before = read(path, LIVE[table])
    for occurrence in range(count(path, needle)):
        offset = flip(path, needle, at=at, mask=mask, occurrence=occurrence)
        if read(path, LIVE[table]) != before:
            return offset
        flip(path, needle[:at] + bytes([needle[at] ^ mask]) + needle[at + 1 :], at=at, mask=mask,
             occurrence=occurrence)  # fmt: skip
    raise AssertionError(f"no live copy of {needle!r} in {table} of {path}")


def read(path: Path, sql: str) -> object:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute(sql).fetchone()
    except sqlite3.DatabaseError as exc:
        return repr(exc)
    finally:
        conn.close()


def count(path: Path, needle: bytes) -> int:
    return path.read_bytes().count(needle)


def quick_check(path: Path) -> list[str]:
    """What SQLite itself says of the file (read-only, immutable: nothing is written)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
    finally:
        conn.close()
