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

from ocppd.journal import integrity, ledger, outbox
from ocppd.journal.faults import space_problem
from ocppd.journal.records import Kind, OutboxMessage, TransactionId, TxWords
from ocppd.journal.storage import probe_write

log = logging.getLogger(__name__)


def add_meter_values(
    conn: sqlite3.Connection,
    *,
    local_id: int | None,
    connector_id: int,
    payload: dict[str, Any],
    droppable: bool,
    words: TxWords,
    max_bytes: int,
    driver: str | None = None,
) -> int:
    """A sample: tx-event of its transaction, or other when it belongs to none.
    ``driver``: the tag that now authorises a transaction begun without one; the ledger
    keeps it in the same unit (its id_tag, empty until then)."""
    if local_id is not None:
        tx_state = ledger.require(conn, local_id)
        if tx_state != ledger.RUNNING:
            log.warning(
                "%s for transaction %d queued after its stop (it is %s)",
                words.event,
                local_id,
                tx_state,
            )
        if driver:
            conn.execute(
                "UPDATE transactions SET id_tag = ? WHERE local_id = ? AND id_tag = ''",
                (driver, local_id),
            )
    return outbox.enqueue(
        conn,
        kind=Kind.OTHER if local_id is None else Kind.TX_EVENT,
        action=words.event,
        protocol=words.protocol,
        local_id=local_id,
        connector_id=connector_id,
        payload=payload,
        droppable=droppable,
        max_bytes=max_bytes,
    )


def seal(
    conn: sqlite3.Connection,
    seq: int,
    message_id: str,
    payload: dict[str, Any],
    number: int | None,
) -> None:
    """Seal ``seq`` (:func:`outbox.seal`). ``number``: the payload carries this number of
    the row's transaction, which the ledger counts in the same unit (each number given
    once, in order, and only to a message that is sealed for sending)."""
    sealed_now, local_id = outbox.seal(conn, seq, message_id, payload)
    if number is None or not sealed_now:
        return
    if local_id is None:
        raise ValueError(f"outbox seq {seq} belongs to no transaction: it takes no number")
    ledger.number_next(conn, int(local_id), number)


def acknowledge(
    conn: sqlite3.Connection,
    seq: int,
    transaction_id: TransactionId | None,
    start_status: str | None,
) -> None:
    """The answer to ``seq`` arrived. For a tx-start, ``transaction_id`` is the id the
    answer brought (1.6; None when the start already had one) and ``start_status`` the
    verdict on the tag; a tx-stop marks its transaction done."""
    row = conn.execute("SELECT kind, local_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        log.warning("acknowledge of seq %d ignored: it is no longer queued", seq)
        return
    kind, local_id = Kind(row[0]), row[1]
    if kind is Kind.TX_START and local_id is not None:
        if isinstance(transaction_id, bool) or not isinstance(transaction_id, int | str | None):
            raise ValueError(f"a transactionId is an integer or a string, not {transaction_id!r}")
        if transaction_id is None and ledger.transaction_id_of(conn, local_id) is None:
            raise ValueError(
                f"tx-start seq {seq} acknowledged without a transactionId, and it has none"
            )
        ledger.mark_started(conn, local_id, transaction_id, start_status)
    elif kind is Kind.TX_STOP and local_id is not None:
        ledger.mark_done(conn, local_id)
    outbox.take(conn, seq)


def acknowledge_next(
    conn: sqlite3.Connection,
    seq: int,
    transaction_id: TransactionId | None,
    start_status: str | None,
    protocol: str | None = None,
) -> OutboxMessage | None:
    """Acknowledge ``seq``; the new head of the queue (of ``protocol`` only, when given), in
    the same transaction (None when it is damaged: :meth:`Journal.next_message` deals with
    it in a unit of its own)."""
    acknowledge(conn, seq, transaction_id, start_status)
    try:
        return outbox.head(conn, protocol)
    except integrity.Damaged:
        return None


def give_up(
    conn: sqlite3.Connection, seq: int, reason: str, fallback_id: TransactionId | None
) -> None:
    kind, action, local_id = outbox.bury(conn, seq, reason)
    if kind is Kind.TX_START and local_id is not None:
        ledger.mark_start_given_up(conn, local_id, fallback_id)
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
