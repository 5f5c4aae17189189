"""Salvage: what can still be read from a moved-aside journal goes back into the queue, once.

The moved-aside files are never written. Their database is rebuilt as a plain image in
a temporary directory (:func:`ocppd.journal.files.rebuild_image`: the main file and
every WAL commit that verifies), opened read-only, and read row by row; a row that
cannot be read or fails its checksum (schema 4 and later) is reported and left out.

Into the live journal, in one write unit:

- every transaction that is not ``done`` (its messages were still queued), with the
  queued messages of it that are intact, in their old order, *before* everything the
  live journal has queued (negative seqs below any seq it ever used: the older messages
  go first, as they would have). A start or stop that is damaged or missing but that
  the ledger row still describes is queued with ``rebuild`` set (the courier makes it
  again from the ledger); a transaction still running is recovered by the next start
  of the daemon (stopped with PowerLoss);
- queued messages of no transaction that are intact;
- settings and the authorization cache entries the live journal does not have (not the
  journal's own ``journal.*`` settings: its message-id token stays its own).

Never twice: each salvaged transaction's ledger identity (connector, start time, meter
start, idTag) and each other message's identity go into the ``salvaged`` table; a row
whose identity is there (or a live transaction with the same identity) is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppd.journal import integrity
from ocppd.journal.files import rebuild_image

log = logging.getLogger(__name__)

FLOOR = "journal.salvage.floor"  # the lowest seq salvage ever gave (settings)


@dataclass(slots=True)
class SalvageReport:
    source: str
    image: str = ""
    transactions: int = 0  # salvaged into the ledger
    messages: int = 0  # queued again
    rebuilt: int = 0  # queued with rebuild set (damaged or missing start/stop)
    skipped: int = 0  # salvaged before (identities)
    damaged: list[str] = field(default_factory=list)  # what could not be read or verified
    settings: int = 0

    def __str__(self) -> str:
        text = (
            f"salvage of {self.source}: {self.transactions} transaction(s), {self.messages} "
            f"queued message(s) ({self.rebuilt} to rebuild from the ledger), {self.settings} "
            f"setting(s); {self.skipped} already salvaged before; {len(self.damaged)} damaged "
            "record(s) left out"
        )
        return text


def open_image(source: Path, workdir: Path) -> tuple[sqlite3.Connection, str]:
    """A read-only connection to the rebuilt image of the set whose main file is ``source``."""
    image = workdir / "image.db"
    what = rebuild_image(source, Path(f"{source}-wal"), image)
    conn = sqlite3.connect(f"{image.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    integrity.register(conn)
    return conn, what


def salvage(live: sqlite3.Connection, source: Path) -> SalvageReport:
    """Salvage ``source`` (a moved-aside ``journal.db.corrupt-*``) into ``live``; runs inside
    the caller's write transaction."""
    report = SalvageReport(str(source))
    with tempfile.TemporaryDirectory(prefix="ocppd-salvage-") as tmp:
        src, report.image = open_image(source, Path(tmp))
        try:
            _salvage(live, src, report)
        finally:
            src.close()
    return report


def _columns(src: sqlite3.Connection, table: str) -> set[str]:
    try:
        return {str(r[1]) for r in src.execute(f"PRAGMA table_info({table})")}
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        return set()


def _rows(src: sqlite3.Connection, sql: str, key: str, report: SalvageReport) -> Iterator[Any]:
    """Rows of ``sql`` (which ends in ``ORDER BY {key}``), read past damage: on an error the
    rest is read one key at a time."""
    try:
        yield from src.execute(sql).fetchall()
        return
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        report.damaged.append(f"reading {key}s: {exc}")
    one = sql.replace(f"ORDER BY {key}", f"WHERE {key} = ?")
    misses = errors = 0
    k = 0
    while misses < 2000:  # past the last row: keys are dense, a long gap is the end
        k += 1
        try:
            row = src.execute(one, (k,)).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            errors += 1
            misses += 1
            if errors <= 5:
                report.damaged.append(f"{key} {k}: {exc}")
            continue
        if row is None:
            misses += 1
            continue
        misses = 0
        yield row
    if errors > 5:
        report.damaged.append(f"{errors - 5} more {key}s could not be read")


