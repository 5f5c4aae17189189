"""One connector: its facts, its transaction lifecycle, and the contactor that follows them.

Every change runs under the connector's lock, so the device events, the driver's
tag, the central system's commands and the timers never interleave half-way. After
each change :meth:`Connector._settle` decides what the outputs do (offer and
contactor: energy flows only while a transaction runs, the charger permits it, the
EV asks for it and no blocking fault is active) and reports a status change.

Rooms of its own: the outputs carry the decision out (``outputs.py``), the meter sampler
takes the meter values (``sampling.py``); the connector sees the charge point only
through its context (``context.py``), and is changed from outside only by its verbs.

Safety: the contactor is opened before anything else on every stop path, and in
``finally:`` under a shielded scope when the connector's task ends for any reason.

Errors: the connector owns its tasks (the devices' watches, the event loop, sampling) and
decides what their errors mean: a start that cannot happen is a :class:`Refused` with a
reason that the log, the LEDs and ``ocppctl status`` show; a bug in handling one event is
logged with its traceback and the outputs follow the facts again; a device watch that
crashes is a fault of that connector. None of them ends the daemon.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from enum import Enum

import trio

from hal.base import (
    ConnectorDevices,
    CurrentAvailable,
    Device,
    DeviceError,
    DeviceEvent,
    Fault,
    FaultCleared,
    FaultKind,
    FaultRaised,
    MeterReading,
    PlugChanged,
    PlugState,
    ReadingTaken,
    TagRead,
)
from ocppd.clock import format_time
from ocppd.logs import fields
from ocppd.model.auth import AuthResult, AuthSource, AuthStatus, IdTagInfo, same_tag
from ocppd.model.context import ChargePointContext
from ocppd.model.metering import ENERGY_REGISTER, Context, Sample
from ocppd.model.outcomes import AvailabilityResult, UnlockResult
from ocppd.model.outputs import Outputs
from ocppd.model.policies import Policies
from ocppd.model.reservation import Reservation
from ocppd.model.sampling import MeterSampler
from ocppd.model.smart_charging import LimitSource
from ocppd.model.status import (
    FAULT_CODES,
    ErrorCode,
    Facts,
    Reported,
    Severity,
    Status,
    derive_status,
    is_blocking,
    severity,
    worst,
)
from ocppd.model.supervise import Refused, Why, start_supervised
from ocppd.model.token import Origin, TokenKind
from ocppd.model.transaction import (
    StartCause,
    StopReason,
    StorageUnavailable,
    Transaction,
    TxChange,
)
from ocppd.model.txpoints import CLASSIC, Moment, TxPoint

log = logging.getLogger(__name__)

MIN_CURRENT_A = 6.0
"""IEC 61851-1: the lowest current a control pilot can offer (10 % duty). A limit below it
pauses charging: no offer, the contactor open, SuspendedEVSE (1.6 §7.7, errata §3.64)."""

LOCAL_MAX = "local_max"  # the source name of the configured max_current_a

# a transaction begun at the cable, before any driver (start point EVConnected): it waits
# for one; and one begun where nobody needs to be authorised (the idToken NoAuthorization)
NO_DRIVER = AuthResult(True, None, AuthSource.NOT_REQUIRED)
ANYONE = AuthResult(True, None, AuthSource.NOT_REQUIRED, origin=Origin(TokenKind.NONE))

# the ends of a driver's authorisation: with stop point EVConnected alone they end the charge,
# and the transaction goes on until the cable is out (E06.FR.02)
AUTHORIZATION_ENDS = frozenset({StopReason.LOCAL, StopReason.REMOTE, StopReason.DE_AUTHORIZED})


@dataclass(frozen=True, slots=True)
class CurrentLimit:
    """The lowest current limit on a connector and who set it: ``source`` is
    ``local_max`` (the configured maximum), or what called :meth:`Connector.set_limit`
    (``temperature``, ``cable``, ``profile`` ...); ``profile`` names the charging
    profile when one set it."""

    amps: float
    source: str
    profile: LimitSource | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A driver claimed this connector before a transaction could start: a tag (tag first,
    or the connector where the EV waits) or a remote start.

    ``auth`` is None while the tag is being authorised (the connector is Preparing then,
    1.6 §4.9 A2/F2, and no other driver can take it); ``was_finishing``: the claim took a
    Finishing connector (F2), which becomes Finishing again if the claim is given up.
    """

    id_tag: str
    auth: AuthResult | None
    expires_at: float  # trio clock: ConnectionTimeOut (inf while authorising)
    remote: bool = False
    was_finishing: bool = False
    remote_start_id: int | None = None  # the central system's number of the remote start


@dataclass(frozen=True, slots=True)
class Refusal:
    """The last start on a connector that could not happen, for ``ocppctl status``."""

    at: str | None  # wall-clock time, None while the time is unknown
    what: str  # "tag", "remote start", ...
    why: str
    kind: Why = Why.OTHER


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """The last transaction that ended on a connector, for people (a screen, ``ocppctl``)."""

    delivered_wh: int
    started: str  # wall-clock timestamps as journaled
    stopped: str
    reason: StopReason


class _Rearm:
    """Wakes the event loop so it re-reads its deadline (a new ConnectionTimeOut)."""


class TxMessage(Enum):
    """A transaction message whose answer a connector awaits (its status change waits for
    it, so the central system hears of the transaction first)."""

    START = "start"
    STOP = "stop"


