"""Numbered schema migrations, tracked in ``PRAGMA user_version``.

Migrations are the files ``migrations/NNNN_name.sql`` shipped in the package. Each
is applied in its own ``BEGIN IMMEDIATE ... COMMIT`` together with the new
``user_version``, so a power cut mid-upgrade leaves the journal at the previous
version, whole, and the next start resumes from there. A journal whose version is
newer than this ocppd knows is refused, not "repaired": a downgraded daemon must
not touch a newer schema.

:func:`migrate` takes the migration list as an argument so tests can add a
throwaway next migration and exercise the mechanism before a real one exists.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ocppd.journal import integrity

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: after it, ``PRAGMA user_version`` is ``version``."""

    version: int
    name: str
    sql: str = field(repr=False)


class SchemaTooNew(Exception):
    """The database was written by a newer ocppd (its user_version is unknown here)."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"schema version {found} is newer than this ocppd knows ({known}); "
            "run the newer ocppd or restore a matching journal"
        )
        self.found = found
        self.known = known


def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with this ocppd, checked to be numbered 1, 2, 3 ... in order."""
    # a plain path, not importlib.resources: ocppd is never zipped, and files() pulls in
    # zipfile and friends (about 230 kB resident on a charger)
    folder = Path(__file__).with_name("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    check_numbering(found)
    return tuple(found)


def check_numbering(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(
                f"journal migrations must be numbered 1, 2, 3 ...: found {migration.version} "
                f"({migration.name}) where {expected} was expected"
            )


def user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> tuple[int, int]:
    """Apply the migrations newer than the database, each in its own transaction.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Returns
    ``(version before, version after)``. A failing migration is rolled back and its
    exception propagates; earlier ones stay applied.
    """
    check_numbering(migrations)
    integrity.register(conn)  # migration 0004's triggers and seal call ocppd_crc
    known = len(migrations)
    before = user_version(conn)
    if before > known:
        raise SchemaTooNew(before, known)
    for migration in migrations[before:]:
        _apply(conn, migration)
        log.info("journal schema migrated to %d (%s)", migration.version, migration.name)
    return before, user_version(conn)


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    # executescript() commits an open transaction before it runs, so the BEGIN and
    # the COMMIT go inside the script; on failure the transaction is left open and
    # rolled back here.
    script = (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql}\n;\n"
        f"PRAGMA user_version = {int(migration.version)};\n"
        "COMMIT;\n"
    )
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


__all__ = ["Migration", "SchemaTooNew", "bundled_migrations", "migrate", "user_version"]