def _identity(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _salvage(live: sqlite3.Connection, src: sqlite3.Connection, report: SalvageReport) -> None:
    tx_cols = _columns(src, "transactions")
    out_cols = _columns(src, "outbox")
    if not tx_cols or not out_cols:
        report.damaged.append("the schema cannot be read")
        return
    checked = "crc" in tx_cols  # schema 4 and later prove their rows
    tx_ok = f"t.crc IS {integrity.TX_CRC}" if checked else "1"
    o_ok = f"o.crc IS {integrity.OUTBOX_CRC}" if "crc" in out_cols else "1"
    kind = "o.kind" if "kind" in out_cols else (
        "CASE WHEN o.local_id IS NULL THEN 'other' WHEN o.action = 'StartTransaction' "
        "THEN 'tx-start' WHEN o.action = 'StopTransaction' THEN 'tx-stop' ELSE 'tx-event' END"
    )  # fmt: skip
    protocol = "o.protocol" if "protocol" in out_cols else "'ocpp1.6'"
    # since 0009 the ledger names the transaction's protocol and counts its numbered messages
    tx_protocol = "t.protocol" if "protocol" in tx_cols else "'ocpp1.6'"
    numbered = "t.numbered" if "numbered" in tx_cols else "0"
    live_tx: dict[int, int] = {}  # source local_id -> live local_id
    wanted: dict[int, tuple[Any, ...]] = {}
    for row in _rows(
        src,
        f"SELECT t.local_id, {tx_ok}, t.connector_id, t.id_tag, t.reservation_id, "
        "t.meter_start_wh, t.started_at, t.transaction_id, t.start_status, t.meter_last_wh, "
        "t.meter_last_at, t.state, t.meter_stop_wh, t.stopped_at, t.stop_reason, "
        f"t.stop_id_tag, t.start_seq, t.stop_seq, {tx_protocol}, {numbered} "
        "FROM transactions t ORDER BY local_id",
        "local_id",
        report,
    ):
        local_id, ok, *values = row
        if not ok:
            report.damaged.append(f"ledger row {local_id}: checksum mismatch")
            continue
        if values[9] == "done":
            continue
        wanted[int(local_id)] = tuple(values)
    queued: list[tuple[Any, ...]] = []
    for row in _rows(
        src,
        f"SELECT o.seq, {o_ok}, {kind}, o.action, {protocol}, o.local_id, o.connector_id, "
        "o.droppable, o.payload, o.message_id, o.attempts FROM outbox o ORDER BY seq",
        "seq",
        report,
    ):
        seq, ok, *values = row
        if not ok:
            report.damaged.append(f"queued message {seq}: checksum mismatch")
            continue
        queued.append((int(seq), *values))
    floor_row = live.execute("SELECT value FROM settings WHERE name = ?", (FLOOR,)).fetchone()
    lows = [
        live.execute("SELECT min(seq) FROM outbox").fetchone()[0],
        live.execute("SELECT min(seq) FROM dead_letters").fetchone()[0],
        int(floor_row[0]) if floor_row else None,
        1,
    ]
    next_seq = min(v for v in lows if v is not None) - (len(queued) + 2 * len(wanted)) - 1
    lowest = next_seq
    by_tx: dict[int, list[tuple[Any, ...]]] = {}
    others: list[tuple[Any, ...]] = []
    for q in queued:
        (by_tx.setdefault(int(q[4]), []) if q[4] is not None else others).append(q)
    # transactions in the order they were started; each one's messages in their order
    for old_id, values in sorted(wanted.items()):
        connector_id, id_tag, _, meter_start, started_at, transaction_id = values[:6]
        identity = _identity("tx", connector_id, started_at, meter_start, id_tag)
        seen = live.execute("SELECT 1 FROM salvaged WHERE identity = ?", (identity,)).fetchone()
        twin = live.execute(
            "SELECT 1 FROM transactions WHERE connector_id = ? AND started_at = ? AND "
            "meter_start_wh = ? AND id_tag = ?",
            (connector_id, started_at, meter_start, id_tag),
        ).fetchone()
        if seen or twin:
            report.skipped += 1
            continue
        state = values[9]
        if state == "running":
            busy = live.execute(
                "SELECT local_id FROM transactions WHERE connector_id = ? AND state = 'running'",
                (connector_id,),
            ).fetchone()
            if busy is not None:
                report.damaged.append(
                    f"transaction {old_id}: connector {connector_id} runs transaction "
                    f"{busy[0]} in the live journal; stop ocppd cleanly and salvage again"
                )
                continue
        try:
            cur = live.execute(
                "INSERT INTO transactions (connector_id, id_tag, reservation_id, meter_start_wh, "
                "started_at, transaction_id, start_status, meter_last_wh, meter_last_at, state, "
                "meter_stop_wh, stopped_at, stop_reason, stop_id_tag, start_seq, stop_seq, "
                "protocol, numbered) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)",
                (*values[:14], *values[16:18]),
            )
        except sqlite3.IntegrityError as exc:  # an unproven row (schema < 4) that is damaged
            report.damaged.append(f"ledger row {old_id}: {exc}")
            continue
        new_id = int(cur.lastrowid or 0)
        live_tx[old_id] = new_id
        live.execute(
            "INSERT INTO salvaged (identity, local_id, source) VALUES (?, ?, ?)",
            (identity, new_id, report.source),
        )
        report.transactions += 1
        rows = by_tx.get(old_id, [])
        kinds = {r[1] for r in rows}
        start_seq = stop_seq = None
        if transaction_id is None and "tx-start" not in kinds:
            start_seq = _queue_rebuild(live, next_seq, "tx-start", new_id, connector_id, values[16])
            next_seq += 1
            report.rebuilt += 1
        for q in rows:
            try:
                seq = _queue(live, next_seq, q, new_id)
            except sqlite3.IntegrityError as exc:
                report.damaged.append(f"queued message {q[0]}: {exc}")
                continue
            if q[1] == "tx-start":
                start_seq = seq
            elif q[1] == "tx-stop":
                stop_seq = seq
            next_seq += 1
            report.messages += 1
        if state == "stopped" and stop_seq is None:
            stop_seq = _queue_rebuild(live, next_seq, "tx-stop", new_id, connector_id, values[16])
            next_seq += 1
            report.rebuilt += 1
        live.execute(
            "UPDATE transactions SET start_seq = ?, stop_seq = ? WHERE local_id = ?",
            (start_seq or 0, stop_seq, new_id),
        )
    for old_id, rows in by_tx.items():
        if old_id not in live_tx and old_id not in wanted:
            report.damaged.extend(
                f"queued message {q[0]}: its transaction {old_id} cannot be read" for q in rows
            )
    for q in others:
        identity = _identity("msg", q[1], q[2], q[3], q[7])
        if live.execute("SELECT 1 FROM salvaged WHERE identity = ?", (identity,)).fetchone():
            report.skipped += 1
            continue
        try:
            _queue(live, next_seq, q, None)
        except sqlite3.IntegrityError as exc:
            report.damaged.append(f"queued message {q[0]}: {exc}")
            continue
        live.execute(
            "INSERT INTO salvaged (identity, local_id, source) VALUES (?, 0, ?)",
            (identity, report.source),
        )
        next_seq += 1
        report.messages += 1
    live.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
        "SET value = min(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        (FLOOR, str(lowest)),
    )
    _copy_small_state(live, src, report)


