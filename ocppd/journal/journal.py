"""The durable journal: ledger, outbox, settings and authorization cache in one SQLite file.

Every public method is ``async``; the SQL runs off the event loop in one writer
thread (a ``trio.CapacityLimiter(1)`` around ``trio.to_thread.run_sync``), one
logical operation per ``BEGIN IMMEDIATE ... COMMIT``. The thread call is not
abandoned on cancellation, so a cancelled caller never leaves a commit running
beside the next one; an operation that started commits or rolls back whole.

Health. A storage fault (disk full, read-only, I/O error, lock, corruption) raises
:class:`JournalUnavailable` to the caller and turns :attr:`healthy` False with a
human :attr:`problem`. :meth:`run` (a task the daemon keeps for the journal's
lifetime) then probes with a one-row write, backing off from 1 s to 60 s, and turns
:attr:`healthy` True again by itself; :meth:`wait_healthy` waits for that. Any
successful write also proves the storage works. Corruption found while running
stays unhealthy: the fix is a restart, which moves the file aside.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ocppd.journal import integrity, ledger, local_list, outbox, state, units
from ocppd.journal.errors import JournalOpenError, JournalUnavailable
from ocppd.journal.faults import Fault, classify, space_problem
from ocppd.journal.records import (
    CacheEntry,
    DeadLetter,
    Kind,
    ListedTag,
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
from ocppd.journal.schema import bundled_migrations
from ocppd.journal.storage import Opened, mark_damaged, open_database

if TYPE_CHECKING:
    from ocppd.journal import salvage

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_BYTES = 256 * 2**20
PROBE_FIRST_S = 1.0
PROBE_MAX_S = 60.0
# After this many acknowledgements, a drained queue is a good moment to fold the WAL
# into the database (PASSIVE: never waits). Fewer would add an fsync per message
# online; SQLite's own auto-checkpoint (1000 pages) bounds the WAL in between.
CHECKPOINT_AFTER_ACKS = 100


class _StorageFault(Exception):
    """Internal: carries a classified fault out of the writer thread."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.problem)
        self.fault = fault


