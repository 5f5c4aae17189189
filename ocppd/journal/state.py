"""Small durable state: settings, the authorization cache, the charging profiles,
reservations and display messages.

Blocking functions that run inside a transaction the journal's writer thread opened.

The authorization cache follows OCPP 1.6 section 3.5.1: it keeps the latest
IdTagInfo per id (valid or not), compares ids case-insensitively (stored
upper-cased), and when it is over ``max_entries`` evicts the entries that are not
``Accepted`` first, then the least recently updated.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ocppd.journal import integrity
from ocppd.journal.records import CacheEntry, ReservationRecord


def settings(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT name, value FROM settings ORDER BY name").fetchall())


def set_setting(conn: sqlite3.Connection, name: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM settings WHERE name = ?", (name,))
    else:
        conn.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def cache_key(id_tag: str) -> str:
    return id_tag.upper()


def cache_lookup(conn: sqlite3.Connection, id_tag: str) -> CacheEntry | None:
    row = conn.execute(
        "SELECT id_tag, status, expiry, parent_id_tag, updated_at FROM auth_cache WHERE id_tag = ?",
        (cache_key(id_tag),),
    ).fetchone()
    return None if row is None else CacheEntry(*row)


def cache_store(
    conn: sqlite3.Connection,
    entry: CacheEntry,
    max_entries: int,
    unless_listed: bool = False,
) -> int:
    """Insert or replace ``entry``, then evict down to ``max_entries``; returns evictions.

    ``unless_listed``: store nothing when the local authorization list holds the tag (its
    identifiers are never cached, OCPP 1.6 §3.5.2), decided in the same transaction."""
    if (
        unless_listed
        and conn.execute(
            "SELECT 1 FROM local_list WHERE id_tag = ?", (cache_key(entry.id_tag),)
        ).fetchone()
    ):
        return 0
    conn.execute(
        "INSERT INTO auth_cache (id_tag, status, expiry, parent_id_tag, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
        "expiry = excluded.expiry, parent_id_tag = excluded.parent_id_tag, "
        "updated_at = excluded.updated_at",
        (
            cache_key(entry.id_tag),
            entry.status,
            entry.expiry,
            entry.parent_id_tag,
            entry.updated_at,
        ),
    )
    count = conn.execute("SELECT count(*) FROM auth_cache").fetchone()[0]
    excess = count - max_entries
    if excess <= 0:
        return 0
    conn.execute(
        "DELETE FROM auth_cache WHERE id_tag IN (SELECT id_tag FROM auth_cache "
        "ORDER BY status = 'Accepted', updated_at, id_tag LIMIT ?)",
        (excess,),
    )
    return int(excess)


def cache_forget(conn: sqlite3.Connection, id_tag: str) -> bool:
    """Remove one entry (case-insensitive); False when there was none."""
    cursor = conn.execute("DELETE FROM auth_cache WHERE id_tag = ?", (cache_key(id_tag),))
    return cursor.rowcount > 0


def cache_clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM auth_cache")


def job(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT state FROM jobs WHERE name = ?", (name,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put_job(conn: sqlite3.Connection, name: str, value: dict[str, Any] | None) -> None:
    if value is None:
        conn.execute("DELETE FROM jobs WHERE name = ?", (name,))
    else:
        conn.execute(
            "INSERT INTO jobs (name, state) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET state = excluded.state",
            (name, json.dumps(value, sort_keys=True)),
        )


# --- charging profiles (migration 0005) ---


def charging_profiles(conn: sqlite3.Connection) -> tuple[list[str], list[int]]:
    """The stored profiles' JSON records in id order, and the ids whose checksum fails."""
    good: list[str] = []
    damaged: list[int] = []
    for profile_id, record, stored in conn.execute(
        "SELECT id, record, crc FROM charging_profiles ORDER BY id"
    ):
        if stored == integrity.crc(profile_id, record):
            good.append(record)
        else:
            damaged.append(profile_id)
    return good, damaged


def replace_charging_profiles(conn: sqlite3.Connection, records: list[tuple[int, str]]) -> None:
    """Make the stored profiles exactly ``records`` (id, JSON), in one transaction."""
    conn.execute("DELETE FROM charging_profiles")
    conn.executemany(
        "INSERT INTO charging_profiles (id, record, crc) VALUES (?, ?, ?)",
        [(profile_id, record, integrity.crc(profile_id, record)) for profile_id, record in records],
    )


def reservations(conn: sqlite3.Connection) -> list[ReservationRecord]:
    rows = conn.execute(
        "SELECT reservation_id, connector_id, id_tag, parent_id_tag, expiry, connector_type "
        "FROM reservations ORDER BY reservation_id"
    ).fetchall()
    return [ReservationRecord(*row) for row in rows]


def save_reservation(conn: sqlite3.Connection, record: ReservationRecord) -> None:
    conn.execute(
        "INSERT INTO reservations (reservation_id, connector_id, id_tag, parent_id_tag, expiry, "
        "connector_type) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (reservation_id) DO UPDATE SET "
        "connector_id = excluded.connector_id, id_tag = excluded.id_tag, "
        "parent_id_tag = excluded.parent_id_tag, expiry = excluded.expiry, "
        "connector_type = excluded.connector_type",
        (
            record.reservation_id,
            record.connector_id,
            record.id_tag,
            record.parent_id_tag,
            record.expiry,
            record.connector_type,
        ),
    )


def delete_reservation(conn: sqlite3.Connection, reservation_id: int) -> None:
    conn.execute("DELETE FROM reservations WHERE reservation_id = ?", (reservation_id,))


def display_messages(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return [
        (int(row[0]), str(row[1]))
        for row in conn.execute("SELECT id, record FROM display_messages ORDER BY id")
    ]


def save_display_message(conn: sqlite3.Connection, message_id: int, record: str) -> None:
    conn.execute(
        "INSERT INTO display_messages (id, record) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET record = excluded.record",
        (message_id, record),
    )


def delete_display_message(conn: sqlite3.Connection, message_id: int) -> None:
    conn.execute("DELETE FROM display_messages WHERE id = ?", (message_id,))
