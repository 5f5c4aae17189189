"""``ocppd journal check`` and ``ocppd journal salvage``: the owner's tools, on demand.

``check`` never writes. It runs what the daemon runs at start (the file judge,
``quick_check``), then SQLite's deeper ``integrity_check`` and every record checksum
(queued messages, ledger rows not yet done). While ocppd runs it holds a read
transaction, so no checkpoint rewrites the WAL under it.

``salvage PATH`` needs the journal to itself (stop ocppd first): it opens the journal as
the daemon does and brings back what can be read from the moved-aside set at PATH.

Exit statuses: 0 nothing wrong / salvaged; 1 damage found (check); 66 (EX_NOINPUT) no
journal or no such file; 73 (EX_CANTCREAT) the journal cannot be read or opened; 75
(EX_TEMPFAIL) ocppd holds the journal (salvage).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TextIO

import trio

from ocppd.journal import integrity
from ocppd.journal.errors import JournalOpenError
from ocppd.journal.files import judge
from ocppd.journal.storage import DB_NAME

EX_DAMAGED = 1
EX_NOINPUT = 66
EX_CANTCREAT = 73
EX_TEMPFAIL = 75


def check(state_dir: Path, out: TextIO) -> int:
    path = state_dir / DB_NAME
    if not path.exists() and not Path(f"{path}-wal").exists():
        print(f"{path}: no journal here", file=out)
        return EX_NOINPUT
    problems: list[str] = []
    found: str | None = None
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5)
    except sqlite3.Error as exc:
        print(f"{path}: cannot be opened: {exc}", file=out)
        return EX_CANTCREAT
    try:
        try:
            # a read transaction: no checkpoint restarts the WAL while the files are judged
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            problems.append(f"SQLite cannot read it: {exc}")
        try:
            found = judge(path, Path(f"{path}-wal"))
        except OSError as exc:
            print(f"{path}: cannot be read: {exc}", file=out)
            return EX_CANTCREAT
        if found:
            problems.append(found)
        if not problems:
            problems.extend(_deep(conn, out))
    finally:
        conn.close()
    if problems:
        for problem in problems:
            print(f"{path}: DAMAGED: {problem}", file=out)
        print(
            "stop ocppd and start it again: it moves the damaged set aside and salvages it "
            "(docs/journal.md)"
            if found
            else "see docs/journal.md: what each damage means",
            file=out,
        )
        return EX_DAMAGED
    print(f"{path}: ok (files, integrity_check, record checksums)", file=out)
    return 0


def _deep(conn: sqlite3.Connection, out: TextIO) -> list[str]:
    problems = []
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return [f"integrity_check: {exc}"]
    if rows != ["ok"]:
        problems.append("integrity_check: " + "; ".join(rows))
    integrity.register(conn)
    try:
        columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(outbox)")}
        if "crc" in columns:
            damaged = integrity.damaged_outbox(conn)
            if damaged:
                problems.append(f"queued message(s) failing their checksum: seq {damaged[:20]}")
            ledger = conn.execute(
                f"SELECT t.local_id FROM transactions t WHERE t.damaged = 0 AND "
                f"t.state IS NOT 'done' AND t.crc IS NOT {integrity.TX_CRC}"
            ).fetchall()
            if ledger:
                problems.append(
                    "ledger row(s) failing their checksum: local id "
                    f"{[int(r[0]) for r in ledger][:20]}"
                )
            kept = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            if kept:
                print(f"note: {kept} damaged record(s) found earlier are kept aside", file=out)
    except sqlite3.DatabaseError as exc:
        problems.append(f"record checksums: {exc}")
    return problems


def salvage(state_dir: Path, source: Path, out: TextIO) -> int:
    if not source.exists() and not Path(f"{source}-wal").exists():
        print(f"{source}: no such file", file=out)
        return EX_NOINPUT
    return trio.run(_salvage, state_dir, source, out)


async def _salvage(state_dir: Path, source: Path, out: TextIO) -> int:
    from ocppd.journal.journal import Journal

    try:
        journal = await Journal.open(state_dir)
    except JournalOpenError as exc:
        print(f"{exc}", file=out)
        return EX_TEMPFAIL if "in use" in str(exc) else EX_CANTCREAT
    async with journal:
        report = await journal.salvage(source)
    print(report, file=out)
    for what in report.damaged:
        print(f"  left out: {what}", file=out)
    return 0


__all__ = ["check", "salvage"]