class Connector:
    """One connector. It sees the charge point only through ``context``; features change
    it only through its verbs (:meth:`claim`, :meth:`start_for`, :meth:`stop`,
    :meth:`set_limit`, :meth:`confirm_start`, :meth:`give_up_start`, :meth:`acknowledged`,
    :meth:`set_operative`, :meth:`unlock` ...), never by writing its fields."""

    def __init__(
        self,
        context: ChargePointContext,
        devices: ConnectorDevices,
        *,
        max_current_a: float,
        phases: int,
        connector_type: str | None = None,
    ) -> None:
        self.id = devices.connector_id
        self.context = context
        self.devices = devices
        self.max_current_a = max_current_a
        self.phases = phases
        # the socket or cable, in the config's word (OCPP 2.0.1's ConnectorEnumType: cType2,
        # cCCS2 ...); None: not known. A reservation of a type needs one of it.
        self.connector_type = connector_type
        self.plug = PlugState()
        self.faults: dict[FaultKind, Fault] = {}
        self.operative = True  # applied availability
        self.scheduled_operative: bool | None = None  # ChangeAvailability during a transaction
        self.pending: Pending | None = None
        self.tx: Transaction | None = None
        self.finishing = False
        self.limits: dict[str, float] = {}  # current limits by source (cable, temperature)
        self._limit_profiles: dict[str, LimitSource] = {}  # which profile set a source's limit
        self.latest: MeterReading | None = None
        self.locked_for: str | None = None  # DeAuthorized: only this tag (or its parent) unlocks
        self.reservation: Reservation | None = None  # kept for one driver (model/reservation.py)
        # the last free connector, kept for the charge point's reservation (connector 0): the
        # Charger keeps it current (Reservations.held), through :meth:`hold`
        self.held_for_zero = False
        self.refusal: Refusal | None = None  # the last start here that could not happen
        self.last_session: SessionSummary | None = None
        # Start/Stop journaled in this process and not yet answered
        self.awaiting: set[tuple[int, TxMessage]] = set()
        self.reported = self.current()
        self._was_free = self.free
        self.changed_at = trio.current_time()
        self._lock = trio.Lock()
        self._send, self._events = trio.open_memory_channel[DeviceEvent | _Rearm](math.inf)
        self.outputs = Outputs(devices)
        self.sampler = MeterSampler(self.id, context)
        self._tx_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._refused_why = Why.OTHER  # what the refusal shown now (outputs.refused) is about

    def __repr__(self) -> str:
        return (
            f"<Connector {self.id} {self.reported.status} plug={self.plug} "
            f"contactor={self.outputs.contactor_closed} tx={self.tx!r}>"
        )

    # --- facts and status ---

    @property
    def policies(self) -> Policies:
        return self.context.policies

    def restore(self, *, operative: bool) -> None:
        """At start, before the connector runs: the availability persisted last time."""
        self.operative = operative
        self.reported = self.current()

    def restore_reservation(self, reservation: Reservation) -> None:
        """At start, before the connector runs: a reservation still in force."""
        self.reservation = reservation
        self.reported = self.current()

    async def reserve(self, reservation: Reservation) -> None:
        """Keep this connector for ``reservation`` (the charger checked that it may, and
        persisted it): Reserved from now on."""
        async with self._lock:
            self.reservation = reservation
            await self._settle()

    async def end_reservation(self, reservation_id: int) -> bool:
        """The reservation ``reservation_id`` here ends (cancelled, expired, replaced);
        False when it is not this connector's."""
        async with self._lock:
            if self.reservation is None or self.reservation.reservation_id != reservation_id:
                return False
            self.reservation = None
            await self._settle()
            return True

    async def hold(self, held: bool) -> None:
        """The charge point's reservation (connector 0) holds this connector (the last free
        one), or no longer does: Reserved, or what it is without."""
        async with self._lock:
            if self.held_for_zero != held:
                self.held_for_zero = held
                await self._settle()

    def blocking_fault(self) -> Fault | None:
        """This connector's own fault that stops energy (SEVERITY), if any."""
        for fault in self.faults.values():
            if is_blocking(fault):
                return fault
        return None

    def facts(self) -> Facts:
        no_new_sessions = any(severity(f) is Severity.NO_NEW_SESSIONS for f in self.faults.values())
        return Facts(
            operative=self.operative and self.context.accepts_sessions and not no_new_sessions,
            plugged=self.plug.plugged,
            ev_requesting=self.plug.ev_requesting,
            faulted=self.blocking_fault() is not None or self.context.faulted,
            authorized=self.pending is not None or self._waits_for_cable(),
            transaction=self._in_session(),
            evse_permits=self.tx is None
            or (self.tx.permitted and self.current_limit_a() >= MIN_CURRENT_A),
            # the charge ended and the transaction waits for the cable (stop point EVConnected)
            finishing=self.finishing or (self.tx is not None and self.tx.charge_ended),
            reserved=self.reservation is not None,
            held=self.held_for_zero,
        )

    def current(self) -> Reported:
        """Status and errorCode: Faulted always comes with the fault that caused it (this
        connector's own, or the charger's), never with NoError."""
        status = derive_status(self.facts())
        fault = (
            self.blocking_fault() or self.context.blocking_fault() or worst(self.faults.values())
        )
        # a cable is in: the EV's, or one held locked in the socket after the EV left
        plugged = self.plug.plugged or (self.locked_for is not None and self.outputs.has_lock)
        if fault is None:
            return Reported(status, ErrorCode.NO_ERROR, None, None, plugged)
        return Reported(
            status,
            FAULT_CODES[fault.kind],
            fault.info[:50] or None,
            fault.vendor_code[:255] if fault.vendor_code else None,
            plugged,
        )

    def current_limit_a(self) -> float:
        return self.limiting().amps

    def limiting(self) -> CurrentLimit:
        """The lowest limit in force and its source (on a tie the later source: a limit set
        from outside names itself rather than the configured maximum)."""
        lowest = CurrentLimit(self.max_current_a, LOCAL_MAX)
        for source, amps in self.limits.items():
            if amps <= lowest.amps:
                lowest = CurrentLimit(amps, source, self._limit_profiles.get(source))
        return lowest

    async def set_limit(
        self, source: str, amps: float | None, profile: LimitSource | None = None
    ) -> None:
        """Limit the current this connector offers, for ``source`` (a cable, a temperature
        sensor, the charging profiles ...; None lifts that source's limit; ``profile`` names
        the charging profile behind it, for ``ocppctl status``). The lowest limit wins and
        the outputs follow at once: below MIN_CURRENT_A a running transaction pauses
        (SuspendedEVSE, contactor open), at or above it charging resumes at the limit."""
        async with self._lock:
            self._limit(source, amps, profile)
            await self._settle()

    def _limit(self, source: str, amps: float | None, profile: LimitSource | None = None) -> None:
        if amps is None:
            self.limits.pop(source, None)
            self._limit_profiles.pop(source, None)
            return
        self.limits[source] = amps
        if profile is None:
            self._limit_profiles.pop(source, None)
        else:
            self._limit_profiles[source] = profile

    @property
    def free(self) -> bool:
        """Can a new session start here? (Available, or Preparing with an EV and no driver.)"""
        return self._idle() and not self.finishing

    @property
    def restartable(self) -> bool:
        """Finishing, and a new tag may start a new session here (1.6 §4.9, F2) unless the
        cable stays locked for the driver of a DeAuthorized transaction."""
        return self._idle() and self.finishing and self.locked_for is None

    def _idle(self) -> bool:
        facts = self.facts()
        return (
            facts.operative
            and not facts.faulted
            and self.tx is None
            and self.pending is None
            and not self.context.stopping
        )

    # --- the connector's task ---

    def report(self, event: DeviceEvent) -> None:
        """The hal EventSink: called by devices from the trio thread, never blocks."""
        self._send.send_nowait(event)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the devices and the logic until cancelled; the contactor is open afterwards."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for device in self.devices.all():
                    start_supervised(nursery, f"{device.name} watch", self._watch, device)
                nursery.start_soon(self._process_events)
                self.show_indicator()
                task_status.started()
        finally:
            with trio.CancelScope(shield=True):
                self._record(await self.outputs.open_contactor("connector task ended"))

    async def _watch(self, device: Device) -> None:
        """A device's watch task. One that crashes (a driver bug) is a fault of this
        connector, so the charger says so instead of trusting a device nobody watches."""
        try:
            await device.run(self)
        except Exception:
            self.report(FaultRaised(Fault(FaultKind.OTHER, f"{device.name} failed"[:50])))
            raise  # the supervisor logs it with its traceback

    async def _process_events(self) -> None:
        while True:
            deadline = self.pending.expires_at if self.pending else math.inf
            if self.tx is not None:
                deadline = min(deadline, self.tx.deadline)
            if self.outputs.refused_until > trio.current_time():
                deadline = min(deadline, self.outputs.refused_until)
            event: DeviceEvent | _Rearm | None = None
            with trio.move_on_at(deadline):
                event = await self._events.receive()
            async with self._lock:
                if isinstance(event, _Rearm):
                    continue
                try:
                    if event is not None:
                        await self._on_event(event)
                    else:
                        await self._on_deadline()
                except Refused:
                    pass  # begin() logged it and keeps it for `ocppctl status`
                except Exception:  # a bug: this event is lost, the connector goes on
                    log.exception(
                        "connector %d: handling %s failed (a bug; carrying on)",
                        self.id,
                        event,
                        extra=fields(connector=self.id),
                    )
                await self._settle_or_open()

    async def _on_deadline(self) -> None:
        now = trio.current_time()
        tx = self.tx
        if tx is not None and now >= tx.deadline:
            log.info(
                "connector %d: %s within EVConnectionTimeOut: transaction %d ends",
                self.id,
                "no driver authorised" if tx.awaits_driver else "no cable",
                tx.local_id,
                extra=fields(connector=self.id),
            )
            await self._stop(StopReason.TIMEOUT, None)
        if self.pending is not None and now >= self.pending.expires_at:
            log.info(
                "connector %d: %s within ConnectionTimeOut; %s no longer authorised here",
                self.id,
                "no authorisation" if self.pending.auth is None else "no cable",
                "remote start" if self.pending.remote else "tag",
                extra=fields(connector=self.id),
            )
            self._drop_claim()
        self.show_indicator()  # a refusal shown long enough: the status again

    async def _settle_or_open(self) -> None:
        """:meth:`_settle`; should it fail (a bug), at least no energy flows."""
        try:
            await self._settle()
        except Exception:
            log.exception("connector %d: updating the outputs failed (a bug)", self.id)
            with trio.CancelScope(shield=True):
                self._record(await self.outputs.open_contactor("internal error"))

    async def _on_event(self, event: DeviceEvent) -> None:
        if isinstance(event, PlugChanged):
            await self._on_plug(event.state)
        elif isinstance(event, FaultRaised):
            fault = event.fault
            if self.faults.get(fault.kind) != fault:
                log.warning(
                    "connector %d: %s fault: %s",
                    self.id,
                    fault.kind,
                    fault.info,
                    extra=fields(connector=self.id),
                )
            self.faults[fault.kind] = fault
        elif isinstance(event, FaultCleared):
            if self.faults.pop(event.kind, None) is not None:
                log.info(
                    "connector %d: %s fault cleared",
                    self.id,
                    event.kind,
                    extra=fields(connector=self.id),
                )
        elif isinstance(event, ReadingTaken):
            self._remember(event.reading)
            await self._check_invalid_energy()
        elif isinstance(event, CurrentAvailable):
            self._limit(event.source, event.amps)
        elif isinstance(event, TagRead):  # a reader wired to the connector
            self.context.tag_read(event.id_tag)

    async def _on_plug(self, state: PlugState) -> None:
        before, self.plug = self.plug, state
        if state.plugged and not before.plugged:
            log.info("connector %d: EV connected", self.id, extra=fields(connector=self.id))
            pending = self.pending
            if self.tx is not None and self.tx.flexible:
                await self._cable_came(self.tx)
            elif self.tx is None and pending is not None and pending.auth is not None:
                # the driver was authorised first: this is where the EV is (1.6 §4.9 B3)
                if not self._begins(Moment(True, True, state.ev_requesting)):
                    # start point energy transfer: the claim holds until the EV asks
                    self.pending = replace(pending, expires_at=math.inf)
                    return
                self.pending = None
                self.context.claim_taken(self.id, pending.id_tag)
                what = "remote start" if pending.remote else "tag"
                await self.begin(
                    pending.id_tag,
                    pending.auth,
                    what,
                    cause=StartCause.CABLE,
                    remote_start_id=pending.remote_start_id,
                )
            elif self.tx is None and pending is None:
                await self._begin_at_cable()
        elif not state.plugged and before.plugged:
            log.info("connector %d: EV disconnected", self.id, extra=fields(connector=self.id))
            self.finishing = False
            if self.tx is not None:
                tx = self.tx
                driver = tx.id_tag
                points = self.policies.tx.points
                if self.policies.tx.stop_on_ev_disconnect or (
                    tx.flexible and points.ends_at_unplug(energy_flowed=tx.energy_flowed)
                ):
                    await self._stop(StopReason.EV_DISCONNECTED, None)
                    self.finishing = False
                    if not self.policies.tx.unlock_on_ev_disconnect and self.outputs.has_lock:
                        # the cable stays locked in the socket: its driver's tag (or
                        # UnlockConnector) releases it, as after a DeAuthorized stop
                        self.locked_for = driver
                elif tx.flexible:  # it goes on without the cable (E10: suspended)
                    tx.told_status = None  # the note tells the state; the next status is news
                    await self._note(tx, TxChange.CABLE_UNPLUGGED)
                if self.policies.tx.unlock_on_ev_disconnect:
                    await self.outputs.unlock_quietly()
            elif self.locked_for is None:
                await self.outputs.unlock_quietly()
            if self.tx is None and self.locked_for is not None and self.outputs.has_lock:
                # A cable held in the socket leaves the connector not yet available for a
                # new user: Finishing (1.6 §4.9) until it is released (UnlockConnector, or
                # the tag). With UnlockConnectorOnEVSideDisconnect false that is what OCTT
                # TC_005_2 expects after the EVDisconnected stop.
                self.finishing = True
        elif state.plugged and before.plugged and state.ev_requesting != before.ev_requesting:
            await self._ev_asks(state.ev_requesting)

    # --- where a transaction begins and ends (model/txpoints.py) ---

    def _begins(self, now: Moment) -> bool:
        """A transaction that starts now begins at ``now``: by the policy's start points when
        its version says them (``TransactionLog.follows_points``), else 1.6's rule."""
        points = self.policies.tx.points if self.context.txlog.follows_points else CLASSIC
        return points.begins(now)

    def _in_session(self) -> bool:
        """A transaction runs with its driver and its cable (1.6: while it runs at all). A
        2.0.1 one without either (begun at the cable or the tag, the cable out and the
        transaction going on: E10) reads as the connector without it, and the transaction's
        own events tell its state (TxChange)."""
        tx = self.tx
        if tx is None:
            return False
        if not tx.flexible:
            return True
        return tx.authorized and tx.plugged_once and self.plug.plugged

    def _waits_for_cable(self) -> bool:
        """A transaction runs for an authorised driver and the cable never came yet."""
        tx = self.tx
        return tx is not None and tx.authorized and not tx.plugged_once

    def begins_on_authorization(self) -> bool:
        """A driver authorised now begins a transaction here before the cable is in (start
        point Authorized)."""
        return not self.plug.plugged and self._begins(Moment(False, True))

    async def _begin_at_cable(self) -> None:
        """The cable came with no driver waiting: a transaction begins now when a start point
        says so (EVConnected; or any where nobody needs to be authorised). Its driver comes
        later, within EVConnectionTimeOut. A connector kept for a reservation waits for its
        driver."""
        if not self.context.txlog.follows_points:
            return
        points = self.policies.tx.points
        if self.reservation is not None or self.held_for_zero:
            return
        anyone = not points.authorization
        if not points.begins(Moment(True, anyone, self.plug.ev_requesting)):
            return
        if anyone:
            await self.begin("", ANYONE, "cable", cause=StartCause.CABLE)
        else:
            await self.begin("", NO_DRIVER, "cable", cause=StartCause.CABLE, driver=False)

    async def _cable_came(self, tx: Transaction) -> None:
        """The cable came for a transaction that began before it (start point Authorized),
        or came back (E10)."""
        tx.plugged_once = True
        tx.told_status = None  # the note tells the state; the next status is news
        if tx.authorized:
            tx.deadline = math.inf
        await self.outputs.lock()
        await self._note(tx, TxChange.CABLE_PLUGGED)

    async def _ev_asks(self, requesting: bool) -> None:
        """The EV began or stopped asking for energy: start point energy transfer begins a
        claimed driver's transaction; stop point energy transfer ends one that charged."""
        tx, pending = self.tx, self.pending
        if tx is not None and tx.flexible and not requesting:
            if self.policies.tx.points.ends_when_ev_pauses(energy_flowed=tx.energy_flowed):
                await self._stop(StopReason.EV_STOPPED, None)
            return
        if tx is not None or not requesting or not self.context.txlog.follows_points:
            return
        points = self.policies.tx.points
        if pending is None:
            if not points.authorization and TxPoint.ENERGY_TRANSFER in points.start:
                await self._begin_at_cable()  # nobody is asked: the energy alone starts it
            return
        if pending.auth is None or not points.begins(Moment(True, True, True)):
            return
        self.pending = None
        self.context.claim_taken(self.id, pending.id_tag)
        await self.begin(
            pending.id_tag,
            pending.auth,
            "remote start" if pending.remote else "tag",
            cause=StartCause.ENERGY,
            remote_start_id=pending.remote_start_id,
        )

    async def _authorize_waiting(
        self, id_tag: str, auth: AuthResult, remote_start_id: int | None
    ) -> None:
        """A driver authorises the transaction that began at the cable (triggerReason
        Authorized, the idToken in that event; a remote start's RemoteStart with its
        remoteStartId: F01); energy may flow from now on."""
        tx = self.tx
        assert tx is not None
        tx.id_tag, tx.parent_id_tag, tx.authorized = id_tag, auth.parent_id_tag, True
        tx.deadline = math.inf
        log.info(
            "connector %d: transaction %d authorised (%s%s)",
            self.id,
            tx.local_id,
            auth.source,
            "" if remote_start_id is None else f", remote start {remote_start_id}",
            extra=fields(connector=self.id),
        )
        tx.remote_start_id = remote_start_id
        await self._note(
            tx,
            TxChange.AUTHORIZED,
            id_tag=id_tag,
            origin=auth.origin,
            remote_start_id=remote_start_id,
        )

    async def _end(self, reason: StopReason, id_tag: str | None) -> None:
        """End the running transaction for ``reason``; where the stop points keep it until
        the cable is out (EVConnected alone), a driver's authorisation ending ends the charge
        only: the energy stops, the transaction waits for the cable."""
        tx = self.tx
        assert tx is not None
        if (
            tx.flexible
            and reason in AUTHORIZATION_ENDS
            and self.plug.plugged
            and tx.id_tag
            and not self.policies.tx.points.ends_with_authorization()
        ):
            if not tx.authorized:
                return  # the charge ended already
            tx.authorized = False
            self._record(await self.outputs.stop_energy(f"authorisation ended ({reason})"))
            log.info(
                "connector %d: charge of transaction %d ended (%s); it ends with the cable",
                self.id,
                tx.local_id,
                reason,
                extra=fields(connector=self.id),
            )
            await self._note(tx, TxChange.AUTHORIZATION_ENDED, id_tag=id_tag, reason=reason)
            return
        await self._stop(reason, id_tag)

    async def _note(
        self,
        tx: Transaction,
        change: TxChange,
        *,
        id_tag: str | None = None,
        origin: Origin | None = None,
        reason: StopReason | None = None,
        remote_start_id: int | None = None,
    ) -> None:
        """Tell the transaction's log; a journal that cannot be written loses only this note
        (the facts it tells are in the events that follow: the idToken in Ended)."""
        try:
            await self.context.txlog.noted(
                tx.local_id,
                change=change,
                timestamp=self.context.clock.timestamp(),
                id_tag=id_tag,
                origin=origin,
                reason=reason,
                remote_start_id=remote_start_id,
            )
        except StorageUnavailable as exc:
            log.warning("connector %d: %s not journaled: %s", self.id, change, exc)
            return
        self.context.uplink.wake()

    # --- outputs follow facts ---

    async def _settle(self) -> None:
        """Make offer and contactor follow the facts; report a changed status."""
        tx = self.tx
        allowed = (
            tx is not None
            and tx.permitted
            and tx.authorized
            and self.plug.plugged
            and self.blocking_fault() is None
            and not self.context.faulted
        )
        offer = self.current_limit_a() if allowed else None
        if offer is not None and offer < MIN_CURRENT_A:  # no pilot can offer it: pause
            allowed, offer = False, None
        self._record(
            await self.outputs.follow(offer=offer, close=allowed and self.plug.ev_requesting)
        )
        if tx is not None and self.outputs.contactor_closed:
            tx.energy_flowed = True
        if self.tx is None and self.scheduled_operative is not None:
            # persisted when it was asked for; takes effect now the transaction has ended
            self.operative, self.scheduled_operative = self.scheduled_operative, None
            if not self.operative:
                self._drop_claim()
        self._publish()
        if (
            tx is not None
            and tx is self.tx
            and tx.told_status is not self.reported.status
            and (self._in_session() or not tx.flexible or tx.awaits_driver)
        ):
            await self._tell_status(tx)

    async def _tell_status(self, tx: Transaction) -> None:
        """The transaction's log hears each status its connector reports while it runs (a
        version may journal the charging state); a journal that cannot be written loses
        only this note."""
        tx.told_status = self.reported.status
        try:
            await self.context.txlog.changed(
                tx.local_id, status=tx.told_status, timestamp=self.context.clock.timestamp()
            )
        except StorageUnavailable as exc:
            log.warning("connector %d: status of the transaction not journaled: %s", self.id, exc)
            return
        self.context.uplink.wake()

    def _publish(self) -> None:
        now = self.current()
        if self.reservation is not None and now.status in (Status.FAULTED, Status.UNAVAILABLE):
            # a Faulted or Unavailable connector ends its reservation (1.6 §3.11)
            lost, self.reservation = self.reservation, None
            self.context.reservation_lost(lost, f"connector {self.id} is {now.status}")
        free = self.free
        if free != self._was_free:
            self._was_free = free
            self.context.free_changed()
        if now != self.reported and replace(now, plugged=self.reported.plugged) == self.reported:
            # only the cable changed, not the status: no news for 1.6, but 2.0.1 tells a
            # cable apart from a driver (its Occupied), so the reporter hears of it
            self.reported = now
            self.context.status_changed()
        elif now != self.reported:
            log.info(
                "connector %d: %s%s",
                self.id,
                now.status,
                "" if now.error_code is ErrorCode.NO_ERROR else f" ({now.error_code})",
                extra=fields(connector=self.id),
            )
            self.reported = now
            self.changed_at = trio.current_time()
            self.show_indicator()
            self.context.status_changed()

    def show_indicator(self) -> None:
        """The reported status (or, for a few seconds after one, a refusal) and whether the
        central system is reachable, on the LEDs."""
        self.outputs.show(self.reported.status, online=self.context.uplink.online)

    def show_refused(self, why: Why = Why.OTHER) -> None:
        """Show a refusal on the LEDs (and the screen) for a few seconds, then the status."""
        self.outputs.refused()
        self._refused_why = why
        self.show_indicator()
        self._wake()
        self.context.notice()

    @property
    def refusal_shown(self) -> tuple[Why, float] | None:
        """The refusal shown now and until when (trio clock), or None."""
        if trio.current_time() < self.outputs.refused_until:
            return self._refused_why, self.outputs.refused_until
        return None

    def _record(self, fault: Fault | None) -> None:
        """A fault an output reported (a contactor that did not switch ...)."""
        if fault is not None:
            self.faults[fault.kind] = fault

    # --- readings ---

    def _remember(self, reading: MeterReading) -> None:
        self.latest = reading
        if self.tx is not None:
            self.tx.last_energy_wh = reading.energy_wh

    async def read_meter(self) -> MeterReading | None:
        """A fresh reading, or None when the meter does not answer (the fault is reported)."""
        try:
            reading = await self.devices.meter.read()
        except DeviceError as exc:
            log.warning(
                "connector %d: meter read failed: %s", self.id, exc, extra=fields(connector=self.id)
            )
            return None
        self._remember(reading)
        return reading

    # --- sessions ---

    def claim(
        self,
        id_tag: str,
        auth: AuthResult | None,
        *,
        remote: bool = False,
        remote_start_id: int | None = None,
    ) -> None:
        """Reserve this connector for ``id_tag`` (synchronous: no other call can sneak in).

        ``auth`` None: the tag is still being authorised (a cable plugged in meanwhile
        waits for the answer). The claim lasts ConnectionTimeOut, counted again once the
        driver is authorised; a tag's claim while it is authorised has no time limit (the
        Authorize call has its own, and the tag's task gives the claim up whatever happens),
        a remote start's has (its work may never run if the answer could not be sent).
        A Finishing connector claimed this way is Preparing (F2). ``remote_start_id``: the
        central system's number of a remote start (the transaction's messages may echo it).
        """
        if auth is None and not remote:
            expires_at = math.inf
        else:
            expires_at = trio.current_time() + self.policies.tx.connection_timeout_s
        was_finishing = self.finishing or (self.pending is not None and self.pending.was_finishing)
        self.finishing = False
        if remote_start_id is None and self.pending is not None and self.pending.remote:
            remote_start_id = self.pending.remote_start_id  # authorised now: the same start
        self.pending = Pending(id_tag, auth, expires_at, remote, was_finishing, remote_start_id)
        self._publish()
        self._wake()

    def release(self, id_tag: str) -> None:
        """Give up the claim of ``id_tag`` here (refused, taken elsewhere, timed out)."""
        if self.pending is not None and same_tag(self.pending.id_tag, id_tag):
            self._drop_claim()
            self._publish()
            self._wake()

    def claimed_by(self, id_tag: str) -> bool:
        return self.pending is not None and same_tag(self.pending.id_tag, id_tag)

    def drop_claims(self) -> None:
        """Whoever claimed this connector loses it (it went out of service)."""
        if self.pending is not None:
            self._drop_claim()
            self._publish()
            self._wake()

    def _drop_claim(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None and pending.was_finishing and self.plug.plugged:
            self.finishing = True  # nothing restarted: the session is still finishing

    def _wake(self) -> None:
        self._send.send_nowait(_Rearm())

    async def start_for(
        self,
        id_tag: str,
        auth: AuthResult,
        *,
        remote: bool = False,
        what: str = "tag",
        remote_start_id: int | None = None,
    ) -> bool:
        """A driver is authorised for this connector: start now if the EV is there (True),
        else keep the connector claimed for ConnectionTimeOut (False).

        Raises Refused (with the reason, which the log and ``ocppctl status`` show) when the
        connector is taken by another driver or the transaction cannot start.
        """
        async with self._lock:
            try:
                mine = self.pending is None or same_tag(self.pending.id_tag, id_tag)
                if self.tx is not None and self.tx.awaits_driver and mine:
                    claim, self.pending = self.pending, None
                    if remote_start_id is None and claim is not None:
                        remote_start_id = claim.remote_start_id
                    await self._authorize_waiting(id_tag, auth, remote_start_id)
                    return True
                if self.tx is not None:
                    raise self.refuse(
                        what, f"connector {self.id} already has a transaction", Why.BUSY
                    )
                if not mine:
                    raise self.refuse(
                        what, f"connector {self.id} was taken by another driver", Why.BUSY
                    )
                plugged = self.plug.plugged
                flexible = self.context.txlog.follows_points
                if not plugged and not (flexible and self._begins(Moment(False, True))):
                    self.claim(id_tag, auth, remote=remote, remote_start_id=remote_start_id)
                    return False
                if flexible and not self._begins(Moment(plugged, True, self.plug.ev_requesting)):
                    # start point energy transfer: the claim holds until the EV asks
                    self.claim(id_tag, auth, remote=remote, remote_start_id=remote_start_id)
                    assert self.pending is not None
                    self.pending = replace(self.pending, expires_at=math.inf)
                    return False
                claim = self.pending
                self.pending = None
                if remote_start_id is None and claim is not None:
                    remote_start_id = claim.remote_start_id
                try:
                    await self.begin(
                        id_tag,
                        auth,
                        what,
                        cause=StartCause.REMOTE if remote else StartCause.TAG,
                        remote_start_id=remote_start_id,
                    )
                except Refused:
                    if claim is not None and claim.was_finishing:
                        self.finishing = True
                    raise
                return True
            finally:
                await self._settle_or_open()

    def refuse(self, what: str, why: str, kind: Why = Why.OTHER) -> Refused:
        """Keep a refused start for ``ocppctl status``, log it, show it on the LEDs; the
        caller raises the result."""
        now = self.context.clock.now()
        self.refusal = Refusal(format_time(now) if now else None, what, why, kind)
        log.warning(
            "connector %d: %s: not starting: %s",
            self.id,
            what,
            why,
            extra=fields(connector=self.id),
        )
        self.show_refused(kind)
        return Refused(why, kind)

    async def begin(
        self,
        id_tag: str,
        auth: AuthResult,
        what: str = "tag",
        *,
        cause: StartCause = StartCause.TAG,
        remote_start_id: int | None = None,
        driver: bool = True,
    ) -> None:
        """Start a transaction now (the caller holds the connector's lock); ``cause``: what
        came last (the tag, the cable or a remote start); ``driver`` False: it began at the
        cable and a driver must authorise it within EVConnectionTimeOut (``id_tag`` empty).

        Raises Refused when it cannot (ocppd is stopping, the journal cannot be written, the
        meter does not answer); the reason is logged and kept in :attr:`refusal`.
        """
        why_not = self._why_no_start() or self._reserved_for_another(id_tag, auth)
        if why_not is not None:
            raise self.refuse(what, *why_not)
        reservation = self.reservation or self.context.reservation_for(
            id_tag, auth.parent_id_tag, self.id
        )
        reading = await self.read_meter()
        if reading is None:
            raise self.refuse(what, "the meter does not answer")
        timestamp = self.context.clock.timestamp()
        flexible = self.context.txlog.follows_points
        try:
            tx = await self._journal_start(
                id_tag, auth, reading, timestamp, reservation, cause, remote_start_id
            )
        except StorageUnavailable as exc:
            raise self.refuse(what, f"the journal cannot be written ({exc})") from None
        tx.flexible, tx.authorized = flexible, driver
        tx.plugged_once = self.plug.plugged or not flexible
        if flexible and not (driver and self.plug.plugged):  # the cable, or a driver, to come
            tx.deadline = trio.current_time() + self.policies.tx.connection_timeout_s
            self._wake()  # the event loop re-reads its deadline
        if reservation is not None:  # the start used it: it ends (1.6 §3.11)
            if reservation is self.reservation:
                self.reservation = None
            self.context.reservation_used(reservation)
        self.sampler.begin(tx, reading, timestamp, self.outputs.offered)
        self.tx = tx
        self.finishing = False
        log.info(
            "connector %d: transaction %d started %s (meterStart %d Wh, %s)",
            self.id,
            tx.local_id,
            "for a tag" if id_tag else "at the cable",
            tx.meter_start_wh,
            auth.source,
            extra=fields(connector=self.id),
        )
        if tx.plugged_once:  # a cable still to come is locked when it comes
            await self.outputs.lock()
        self.context.uplink.wake()
        if self._nursery is not None:
            start_supervised(self._nursery, f"connector {self.id} sampling", self._sampling, tx)

    def _why_no_start(self) -> tuple[str, Why] | None:
        """Why no transaction may start here now (None: it may), for the log and in a word."""
        if self.context.stopping:
            return "ocppd is stopping", Why.UNAVAILABLE
        if self.context.held is not None:
            return self.context.held, Why.UNAVAILABLE
        if not self.context.txlog.healthy:
            return "the journal cannot be written", Why.OTHER
        facts = self.facts()
        if facts.faulted:
            return f"connector {self.id} is faulted ({self.current().error_code})", Why.FAULTED
        if not facts.operative:
            return f"connector {self.id} is unavailable", Why.UNAVAILABLE
        return None

    def _reserved_for_another(self, id_tag: str, auth: AuthResult) -> tuple[str, Why] | None:
        """Why ``id_tag`` may not start here because of a reservation, if so: this
        connector's is for another driver, or the charge point's (connector 0) needs the
        last free connector (1.6 §5.13)."""
        mine = self.reservation
        if mine is not None and not mine.admits(id_tag, auth.parent_id_tag):
            return f"connector {self.id} is reserved for another driver", Why.RESERVED
        if mine is None and self.context.reservation_blocks(id_tag, auth.parent_id_tag, self.id):
            return "the last free connector is reserved for another driver", Why.RESERVED
        return None

    async def _journal_start(
        self,
        id_tag: str,
        auth: AuthResult,
        reading: MeterReading,
        timestamp: str,
        reservation: Reservation | None,
        cause: StartCause,
        remote_start_id: int | None,
    ) -> Transaction:
        """Make the start durable (it awaits the central system's answer from now on).
        Raises StorageUnavailable."""
        meter_start = round(reading.energy_wh)
        reservation_id = None if reservation is None else reservation.reservation_id
        txlog = self.context.txlog
        local_id = await txlog.start(
            connector_id=self.id,
            id_tag=id_tag,
            meter_start_wh=meter_start,
            timestamp=timestamp,
            reservation_id=reservation_id,
            cause=cause,
            remote_start_id=remote_start_id,
            origin=auth.origin,
            plugged=self.plug.plugged,
            begin=self.sampler.started(reading, timestamp, self.outputs.offered),
        )
        self.awaiting.add((local_id, TxMessage.START))
        return Transaction(
            local_id,
            self.id,
            id_tag,
            auth.parent_id_tag,
            meter_start,
            timestamp,
            reservation_id=reservation_id,
            transaction_id=txlog.known_id(local_id),
            cause=cause,
            remote_start_id=remote_start_id,
            last_energy_wh=reading.energy_wh,
        )

    async def stop(self, reason: StopReason, id_tag: str | None = None) -> bool:
        """Stop the running transaction (False when there is none)."""
        async with self._lock:
            if self.tx is None:
                return False
            await self._end(reason, id_tag)
            await self._settle()
            return True

    async def _stop(self, reason: StopReason, id_tag: str | None) -> None:
        # A stop always completes: it may be reached from a task that is being cancelled.
        with trio.CancelScope(shield=True):
            await self._stop_shielded(reason, id_tag)

    async def _stop_shielded(self, reason: StopReason, id_tag: str | None) -> None:
        tx = self.tx
        assert tx is not None
        self._record(await self.outputs.stop_energy(f"transaction {reason}"))
        if self._tx_scope is not None:
            self._tx_scope.cancel()
        reading = await self.read_meter()
        energy = reading.energy_wh if reading is not None else tx.last_energy_wh
        meter_stop = max(round(energy), tx.meter_start_wh)
        timestamp = self.context.clock.timestamp()
        if reading is not None:
            self.sampler.end(tx, reading, timestamp, self.outputs.offered)
        self.tx = None
        self.finishing = self.plug.plugged
        self.last_session = SessionSummary(
            meter_stop - tx.meter_start_wh, tx.started, timestamp, reason
        )
        self.context.notice()
        log.info(
            "connector %d: transaction %d stopped (%s), meterStop %d Wh, %d Wh delivered",
            self.id,
            tx.local_id,
            reason,
            meter_stop,
            meter_stop - tx.meter_start_wh,
            extra=fields(connector=self.id, transaction=tx.transaction_id),
        )
        await self._journal_stop(tx, meter_stop, timestamp, reason, id_tag)
        if reason is StopReason.DE_AUTHORIZED:
            self.locked_for = tx.id_tag  # 1.6 errata 3.5: stays locked for the same tag
        elif reason is not StopReason.EV_DISCONNECTED:  # that one follows its own policy
            await self.outputs.unlock_quietly()

    async def _journal_stop(
        self,
        tx: Transaction,
        meter_stop: int,
        timestamp: str,
        reason: StopReason,
        id_tag: str | None,
    ) -> None:
        """Journal the stop; while the journal cannot be written, keep trying in the background."""

        async def write() -> None:
            await self.context.txlog.stop(
                tx.local_id,
                meter_stop_wh=meter_stop,
                timestamp=timestamp,
                reason=reason,
                id_tag=id_tag,
                transaction_data=list(tx.stop_data),
            )
            self.context.uplink.wake()

        self.awaiting.add((tx.local_id, TxMessage.STOP))
        try:
            await write()
        except StorageUnavailable as exc:
            log.error(
                "connector %d: stop of transaction %d not journaled yet (%s); retrying",
                self.id,
                tx.local_id,
                exc,
            )
            self.context.spawn(
                f"connector {self.id}: journaling the stop", self.context.retry_storage, write
            )

    # --- meter values (model/sampling.py), and the port the sampler reads through ---

    async def _sampling(self, tx: Transaction) -> None:
        """The sampler while ``tx`` runs; a stop cancels it."""
        with trio.CancelScope() as scope:
            self._tx_scope = scope
            await self.sampler.run(tx, self)

    def exclusive(self) -> trio.Lock:
        return self._lock

    def runs(self, tx: Transaction) -> bool:
        return self.tx is tx

    @property
    def offered_a(self) -> float | None:
        return self.outputs.offered

    async def sampled(self, tx: Transaction) -> None:
        await self._check_invalid_energy()
        await self._settle()

    async def aligned_sample(self, timestamp: str) -> None:
        """A clock-aligned reading (the charger calls this at each interval boundary)."""
        async with self._lock:
            reading = await self.read_meter()
            if reading is None:
                return
            await self.sampler.aligned(self.tx, reading, timestamp, self.outputs.offered)

    async def sample_now(self) -> tuple[Sample | None, int | str | None]:
        """The newest meter values, read now, of the sampled measurands with context Trigger
        (a TriggerMessage: 1.6 §5.17, errata 3.46), and the id of the transaction they
        belong to (None without one, or before the central system gave it). No sample when
        the meter does not answer."""
        async with self._lock:
            reading = await self.read_meter()
            if reading is None:
                return None, None
            sample = self.sampler.values(
                reading,
                self.policies.meter.sampled,
                Context.TRIGGER,
                offered_a=self.outputs.offered,
            )
            return sample, None if self.tx is None else self.tx.transaction_id

    # --- what the central system says about a transaction ---

    async def confirm_start(
        self, local_id: int, transaction_id: int | str, info: IdTagInfo
    ) -> None:
        """The central system answered the start of transaction ``local_id`` (possibly long
        after an offline start): its id, and its verdict on the tag. Nothing when that
        transaction does not run here."""
        async with self._lock:
            tx = self.tx
            if tx is None or tx.local_id != local_id:
                return
            tx.transaction_id = transaction_id
            if info.parent_id_tag:
                tx.parent_id_tag = info.parent_id_tag
            if info.status is not AuthStatus.ACCEPTED:
                log.warning(
                    "connector %d: central system says the tag of transaction %s is %s",
                    self.id,
                    transaction_id,
                    info.status,
                    extra=fields(connector=self.id, transaction=transaction_id),
                )
                tx.invalid_at_wh = tx.last_energy_wh
                await self._check_invalid_energy()
            await self._settle()

    def give_up_start(self, local_id: int, fallback_id: int | str) -> None:
        """The start of transaction ``local_id`` was never answered and is given up: the
        rest of the transaction goes by ``fallback_id`` (1.6 errata 3.18: -1). Nothing when
        that transaction does not run here."""
        tx = self.tx
        if tx is not None and tx.local_id == local_id:
            tx.transaction_id = fallback_id

    def acknowledged(self, local_id: int, message: TxMessage) -> bool:
        """The central system answered (or the outbox gave up) ``message`` of transaction
        ``local_id``; False when this connector did not await it."""
        if (local_id, message) not in self.awaiting:
            return False
        self.awaiting.discard((local_id, message))
        return True

    async def _check_invalid_energy(self) -> None:
        """The central system said the tag is invalid: stop, or suspend energy, once the
        allowance is used up (1.6 StopTransactionOnInvalidId, MaxEnergyOnInvalidId: §3.5.4,
        errata 3.17)."""
        tx = self.tx
        if tx is None or tx.invalid_at_wh is None or not tx.authorized:
            return
        allowance = self.policies.tx.max_energy_on_invalid_id_wh
        delivered = tx.last_energy_wh - tx.meter_start_wh
        if allowance > 0 and delivered < allowance:
            return
        if self.policies.tx.stop_on_invalid_id:
            await self._end(StopReason.DE_AUTHORIZED, None)
        elif tx.permitted:
            log.info("connector %d: energy suspended: the tag is not valid", self.id)
            tx.permitted = False

    # --- availability and the lock ---

    async def set_operative(self, operative: bool) -> AvailabilityResult:
        """Take this connector in or out of service: APPLIED, or SCHEDULED while a
        transaction runs (it takes effect when the transaction ends, 1.6 §5.2).

        Persisted before it takes effect, also when Scheduled (a restart during the
        transaction, which ends it with PowerLoss, finds it applied: 1.6 §4.9, TC_034).
        Raises StorageUnavailable when it cannot be persisted; then nothing changed.
        """
        async with self._lock:
            on_disk = (
                self.operative if self.scheduled_operative is None else self.scheduled_operative
            )
            if operative != on_disk:
                await self.context.persist_availability(self.id, operative)
            if self.tx is not None and operative != self.operative:
                self.scheduled_operative = operative
                return AvailabilityResult.SCHEDULED
            self.scheduled_operative = None
            if operative != self.operative:
                self.operative = operative
                if not operative:
                    self._drop_claim()
            await self._settle()
            return AvailabilityResult.APPLIED

    async def unlock(self) -> UnlockResult:
        """Release the cable: end a transaction first (reason UnlockCommand), then unlock.
        FAILED only when the lock was tried and did not release; NO_LOCK without a lock."""
        if not self.outputs.has_lock:
            return UnlockResult.NO_LOCK
        async with self._lock:
            if self.tx is not None:
                await self._stop(StopReason.UNLOCK_COMMAND, None)
            self.locked_for = None
            fault = await self.outputs.unlock()
            if fault is not None:
                self._record(fault)
                await self._settle()
                return UnlockResult.FAILED
            self.faults.pop(FaultKind.CONNECTOR_UNLOCK, None)
            if not self.plug.plugged:  # a cable held after the EV left is released now
                self.finishing = False
            await self._settle()
            return UnlockResult.UNLOCKED

    async def release_lock_for(self, id_tag: str, parent: str | None) -> bool:
        """After a DeAuthorized stop the cable stays locked until the same tag (or its parent
        group) is shown."""
        if self.locked_for is None:
            return False
        if not (same_tag(self.locked_for, id_tag) or same_tag(self.locked_for, parent)):
            return False
        async with self._lock:
            self.locked_for = None
            await self.outputs.unlock_quietly()
            if not self.plug.plugged:  # a cable held after the EV left is released now
                self.finishing = False
            await self._settle()
        return True

    async def set_fault(self, fault: Fault | None, kind: FaultKind | None = None) -> None:
        """Raise or clear a fault from outside the devices (storage, simulated faults)."""
        async with self._lock:
            if fault is not None:
                self.faults[fault.kind] = fault
            elif kind is not None:
                self.faults.pop(kind, None)
            await self._settle()

    async def refresh(self) -> None:
        """Re-evaluate outputs and status after a charger-wide change."""
        async with self._lock:
            await self._settle()

    # --- shutdown ---

    async def shutdown(self, reason: StopReason) -> None:
        """Orderly stop: end the transaction with ``reason`` and open the contactor."""
        with trio.CancelScope(shield=True):
            async with self._lock:
                if self.tx is not None:
                    await self._stop(reason, None)
                self._record(await self.outputs.stop_energy(str(reason)))


__all__ = [
    "ENERGY_REGISTER",
    "LOCAL_MAX",
    "MIN_CURRENT_A",
    "Connector",
    "CurrentLimit",
    "Pending",
    "Refusal",
    "Refused",
    "Reported",
    "SessionSummary",
]
