"""Opening the journal file: lock, connect, pragmas, integrity check, quarantine, migrate.

Everything here is blocking and runs in the journal's writer thread.

Order of :func:`open_database` and why:

1. Create the state directory and prove it is writable with a real file write
   (permission bits do not stop root; a read-only filesystem does).
2. Take an exclusive ``flock`` on ``journal.lock``: a second ocppd on the same
   state directory would break "once". The kernel drops it when the process dies.
3. Judge an existing file before any read-write connection touches it: the SQLite
   header by hand, then ``PRAGMA quick_check`` on a *read-only* connection. (A
   read-write connection that closes on a bad file checkpoints and deletes the
   ``-wal``, which may hold the only copy of the last commits.)
4. "file is not a database", a corruption error or a failed quick_check: move the
   file and its ``-wal``/``-shm`` aside as ``journal.db.corrupt-<UTC>`` (never
   deleted), log at ERROR, start a fresh journal. An I/O error is *not* treated as
   corruption: the file may be fine once the storage is, so opening fails instead.
5. Connect read-write (autocommit, any thread): WAL, ``synchronous=FULL``,
   ``busy_timeout``, ``temp_store=MEMORY``, ``foreign_keys``; apply migrations; one
   probe write, so a database SQLite silently opened read-only fails here, not at
   the first transaction.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ocppd.journal import integrity
from ocppd.journal.errors import JournalOpenError
from ocppd.journal.faults import CORRUPTION, primary_code
from ocppd.journal.files import judge
from ocppd.journal.records import OpenOutcome, OpenReport
from ocppd.journal.schema import Migration, SchemaTooNew, migrate

log = logging.getLogger(__name__)

DB_NAME = "journal.db"
LOCK_NAME = "journal.lock"
BUSY_TIMEOUT_MS = 5000
# A WAL that grew during one big transaction is cut back to this after a checkpoint.
WAL_SIZE_LIMIT = 8 * 2**20
SIDE_FILES = ("-wal", "-shm")
SQLITE_MAGIC = b"SQLite format 3\x00"


class _Corrupt(Exception):
    """Internal: the file must be quarantined, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Opened:
    conn: sqlite3.Connection
    report: OpenReport
    lock_fd: int


def open_database(
    state_dir: Path,
    migrations: Sequence[Migration],
    factory: type[sqlite3.Connection] = sqlite3.Connection,
) -> Opened:
    """Open (creating, migrating or quarantining as needed) ``state_dir/journal.db``."""
    state_dir = Path(state_dir)
    path = state_dir / DB_NAME
    _prepare_dir(state_dir)
    lock_fd = _lock(state_dir)
    conn: sqlite3.Connection | None = None
    try:
        problem = judge_files(path)
        existed = path.exists() and path.stat().st_size > 0
        marked = damage_mark(path).exists()
        if problem is None and existed:
            problem = check_integrity(path, deep=marked)
        moved_to = None if problem is None else quarantine(path, problem)
        try:
            conn = _connect(path, factory)
        except _Corrupt as corrupt:  # passed the read-only check, failed now: still corrupt
            problem = corrupt.reason
            moved_to = quarantine(path, problem)
            conn = _connect(path, factory)
        try:
            frm, to = _migrate(conn, path, migrations, existed and moved_to is None)
            wrong = schema_problem(conn, migrations)
            if wrong is not None:
                raise _Corrupt(wrong)
        except _Corrupt as corrupt:  # the schema's own text is damaged
            conn.close()
            problem = corrupt.reason
            moved_to = quarantine(path, problem)
            conn = _connect(path, factory)
            frm, to = _migrate(conn, path, migrations)
        if moved_to is not None:
            report = OpenReport(
                OpenOutcome.QUARANTINED,
                path,
                frm,
                to,
                moved_to=moved_to,
                reason=problem,
                salvaged=salvage_into(conn, moved_to),
            )
        elif not existed:
            report = OpenReport(OpenOutcome.CREATED, path, frm, to)
        elif frm < to:
            report = OpenReport(OpenOutcome.MIGRATED, path, frm, to)
        else:
            report = OpenReport(OpenOutcome.OPENED, path, frm, to)
        _probe_write(conn, path)
        if marked:
            with contextlib.suppress(OSError):
                damage_mark(path).unlink()
        fsync_dir(state_dir)  # the new db file's directory entry must survive a power cut too
    except BaseException:
        if conn is not None:
            conn.close()  # closing twice is harmless
        os.close(lock_fd)
        raise
    return Opened(conn, report, lock_fd)


