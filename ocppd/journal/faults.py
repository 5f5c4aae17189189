"""Storage faults: which SQLite errors mean "the storage refused", told in human words.

A storage fault (disk full, read-only, I/O error, locked, corrupt) is not a bug in
the caller: the journal turns it into :class:`JournalUnavailable` and an unhealthy
state that the health probe clears. Any other ``sqlite3.Error`` (a constraint, bad
SQL) is a bug and propagates unchanged.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# Primary result codes (https://sqlite.org/rescode.html).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_NOMEM = 7
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_PROTOCOL = 15
SQLITE_NOTADB = 26

CORRUPTION = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})

# The probe also wants this much free space before it calls the storage healthy
# again: a one-row write can succeed inside a WAL file that is already allocated
# while the disk is still full.
PROBE_MIN_FREE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Fault:
    """A storage fault: ``problem`` is for people; ``corrupt`` needs a restart to clear."""

    problem: str
    corrupt: bool = False
    full: bool = False  # no space left (the MemoryExhaustion security event watches it)


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def classify(exc: sqlite3.Error, state_dir: Path) -> Fault | None:
    """The storage fault ``exc`` reports, or None when it is not one (a bug)."""
    code = primary_code(exc)
    detail = f"{exc} [{getattr(exc, 'sqlite_errorname', '?')}]"
    if code in CORRUPTION:
        return Fault(
            f"journal database is corrupt ({detail}); restart ocppd to move it aside",
            corrupt=True,
        )
    if code == SQLITE_FULL:
        return Fault(f"journal storage is full ({detail}){_free_text(state_dir)}", full=True)
    if code in (SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN):
        # SQLite does not say which errno it got: ask the filesystem the same question
        err = create_errno(state_dir)
        if err == errno.EROFS or is_read_only(state_dir):
            return Fault(f"journal storage is read-only ({detail}): the filesystem went read-only")
        if err in (errno.ENOSPC, errno.EDQUOT) or free_bytes(state_dir) == 0:
            return Fault(f"journal storage is full ({detail}){_free_text(state_dir)}", full=True)
        if err is not None:
            return Fault(f"journal storage fails ({detail}; {os.strerror(err)} in {state_dir})")
        return Fault(f"journal storage refused an operation ({detail})")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return Fault(f"journal database is locked by another process ({detail})")
    if code in (SQLITE_NOMEM, SQLITE_PROTOCOL):
        return Fault(f"journal storage failed ({detail})")
    return None


def create_errno(state_dir: Path) -> int | None:
    """Create and remove a small file in ``state_dir``: None if that works, else the errno."""
    probe = state_dir / ".journal-fault-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return exc.errno
    return None


def is_read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer may still use, or None when unknown."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _free_text(state_dir: Path) -> str:
    free = free_bytes(state_dir)
    return "" if free is None else f"; {free} bytes free in {state_dir}"


def space_problem(state_dir: Path) -> str | None:
    """Why the probe must not call the storage healthy yet, judged before the probe write."""
    if is_read_only(state_dir) or create_errno(state_dir) == errno.EROFS:
        return f"journal storage is read-only ({state_dir} is on a read-only filesystem)"
    free = free_bytes(state_dir)
    if free is not None and free < PROBE_MIN_FREE_BYTES:
        return f"journal storage is full ({free} bytes free in {state_dir})"
    return None


__all__ = ["Fault", "classify", "free_bytes", "is_read_only", "space_problem"]
