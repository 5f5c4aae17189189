"""The journal's exceptions: who broke what.

- :class:`JournalUnavailable`: the storage refused a read or write (disk full,
  read-only, I/O error, database corrupt). Nothing of the operation was committed.
  The caller decides what to do; :meth:`Journal.wait_healthy` says when to retry.
- :class:`JournalOpenError`: the journal cannot be opened at all (state directory
  not writable, another process holds it, schema newer than this ocppd). The daemon
  reports it and exits.
- :class:`UnknownTransaction` / :class:`UnknownMessage`: the caller named a local
  transaction id or an outbox seq the journal does not have.
- :class:`ConnectorBusy`: a second transaction was started on a connector whose
  transaction is still running.
- :class:`AlreadySealed`: a message was sealed a second time with a different id or
  payload (a resend must reuse exactly what was sealed).

A closed journal raises :class:`trio.ClosedResourceError`.
"""

from __future__ import annotations


class JournalError(Exception):
    """Base class of everything the journal raises on purpose."""


class JournalUnavailable(JournalError):
    """The storage refused the operation; nothing of it was committed.

    ``reason`` is a human sentence (also in :attr:`Journal.problem`).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JournalOpenError(JournalError):
    """The journal cannot be opened; ``str()`` says where and why."""


class UnknownTransaction(JournalError, LookupError):
    """No ledger row has this local id."""

    def __init__(self, local_id: int) -> None:
        super().__init__(f"no transaction with local id {local_id} in the journal")
        self.local_id = local_id


class UnknownMessage(JournalError, LookupError):
    """No outbox row has this seq (already acknowledged, given up or thinned)."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"no queued message with seq {seq} in the journal")
        self.seq = seq


class ConnectorBusy(JournalError):
    """The connector already has a running transaction; stop it first."""

    def __init__(self, connector_id: int, running_local_id: int) -> None:
        super().__init__(
            f"connector {connector_id} already runs transaction {running_local_id}; "
            "stop it before starting another"
        )
        self.connector_id = connector_id
        self.running_local_id = running_local_id


class AlreadySealed(JournalError):
    """The message was sealed before with another id or payload."""

    def __init__(self, seq: int, message_id: str) -> None:
        super().__init__(
            f"message seq {seq} is already sealed as {message_id!r}; resend it unchanged"
        )
        self.seq = seq
        self.message_id = message_id


__all__ = [
    "AlreadySealed",
    "ConnectorBusy",
    "JournalError",
    "JournalOpenError",
    "JournalUnavailable",
    "UnknownMessage",
    "UnknownTransaction",
]