class Journal:
    """What must survive power loss. Open with :meth:`open`; close with :meth:`aclose`.

    How the rest of the daemon uses it::

        journal = await Journal.open(state_dir)          # JournalOpenError: report, exit
        nursery.start_soon(journal.run)                  # health probe, for its lifetime
        for tx in await journal.open_transactions():     # after a crash or power cut
            await journal.stop_transaction(tx.local_id, reason="PowerLoss", ...)

        # the courier, once registered, one message at a time:
        while (msg := await journal.next_message()) is not None:
            if msg.message_id is None:                   # first send: fix id and payload
                payload = msg.payload                    # + transactionId for tx-event/stop
                await journal.seal(msg.seq, new_id(), payload)
            ... send exactly the sealed id and payload; on CALLRESULT:
            await journal.acknowledge(msg.seq, transaction_id=...)  # a tx-start's answer
            ... on CALLERROR: record_failure(); after TransactionMessageAttempts: give_up()

    Rows are version-neutral (:class:`~ocppd.journal.records.Kind`); the caller names
    its protocol's actions with :class:`~ocppd.journal.records.TxWords` and reads the
    answers. A tx-event or tx-stop whose ``transaction_id`` is None is waiting for its
    tx-start, which is earlier in seq order, so the courier never sees one at the head.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        report: OpenReport,
        lock_fd: int,
        *,
        max_bytes: int,
        cache_max_entries: int,
        inline: bool = False,
        factory: type[sqlite3.Connection] = sqlite3.Connection,
    ) -> None:
        """Use :meth:`open`; this only assembles an already opened database."""
        self._conn: sqlite3.Connection | None = conn
        self._inline = inline
        self._lock_fd = lock_fd
        self._limiter = trio.CapacityLimiter(1)
        self.report = report
        self.path = report.path
        self.max_bytes = max_bytes
        self.cache_max_entries = cache_max_entries
        self.healthy = True
        self.problem: str | None = None
        self.storage_full = False  # unhealthy because no space is left
        self._corrupt = False
        self._became_healthy = trio.Event()
        self._became_healthy.set()
        self._became_unhealthy = trio.Event()
        self._acks_since_checkpoint = 0
        # damage found in records since the journal was opened (each also a quarantine row
        # and an ERROR line); what the daemon reports on connector 0
        self.damage: list[str] = []
        self._damage_found = trio.Event()
        self._factory = factory
        # stops the storage refused, by local id: (the unit, "reason at time"); written
        # before anything else once the storage takes writes again
        self._held: dict[int, tuple[Callable[[sqlite3.Connection], int], str]] = {}

    @classmethod
    async def open(
        cls,
        state_dir: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cache_max_entries: int = 1000,
        connection_factory: type[sqlite3.Connection] = sqlite3.Connection,
        inline: bool = False,
    ) -> Journal:
        """Open ``state_dir/journal.db``, creating, migrating or quarantining it as needed.

        Raises :class:`JournalOpenError` when the state directory is not writable,
        another process holds the journal, or its schema is newer than this ocppd.
        ``connection_factory`` (a ``sqlite3.Connection`` subclass) is a fault-injection
        seam for tests; the daemon leaves it alone.

        ``inline=True`` runs SQL on the event loop instead of the writer thread. Only for
        runs on trio's virtual clock (tests, ``ocppd demo --fast``): a MockClock cannot
        see work in a thread and would jump past it.
        """
        if max_bytes <= 0 or cache_max_entries <= 0:
            raise ValueError("max_bytes and cache_max_entries must be positive")
        if inline:
            await trio.lowlevel.checkpoint()
            opened = _open_sync(Path(state_dir), connection_factory)
        else:
            opened = await trio.to_thread.run_sync(_open_sync, Path(state_dir), connection_factory)
        journal = cls(
            opened.conn,
            opened.report,
            opened.lock_fd,
            max_bytes=max_bytes,
            cache_max_entries=cache_max_entries,
            inline=inline,
            factory=connection_factory,
        )
        log.info("%s", opened.report)
        try:
            await journal.check_ledger()
        except BaseException:
            await journal.aclose()
            raise
        return journal

    def __repr__(self) -> str:
        if self._conn is None:
            condition = "closed"
        elif self.healthy:
            condition = "healthy"
        else:
            condition = f"unhealthy problem={self.problem!r}"
        return f"<Journal {self.path} {condition} opened={self.report.outcome.value}>"

    # ------------------------------------------------------------------ plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise trio.ClosedResourceError("the journal is closed")
        return self._conn

    def _write_sync(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn, *args)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as exc:  # the storage is failing; SQLite rolls back itself
                    log.debug("journal rollback failed: %s", exc)
            raise
        return result

    def _read_sync(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        return fn(self._connection(), *args)

    def _in_thread(
        self,
        sync: Callable[[Callable[..., T], tuple[Any, ...]], T],
        fn: Callable[..., T],
        args: tuple[Any, ...],
    ) -> T:
        try:
            return sync(fn, args)
        except sqlite3.Error as exc:
            # classified here, in the worker thread: telling a full disk from a
            # read-only one touches the filesystem, which may hang on a failing card
            fault = classify(exc, self.path.parent)
            if fault is None:
                raise
            raise _StorageFault(fault) from exc

    async def _run(self, sync: Callable[..., T], fn: Callable[..., Any], *args: Any) -> T:
        try:
            if self._inline:
                await trio.lowlevel.checkpoint()
                result: T = self._in_thread(sync, fn, args)
            else:
                result = await trio.to_thread.run_sync(
                    self._in_thread, sync, fn, args, limiter=self._limiter
                )
        except _StorageFault as exc:
            self._fault(exc.fault)
            raise JournalUnavailable(exc.fault.problem) from exc.__cause__
        return result

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        if self._held:
            await self._write_held()
        result: T = await self._run(self._write_sync, fn, *args)
        if not self.healthy and not self._corrupt:
            self._recovered("a write succeeded")
        return result

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        result: T = await self._run(self._read_sync, fn, *args)
        return result

    def _fault(self, fault: Fault) -> None:
        if fault.corrupt and not self._corrupt:
            mark_damaged(self.path)  # the next start checks deeper and moves it aside
        self._corrupt = self._corrupt or fault.corrupt
        if self.healthy or self.problem != fault.problem:
            log.error("journal unavailable: %s", fault.problem)
        self.problem = fault.problem
        self.storage_full = fault.full
        if self.healthy:
            self.healthy = False
            self._became_healthy = trio.Event()
            self._became_unhealthy.set()

    def _recovered(self, how: str) -> None:
        log.warning("journal storage works again (%s); was: %s", how, self.problem)
        self.healthy = True
        self.problem = None
        self.storage_full = False
        self._became_unhealthy = trio.Event()
        self._became_healthy.set()

    # ------------------------------------------------------------------ lifetime

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Health probe task: while unhealthy, probe with back-off until a write works."""
        task_status.started()
        while True:
            await self._became_unhealthy.wait()
            delay = PROBE_FIRST_S
            while not self.healthy:
                await trio.sleep(delay)
                try:
                    if await self._probe():
                        break
                except trio.ClosedResourceError:
                    return
                delay = min(delay * 2, PROBE_MAX_S)

    async def _probe(self) -> bool:
        if self._corrupt:
            return False
        try:
            why_not = await self._run(self._read_sync, units.probe_unit, self.path.parent)
        except JournalUnavailable as exc:
            log.debug("journal probe failed: %s", exc)
            if not await self._reopen():
                return False
            why_not = None
        if why_not is not None:
            log.debug("journal probe: %s", why_not)
            return False
        try:
            await self._write_held()
        except JournalUnavailable:
            return False
        if not self.healthy:
            self._recovered("probe write succeeded")
        return True

    async def _write_held(self) -> None:
        """The stops the storage refused, first, in the order they were made."""
        for local_id, (unit, what) in list(self._held.items()):
            await self._run(self._write_sync, unit)
            del self._held[local_id]
            log.warning(
                "journal: the stop of transaction %d (%s), kept in memory while the storage "
                "refused it, is written now",
                local_id,
                what,
            )

    async def _reopen(self) -> bool:
        """The storage looks usable but this connection still fails (a filesystem remounted
        after an error keeps the old files read-only): open the journal again."""
        if self._inline:
            await trio.lowlevel.checkpoint()
            return self._reopen_sync()
        return await trio.to_thread.run_sync(self._reopen_sync, limiter=self._limiter)

    def _reopen_sync(self) -> bool:
        old = self._conn
        if old is None or space_problem(self.path.parent) is not None:
            return False
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        try:
            opened = open_database(self.path.parent, bundled_migrations(), self._factory)
        except (JournalOpenError, OSError, sqlite3.Error) as exc:
            log.debug("journal reopen failed: %s", exc)
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                log.error("journal: lock %s lost while reopening", self.path.parent)
            return False
        with contextlib.suppress(sqlite3.Error):
            old.close()
        os.close(self._lock_fd)
        self._conn, self._lock_fd = opened.conn, opened.lock_fd
        log.warning("journal reopened: %s (was: %s)", opened.report, self.problem)
        return True

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def wait_unhealthy(self) -> None:
        """Return once a write failed for a storage fault (at once if the journal is unhealthy)."""
        while self.healthy:
            await self._became_unhealthy.wait()

    async def wait_healthy(self) -> None:
        """Return once the storage accepts writes (at once if it does now)."""
        while not self.healthy:
            await self._became_healthy.wait()

    async def aclose(self) -> None:
        """Checkpoint the WAL into the database (TRUNCATE) and close. Safe to call twice."""
        if self._conn is None:
            return
        for local_id, (_, what) in self._held.items():
            log.error(
                "journal: the stop of transaction %d (%s) is lost with the storage: it was "
                "never written, so the next start stops the transaction again as PowerLoss",
                local_id,
                what,
            )
        self._held.clear()
        if self._inline:
            self._close_sync()
        else:
            await trio.to_thread.run_sync(self._close_sync, limiter=self._limiter)

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("journal checkpoint at close failed (the WAL keeps the data): %s", exc)
        try:
            conn.close()
        except sqlite3.Error as exc:
            log.warning("journal close failed: %s", exc)
        finally:
            os.close(self._lock_fd)  # releases the flock: another ocppd may open it now
        log.info("journal %s closed", self.path)

    # ------------------------------------------------------------------ settings and cache

    async def settings(self) -> dict[str, str]:
        """All stored settings (OCPP keys the central system set, availability, ...)."""
        return await self._read(state.settings)

    async def set_setting(self, name: str, value: str | None) -> None:
        """Store one setting durably; ``None`` deletes it."""
        await self._write(state.set_setting, name, value)

    async def job(self, name: str) -> dict[str, Any] | None:
        """The state of the durable job ``name`` (e.g. a firmware update), or None."""
        return await self._read(state.job, name)

    async def put_job(
        self,
        name: str,
        value: dict[str, Any] | None,
        *,
        report: tuple[str, dict[str, Any]] | None = None,
        words: TxWords | None = None,
    ) -> None:
        """Store (``None``: forget) job ``name``; with ``report`` (action, payload) queue that
        message of ``words.protocol`` in the same transaction, so a phase change and the
        message that tells it are journaled together or not at all."""
        if report is not None and words is None:
            raise ValueError("a report needs the words of its protocol")

        def unit(conn: sqlite3.Connection) -> None:
            state.put_job(conn, name, value)
            if report is not None and words is not None:
                outbox.enqueue(
                    conn,
                    kind=Kind.OTHER,
                    action=report[0],
                    protocol=words.protocol,
                    local_id=None,
                    connector_id=None,
                    payload=report[1],
                    droppable=False,
                    max_bytes=self.max_bytes,
                )

        await self._write(unit)

    async def cache_lookup(self, id_tag: str) -> CacheEntry | None:
        """The cached IdTagInfo for ``id_tag`` (case-insensitive), or None."""
        return await self._read(state.cache_lookup, id_tag)

    async def cache_store(
        self,
        id_tag: str,
        status: str,
        expiry: str | None,
        parent_id_tag: str | None,
        now: str,
        *,
        unless_listed: bool = False,
    ) -> None:
        """Insert or replace an entry; evicts non-Accepted, then oldest, over the limit.
        ``unless_listed``: nothing when the local list holds the tag (one transaction)."""
        entry = CacheEntry(state.cache_key(id_tag), status, expiry, parent_id_tag, now)
        await self._write(state.cache_store, entry, self.cache_max_entries, unless_listed)

    async def cache_forget(self, id_tag: str) -> bool:
        """Remove the entry of ``id_tag`` (case-insensitive); False when there was none."""
        return await self._write(state.cache_forget, id_tag)

    async def cache_clear(self) -> None:
        """Empty the authorization cache (ClearCache)."""
        await self._write(state.cache_clear)

    # ------------------------------------------------------------------ charging profiles

    async def charging_profiles(self) -> list[str]:
        """The installed charging profiles (JSON records, id order). A row whose checksum
        fails is left out and logged: a damaged limit is not guessed at."""
        good, damaged = await self._read(state.charging_profiles)
        for profile_id in damaged:
            log.error("journal: charging profile %d is damaged and was left out", profile_id)
        return good

    async def replace_charging_profiles(self, records: list[tuple[int, str]]) -> None:
        """Store exactly these charging profiles (id, JSON record), atomically."""
        await self._write(state.replace_charging_profiles, records)

    # ------------------------------------------------------------------ local list

    async def list_lookup(self, id_tag: str) -> ListedTag | None:
        """The local authorization list's entry for ``id_tag`` (case-insensitive), or None."""
        return await self._read(local_list.lookup, id_tag)

    async def list_summary(self) -> ListSummary:
        """The list's version (0 when empty) and number of entries."""
        return await self._read(local_list.summary)

    async def list_update(
        self, *, full: bool, version: int, entries: list[ListEntry], max_entries: int
    ) -> ListUpdate:
        """Apply one list update in one commit, or refuse it and change nothing (see
        :class:`~ocppd.journal.records.ListUpdate`). ``full`` replaces the list; otherwise
        an entry with status None deletes its identifier."""
        unit = functools.partial(
            local_list.update,
            full=full,
            version=version,
            entries=entries,
            max_entries=max_entries,
        )
        try:
            return await self._write(unit)
        except local_list.Refused as refused:  # rolled back: nothing changed
            return refused.outcome

    # ------------------------------------------------------------------ reservations

    async def reservations(self) -> list[ReservationRecord]:
        """The reservations in force when they were last written (1.6 §3.11)."""
        return await self._read(state.reservations)

    async def save_reservation(self, record: ReservationRecord) -> None:
        """Keep a reservation durably, replacing one with the same id."""
        await self._write(state.save_reservation, record)

    async def delete_reservation(self, reservation_id: int) -> None:
        """Forget a reservation (nothing when unknown)."""
        await self._write(state.delete_reservation, reservation_id)

    # ------------------------------------------------------------------ display messages

    async def display_messages(self) -> list[tuple[int, str]]:
        """The display messages kept (2.0.1 block O): (id, record text), by id."""
        return await self._read(state.display_messages)

    async def save_display_message(self, message_id: int, record: str) -> None:
        """Keep one display message durably, replacing the one with the same id."""
        await self._write(state.save_display_message, message_id, record)

    async def delete_display_message(self, message_id: int) -> None:
        """Forget one display message (nothing when unknown)."""
        await self._write(state.delete_display_message, message_id)

    # ------------------------------------------------------------------ transactions

    async def start_transaction(
        self,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: str,
        reservation_id: int | None,
        payload: dict[str, Any],
        words: TxWords,
        transaction_id: TransactionId | None = None,
    ) -> int:
        """Journal a started transaction and queue its tx-start (``words.start``); one commit.

        ``transaction_id`` is given when the charge point names its transactions (2.0.1);
        otherwise the answer brings it (:meth:`acknowledge`). Returns the local id. Raises
        :class:`ConnectorBusy` if the connector still has a running transaction (stop it
        first, e.g. with PowerLoss after a restart).
        """
        unit = functools.partial(
            ledger.start,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start_wh,
            timestamp=timestamp,
            reservation_id=reservation_id,
            payload=payload,
            words=words,
            transaction_id=transaction_id,
            max_bytes=self.max_bytes,
        )
        return await self._write(unit)

    async def record_meter(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        """Checkpoint the last meter reading of a running transaction (no outbox row)."""
        await self._write(ledger.record_meter, local_id, energy_wh, timestamp)

    async def add_meter_values(
        self,
        local_id: int | None,
        *,
        connector_id: int,
        payload: dict[str, Any],
        droppable: bool,
        words: TxWords,
        driver: str | None = None,
    ) -> int:
        """Queue a sample (``words.event``, payload without the transaction id): a tx-event
        of transaction ``local_id``, or other when it belongs to none; returns its seq.

        ``droppable`` marks intermediate periodic samples that may be thinned under
        the size cap; Transaction.Begin/End and anything else must pass False.
        ``driver``: the tag that now authorises a transaction begun without one (the
        ledger's id_tag, in the same unit).
        """
        unit = functools.partial(
            units.add_meter_values,
            local_id=local_id,
            connector_id=connector_id,
            payload=payload,
            droppable=droppable,
            words=words,
            max_bytes=self.max_bytes,
            driver=driver,
        )
        return await self._write(unit)

    async def add_message(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        words: TxWords,
        connector_id: int | None = None,
    ) -> int:
        """Queue another message of ``words.protocol`` that must not be lost (e.g. a critical
        SecurityEventNotification); never thinned; returns its seq.

        A transaction's messages have their own methods (they touch the ledger).
        """
        if words.reserved(action):
            raise ValueError(f"queue {action} with its own journal method, not add_message")
        unit = functools.partial(
            outbox.enqueue,
            kind=Kind.OTHER,
            action=action,
            protocol=words.protocol,
            local_id=None,
            connector_id=connector_id,
            payload=payload,
            droppable=False,
            max_bytes=self.max_bytes,
        )
        return await self._write(unit)

    async def stop_transaction(
        self,
        local_id: int,
        *,
        meter_stop_wh: int,
        timestamp: str,
        reason: str,
        id_tag: str | None,
        payload: dict[str, Any],
        words: TxWords,
    ) -> int:
        """Journal the stop and queue its tx-stop (``words.stop``); one commit; returns its
        seq.

        Idempotent: a second call for the same transaction returns the first seq and
        changes nothing (libocpp #239/#907).
        """
        unit = functools.partial(
            ledger.stop,
            local_id=local_id,
            meter_stop_wh=meter_stop_wh,
            timestamp=timestamp,
            reason=reason,
            id_tag=id_tag,
            payload=payload,
            words=words,
            max_bytes=self.max_bytes,
        )
        try:
            seq: int = await self._write(unit)
        except JournalUnavailable:
            if local_id not in self._held:
                log.error(
                    "journal: the stop of transaction %d (%s at %s) is kept in memory until the "
                    "storage takes writes again; it is written first then",
                    local_id,
                    reason,
                    timestamp,
                )
            self._held[local_id] = (unit, f"{reason} at {timestamp}")
            raise
        self._held.pop(local_id, None)
        return seq

    async def open_transactions(self) -> list[TxRecord]:
        """Ledger rows still running: what a restart must stop with PowerLoss."""
        return await self._read(ledger.running)

    async def transaction(self, local_id: int) -> TxRecord | None:
        return await self._read(ledger.get, local_id)

    async def transactions(self, *, since_local_id: int = 0) -> list[TxRecord]:
        """Ledger rows with ``local_id > since_local_id``, oldest first (audits, tests)."""
        return await self._read(ledger.since, since_local_id)

    async def transactions_of(self, id_tag: str, *, limit: int = 100) -> list[TxRecord]:
        """The newest ``limit`` ledger rows ``id_tag`` started or stopped, newest first
        (what the charger holds about a customer, 2.0.1 N09)."""
        return await self._read(ledger.of_tag, id_tag, limit)

    # ------------------------------------------------------------------ the outbox

    async def next_message(self, protocol: str | None = None) -> OutboxMessage | None:
        """The lowest-seq queued message (of ``protocol`` only, when given: rows of other
        versions stay queued), or None when there is none.

        A message (or its ledger row) that fails its checksum is quarantined on the way
        (see :mod:`ocppd.journal.integrity`): the queue goes on behind it, and a damaged
        tx-start or tx-stop comes back with ``rebuild`` set."""
        while True:
            try:
                return await self._read(outbox.head, protocol)
            except integrity.Damaged as damaged:
                outcome = await self._write(integrity.quarantine_outbox, damaged.seq)
                self._damaged(f"queued message {damaged.seq}: {outcome}")

    def _damaged(self, what: str) -> None:
        self.damage.append(what)
        self._damage_found.set()
        self._damage_found = trio.Event()

    def damage_summary(self) -> str | None:
        """What was set aside since the journal was opened, in a few words (None: nothing)."""
        parts = []
        if self.report.outcome is OpenOutcome.QUARANTINED:
            parts.append("files moved aside")
        if self.damage:
            parts.append(f"{len(self.damage)} record(s) set aside")
        return "journal damaged: " + ", ".join(parts) if parts else None

    async def wait_damage(self) -> None:
        """Return the next time a damaged record is found (see :attr:`damage`)."""
        await self._damage_found.wait()

    async def salvage(self, source: Path) -> salvage.SalvageReport:
        """Bring back what can be read of a moved-aside journal ``source`` (its main file's
        path; the ``-wal`` beside it is read too, neither is written): transactions not
        done and their queued messages, before everything queued here. Never twice: the
        ledger identities decide (see :mod:`ocppd.journal.salvage`)."""
        from ocppd.journal import salvage as salvaging  # rarely needed: loaded on demand

        report: salvaging.SalvageReport = await self._write(salvaging.salvage, Path(source))
        log.warning("journal: %s", report)
        for what in report.damaged[:20]:
            log.error("journal: salvage of %s left out a damaged record: %s", source, what)
        return report

    async def check_ledger(self) -> int:
        """Check every ledger row against its checksum; each damaged one is reported once
        (ERROR, quarantine table). Returns how many were found now."""
        found: int = await self._write(integrity.check_ledger)
        if found:
            self._damaged(f"{found} ledger row(s)")
        return found

    async def pending_messages(self, *, limit: int | None = None) -> list[OutboxMessage]:
        """Queued messages in send order (for ``ocppctl`` and audits)."""
        return await self._read(outbox.pending, limit)

    async def seal(
        self, seq: int, message_id: str, payload: dict[str, Any], *, number: int | None = None
    ) -> None:
        """Commit the message id and final payload before the first send.

        ``number``: the payload carries this number of its transaction (a protocol that
        numbers a transaction's messages: 2.0.1 seqNo). It must be the row's
        :attr:`~ocppd.journal.records.OutboxMessage.next_number`; the ledger counts it in
        the same commit. Numbers are given at the first send, not when a row is queued, so
        a row that never leaves (thinned, quarantined before it was sent) takes none."""
        await self._write(units.seal, seq, message_id, payload, number)

    async def acknowledge(
        self,
        seq: int,
        *,
        transaction_id: TransactionId | None = None,
        start_status: str | None = None,
        protocol: str | None = None,
    ) -> OutboxMessage | None:
        """The CALLRESULT arrived: delete the row and update the ledger, in one commit;
        returns the next message (the new head; of ``protocol`` only, when given), read in
        the same trip to the writer.

        For a tx-start the caller passes what the answer says: the ``transaction_id`` it
        assigned (1.6; a start without one, and without one given at the start, raises
        ValueError and stays queued) and ``start_status``, the verdict on the tag."""
        following = await self._write(
            units.acknowledge_next, seq, transaction_id, start_status, protocol
        )
        self._acks_since_checkpoint += 1
        if following is None and self._acks_since_checkpoint >= CHECKPOINT_AFTER_ACKS:
            try:
                if await self._read(units.checkpoint_if_idle):
                    self._acks_since_checkpoint = 0
            except JournalUnavailable as exc:  # the ack itself is committed
                log.warning("journal checkpoint after the queue drained failed: %s", exc)
        return following

    async def record_failure(self, seq: int, error: str) -> int:
        """A CALLERROR (or a timeout the caller counts): attempts += 1; returns attempts."""
        return await self._write(outbox.record_failure, seq, error)

    async def give_up(
        self, seq: int, reason: str, *, fallback_id: TransactionId | None = None
    ) -> None:
        """Move the message to the dead letters. A given-up tx-start whose transaction has
        no id yet gives it ``fallback_id``, so the rest of it can be sent (1.6: -1, errata
        3.18)."""
        await self._write(units.give_up, seq, reason, fallback_id)

    async def queue_stats(self) -> QueueStats:
        return await self._read(outbox.stats, self.max_bytes)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest ``limit`` dead letters, oldest first."""
        return await self._read(outbox.dead_letters, limit)


def _open_sync(state_dir: Path, factory: type[sqlite3.Connection]) -> Opened:
    return open_database(state_dir, bundled_migrations(), factory)


__all__ = ["DEFAULT_MAX_BYTES", "Journal"]
