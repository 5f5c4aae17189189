"""The ledger: one row per local transaction, written before anything acts on it.

Blocking functions that run inside a transaction the caller (the journal's writer
thread) opened; each public journal operation is exactly one such transaction, so a
ledger change and its outbox row commit together or not at all.

Life of a row: ``running`` (its tx-start queued) -> ``stopped`` (its tx-stop queued,
stop fields set) -> ``done`` (the tx-stop was answered). ``transaction_id`` is given
at the start when the charge point names its transactions (2.0.1), else None until
the tx-start is answered (1.6 StartTransaction.conf). A tx-start given up while the
id is still None takes the id the caller says (1.6 errata 3.18: -1), so later
messages can be sent. The column has no declared type: SQLite keeps each id as it was
given, an integer as an integer and a string as a string.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from ocppd.journal import outbox
from ocppd.journal.errors import ConnectorBusy, UnknownTransaction
from ocppd.journal.integrity import TX_CRC
from ocppd.journal.records import TX_COLUMNS, Kind, TransactionId, TxRecord, TxWords, tx_from_row

log = logging.getLogger(__name__)

RUNNING, STOPPED, DONE = "running", "stopped", "done"

# the ledger row as a TxRecord, with whether it is intact
_SELECT = (
    f"SELECT {TX_COLUMNS}, t.damaged = 0 AND t.crc IS {TX_CRC}, t.protocol, t.numbered "
    "FROM transactions t"
)


def start(
    conn: sqlite3.Connection,
    *,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: str,
    reservation_id: int | None,
    payload: dict[str, Any],
    words: TxWords,
    transaction_id: TransactionId | None,
    max_bytes: int,
) -> int:
    """Ledger row (running) + outbox tx-start; returns the local id."""
    busy = conn.execute(
        "SELECT local_id FROM transactions WHERE connector_id = ? AND state = ?",
        (connector_id, RUNNING),
    ).fetchone()
    if busy is not None:
        raise ConnectorBusy(connector_id, int(busy[0]))
    cur = conn.execute(
        "INSERT INTO transactions (connector_id, id_tag, reservation_id, meter_start_wh, "
        "started_at, transaction_id, start_seq, protocol) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        (
            connector_id,
            id_tag,
            reservation_id,
            meter_start_wh,
            timestamp,
            transaction_id,
            words.protocol,
        ),
    )
    local_id = int(cur.lastrowid or 0)
    seq = outbox.enqueue(
        conn,
        kind=Kind.TX_START,
        action=words.start,
        protocol=words.protocol,
        local_id=local_id,
        connector_id=connector_id,
        payload=payload,
        droppable=False,
        max_bytes=max_bytes,
    )
    conn.execute("UPDATE transactions SET start_seq = ? WHERE local_id = ?", (seq, local_id))
    return local_id


def record_meter(conn: sqlite3.Connection, local_id: int, energy_wh: float, timestamp: str) -> None:
    """The last meter reading of a running transaction (PowerLoss recovery uses it)."""
    state = _state(conn, local_id)
    if state != RUNNING:
        log.debug("meter reading for transaction %d ignored: it is %s", local_id, state)
        return
    conn.execute(
        "UPDATE transactions SET meter_last_wh = ?, meter_last_at = ? WHERE local_id = ?",
        (energy_wh, timestamp, local_id),
    )


def stop(
    conn: sqlite3.Connection,
    *,
    local_id: int,
    meter_stop_wh: int,
    timestamp: str,
    reason: str,
    id_tag: str | None,
    payload: dict[str, Any],
    words: TxWords,
    max_bytes: int,
) -> int:
    """Ledger row -> stopped + outbox tx-stop; returns its seq. Idempotent."""
    row = conn.execute(
        "SELECT state, stop_seq, connector_id FROM transactions WHERE local_id = ?", (local_id,)
    ).fetchone()
    if row is None:
        raise UnknownTransaction(local_id)
    state, stop_seq, connector_id = row
    if state != RUNNING:
        # A second stop (e.g. a PowerLoss stop after a restart, libocpp #239/#907)
        # changes nothing and gets the seq of the first.
        log.info("transaction %d is already %s: stop not queued again", local_id, state)
        return int(stop_seq)
    seq = outbox.enqueue(
        conn,
        kind=Kind.TX_STOP,
        action=words.stop,
        protocol=words.protocol,
        local_id=local_id,
        connector_id=int(connector_id),
        payload=payload,
        droppable=False,
        max_bytes=max_bytes,
    )
    conn.execute(
        "UPDATE transactions SET state = ?, meter_stop_wh = ?, stopped_at = ?, stop_reason = ?, "
        "stop_id_tag = ?, stop_seq = ? WHERE local_id = ?",
        (STOPPED, meter_stop_wh, timestamp, reason, id_tag, seq, local_id),
    )
    return seq


def get(conn: sqlite3.Connection, local_id: int) -> TxRecord | None:
    row = conn.execute(f"{_SELECT} WHERE local_id = ?", (local_id,)).fetchone()
    return None if row is None else tx_from_row(row)


def running(conn: sqlite3.Connection) -> list[TxRecord]:
    rows = conn.execute(f"{_SELECT} WHERE state = ? ORDER BY local_id", (RUNNING,)).fetchall()
    return [tx_from_row(r) for r in rows]


def since(conn: sqlite3.Connection, since_local_id: int) -> list[TxRecord]:
    rows = conn.execute(
        f"{_SELECT} WHERE local_id > ? ORDER BY local_id",
        (since_local_id,),
    ).fetchall()
    return [tx_from_row(r) for r in rows]


def of_tag(conn: sqlite3.Connection, id_tag: str, limit: int) -> list[TxRecord]:
    """The newest ``limit`` rows ``id_tag`` started or stopped (case-insensitive)."""
    key = id_tag.upper()
    rows = conn.execute(
        f"{_SELECT} WHERE upper(id_tag) = ? OR upper(stop_id_tag) = ? "
        "ORDER BY local_id DESC LIMIT ?",
        (key, key, limit),
    ).fetchall()
    return [tx_from_row(r) for r in rows]


def state_of(conn: sqlite3.Connection, local_id: int) -> str | None:
    row = conn.execute("SELECT state FROM transactions WHERE local_id = ?", (local_id,)).fetchone()
    return None if row is None else str(row[0])


def _state(conn: sqlite3.Connection, local_id: int) -> str:
    state = state_of(conn, local_id)
    if state is None:
        raise UnknownTransaction(local_id)
    return state


def require(conn: sqlite3.Connection, local_id: int) -> str:
    """The state of ``local_id``; raises :class:`UnknownTransaction` when there is none."""
    return _state(conn, local_id)


def mark_started(
    conn: sqlite3.Connection,
    local_id: int,
    transaction_id: TransactionId | None,
    start_status: str | None,
) -> None:
    """The tx-start was answered: the id it brought (None: keep the one given at the start)
    and the verdict on the tag."""
    conn.execute(
        "UPDATE transactions SET transaction_id = coalesce(?, transaction_id), start_status = ? "
        "WHERE local_id = ?",
        (transaction_id, start_status, local_id),
    )


def transaction_id_of(conn: sqlite3.Connection, local_id: int) -> TransactionId | None:
    row = conn.execute(
        "SELECT transaction_id FROM transactions WHERE local_id = ?", (local_id,)
    ).fetchone()
    return None if row is None else row[0]


def number_next(conn: sqlite3.Connection, local_id: int, number: int) -> None:
    """A message of ``local_id`` is sealed with ``number``: it must be the transaction's next
    one (so no number is given twice, nor skipped)."""
    cur = conn.execute(
        "UPDATE transactions SET numbered = numbered + 1 WHERE local_id = ? AND numbered = ? "
        "RETURNING numbered",
        (local_id, number),
    )
    if not cur.fetchall():  # step to the end: a half-stepped UPDATE would block COMMIT
        row = conn.execute(
            "SELECT numbered FROM transactions WHERE local_id = ?", (local_id,)
        ).fetchone()
        if row is None:
            raise UnknownTransaction(local_id)
        raise ValueError(
            f"transaction {local_id}: message number {number} is not its next ({row[0]})"
        )


def mark_done(conn: sqlite3.Connection, local_id: int) -> None:
    conn.execute(
        "UPDATE transactions SET state = ? WHERE local_id = ? AND state = ?",
        (DONE, local_id, STOPPED),
    )


def mark_start_given_up(
    conn: sqlite3.Connection, local_id: int, fallback: TransactionId | None
) -> None:
    """The tx-start was given up: a transaction still without an id takes ``fallback``."""
    if fallback is None:
        return
    conn.execute(
        "UPDATE transactions SET transaction_id = ? WHERE local_id = ? AND transaction_id IS NULL",
        (fallback, local_id),
    )


__all__ = ["DONE", "RUNNING", "STOPPED"]