def judge_files(path: Path) -> str | None:
    """What is wrong with the file set by its bytes (ocppd/journal/files.py), before SQLite."""
    try:
        return judge(path, Path(f"{path}-wal"))
    except OSError as exc:
        raise JournalOpenError(f"journal: cannot read {path}: {exc.strerror or exc}") from exc


def salvage_into(conn: sqlite3.Connection, source: Path) -> str:
    """Salvage a moved-aside set into the fresh journal (one commit); a line for the log."""
    from ocppd.journal import salvage  # only after damage: tempfile, hashlib stay unloaded

    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = salvage.salvage(conn, source)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except (sqlite3.Error, OSError, ValueError) as exc:
        log.exception("journal: salvage of %s failed; run `ocppd journal salvage` later", source)
        return f"salvage failed: {exc}"
    for what in result.damaged[:20]:
        log.error("journal: salvage of %s left out a damaged record: %s", source, what)
    log.warning("journal: %s", result)
    return str(result)


def _prepare_dir(state_dir: Path) -> None:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / f".journal-write-test-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                probe.unlink()
    except OSError as exc:
        raise JournalOpenError(
            f"journal: state directory {state_dir} is not writable: {exc.strerror or exc}"
        ) from exc


def _lock(state_dir: Path) -> int:
    lock_path = state_dir / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise JournalOpenError(f"journal: cannot create {lock_path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise JournalOpenError(
            f"journal: {state_dir} is in use by another ocppd process (lock {lock_path})"
        ) from exc
    return fd


def damage_mark(path: Path) -> Path:
    return path.with_name(f"{path.name}.damaged")


def mark_damaged(path: Path) -> None:
    """SQLite reported corruption while running (``quick_check`` at start does not see all of
    it, an index for one): leave a mark so the next start runs ``integrity_check``."""
    try:
        fd = os.open(damage_mark(path), os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    except OSError as exc:
        log.warning("journal: cannot leave the damage mark beside %s: %s", path, exc)


def check_integrity(path: Path, *, deep: bool = False) -> str | None:
    """Why ``path`` is corrupt, or None. Never writes to it and never removes its -wal.
    ``deep``: ``integrity_check`` (indexes too), not only ``quick_check``."""
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise JournalOpenError(f"journal: cannot read {path}: {exc.strerror}") from exc
    if header != SQLITE_MAGIC:
        return f"file is not a database (header {header[:16]!r})"
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise JournalOpenError(f"journal: cannot open {path}: {exc}") from exc
    try:
        pragma = "integrity_check" if deep else "quick_check"
        rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}").fetchall()]
    except UnicodeDecodeError as exc:  # SQLite's own message quoted damaged bytes
        return f"the schema is damaged ({exc.object[:60]!r})"
    except sqlite3.DatabaseError as exc:
        if primary_code(exc) in CORRUPTION:
            return str(exc)
        raise JournalOpenError(f"journal: cannot check {path}: {exc}") from exc
    finally:
        conn.close()  # read-only: no checkpoint, the -wal stays as it was
    if rows != ["ok"]:
        return f"{pragma}: " + "; ".join(rows[:5])
    return None


def _connect(path: Path, factory: type[sqlite3.Connection]) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, factory=factory, timeout=0
    )
    try:
        configure(conn)
    except UnicodeDecodeError as exc:  # SQLite's own message quoted damaged bytes
        conn.close()
        raise _Corrupt(f"the schema is damaged ({exc.object[:60]!r})") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        if primary_code(exc) in CORRUPTION:
            raise _Corrupt(str(exc)) from exc
        raise JournalOpenError(f"journal: cannot open {path}: {exc}") from exc
    return conn


