"""Record checksums: every outbox and ledger row proves it is intact when it is read.

SQLite checks the structure of its file (pages, b-trees), not the bytes of a value: a
flipped bit inside a payload passes ``PRAGMA quick_check`` and ``integrity_check``.
So each row carries ``crc``, a CRC-32 over its columns that matter, kept by triggers
(migration 0004) through the SQL function ``ocppd_crc`` registered here.

CRC-32 is enough: it detects every burst error up to 32 bits and a random change with
probability 1 - 2^-32; the threat is worn flash and torn writes, not an adversary
(whoever can write the file can recompute any checksum).

A row that fails is handled in one write unit (:func:`quarantine_outbox`): a copy of
what could be read goes to the ``quarantine`` table, one ERROR names its transaction
and connector, and the queue goes on behind it. The ledger (``start_seq``/``stop_seq``
of an intact transaction row) says what the row was: a damaged tx-start or tx-stop
stays queued with ``rebuild = 1`` so the courier rebuilds it from the ledger (the
central system can still bill the transaction); anything else leaves the queue.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import zlib
from typing import Any

log = logging.getLogger(__name__)

FUNCTION = "ocppd_crc"

OUTBOX_CRC_COLUMNS = (
    "seq", "kind", "protocol", "action", "local_id", "connector_id", "droppable", "payload",
    "message_id", "rebuild",
)  # fmt: skip
TX_CRC_COLUMNS = (
    "local_id", "connector_id", "id_tag", "reservation_id", "meter_start_wh", "started_at",
    "transaction_id", "start_status", "meter_last_wh", "meter_last_at", "state",
    "meter_stop_wh", "stopped_at", "stop_reason", "stop_id_tag", "start_seq", "stop_seq",
)  # fmt: skip


def crc_call(columns: tuple[str, ...], prefix: str) -> str:
    """The SQL that computes a row's checksum, as the triggers of migration 0004 do: each
    column as its SQLite type and its bytes (no text is decoded, so damaged UTF-8 is just
    different bytes)."""
    args = ", ".join(f"typeof({prefix}{c}), CAST({prefix}{c} AS BLOB)" for c in columns)
    return f"{FUNCTION}({args})"


OUTBOX_CRC = crc_call(OUTBOX_CRC_COLUMNS, "o.")
TX_CRC = crc_call(TX_CRC_COLUMNS, "t.")
# 1 when the outbox row o is intact; 1 when its transaction t is intact, reported
# damaged already, or when there is none.
OUTBOX_OK = f"(o.crc IS {OUTBOX_CRC})"
TX_OK = f"(t.local_id IS NULL OR t.damaged = 1 OR t.crc IS {TX_CRC})"


def crc(*values: Any) -> int:
    """CRC-32 over ``(type, bytes)`` pairs as :func:`crc_call` passes them."""
    c = 0
    for value in values:
        if value is None:
            part = b"\x00"
        elif isinstance(value, str):
            part = b"\x01" + value.encode("utf-8", "surrogateescape")
        elif isinstance(value, bytes | bytearray | memoryview):
            part = b"\x02" + bytes(value)
        else:  # not what the SQL passes; hashed by its text all the same
            part = b"\x03" + str(value).encode()
        c = zlib.crc32(struct.pack("<I", len(part)) + part, c)
    return c


def register(conn: sqlite3.Connection) -> None:
    """Make ``ocppd_crc`` known to ``conn`` (before migrations, triggers and reads use it)."""
    conn.create_function(FUNCTION, -1, crc, deterministic=True)


class Damaged(Exception):
    """Internal: the outbox row ``seq`` (or its ledger row) failed its checksum."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"outbox row {seq} failed its checksum")
        self.seq = seq


