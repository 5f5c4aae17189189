"""The local authorization list: blocking functions inside the writer thread's transaction.

The list (OCPP 1.6 §3.5.2) changes only as a whole update, and an update is one
transaction: it applies completely or not at all. A check that can only be made after
the rows changed (the size of the list after a differential update) raises
:class:`Refused`, which rolls the transaction back; the journal returns its
outcome. Identifiers are stored upper-cased and looked up by key (the primary key is
the index), so a list of thousands is never read into memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ocppd.journal.records import ListedTag, ListEntry, ListSummary, ListUpdate


class Refused(Exception):
    """The update cannot be applied; raised inside the transaction to roll it back (the
    journal turns it into its outcome)."""

    def __init__(self, outcome: ListUpdate) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


def list_key(id_tag: str) -> str:
    return id_tag.upper()


def lookup(conn: sqlite3.Connection, id_tag: str) -> ListedTag | None:
    row = conn.execute(
        "SELECT id_tag, status, expiry, parent_id_tag, token_kind, connectors FROM local_list "
        "WHERE id_tag = ?",
        (list_key(id_tag),),
    ).fetchone()
    return None if row is None else ListedTag(*row)


def summary(conn: sqlite3.Connection) -> ListSummary:
    version, entries = conn.execute(
        "SELECT version, entries FROM local_list_meta WHERE id = 1"
    ).fetchone()
    (size,) = conn.execute(
        "SELECT coalesce(sum(length(id_tag) + length(status) + coalesce(length(expiry), 0) "
        "+ coalesce(length(parent_id_tag), 0) + coalesce(length(token_kind), 0) "
        "+ coalesce(length(connectors), 0)), 0) FROM local_list"
    ).fetchone()
    return ListSummary(int(version), int(entries), int(size))


def update(
    conn: sqlite3.Connection,
    *,
    full: bool,
    version: int,
    entries: Sequence[ListEntry],
    max_entries: int,
) -> ListUpdate:
    """Apply one update: ``full`` replaces the list, otherwise each entry is added, replaced
    or (status None) deleted. The version becomes ``version``, or 0 when the list ends up
    empty (0 means empty). Refusals change nothing; see :class:`ListUpdate`."""
    keys = [list_key(e.id_tag) for e in entries]
    if len(set(keys)) != len(keys):
        return ListUpdate.DUPLICATE
    if full and any(e.status is None for e in entries):
        return ListUpdate.INCOMPLETE
    if not full and version <= summary(conn).version:
        return ListUpdate.VERSION_NOT_NEWER
    if full and len(entries) > max_entries:
        return ListUpdate.TOO_LONG
    if full:
        conn.execute("DELETE FROM local_list")
    deleted = [(key,) for key, e in zip(keys, entries, strict=True) if e.status is None]
    kept = [
        (key, e.status, e.expiry, e.parent_id_tag, e.token_kind, e.connectors)
        for key, e in zip(keys, entries, strict=True)
        if e.status is not None
    ]
    conn.executemany("DELETE FROM local_list WHERE id_tag = ?", deleted)
    conn.executemany(
        "INSERT INTO local_list (id_tag, status, expiry, parent_id_tag, token_kind, connectors) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
        "expiry = excluded.expiry, parent_id_tag = excluded.parent_id_tag, "
        "token_kind = excluded.token_kind, connectors = excluded.connectors",
        kept,
    )
    size = int(conn.execute("SELECT count(*) FROM local_list").fetchone()[0])
    if size > max_entries:
        raise Refused(ListUpdate.TOO_LONG)
    conn.execute(
        "UPDATE local_list_meta SET version = ?, entries = ? WHERE id = 1",
        (version if size else 0, size),
    )
    return ListUpdate.APPLIED


__all__ = ["Refused", "list_key", "lookup", "summary", "update"]