def configure(conn: sqlite3.Connection) -> None:
    """The per-connection settings the durability promise depends on (see docs/journal.md)."""
    integrity.register(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise JournalOpenError(f"journal: WAL mode refused (journal_mode is {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA temp_store = MEMORY")
    # 512 KiB of page cache (SQLite's default is 2 MiB): the queue is read once, front to
    # back, so a bigger cache only grows the daemon's memory while it drains
    conn.execute("PRAGMA cache_size = -512")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")


def _migrate(
    conn: sqlite3.Connection,
    path: Path,
    migrations: Sequence[Migration],
    damage_possible: bool = False,
) -> tuple[int, int]:
    """Apply the migrations. ``damage_possible`` (an existing file): a migration that fails
    on SQL the bundled files make work is damage, and raises _Corrupt."""
    try:
        return migrate(conn, migrations)
    except SchemaTooNew as exc:
        conn.close()
        raise JournalOpenError(f"journal {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        conn.close()
        raise JournalOpenError(f"journal {path}: migration failed: {exc}") from exc
    except sqlite3.Error as exc:
        # a storage fault stays one (busy, locked, read-only, I/O error, full)
        if damage_possible and primary_code(exc) not in (5, 6, 8, 10, 13):
            raise _Corrupt(f"a migration failed on the stored schema: {exc}") from exc
        conn.close()
        raise JournalOpenError(f"journal {path}: migration failed: {exc}") from exc


_REFERENCE: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}


def schema_problem(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> str | None:
    """Why the stored schema is not what the migrations make (its text damaged: SQLite reads
    a trigger's SQL only when the trigger fires, and quick_check does not look), or None."""
    key = tuple(m.sql for m in migrations)
    if key not in _REFERENCE:
        mem = sqlite3.connect(":memory:", isolation_level=None)
        try:
            migrate(mem, migrations)
            _REFERENCE[key] = _schema(mem)
        finally:
            mem.close()
    try:
        found = _schema(conn)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return f"the schema cannot be read: {exc}"
    if found != _REFERENCE[key]:
        pairs = zip(found, _REFERENCE[key], strict=False)
        differ = next((f"{a[0]} {a[1]}" for a, b in pairs if a != b), "")
        return f"the schema is damaged ({differ or 'objects missing or added'})"
    return None


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _probe_write(conn: sqlite3.Connection, path: Path) -> None:
    try:
        probe_write(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise JournalOpenError(f"journal {path} is not writable: {exc}") from exc


def probe_write(conn: sqlite3.Connection) -> None:
    """The cheapest durable write there is: one row, one commit."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE health_probe SET writes = writes + 1 WHERE id = 1")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def quarantine(path: Path, reason: str) -> Path:
    """Move ``path`` and its ``-wal``/``-shm`` aside as ``<name>.corrupt-<UTC>``; never delete."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        # Side files first: a -wal left behind would be replayed into the fresh
        # journal.db (SQLite cannot tell whose WAL it is) and corrupt it.
        for suffix in SIDE_FILES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.rename(side, f"{target}{suffix}")
        if path.exists():
            os.rename(path, target)
        else:  # the set had lost its main file: the mark says so, and salvage finds the -wal
            target.touch()
        fsync_dir(path.parent)
    except OSError as exc:
        raise JournalOpenError(
            f"journal {path} is corrupt ({reason}) and could not be moved aside: {exc}"
        ) from exc
    log.error(
        "journal %s is damaged (%s): moved to %s (with its -wal and -shm); starting a fresh "
        "journal and salvaging what can be read. Keep the moved files (docs/journal.md).",
        path,
        reason,
        target,
    )
    return target


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["DB_NAME", "LOCK_NAME", "Opened", "configure", "open_database", "quarantine"]
