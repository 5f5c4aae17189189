"""What the journal hands out: frozen values, never live rows.

Timestamps are the ISO 8601 strings the caller gave (the journal does not read a
clock for anything it returns, except the diagnostic ``queued_at``/``given_up_at``
of dead letters, which are the system clock when the row was written).

The records speak no OCPP version. An outbox row has a :class:`Kind` (what it is to
the ledger), the ``protocol`` it was recorded in (a websocket subprotocol such as
``ocpp1.6``) and its ``action`` in that protocol, which the journal stores and never
interprets; :class:`TxWords` is how a caller says which actions its protocol uses for
a transaction's messages. A transaction id keeps the type it was given: an integer
from a 1.6 central system, a string a 2.0.1 charge point made.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Kind(StrEnum):
    """What an outbox row is to the ledger (``outbox.kind``)."""

    TX_START = "tx-start"  # a transaction began (1.6 StartTransaction, 2.0.1 Started)
    TX_EVENT = "tx-event"  # something during it (1.6 MeterValues, 2.0.1 Updated)
    TX_STOP = "tx-stop"  # it ended (1.6 StopTransaction, 2.0.1 Ended)
    OTHER = "other"  # not part of a transaction's life (never thinned, never joined)


@dataclass(frozen=True, slots=True)
class TxWords:
    """How one protocol names the messages of a transaction's life: data the journal
    stores with each row (``protocol``, ``action``), never interprets."""

    protocol: str  # the subprotocol, e.g. "ocpp1.6"
    start: str  # the action of a TX_START row
    event: str  # the action of a TX_EVENT row
    stop: str  # the action of a TX_STOP row

    def reserved(self, action: str) -> bool:
        """True for an action only the ledger's own methods may queue."""
        return action in (self.start, self.event, self.stop)


TransactionId = int | str
"""The central system's (1.6) or the charge point's (2.0.1) name of a transaction."""


class OpenOutcome(StrEnum):
    """What :meth:`Journal.open` found."""

    CREATED = "created"  # no journal existed: a new one was made
    OPENED = "opened"  # an existing journal at the current schema
    MIGRATED = "migrated"  # an existing journal, upgraded from an older schema
    QUARANTINED = "quarantined"  # a corrupt journal was moved aside; a fresh one was made


@dataclass(frozen=True, slots=True)
class OpenReport:
    """How the journal was opened; the daemon logs it and ``ocppctl status`` shows it."""

    outcome: OpenOutcome
    path: Path
    schema_from: int  # user_version found (0 for a new or quarantined journal)
    schema_to: int  # user_version now
    moved_to: Path | None = None  # QUARANTINED: where the corrupt file went
    reason: str | None = None  # QUARANTINED: why it was judged corrupt
    salvaged: str | None = None  # QUARANTINED: what salvage brought back from it

    def __str__(self) -> str:
        if self.outcome is OpenOutcome.QUARANTINED:
            return (
                f"journal {self.path} was damaged ({self.reason}); moved to {self.moved_to}, "
                f"started a fresh journal (schema {self.schema_to}); {self.salvaged}"
            )
        if self.outcome is OpenOutcome.MIGRATED:
            return (
                f"journal {self.path} migrated from schema {self.schema_from} to {self.schema_to}"
            )
        return f"journal {self.path} {self.outcome.value} (schema {self.schema_to})"


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One authorization cache entry (OCPP 1.6 section 3.5.1); id_tag is upper-cased."""

    id_tag: str
    status: str
    expiry: str | None
    parent_id_tag: str | None
    updated_at: str


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of the local authorization list; id_tag is upper-cased. In an update,
    ``status`` None deletes the entry (a differential update's entry without idTagInfo)."""

    id_tag: str
    status: str | None
    expiry: str | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class ListedTag:
    """An entry as the local authorization list holds it (a lookup's answer)."""

    id_tag: str
    status: str
    expiry: str | None
    parent_id_tag: str | None


@dataclass(frozen=True, slots=True)
class ListSummary:
    """The local authorization list as a whole: its version (0 when empty) and size."""

    version: int
    entries: int


class ListUpdate(StrEnum):
    """What a list update did (the caller says it in its protocol's words)."""

    APPLIED = "applied"
    VERSION_NOT_NEWER = "version-not-newer"  # a differential update not newer than the list
    TOO_LONG = "too-long"  # the list would hold more entries than allowed: nothing changed
    DUPLICATE = "duplicate"  # one update names an identifier twice: nothing changed
    INCOMPLETE = "incomplete"  # a full update has an entry without a status: nothing changed


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    """One reservation in force (OCPP 1.6 §3.11); connector_id 0 is the charge point."""

    reservation_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: str  # ISO 8601, UTC
    connector_type: str | None = None  # only a connector of this type serves it


