"""The charge point as a whole: its connectors and what spans them.

A tag is presented to the charger, not to a connector: it ends its own transaction
(or one of its parent group) wherever that runs, or starts a session on the
connector where an EV waits, or on the only free connector, or on the first one
plugged within ConnectionTimeOut (every free connector is Preparing meanwhile: the
next cable plugged in starts this driver's session, 1.6 §4.9 A2), or, when no
connector is free, restarts a single Finishing one (F2). Remote start and stop,
availability, the clock-aligned meter readings, power-loss recovery and reset
requests live here too.

Errors: the charger owns the work it starts (:meth:`Charger.spawn`: tags from the
reader, refreshes after charger-wide faults, journal retries, work promised by an
Accepted answer to the central system); a refusal is a log line, an LED pattern and
``ocppctl status``; a bug is logged with its traceback; neither ends the daemon
(ocppd/model/supervise.py).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import trio

from hal.base import (
    ConnectorDevices,
    DeviceEvent,
    Fault,
    FaultCleared,
    FaultKind,
    FaultRaised,
    RfidReader,
    TagRead,
)
from ocppd.clock import Clock, format_time
from ocppd.model.auth import (
    Authorizer,
    AuthResult,
    AuthSource,
    IdTagInfo,
    Uplink,
    same_tag,
    why_refused,
)
from ocppd.model.connector import Connector, Refused, TxMessage
from ocppd.model.notices import Notices
from ocppd.model.outcomes import AvailabilityResult, ResetKind
from ocppd.model.policies import Policies
from ocppd.model.reservation import Reservation, Reservations, ReservationStore
from ocppd.model.status import (
    FAULT_CODES,
    ErrorCode,
    Reported,
    Severity,
    charger_status,
    is_blocking,
    severity,
    worst,
)
from ocppd.model.supervise import Why, start_supervised
from ocppd.model.token import DEFAULT_ORIGIN, Origin, TokenKind
from ocppd.model.transaction import StopReason, StorageUnavailable, Transaction, TransactionLog

log = logging.getLogger(__name__)

STORAGE_VENDOR_CODE = "journal"


class SettingsStore(Protocol):
    async def set_setting(self, name: str, value: str | None) -> None:
        """Store one setting durably (None deletes it). Raises StorageUnavailable."""
        ...


@dataclass(frozen=True, slots=True)
class TagEvent:
    """What became of the last tag presented, for ``ocppctl status``: never the tag itself
    (tags are personal data)."""

    at: str | None  # wall-clock time, None while the time is unknown
    source: str  # "reader" or "ocppctl"
    accepted: bool
    outcome: str  # what happened, or why it was refused
    why: Why | None = None  # a refusal in one word


@dataclass(frozen=True, slots=True)
class OpenTransaction:
    """A transaction the journal still has running at start: it outlived a crash or power cut."""

    local_id: int
    connector_id: int
    id_tag: str
    meter_start_wh: int
    meter_last_wh: float | None
    meter_last_at: str | None


class Charger:
    def __init__(
        self,
        *,
        policies: Policies,
        clock: Clock,
        txlog: TransactionLog,
        uplink: Uplink,
        authorizer: Authorizer,
        settings: SettingsStore,
        reservation_store: ReservationStore,
        reader: RfidReader | None = None,
        reader_kind: TokenKind = TokenKind.CARD,
        notices: Notices | None = None,
    ) -> None:
        self.policies = policies
        self.clock = clock
        self.txlog = txlog
        self.uplink = uplink
        self.authorizer = authorizer
        self.settings = settings
        self.reader = reader
        self.reader_kind = reader_kind  # the kind of token the reader's tags are
        self.connectors: dict[int, Connector] = {}
        self.reservations = Reservations(
            self.connectors,
            reservation_store,
            clock,
            charger_status=lambda: self.current().status,
            retry_later=self._retry_later,
            changed=self._follow_zero,
        )
        # what the central system asks the screen to show (2.0.1 display messages)
        self.notices = notices if notices is not None else Notices()
        self.operative = True  # connector 0
        self.faults: dict[FaultKind, Fault] = {}
        self.last_tag: TagEvent | None = None
        self.reset_requested: ResetKind | None = None
        self.stopping = False  # an orderly stop began: no new transaction may start
        self.held: str | None = None  # why no new session may start (an update waits)
        self._reset = trio.Event()
        self._changed = trio.Event()
        self._holds_stale = trio.Event()  # a connector's held_for_zero may be out of date
        self._noticed = trio.Event()
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        return f"<Charger connectors={list(self.connectors.values())!r} operative={self.operative}>"

    def add_connector(
        self,
        devices: ConnectorDevices,
        *,
        max_current_a: float,
        phases: int,
        connector_type: str | None = None,
    ) -> Connector:
        connector = Connector(
            self,
            devices,
            max_current_a=max_current_a,
            phases=phases,
            connector_type=connector_type,
        )
        self.connectors[connector.id] = connector
        return connector

    def connector(self, connector_id: int) -> Connector | None:
        return self.connectors.get(connector_id)

    # --- connector 0 ---

    @property
    def faulted(self) -> bool:
        """A charger-wide fault stops energy on every connector (SEVERITY)."""
        return self.blocking_fault() is not None

    def blocking_fault(self) -> Fault | None:
        return next((f for f in self.faults.values() if is_blocking(f)), None)

    @property
    def storage_ok(self) -> bool:
        """False while the journal cannot be written: no new session may start."""
        return FaultKind.STORAGE not in self.faults

    @property
    def accepts_sessions(self) -> bool:
        """Operative, not held for maintenance, and no charger-wide fault that stops new
        sessions (the journal)."""
        return (
            self.operative
            and self.held is None
            and not any(severity(f) is Severity.NO_NEW_SESSIONS for f in self.faults.values())
        )

    def current(self) -> Reported:
        """Connector 0: the charger's own faults (a reader outage is ReaderFailure beside the
        status the charger really has), Unavailable only when it allows no charging at all."""
        status = charger_status(
            ready=self.accepts_sessions,
            charging=any(c.tx is not None for c in self.connectors.values()),
            faulted=self.faulted,
        )
        fault = worst(self.faults.values())
        if fault is None:
            conflict = self.authorizer.conflicts.current
            if conflict is not None:  # 1.6 §3.5.3: connector 0, LocalListConflict
                return Reported(status, ErrorCode.LOCAL_LIST_CONFLICT, conflict[:50], None)
            return Reported(status, ErrorCode.NO_ERROR, None, None)
        return Reported(status, FAULT_CODES[fault.kind], fault.info[:50] or None, None)

    # --- maintenance: an installation waits until no transaction runs ---

    def hold_sessions(self, why: str) -> None:
        """No new session may start, for ``why`` (a refusal says it); every connector not in
        use and connector 0 report Unavailable, running transactions go on (the security
        whitepaper's L01.FR.07 for a firmware update that waits for them)."""
        self.held = why
        self._refresh_soon()

    def release_sessions(self) -> None:
        if self.held is not None:
            self.held = None
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Connector 0 at once; each connector once its lock is free (its status follows
        the charger's ``accepts_sessions``)."""
        self.status_changed()
        if self._nursery is not None:
            self.spawn("connector statuses", self._refresh_all)

    @property
    def transactions_running(self) -> bool:
        return any(c.tx is not None or c.pending is not None for c in self.connectors.values())

    async def wait_no_transactions(self) -> None:
        """Until no connector has a transaction (nor one about to begin)."""
        while self.transactions_running:
            await self.wait_changed()

    def status_changed(self) -> None:
        if self.reservations.zeros and self._nursery is not None:
            self.spawn("reservation check", self.reservations.charger_changed)
        self._follow_zero()
        self._changed.set()
        self._changed = trio.Event()
        self.uplink.status_changed()
        self.notice()

    def free_changed(self) -> None:
        self._follow_zero()

    def _follow_zero(self) -> None:
        """The connectors free, or the reservations, changed: when the connectors the
        connector-0 reservation holds (Reservations.held) are no longer those that say so,
        :meth:`_keep_holds` tells them."""
        held = self.reservations.held()
        if any(c.held_for_zero != (c.id in held) for c in self.connectors.values()):
            self._holds_stale.set()

    async def _keep_holds(self) -> None:
        """One task tells the connectors, one at a time, whether the connector-0 reservation
        holds them; it looks again after every change (a connector's lock may make it wait,
        and what it learnt may be out of date by then)."""
        while True:
            await self._holds_stale.wait()
            self._holds_stale = trio.Event()
            held = self.reservations.held()
            for connector in self.connectors.values():
                if connector.held_for_zero != (connector.id in held):
                    await connector.hold(connector.id in held)
            self._follow_zero()  # anything that changed meanwhile

    async def wait_changed(self) -> None:
        await self._changed.wait()

    @property
    def next_status_change(self) -> trio.Event:
        """Set at the next status change of any connector (a transaction began or ended, a
        transaction was answered ...): take it before looking, and no change is missed."""
        return self._changed

    def notice(self) -> None:
        """Something a person at the charger would notice changed: a status, a refusal shown,
        what became of a tag, a session that ended. Wakes :meth:`wait_notice`."""
        self._noticed.set()
        self._noticed = trio.Event()

    async def wait_notice(self) -> None:
        """Return at the next :meth:`notice` (a screen waits here instead of polling)."""
        await self._noticed.wait()

    def uplink_changed(self) -> None:
        """The central system became reachable or unreachable: the indicators show it."""
        for connector in self.connectors.values():
            connector.show_indicator()

    # --- lifetime ---

    def spawn(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start ``fn(*args)`` in the charger's nursery, which lives as long as the daemon:
        the work outlives whoever asked for it (a connection to the central system above
        all). Its errors are log lines (ocppd/model/supervise.py); ``what`` names it there.
        Raises RuntimeError when the charger is not running."""
        if self._nursery is None:
            raise RuntimeError("the charger is not running")
        start_supervised(self._nursery, what, fn, *args)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for connector in self.connectors.values():
                await nursery.start(connector.run)
            if self.reader is not None:
                self.spawn(f"{self.reader.name} watch", self._watch_reader, self.reader)
            self.spawn("clock-aligned meter values", self._aligned_readings)
            self.spawn("journal watch", self._watch_storage)
            self.spawn("local list conflicts", self._watch_list_conflicts)
            self.spawn("reservation expiry", self.reservations.run)
            self.spawn("reservation holds", self._keep_holds)
            task_status.started()

    async def _watch_reader(self, reader: RfidReader) -> None:
        """The reader's watch task; one that crashes (a driver bug) is a reader outage."""
        try:
            await reader.run(self)
        except Exception:
            self.report(FaultRaised(Fault(FaultKind.READER, "reader driver failed")))
            raise  # the supervisor logs it with its traceback

    def report(self, event: DeviceEvent) -> None:
        """EventSink for charger-wide devices (the RFID reader)."""
        if isinstance(event, TagRead):
            self.tag_read(event.id_tag)
        elif isinstance(event, FaultRaised):
            self.faults[event.fault.kind] = event.fault
            log.warning(
                "charger: %s fault (%s): %s",
                event.fault.kind,
                severity(event.fault),
                event.fault.info,
            )
            self.spawn("charger fault", self._refresh_all)
        elif isinstance(event, FaultCleared) and event.kind in self.faults:
            del self.faults[event.kind]
            log.info("charger: %s fault cleared", event.kind)
            self.spawn("charger fault cleared", self._refresh_all)

    def tag_read(self, id_tag: str) -> None:
        """A reader read a tag: present it (a refusal is logged, shown and kept, never
        raised: the reader has nobody to tell)."""
        self.spawn("tag from the reader", self._tag_from_reader, id_tag)

    async def _tag_from_reader(self, id_tag: str) -> None:
        try:
            await self.present_tag(id_tag, "reader")
        except Refused:
            pass  # present_tag logged it, showed it and keeps it for `ocppctl status`

    async def _watch_storage(self) -> None:
        """While the journal cannot be written, refuse new sessions and say why (connector 0:
        OtherError "journal: ..."; idle connectors: Unavailable); running ones go on."""
        while True:
            await self.txlog.wait_unhealthy()
            problem = self.txlog.problem or "cannot be written"
            log.error("journal unavailable (%s): no new sessions until it can be written", problem)
            self.faults[FaultKind.STORAGE] = Fault(
                FaultKind.STORAGE, f"journal: {problem}"[:50], STORAGE_VENDOR_CODE
            )
            await self._refresh_all()
            await self.txlog.wait_healthy()
            log.warning("journal writable again: sessions may start")
            self.faults.pop(FaultKind.STORAGE, None)
            await self._refresh_all()

    async def _watch_list_conflicts(self) -> None:
        """Connector 0 reports a conflict between the local list and the central system
        while it lasts (until the list is next updated)."""
        while True:
            await self.authorizer.conflicts.wait_changed()
            self.status_changed()

    def local_list_updated(self) -> None:
        """The central system updated the local authorization list: a conflict reported
        before is its to have resolved."""
        self.authorizer.conflicts.clear()

    async def _refresh_all(self) -> None:
        for connector in self.connectors.values():
            await connector.refresh()
        self.status_changed()

    def _retry_later(self, what: str, write: Callable[[], Awaitable[None]]) -> None:
        """Retry ``write`` in the background until the journal takes it (at start, before
        the charger runs, there is no background yet: the next start tries again)."""
        if self._nursery is None:
            log.error("%s: not written; the next start tries again", what)
            return
        self.spawn(what, self.retry_storage, write)

    async def retry_storage(self, write: Callable[[], Awaitable[None]]) -> None:
        """Retry a journal write that must land (a stop) until the journal can be written.
        Run it with :meth:`spawn`."""
        while True:
            await self.txlog.wait_healthy()
            try:
                await write()
                return
            except StorageUnavailable:
                await trio.sleep(1)

    # --- drivers' tags ---

    async def present_tag(self, id_tag: str, source: str = "reader") -> str:
        """A tag was shown (reader or ``ocppctl swipe``). Returns what happened, for people.

        Raises Refused (why, for people: never the tag) when it may not charge now: the
        central system or the offline rules refuse it (Invalid, Blocked, Expired,
        ConcurrentTx, unknown offline), no connector is free, the journal cannot be
        written, ocppd is stopping. Either way the outcome is logged without the tag (tags
        are personal data), kept for ``ocppctl status`` (:attr:`last_tag`), and a refusal
        is shown on the LEDs of the connectors concerned (all of them when none is).
        """
        id_tag = id_tag.strip().upper()[:20]
        log.info("tag presented (%s)", source)
        concerned: list[Connector] = []
        try:
            outcome = await self._present(id_tag, concerned)
        except Refused as exc:
            self._tag_event(source, accepted=False, outcome=str(exc), why=exc.why)
            log.info("tag (%s) refused: %s", source, exc)
            for connector in concerned or self.connectors.values():
                connector.show_refused(exc.why)
            raise
        self._tag_event(source, accepted=True, outcome=outcome)
        log.info("tag (%s): %s", source, outcome)
        return outcome

    def _tag_event(
        self, source: str, *, accepted: bool, outcome: str, why: Why | None = None
    ) -> None:
        now = self.clock.now()
        self.last_tag = TagEvent(format_time(now) if now else None, source, accepted, outcome, why)
        self.notice()

    async def _present(self, id_tag: str, concerned: list[Connector]) -> str:
        if not id_tag:
            raise Refused("empty tag")
        done, auth = await self._end_own(id_tag)
        if done is not None:
            return done
        claimed = [c for c in self.connectors.values() if c.claimed_by(id_tag)]
        if any(c.pending is not None and c.pending.auth is None for c in claimed):
            return "already being authorised"  # held on the reader a little long
        if claimed:  # shown again before the cable is in
            where = ", ".join(str(c.id) for c in claimed)
            return f"already authorised: plug in at connector {where}"
        if self.stopping:
            raise Refused("ocppd is stopping", Why.UNAVAILABLE)
        if not self.storage_ok:
            raise Refused(
                f"no new sessions: the journal cannot be written ({self.txlog.problem})",
                Why.UNAVAILABLE,
            )
        targets = self._targets(id_tag)
        concerned.extend(targets)
        for connector in targets:
            connector.claim(id_tag, None)  # Preparing while the tag is authorised
        try:
            auth = auth or await self.authorizer.authorize(id_tag, self.reader_kind)
            if not auth.accepted:
                raise Refused(f"tag refused: {auth.why}", why_refused(auth))
            return await self._start_claimed(id_tag, auth, targets)
        finally:
            for connector in targets:  # claims nobody confirmed are given up
                if connector.pending is not None and connector.pending.auth is None:
                    connector.release(id_tag)

    async def _end_own(self, id_tag: str) -> tuple[str | None, AuthResult | None]:
        """The tag ends its own transaction (no Authorize: 1.6 §3.4), one of its parent group,
        or frees the cable its DeAuthorized transaction left locked. Returns what happened
        (None: nothing) and the authorisation it needed, if any."""
        for connector in self.connectors.values():
            tx = connector.tx
            if tx is not None and same_tag(tx.id_tag, id_tag):
                await connector.stop(StopReason.LOCAL, id_tag)
                return _stopped(connector, tx), None
        auth: AuthResult | None = None
        for connector in self.connectors.values():
            tx = connector.tx
            if tx is not None and tx.parent_id_tag:
                auth = auth or await self.authorizer.authorize(id_tag, self.reader_kind)
                if same_tag(auth.parent_id_tag, tx.parent_id_tag):
                    await connector.stop(StopReason.LOCAL, id_tag)
                    return f"{_stopped(connector, tx)} (same group)", auth
        for connector in self.connectors.values():
            if connector.locked_for is not None:
                auth = auth or await self.authorizer.authorize(id_tag, self.reader_kind)
                if await connector.release_lock_for(id_tag, auth.parent_id_tag):
                    return f"connector {connector.id} unlocked", auth
        return None, auth

    def _targets(self, id_tag: str) -> list[Connector]:
        """The connectors a new tag claims: the one reserved for it, else the free one where
        an EV waits, else every free one (the first plugged in gets the session), else a
        single Finishing one (F2). A connector reserved for another driver is not free for
        this one (unless the reservation admits a parent group: that is known only once
        the tag is authorised, :meth:`_start_claimed`).

        Raises Refused when there is none.
        """
        if self.held is not None:
            raise Refused(self.held)
        waiting = [c for c in self.connectors.values() if c.tx is not None and c.tx.awaits_driver]
        if waiting:  # a transaction began at the cable and waits for its driver (EVConnected)
            return waiting[:1]
        free = [
            c
            for c in self.connectors.values()
            if c.free and _may_claim(c, id_tag) and not self.reservations.zero_excludes(id_tag, c)
        ]
        reserved = [
            c for c in free if c.reservation is not None and c.reservation.admits(id_tag, None)
        ]
        if reserved:
            return reserved[:1]
        waiting = [c for c in free if c.plug.plugged]
        if waiting:
            return waiting[:1]
        if free:
            return free
        finishing = [c for c in self.connectors.values() if c.restartable]
        if len(finishing) == 1:
            return finishing
        if finishing:
            raise Refused(
                "several connectors are finishing: plug in again where the session should start",
                Why.BUSY,
            )
        if any(c.free for c in self.connectors.values()):
            raise Refused("the free connectors are reserved for other drivers", Why.RESERVED)
        raise Refused("no free connector", Why.BUSY)

    async def _start_claimed(self, id_tag: str, auth: AuthResult, targets: list[Connector]) -> str:
        """The tag was accepted: start where the EV is, or keep the claims ConnectionTimeOut."""
        mine = [c for c in targets if c.claimed_by(id_tag)]
        if not mine:  # the claims were lost meanwhile (ChangeAvailability, a fault)
            raise Refused("no free connector any more", Why.BUSY)
        mine = self._admitted(id_tag, auth, mine)
        plugged = [c for c in mine if c.plug.plugged]
        if plugged:
            chosen = plugged[0]
            for other in mine:  # synchronously, before anything can plug in there
                if other is not chosen:
                    other.release(id_tag)
            if await chosen.start_for(id_tag, auth):
                return f"authorised: charging on connector {chosen.id}"
            return f"authorised: plug in at connector {chosen.id}"
        # start point Authorized: the transaction begins now, the cable comes within
        # EVConnectionTimeOut. With several free connectors it begins where the cable is
        # plugged in (a transaction here names its EVSE from its start).
        if (
            len(mine) == 1
            and mine[0].begins_on_authorization()
            and await mine[0].start_for(id_tag, auth)
        ):
            return f"authorised: transaction started, plug in at connector {mine[0].id}"
        for connector in mine:
            connector.claim(id_tag, auth)
        if len(mine) == 1:
            return f"authorised: plug in at connector {mine[0].id}"
        return "authorised: plug in at any free connector"

    def _admitted(self, id_tag: str, auth: AuthResult, mine: list[Connector]) -> list[Connector]:
        """Of the connectors ``id_tag`` claimed, those its reservations let it use now its
        parent group is known (1.6 §5.13), and where the central system lets it charge (a
        verdict may name the connectors: 2.0.1 idTokenInfo.evseId); the others are released.
        Raises Refused when none is left."""
        parent = auth.parent_id_tag
        allowed = [
            c
            for c in mine
            if (c.reservation is None or c.reservation.admits(id_tag, parent))
            and not self.reservations.zero_blocks(id_tag, parent, using=c)
        ]
        where = [c for c in allowed if auth.info is None or auth.info.allows(c.id)]
        for connector in mine:
            if connector not in where:
                connector.release(id_tag)
        if allowed and not where:
            raise Refused("the tag may not charge at the free connectors", Why.OTHER)
        allowed = where
        if not allowed:
            raise Refused("the free connectors are reserved for other drivers", Why.RESERVED)
        return allowed

    def claim_taken(self, connector_id: int, id_tag: str) -> None:
        """``id_tag`` starts at connector ``connector_id``: its claims elsewhere are given
        up."""
        for other in self.connectors.values():
            if other.id != connector_id:
                other.release(id_tag)

    # --- reservations (model/reservation.py) ---

    def reservation_for(
        self, id_tag: str, parent_id_tag: str | None, connector_id: int
    ) -> Reservation | None:
        return self.reservations.zero_for(id_tag, parent_id_tag, self.connectors[connector_id])

    def reservation_blocks(self, id_tag: str, parent_id_tag: str | None, connector_id: int) -> bool:
        return self.reservations.zero_blocks(
            id_tag, parent_id_tag, using=self.connectors[connector_id]
        )

    def reservation_used(self, reservation: Reservation) -> None:
        self.reservations.use(reservation)
        self.spawn("reservation used", self.reservations.used, reservation)

    def reservation_lost(self, reservation: Reservation, why: str) -> None:
        self.spawn("reservation ended", self.reservations.connector_lost, reservation, why)

    # --- the central system's commands ---

    def remote_target(self, connector_id: int | None, id_tag: str) -> Connector | None:
        """The connector a RemoteStartTransaction for ``id_tag`` would use, or None (then:
        Rejected).

        A named connector must be free, or Finishing (a new session there, F2); without
        one: the connector reserved for the tag, else the free connector where an EV waits,
        else the first free one. A connector reserved for another tag is not free for it,
        nor is the last free one while the charge point is reserved for another (1.6
        §5.13), unless the reservation names a parent group the tag may belong to: then
        the start authorises the tag first (:meth:`needs_group`) and goes ahead only if it
        does.
        """

        def usable(c: Connector) -> bool:
            reserved = c.reservation
            if reserved is not None:
                return reserved.may_admit(id_tag)
            return not self.reservations.zero_excludes(id_tag, c)

        def waits(c: Connector) -> bool:
            """A transaction began at the cable and waits for its driver (2.0.1 F01,
            TxStartPoint EVConnected): the remote start authorises it."""
            return c.tx is not None and c.tx.awaits_driver and c.pending is None

        if connector_id is not None:
            connector = self.connectors.get(connector_id)
            if (
                connector is not None
                and (connector.free or connector.restartable or waits(connector))
                and usable(connector)
            ):
                return connector
            return None
        waiting = [c for c in self.connectors.values() if waits(c) and usable(c)]
        free = [c for c in self.connectors.values() if c.free and usable(c)]
        reserved = [c for c in free if c.reservation is not None]
        plugged = [c for c in free if c.plug.plugged]
        return next(iter(waiting + reserved + plugged + free), None)

    def needs_group(self, connector: Connector, id_tag: str) -> bool:
        """A start of ``id_tag`` at ``connector`` may happen only if the tag belongs to the
        parent group of a reservation: its parent must be learnt first (an Authorize, unless
        the cache knows it: 1.6 §5.13)."""
        reserved = connector.reservation
        if reserved is not None:
            return not reserved.admits(id_tag, None)
        return self.reservations.zero_blocks(id_tag, None, using=connector)

    async def remote_start(
        self,
        connector: Connector,
        id_tag: str,
        *,
        authorize_first: bool,
        remote_start_id: int | None = None,
        origin: Origin = DEFAULT_ORIGIN,
    ) -> None:
        """After RemoteStartTransaction was answered Accepted (the connector was claimed for
        ``id_tag``; while ``authorize_first``, with no authorisation yet). Run it with
        :meth:`spawn`: "Accepted" means "will attempt" (1.6 errata 3.32), whatever the link
        does meanwhile.

        Raises Refused when the start cannot happen (the tag is refused, the claim was given
        up, the transaction cannot start); the reason is logged, shown on the connector's
        LEDs and kept for ``ocppctl status``. ``origin``: how the central system said the
        identifier came (the kind of token), which the transaction carries;
        ``remote_start_id``: the central system's number of this remote start (the claim may
        carry it already), which the transaction's messages may echo.
        """
        what = "remote start"
        try:
            if authorize_first:
                auth = await self.authorizer.authorize(id_tag, origin.kind)
                if not auth.accepted:
                    raise connector.refuse(what, f"tag refused: {auth.why}", why_refused(auth))
                if auth.info is not None and not auth.info.allows(connector.id):
                    raise connector.refuse(what, "the tag may not charge at this connector")
                auth = replace(auth, origin=origin)
            else:  # the claim's own authorisation (it may name the group), else a bare one
                claim = connector.pending
                auth = (
                    claim.auth
                    if claim is not None and claim.auth is not None and claim.remote
                    else AuthResult(True, None, AuthSource.REMOTE, origin=origin)
                )
            tx = connector.tx
            if tx is not None and same_tag(tx.id_tag, id_tag):
                return  # the EV was plugged in before this ran: already started
            if not connector.claimed_by(id_tag):
                raise connector.refuse(what, "the connector was given up meanwhile")
            await connector.start_for(
                id_tag, auth, remote=True, what=what, remote_start_id=remote_start_id
            )
        finally:
            if connector.pending is not None and connector.pending.auth is None:
                connector.release(id_tag)

    async def confirm_start(
        self, local_id: int, transaction_id: int | str, info: IdTagInfo
    ) -> None:
        """The central system answered the start of transaction ``local_id``: its id and its
        verdict on the tag (the connector where it runs acts on it)."""
        for connector in self.connectors.values():
            await connector.confirm_start(local_id, transaction_id, info)
        self._acknowledged(local_id, TxMessage.START)

    def give_up_start(self, local_id: int, fallback_id: int | str) -> None:
        """The start of transaction ``local_id`` was given up unanswered: the transaction
        goes on under ``fallback_id``."""
        for connector in self.connectors.values():
            connector.give_up_start(local_id, fallback_id)
        self._acknowledged(local_id, TxMessage.START)

    def confirm_stop(self, local_id: int) -> None:
        """The central system answered (or the outbox gave up) the stop of ``local_id``."""
        self._acknowledged(local_id, TxMessage.STOP)

    def _acknowledged(self, local_id: int, message: TxMessage) -> None:
        for connector in self.connectors.values():
            if connector.acknowledged(local_id, message):
                self.status_changed()

    async def stop_local(self, connector_id: int) -> bool:
        """End the session on ``connector_id`` from the charger itself (a stop button): the
        same stop as the driver's own tag, reason Local (1.6 §7.46), without an idTag.
        False when no transaction runs there."""
        connector = self.connectors.get(connector_id)
        if connector is None or connector.tx is None:
            return False
        log.info("connector %d: stopped at the charger (stop button)", connector_id)
        return await connector.stop(StopReason.LOCAL, None)

    def find_transaction(self, transaction_id: int | str) -> Connector | None:
        """The connector whose transaction has ``transaction_id`` (1.6: the central system's
        integer; 2.0.1: the charger-made string)."""
        for connector in self.connectors.values():
            if connector.tx is not None and connector.tx.transaction_id == transaction_id:
                return connector
        return None

    async def change_availability(self, connector_id: int, operative: bool) -> AvailabilityResult:
        """ChangeAvailability: APPLIED, SCHEDULED (while a transaction runs) or REJECTED
        (unknown connector, or the change cannot be persisted).

        Every change is persisted before it takes effect; a journal fault answers Rejected
        and nothing changes (for connector 0 and Operative, connectors made operative
        before the fault stay so, each persisted). Connector 0 applies to the charge point
        and all connectors (1.6 §5.2): Inoperative takes every connector out of service for
        new sessions at once, and each running transaction goes on until it ends; the
        charge point as a whole (connector 0) reads Unavailable from then on.
        """
        try:
            if connector_id != 0:
                connector = self.connectors.get(connector_id)
                if connector is None:
                    return AvailabilityResult.REJECTED
                return await connector.set_operative(operative)
            if not self.txlog.healthy:
                raise StorageUnavailable(self.txlog.problem or "the journal cannot be written")
            if operative:
                for connector in self.connectors.values():
                    await connector.set_operative(True)
            if operative != self.operative:
                await self.persist_availability(0, operative)
                self.operative = operative
                if not operative:
                    for connector in self.connectors.values():
                        connector.drop_claims()
        except StorageUnavailable as exc:
            log.error("ChangeAvailability of connector %d not possible: %s", connector_id, exc)
            return AvailabilityResult.REJECTED
        await self._refresh_all()
        busy = any(c.tx is not None for c in self.connectors.values())
        if busy and not operative:
            return AvailabilityResult.SCHEDULED
        return AvailabilityResult.APPLIED

    async def persist_availability(self, connector_id: int, operative: bool) -> None:
        """Raises StorageUnavailable."""
        await self.settings.set_setting(
            f"availability.{connector_id}", None if operative else "Inoperative"
        )

    def restore_availability(self, settings: dict[str, str]) -> None:
        """Inoperative survives restarts (1.6 §4.9, OCTT TC_034)."""
        self.operative = settings.get("availability.0") != "Inoperative"
        for connector in self.connectors.values():
            connector.restore(
                operative=settings.get(f"availability.{connector.id}") != "Inoperative"
            )

    async def stop_all(self, reason: StopReason) -> None:
        """Stop every transaction with ``reason`` and open every contactor (shielded).

        From here on no transaction starts: a tag whose Authorize is still on its way, or a
        cable plugged now, would otherwise start one that the daemon leaves running.
        """
        self.stopping = True
        with trio.CancelScope(shield=True):
            for connector in self.connectors.values():
                await connector.shutdown(reason)

    def request_reset(self, kind: ResetKind) -> None:
        self.reset_requested = kind
        self._reset.set()

    async def wait_reset(self) -> ResetKind:
        await self._reset.wait()
        assert self.reset_requested is not None
        return self.reset_requested

    # --- after a crash or power cut ---

    async def recover(self, open_transactions: list[OpenTransaction]) -> None:
        """Stop every transaction left running (reason PowerLoss), exactly once.

        meterStop is read from the meter when it answers, else the last journaled reading.
        """
        for record in open_transactions:
            connector = self.connectors.get(record.connector_id)
            reading = await connector.read_meter() if connector is not None else None
            if reading is not None:
                meter_stop = max(round(reading.energy_wh), record.meter_start_wh)
                timestamp = self.clock.timestamp()
            else:
                meter_stop = round(
                    record.meter_last_wh
                    if record.meter_last_wh is not None
                    else record.meter_start_wh
                )
                timestamp = record.meter_last_at or self.clock.timestamp()
            log.warning(
                "transaction %d on connector %d was running when ocppd stopped "
                "unexpectedly: stopping it (PowerLoss, meterStop %d Wh)",
                record.local_id,
                record.connector_id,
                meter_stop,
            )
            try:
                await self.txlog.stop(
                    record.local_id,
                    meter_stop_wh=meter_stop,
                    timestamp=timestamp,
                    reason=StopReason.POWER_LOSS,
                    id_tag=None,
                    transaction_data=[],
                )
            except StorageUnavailable as exc:
                log.error(
                    "power-loss stop of transaction %d not journaled: %s", record.local_id, exc
                )
        if open_transactions:
            self.uplink.wake()

    # --- clock-aligned data ---

    async def _aligned_readings(self) -> None:
        """Every ClockAlignedDataInterval seconds, on the wall clock's boundaries (UTC
        midnight and every interval after it), each connector reports its aligned values."""
        while True:
            interval = self.policies.meter.aligned_interval_s
            now = self.clock.now()
            if interval <= 0 or now is None:
                with trio.move_on_after(60 if now is None and interval > 0 else math.inf):
                    await self.policies.wait_changed()
                continue
            wall = now.timestamp()
            boundary = (math.floor(wall / interval) + 1) * interval
            with trio.move_on_after(boundary - wall):
                await self.policies.wait_changed()
                continue
            stamp = format_time(datetime.fromtimestamp(boundary, UTC))
            for connector in self.connectors.values():
                await connector.aligned_sample(stamp)


def _stopped(connector: Connector, tx: Transaction) -> str:
    """What a driver's stop did: ended the transaction, or (stop point EVConnected alone) the
    charge, the transaction ending when the cable is out."""
    if connector.tx is tx:
        return f"charge on connector {connector.id} ended; the transaction ends with the cable"
    return f"transaction on connector {connector.id} stopped"


def _may_claim(connector: Connector, id_tag: str) -> bool:
    """Before authorisation: no reservation here, or one that may admit ``id_tag``."""
    return connector.reservation is None or connector.reservation.may_admit(id_tag)
