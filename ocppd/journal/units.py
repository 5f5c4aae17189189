"""Journal operations that span the ledger and the outbox, or the storage itself.

Blocking functions for the writer thread. Those named in ``Journal._write`` run
inside one ``BEGIN IMMEDIATE ... COMMIT``, so a ledger change and its outbox change
commit together or not at all.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from ocppd.journal import ledger, outbox
from ocppd.journal.faults import space_problem
from ocppd.journal.records import OutboxMessage
from ocppd.journal.storage import probe_write

log = logging.getLogger(__name__)


def add_meter_values(
    conn: sqlite3.Connection,
    *,
    local_id: int | None,
    connector_id: int,
    payload: dict[str, Any],
    droppable: bool,
    max_bytes: int,
) -> int:
    if local_id is not None:
        tx_state = ledger.require(conn, local_id)
        if tx_state != ledger.RUNNING:
            log.warning(
                "MeterValues for transaction %d queued after its stop (it is %s)",
                local_id,
                tx_state,
            )
    return outbox.enqueue(
        conn,
        action=outbox.METER_VALUES,
        local_id=local_id,
        connector_id=connector_id,
        payload=payload,
        droppable=droppable,
        max_bytes=max_bytes,
    )


def acknowledge(conn: sqlite3.Connection, seq: int, response: dict[str, Any]) -> None:
    row = conn.execute("SELECT action, local_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        log.warning("acknowledge of seq %d ignored: it is no longer queued", seq)
        return
    action, local_id = row
    if action == outbox.START and local_id is not None:
        transaction_id = response.get("transactionId")
        if not isinstance(transaction_id, int) or isinstance(transaction_id, bool):
            raise ValueError(f"StartTransaction.conf without an integer transactionId: {response}")
        info = response.get("idTagInfo")
        status = info.get("status") if isinstance(info, dict) else None
        ledger.mark_started(conn, local_id, transaction_id, status)
    elif action == outbox.STOP and local_id is not None:
        ledger.mark_done(conn, local_id)
    outbox.take(conn, seq)


def acknowledge_next(
    conn: sqlite3.Connection, seq: int, response: dict[str, Any]
) -> OutboxMessage | None:
    """Acknowledge ``seq``; the new head of the queue, in the same transaction."""
    acknowledge(conn, seq, response)
    return outbox.head(conn)


def give_up(conn: sqlite3.Connection, seq: int, reason: str) -> None:
    action, local_id = outbox.bury(conn, seq, reason)
    if action == outbox.START and local_id is not None:
        ledger.mark_start_given_up(conn, local_id)
    log.warning("gave up %s seq %d (local transaction %s): %s", action, seq, local_id, reason)


def probe_unit(conn: sqlite3.Connection, state_dir: Path) -> str | None:
    """Why the storage is not usable yet (no write tried), or None after a probe write."""
    why_not = space_problem(state_dir)
    if why_not is None:
        probe_write(conn)
    return why_not


def checkpoint_if_idle(conn: sqlite3.Connection) -> bool:
    if conn.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is not None:
        return False
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return True