@dataclass(frozen=True, slots=True)
class TxRecord:
    """One ledger row: a local transaction as it happened."""

    local_id: int
    connector_id: int
    id_tag: str
    reservation_id: int | None
    meter_start_wh: int
    started_at: str
    # None until the tx-start is answered (1.6), or set at the start (2.0.1); the caller's
    # fallback (1.6: -1) once an unanswered start was given up
    transaction_id: TransactionId | None
    start_status: str | None
    meter_last_wh: float | None
    meter_last_at: str | None
    state: str  # "running" | "stopped" | "done"
    meter_stop_wh: int | None
    stopped_at: str | None
    stop_reason: str | None
    stop_id_tag: str | None
    # False when the row failed its checksum (reported once, at ERROR, and quarantined as
    # found): its values are used best effort, nothing is rebuilt from them
    intact: bool = True
    # the protocol the transaction was recorded in (all its messages stay in it; migration
    # 0009) and how many of its messages were numbered when sealed (the next one's number)
    protocol: str = "ocpp1.6"
    numbered: int = 0


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """The next thing to send. ``transaction_id`` comes from the ledger at read time."""

    seq: int
    action: str  # in ``protocol``
    payload: dict[str, Any]
    message_id: str | None  # None until sealed; a resend reuses it
    attempts: int
    local_id: int | None
    transaction_id: TransactionId | None  # None while the start is unanswered
    connector_id: int | None = None
    droppable: bool = False
    kind: Kind = Kind.OTHER
    protocol: str = ""
    # the stored row was damaged: payload is empty; rebuild the tx-start or tx-stop from the
    # ledger (:meth:`Journal.transaction`) and seal it, or give it up when the ledger row
    # is not intact either
    rebuild: bool = False
    # of a transaction's row: the number its next sealed message gets (how many were
    # numbered so far, see :meth:`Journal.seal`); None for a row of no transaction
    next_number: int | None = None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Counts for ``ocppctl status``; ``bytes`` is what the size cap measures."""

    pending: int
    dead: int
    dropped: int  # droppable samples thinned under the cap, ever
    bytes: int  # UTF-8 bytes of the queued payloads
    max_bytes: int
    quarantined: int = 0  # records found damaged, ever (the quarantine table)
    # (protocol, queued rows, lowest seq) per OCPP version queued, oldest first: a row goes
    # out only over a link of its version
    by_protocol: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message given up after repeated failures: kept, counted, listed, never resent."""

    seq: int
    action: str
    local_id: int | None
    connector_id: int | None
    payload: dict[str, Any]
    message_id: str | None
    attempts: int
    last_error: str | None
    reason: str
    queued_at: str
    given_up_at: str
    kind: Kind = Kind.OTHER
    protocol: str = ""


TX_COLUMNS = (
    "local_id, connector_id, id_tag, reservation_id, meter_start_wh, started_at, "
    "transaction_id, start_status, meter_last_wh, meter_last_at, state, meter_stop_wh, "
    "stopped_at, stop_reason, stop_id_tag"
)


def tx_from_row(row: sqlite3.Row | tuple[Any, ...]) -> TxRecord:
    """TX_COLUMNS, then optionally whether the row is intact, then optionally its protocol
    and how many of its messages were numbered."""
    values = tuple(row)
    if len(values) == 15:
        return TxRecord(*values)
    record = dataclasses.replace(TxRecord(*values[:15]), intact=bool(values[15]))
    if len(values) == 18:
        record = dataclasses.replace(record, protocol=values[16], numbered=int(values[17]))
    return record


def dump_payload(payload: dict[str, Any]) -> str:
    """Compact JSON, key order kept: what is stored is what will be sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def load_payload(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"journal payload is not a JSON object: {text[:60]!r}")
    return value


__all__ = [
    "CacheEntry",
    "DeadLetter",
    "Kind",
    "ListEntry",
    "ListSummary",
    "ListUpdate",
    "ListedTag",
    "OpenOutcome",
    "OpenReport",
    "OutboxMessage",
    "QueueStats",
    "TransactionId",
    "TxRecord",
    "TxWords",
]
