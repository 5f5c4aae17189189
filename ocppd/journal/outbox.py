"""The outbox: every transaction-related message, in one global sequence, until answered.

Blocking functions that run inside a transaction the journal's writer thread opened.

Kinds. Each row says what it is to the ledger (``kind``: tx-start, tx-event, tx-stop
or other, see :class:`~ocppd.journal.records.Kind`), which protocol it was recorded
in and its action there; the journal acts on the kind and stores the rest. Below,
"Start", "Stop" and "sample" are the kinds (1.6: StartTransaction, StopTransaction,
MeterValues).

Order. ``seq`` is one global, never reused counter. The courier always takes the
lowest pending seq, so per connector a Start precedes its samples and its Stop,
and the next transaction's Start follows the previous Stop: the journal order is the
wire order.

Identity. Payloads of samples and Stops are stored without the transaction id:
:func:`head` joins the ledger, so the courier fills in the id the central system
assigned (or 1.6's -1 after the Start was given up) at send time. This is what avoids
libocpp #495 (a Stop sent with -1 because it was queued offline).

Size cap. ``max_bytes`` bounds the UTF-8 bytes of queued payloads
(``outbox_totals.bytes``, kept exact by triggers). When an insert would go over it,
droppable samples are thinned until the queue is back under ``THIN_TARGET`` of
the cap: oldest first, every second one per connector (1st, 3rd, 5th ...; ERR16
3.14/3.91). Each row remembers how many passes it survived (``thinned``); a pass
only takes rows of the least thinned generation, so the next time the cap is hit
thinning continues where it stopped, and survivors are halved again only after the
whole queue was. Resolution thus degrades evenly (60 s -> 120 s -> 240 s ...), oldest
first, instead of the oldest hours vanishing. The row at the head and sealed rows
(possibly on the wire) are never thinned. Start, Stop and undroppable samples
are never dropped: when only they remain the insert is accepted over the cap and
logged.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from ocppd.journal.errors import AlreadySealed, UnknownMessage
from ocppd.journal.integrity import OUTBOX_OK, TX_OK, Damaged
from ocppd.journal.records import (
    DeadLetter,
    Kind,
    OutboxMessage,
    QueueStats,
    dump_payload,
    load_payload,
)

log = logging.getLogger(__name__)

# After thinning the queue sits at 90 % of the cap, so thinning runs in batches
# (each pass halves the oldest samples) rather than dropping one row per insert.
THIN_TARGET = 0.9

_MESSAGE_COLUMNS = (
    "o.seq, o.action, o.payload, o.message_id, o.attempts, o.local_id, t.transaction_id, "
    "o.connector_id, o.droppable, o.kind, o.protocol, o.rebuild, t.numbered"
)
_FROM_JOINED = "FROM outbox o LEFT JOIN transactions t ON t.local_id = o.local_id"


def enqueue(
    conn: sqlite3.Connection,
    *,
    kind: Kind,
    action: str,
    protocol: str,
    local_id: int | None,
    connector_id: int | None,
    payload: dict[str, Any],
    droppable: bool,
    max_bytes: int,
) -> int:
    """Append one message (thinning first if the cap requires it); returns its seq."""
    text = dump_payload(payload)
    size = len(text.encode("utf-8"))
    queued = total_bytes(conn)
    if queued + size > max_bytes:
        target = int(max_bytes * THIN_TARGET) - size
        count, freed = thin(conn, need=queued - target)
        if queued - freed + size > max_bytes:
            log.warning(
                "outbox over its cap: %d bytes queued, cap %d; only messages that must not be "
                "dropped remain (transaction starts and stops, values that are kept); %s "
                "accepted over the cap",
                queued - freed + size,
                max_bytes,
                action,
            )
        elif count:
            log.debug("outbox back under its cap after thinning %d rows", count)
    cur = conn.execute(
        "INSERT INTO outbox (kind, action, protocol, local_id, connector_id, droppable, payload, "
        "size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (kind.value, action, protocol, local_id, connector_id, int(droppable), text, size),
    )
    return int(cur.lastrowid or 0)


def thin(conn: sqlite3.Connection, need: int) -> tuple[int, int]:
    """Drop droppable samples until ``need`` bytes are freed; returns (rows, bytes).

    Counted in ``outbox_totals.dropped`` and logged at WARNING.
    """
    head = conn.execute("SELECT min(seq) FROM outbox").fetchone()[0]
    if head is None or need <= 0:
        return 0, 0
    dropped: list[int] = []
    actions: set[str] = set()
    freed = 0
    while freed < need:
        level = conn.execute(
            "SELECT min(thinned) FROM outbox "
            "WHERE droppable = 1 AND message_id IS NULL AND seq > ?",
            (head,),
        ).fetchone()[0]
        if level is None:
            break
        rows = conn.execute(
            "SELECT seq, connector_id, size, action FROM outbox WHERE droppable = 1 "
            "AND message_id IS NULL AND seq > ? AND thinned = ? ORDER BY seq",
            (head, level),
        ).fetchall()
        batch, kept, batch_bytes = _halve([r[:3] for r in rows], need - freed)
        gone = set(batch)
        actions.update(action for seq, _, _, action in rows if seq in gone)
        conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in batch])
        conn.executemany(
            "UPDATE outbox SET thinned = thinned + 1 WHERE seq = ?", [(s,) for s in kept]
        )
        dropped.extend(batch)
        freed += batch_bytes
    if dropped:
        conn.execute("UPDATE outbox_totals SET dropped = dropped + ? WHERE id = 1", (len(dropped),))
        total = conn.execute("SELECT dropped FROM outbox_totals WHERE id = 1").fetchone()[0]
        log.warning(
            "outbox reached its size cap: dropped %d intermediate %s "
            "(seq %d..%d, %d bytes); %d dropped since the journal was created",
            len(dropped),
            ", ".join(sorted(actions)),
            min(dropped),
            max(dropped),
            freed,
            total,
        )
    return len(dropped), freed


def _halve(rows: list[tuple[int, int | None, int]], need: int) -> tuple[list[int], list[int], int]:
    """One pass over one generation: (seqs to drop, seqs that survive it, bytes freed).

    Walks oldest first, dropping the 1st, 3rd, 5th ... row of each connector, and
    stops once ``need`` bytes are freed. A connector whose last walked row was
    dropped also gets its next row marked as a survivor, so the next pass (which
    restarts at the first unmarked row) keeps the alternation instead of dropping
    two neighbours.
    """
    position: dict[int | None, int] = {}
    drop: list[int] = []
    keep: list[int] = []
    freed = 0
    walked = 0
    for seq, connector_id, size in rows:
        walked += 1
        index = position.get(connector_id, 0)
        position[connector_id] = index + 1
        if index % 2 == 0:
            drop.append(seq)
            freed += size
            if freed >= need:
                break
        else:
            keep.append(seq)
    owed = {c for c, n in position.items() if n % 2 == 1}  # last walked row was dropped
    for seq, connector_id, _ in rows[walked:]:
        if not owed:
            break
        if connector_id in owed:
            keep.append(seq)
            owed.discard(connector_id)
    return drop, keep, freed


def total_bytes(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT bytes FROM outbox_totals WHERE id = 1").fetchone()[0])


def head(conn: sqlite3.Connection, protocol: str | None = None) -> OutboxMessage | None:
    """The lowest-seq row (of ``protocol`` only, when given), checked first. Raises
    :class:`Damaged` when it (or its ledger row) fails its checksum: the caller quarantines
    it in a write unit and asks again. A damaged row is returned whatever its protocol (its
    protocol may be the damage), so that it is set aside rather than left in the queue."""
    if protocol is None:
        first = conn.execute(
            f"SELECT o.seq, {OUTBOX_OK} AND {TX_OK} {_FROM_JOINED} ORDER BY o.seq LIMIT 1"
        ).fetchone()
    else:
        first = conn.execute(
            f"SELECT o.seq, {OUTBOX_OK} AND {TX_OK} {_FROM_JOINED} "
            f"WHERE o.protocol = ? OR NOT ({OUTBOX_OK} AND {TX_OK}) ORDER BY o.seq LIMIT 1",
            (protocol,),
        ).fetchone()
    if first is None:
        return None
    if not first[1]:
        raise Damaged(int(first[0]))
    row = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} {_FROM_JOINED} WHERE o.seq = ?", (first[0],)
    ).fetchone()
    return _message(row)


def pending(conn: sqlite3.Connection, limit: int | None) -> list[OutboxMessage]:
    """Queued rows in send order; a damaged one is left out (the courier quarantines it when
    it reaches the head)."""
    rows = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} {_FROM_JOINED} WHERE {OUTBOX_OK} AND {TX_OK} "
        "ORDER BY o.seq LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    return [_message(r) for r in rows]


def _message(row: tuple[Any, ...]) -> OutboxMessage:
    (
        seq,
        action,
        payload,
        message_id,
        attempts,
        local_id,
        tx_id,
        connector_id,
        droppable,
        kind,
        protocol,
        rebuild,
        numbered,
    ) = row
    return OutboxMessage(
        seq=seq,
        action=action,
        payload=load_payload(payload),
        message_id=message_id,
        attempts=attempts,
        local_id=local_id,
        transaction_id=tx_id,
        connector_id=connector_id,
        droppable=bool(droppable),
        kind=Kind(kind),
        protocol=protocol,
        rebuild=bool(rebuild),
        next_number=None if numbered is None else int(numbered),
    )


def seal(
    conn: sqlite3.Connection, seq: int, message_id: str, payload: dict[str, Any]
) -> tuple[bool, int | None]:
    """Fix the message id and final payload before the first send; a resend reuses them.
    Returns (whether this sealed it now, the row's local id)."""
    row = conn.execute(
        "SELECT message_id, payload, local_id FROM outbox WHERE seq = ?", (seq,)
    ).fetchone()
    if row is None:
        raise UnknownMessage(seq)
    text = dump_payload(payload)
    sealed_id, sealed_text, local_id = row
    if sealed_id is not None:
        if sealed_id == message_id and sealed_text == text:
            return False, local_id
        raise AlreadySealed(seq, sealed_id)
    conn.execute(
        "UPDATE outbox SET message_id = ?, payload = ?, size = ?, rebuild = 0 WHERE seq = ?",
        (message_id, text, len(text.encode("utf-8")), seq),
    )
    return True, local_id


def take(conn: sqlite3.Connection, seq: int) -> tuple[Kind, int | None] | None:
    """Delete an answered row; returns its (kind, local_id), or None if it is gone."""
    row = conn.execute("SELECT kind, local_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
    return Kind(row[0]), row[1]


def record_failure(conn: sqlite3.Connection, seq: int, error: str) -> int:
    cur = conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ? "
        "RETURNING attempts",
        (error, seq),
    )
    rows = cur.fetchall()  # step to the end: a half-stepped UPDATE would block COMMIT
    if not rows:
        raise UnknownMessage(seq)
    return int(rows[0][0])


def bury(conn: sqlite3.Connection, seq: int, reason: str) -> tuple[Kind, str, int | None]:
    """Move a row to the dead letters; returns its (kind, action, local_id)."""
    row = conn.execute("SELECT kind, action, local_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise UnknownMessage(seq)
    conn.execute(
        "INSERT INTO dead_letters (seq, kind, action, protocol, local_id, connector_id, payload, "
        "message_id, attempts, last_error, reason, queued_at) "
        "SELECT seq, kind, action, protocol, local_id, connector_id, payload, message_id, "
        "attempts, last_error, ?, queued_at FROM outbox WHERE seq = ?",
        (reason, seq),
    )
    conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
    return Kind(row[0]), str(row[1]), row[2]


def stats(conn: sqlite3.Connection, max_bytes: int) -> QueueStats:
    pending_count = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    queued, dropped = conn.execute(
        "SELECT bytes, dropped FROM outbox_totals WHERE id = 1"
    ).fetchone()
    by_protocol = tuple(
        (str(p), int(n), int(first))
        for p, n, first in conn.execute(
            "SELECT protocol, count(*), min(seq) FROM outbox GROUP BY protocol ORDER BY min(seq)"
        )
    )
    return QueueStats(
        pending=pending_count,
        by_protocol=by_protocol,
        dead=dead,
        dropped=dropped,
        bytes=queued,
        max_bytes=max_bytes,
        quarantined=quarantined,
    )


def dead_letters(conn: sqlite3.Connection, limit: int) -> list[DeadLetter]:
    rows = conn.execute(
        "SELECT seq, action, local_id, connector_id, payload, message_id, attempts, last_error, "
        "reason, queued_at, given_up_at, kind, protocol FROM dead_letters "
        "ORDER BY seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_dead_letter(r) for r in reversed(rows)]


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    seq, action, local_id, connector_id, payload, message_id, attempts, error, *rest = row
    reason, queued_at, given_up_at, kind, protocol = rest
    return DeadLetter(
        seq,
        action,
        local_id,
        connector_id,
        load_payload(payload),
        message_id,
        attempts,
        error,
        reason,
        queued_at,
        given_up_at,
        kind=Kind(kind),
        protocol=protocol,
    )


__all__ = ["THIN_TARGET"]