def _bytes_of(conn: sqlite3.Connection, sql: str, key: int) -> bytes | None:
    row = conn.execute(sql, (key,)).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def quarantine_outbox(conn: sqlite3.Connection, seq: int) -> str:
    """Deal with a damaged outbox row (or its damaged ledger row); returns what was done.

    Runs in one write unit. Idempotent: a row that is intact again (or gone) is left alone.
    """
    row = conn.execute(
        f"SELECT {OUTBOX_OK}, CAST(o.kind AS BLOB), CAST(o.protocol AS BLOB), "
        "CAST(o.action AS BLOB), "
        "CASE WHEN typeof(o.local_id) = 'integer' THEN o.local_id END, "
        "CASE WHEN typeof(o.connector_id) = 'integer' THEN o.connector_id END "
        "FROM outbox o WHERE o.seq = ?",
        (seq,),
    ).fetchone()
    if row is None:
        return "gone"
    ok, kind_b, protocol_b, action_b, local_id, connector_id = row
    # The ledger says what this row is: the start or stop of a transaction, or one of its
    # events. Only an intact ledger row's values are read (damaged text may not decode).
    intact = f"(t.damaged = 0 AND t.crc IS {TX_CRC})"
    owner_columns = (
        f"t.local_id, CASE WHEN {intact} THEN t.connector_id END, "
        f"CASE WHEN {intact} THEN t.transaction_id END, {intact}"
    )
    owner = conn.execute(
        f"SELECT {owner_columns}, CASE WHEN t.start_seq = ? THEN 'tx-start' ELSE 'tx-stop' END "
        "FROM transactions t WHERE t.start_seq = ? OR t.stop_seq = ?",
        (seq, seq, seq),
    ).fetchone()
    if owner is None and local_id is not None:
        owner = conn.execute(
            f"SELECT {owner_columns}, 'tx-event' FROM transactions t WHERE t.local_id = ?",
            (local_id,),
        ).fetchone()
    tx_ok = owner is None or bool(owner[3])
    if owner is not None and not tx_ok:
        _report_ledger(conn, int(owner[0]))
    if ok:
        return "ledger row reported" if not tx_ok else "intact"
    kind = owner[4] if owner is not None else _text(kind_b)
    transaction_id = None
    if owner is not None:
        local_id, transaction_id = owner[0], owner[2]
        connector_id = owner[1] if owner[1] is not None else connector_id
    payload = _bytes_of(conn, "SELECT CAST(payload AS BLOB) FROM outbox WHERE seq = ?", seq)
    rebuild = owner is not None and kind in ("tx-start", "tx-stop")
    if rebuild:
        outcome = f"kept queued; its {kind} is rebuilt from the ledger before it is sent"
        if not tx_ok:
            outcome = f"kept queued; its ledger row is damaged too, so the {kind} is given up"
    else:
        outcome = "removed from the queue; the messages behind it go on"
    conn.execute(
        "INSERT INTO quarantine (source, seq, kind, protocol, action, local_id, connector_id, "
        "transaction_id, content, reason, outcome) VALUES ('outbox', ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        (
            seq,
            kind,
            _text(protocol_b),
            _text(action_b),
            local_id,
            connector_id,
            transaction_id,
            payload,
            "checksum mismatch",
            outcome,
        ),
    )
    if rebuild:
        # the action and protocol may be the damaged bytes: the courier names the rebuilt
        # message in its own words; until then the row says only what it is
        conn.execute(
            "UPDATE outbox SET kind = ?, action = ?, protocol = ?, local_id = ?, "
            "connector_id = ?, payload = '{}', size = 2, message_id = NULL, rebuild = 1 "
            "WHERE seq = ?",
            (kind, kind, _clean(protocol_b), local_id, connector_id, seq),
        )
    else:
        conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
    log.error(
        "journal: queued %s seq %d (transaction %s, connector %s) is damaged (checksum "
        "mismatch): %s; a copy is in the quarantine table",
        _text(action_b) or kind or "message",
        seq,
        transaction_id if transaction_id is not None else local_id,
        connector_id,
        outcome,
        extra={"connector": connector_id, "transaction": transaction_id},
    )
    return outcome


def _report_ledger(conn: sqlite3.Connection, local_id: int) -> None:
    """A ledger row failed its checksum: quarantine a copy and report it, once."""
    row = conn.execute(
        "SELECT CASE WHEN typeof(connector_id) = 'integer' THEN connector_id END, "
        "CASE WHEN typeof(transaction_id) = 'integer' THEN transaction_id "
        "ELSE CAST(transaction_id AS BLOB) END, damaged FROM transactions WHERE local_id = ?",
        (local_id,),
    ).fetchone()
    if row is None or row[2]:
        return
    cols = ", ".join(f"CAST({c} AS BLOB)" for c in TX_CRC_COLUMNS)
    found = conn.execute(f"SELECT {cols} FROM transactions WHERE local_id = ?", (local_id,))
    values = found.fetchone()
    content = b"\x1f".join(b"" if v is None else bytes(v) for v in values)
    connector_id, transaction_id = row[0], row[1]
    if isinstance(transaction_id, bytes):  # a string id, or damaged: kept as found
        transaction_id = transaction_id.decode("utf-8", "replace")
    outcome = "kept and used as it is; a damaged start or stop of it is given up"
    conn.execute(
        "INSERT INTO quarantine (source, local_id, connector_id, transaction_id, content, "
        "reason, outcome) VALUES ('transactions', ?, ?, ?, ?, 'checksum mismatch', ?)",
        (
            local_id,
            connector_id,
            transaction_id,
            content,
            outcome,
        ),
    )
    conn.execute("UPDATE transactions SET damaged = 1 WHERE local_id = ?", (local_id,))
    log.error(
        "journal: ledger row of transaction %s (local %d, connector %s) is damaged (checksum "
        "mismatch): %s; a copy is in the quarantine table",
        transaction_id,
        local_id,
        connector_id,
        outcome,
        extra={"connector": connector_id, "transaction": transaction_id},
    )


def check_ledger(conn: sqlite3.Connection) -> int:
    """Report every ledger row that fails its checksum (once each); returns how many now."""
    bad = [
        int(r[0])
        for r in conn.execute(
            f"SELECT t.local_id FROM transactions t WHERE t.damaged = 0 AND t.crc IS NOT {TX_CRC}"
        ).fetchall()
    ]
    for local_id in bad:
        _report_ledger(conn, local_id)
    return len(bad)


def damaged_outbox(conn: sqlite3.Connection) -> list[int]:
    """Seqs of queued rows (or their ledger rows) that fail their checksum now."""
    return [
        int(r[0])
        for r in conn.execute(
            f"SELECT o.seq FROM outbox o LEFT JOIN transactions t ON t.local_id = o.local_id "
            f"WHERE NOT ({OUTBOX_OK} AND {TX_OK}) ORDER BY o.seq"
        ).fetchall()
    ]


def quarantined(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM quarantine").fetchone()[0])


def _clean(value: bytes | None) -> str:
    """A protocol name as stored, or the journal's default when damage made it unreadable."""
    try:
        text = bytes(value or b"").decode("utf-8")
    except UnicodeDecodeError:
        return "ocpp1.6"
    return text if text.isprintable() and text else "ocpp1.6"


def _text(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).decode("utf-8", "replace")


__all__ = ["Damaged", "crc", "register"]
