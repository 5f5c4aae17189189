"""What must survive power loss: the transaction ledger, the outbox, settings, the auth cache.

One SQLite file (``state_dir/journal.db``, WAL, ``synchronous=FULL``) written by one
thread. See ``docs/journal.md`` for operators and :mod:`ocppd.journal.journal` for
the guarantees.
"""

from ocppd.journal.errors import (
    AlreadySealed,
    ConnectorBusy,
    JournalError,
    JournalOpenError,
    JournalUnavailable,
    UnknownMessage,
    UnknownTransaction,
)
from ocppd.journal.journal import DEFAULT_MAX_BYTES, Journal
from ocppd.journal.records import (
    CacheEntry,
    DeadLetter,
    Kind,
    ListEntry,
    ListSummary,
    ListUpdate,
    OpenOutcome,
    OpenReport,
    OutboxMessage,
    QueueStats,
    ReservationRecord,
    TransactionId,
    TxRecord,
    TxWords,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "AlreadySealed",
    "CacheEntry",
    "ConnectorBusy",
    "DeadLetter",
    "Journal",
    "JournalError",
    "JournalOpenError",
    "JournalUnavailable",
    "Kind",
    "ListEntry",
    "ListSummary",
    "ListUpdate",
    "OpenOutcome",
    "OpenReport",
    "OutboxMessage",
    "QueueStats",
    "ReservationRecord",
    "TransactionId",
    "TxRecord",
    "TxWords",
    "UnknownMessage",
    "UnknownTransaction",
]