def _queue(live: sqlite3.Connection, seq: int, q: tuple[Any, ...], local_id: int | None) -> int:
    _, kind, action, protocol, _, connector_id, droppable, payload, message_id, attempts = q
    live.execute(
        "INSERT INTO outbox (seq, kind, action, protocol, local_id, connector_id, droppable, "
        "payload, size, message_id, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            kind,
            action,
            protocol,
            local_id,
            connector_id,
            droppable,
            payload,
            len(str(payload).encode("utf-8", "surrogateescape")),
            message_id,
            attempts,
        ),
    )
    return seq


def _queue_rebuild(
    live: sqlite3.Connection, seq: int, kind: str, local_id: int, connector_id: int, protocol: str
) -> int:
    # in the transaction's protocol (the ledger's, since 0009; 1.6 before); the courier
    # names the rebuilt message itself
    live.execute(
        "INSERT INTO outbox (seq, kind, action, protocol, local_id, connector_id, payload, size, "
        "rebuild) VALUES (?, ?, ?, ?, ?, ?, '{}', 2, 1)",
        (seq, kind, kind, protocol, local_id, connector_id),
    )
    return seq


def _copy_small_state(
    live: sqlite3.Connection, src: sqlite3.Connection, report: SalvageReport
) -> None:
    for name, value in _rows(src, "SELECT name, value FROM settings ORDER BY name", "name", report):
        if not isinstance(name, str) or not isinstance(value, str):
            report.damaged.append(f"a setting: {name!r} = {value!r}")
            continue
        if name.startswith("journal."):
            continue
        cur = live.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, value),
        )
        report.settings += cur.rowcount
    try:
        entries = src.execute(
            "SELECT id_tag, status, expiry, parent_id_tag, updated_at FROM auth_cache"
        ).fetchall()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        report.damaged.append(f"authorization cache: {exc}")
        return
    for entry in entries:
        try:
            live.execute(
                "INSERT INTO auth_cache (id_tag, status, expiry, parent_id_tag, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_tag) DO NOTHING",
                entry,
            )
        except sqlite3.IntegrityError:
            report.damaged.append("an authorization cache entry")


__all__ = ["SalvageReport", "salvage"]
