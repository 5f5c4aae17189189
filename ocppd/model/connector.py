"""One connector: its facts, its transaction lifecycle, and the contactor that follows them.

Every change runs under the connector's lock, so the device events, the driver's
tag, the central system's commands and the timers never interleave half-way. After
each change :meth:`Connector._settle` makes the outputs follow the facts (offer and
contactor: energy flows only while a transaction runs, the charger permits it, the
EV asks for it and no blocking fault is active) and reports a status change.

Safety: the contactor is opened before anything else on every stop path, and in
``finally:`` under a shielded scope when the connector's task ends for any reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from hal.base import (
    ConnectorDevices,
    CurrentAvailable,
    DeviceError,
    DeviceEvent,
    Fault,
    FaultCleared,
    FaultKind,
    FaultRaised,
    IndicatorState,
    MeterReading,
    PlugChanged,
    PlugState,
    ReadingTaken,
    TagRead,
)
from ocppd.logs import fields
from ocppd.model.auth import AuthResult, AuthStatus, IdTagInfo, same_tag
from ocppd.model.metering import ENERGY_REGISTER, Context, Sample, sampled_values
from ocppd.model.status import FAULT_CODES, ErrorCode, Facts, Status, derive_status, is_blocking
from ocppd.model.transaction import StopReason, StorageUnavailable, Transaction

if TYPE_CHECKING:
    from ocppd.model.charger import Charger

log = logging.getLogger(__name__)

INDICATOR = {
    Status.AVAILABLE: IndicatorState.AVAILABLE,
    Status.PREPARING: IndicatorState.PREPARING,
    Status.CHARGING: IndicatorState.CHARGING,
    Status.SUSPENDED_EV: IndicatorState.SUSPENDED,
    Status.SUSPENDED_EVSE: IndicatorState.SUSPENDED,
    Status.FINISHING: IndicatorState.FINISHING,
    Status.RESERVED: IndicatorState.RESERVED,
    Status.UNAVAILABLE: IndicatorState.UNAVAILABLE,
    Status.FAULTED: IndicatorState.FAULTED,
}


@dataclass(frozen=True, slots=True)
class Pending:
    """A driver authorised before the transaction could start (tag first, or remote start)."""

    id_tag: str
    auth: AuthResult
    expires_at: float  # trio clock: ConnectionTimeOut
    remote: bool = False


class _Rearm:
    """Wakes the event loop so it re-reads its deadline (a new ConnectionTimeOut)."""


CHECKPOINT_S = 60.0  # how often the register is journaled while no samples are taken


@dataclass(frozen=True, slots=True)
class Reported:
    """What the central system should know about the connector."""

    status: Status
    error_code: ErrorCode
    info: str | None
    vendor_error_code: str | None


class Refused(Exception):
    """A request the connector cannot carry out now (the reason is for people)."""


class Connector:
    def __init__(
        self, charger: Charger, devices: ConnectorDevices, *, max_current_a: float, phases: int
    ) -> None:
        self.id = devices.connector_id
        self.charger = charger
        self.devices = devices
        self.max_current_a = max_current_a
        self.phases = phases
        self.plug = PlugState()
        self.faults: dict[FaultKind, Fault] = {}
        self.operative = True  # applied availability
        self.scheduled_operative: bool | None = None  # ChangeAvailability during a transaction
        self.pending: Pending | None = None
        self.tx: Transaction | None = None
        self.finishing = False
        self.limits: dict[str, float] = {}  # current limits by source (cable, temperature)
        self.latest: MeterReading | None = None
        self.locked_for: str | None = None  # DeAuthorized: only this tag (or its parent) unlocks
        # Start/Stop journaled in this process and not yet answered: (local id, "start"|"stop")
        self.awaiting: set[tuple[int, str]] = set()
        self.reported = self.current()
        self.changed_at = trio.current_time()
        self._lock = trio.Lock()
        self._send, self._events = trio.open_memory_channel[DeviceEvent | _Rearm](math.inf)
        self._offered: float | None = None
        self._tx_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        return (
            f"<Connector {self.id} {self.reported.status} plug={self.plug} "
            f"contactor={self.devices.contactor.closed} tx={self.tx!r}>"
        )

    # --- facts and status ---

    @property
    def keys(self) -> Any:
        return self.charger.keys

    def blocking_fault(self) -> Fault | None:
        for fault in self.faults.values():
            if is_blocking(fault):
                return fault
        return None

    def facts(self) -> Facts:
        return Facts(
            operative=self.operative and self.charger.operative and self.charger.storage_ok,
            plugged=self.plug.plugged,
            ev_requesting=self.plug.ev_requesting,
            faulted=self.blocking_fault() is not None or self.charger.faulted,
            authorized=self.pending is not None,
            transaction=self.tx is not None,
            evse_permits=self.tx is None or (self.tx.permitted and self.current_limit_a() > 0),
            finishing=self.finishing,
        )

    def current(self) -> Reported:
        status = derive_status(self.facts())
        fault = self.blocking_fault() or next(iter(self.faults.values()), None)
        if fault is None:
            return Reported(status, ErrorCode.NO_ERROR, None, None)
        return Reported(
            status,
            FAULT_CODES[fault.kind],
            fault.info[:50] or None,
            fault.vendor_code[:255] if fault.vendor_code else None,
        )

    def current_limit_a(self) -> float:
        return min([self.max_current_a, *self.limits.values()])

    @property
    def free(self) -> bool:
        """Can a new session start here?"""
        facts = self.facts()
        return (
            facts.operative
            and not facts.faulted
            and self.tx is None
            and self.pending is None
            and not self.finishing
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
                    nursery.start_soon(device.run, self, name=f"{device.name} watch")
                nursery.start_soon(self._process_events)
                self.show_indicator()
                task_status.started()
        finally:
            with trio.CancelScope(shield=True):
                await self._open_contactor("connector task ended")

    async def _process_events(self) -> None:
        while True:
            deadline = self.pending.expires_at if self.pending else math.inf
            event: DeviceEvent | _Rearm | None = None
            with trio.move_on_at(deadline):
                event = await self._events.receive()
            async with self._lock:
                if isinstance(event, _Rearm):
                    continue
                if event is not None:
                    await self._on_event(event)
                elif self.pending is not None and trio.current_time() >= self.pending.expires_at:
                    log.info(
                        "connector %d: no cable within ConnectionTimeOut; %s no longer "
                        "authorised here",
                        self.id,
                        "remote start" if self.pending.remote else "tag",
                        extra=fields(connector=self.id),
                    )
                    self.pending = None
                await self._settle()

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
            self.limits[event.source] = event.amps
        elif isinstance(event, TagRead):  # a reader wired to the connector
            self.charger.spawn(self.charger.present_tag, event.id_tag, "reader")

    async def _on_plug(self, state: PlugState) -> None:
        before, self.plug = self.plug, state
        if state.plugged and not before.plugged:
            log.info("connector %d: EV connected", self.id, extra=fields(connector=self.id))
            if self.tx is None and self.pending is not None:
                pending, self.pending = self.pending, None
                await self.begin(pending.id_tag, pending.auth)
            elif self.tx is None and self.free:
                await self.charger.plugged_in(self)
        elif not state.plugged and before.plugged:
            log.info("connector %d: EV disconnected", self.id, extra=fields(connector=self.id))
            self.finishing = False
            if self.tx is not None:
                if self.keys.get_bool("StopTransactionOnEVSideDisconnect"):
                    await self._stop(StopReason.EV_DISCONNECTED, None)
                    self.finishing = False
                if self.keys.get_bool("UnlockConnectorOnEVSideDisconnect"):
                    await self._unlock_quietly()
            elif self.locked_for is None:
                await self._unlock_quietly()

    # --- outputs follow facts ---

    async def _settle(self) -> None:
        """Make offer and contactor follow the facts; report a changed status."""
        tx = self.tx
        allowed = (
            tx is not None
            and tx.permitted
            and self.plug.plugged
            and self.blocking_fault() is None
            and not self.charger.faulted
        )
        offer = self.current_limit_a() if allowed else None
        if offer is not None and offer <= 0:
            allowed, offer = False, None
        close = allowed and self.plug.ev_requesting
        if not close:
            await self._open_contactor()
        await self._set_offer(offer)
        if close and not self.devices.contactor.closed:
            try:
                await self.devices.contactor.set_closed(True)
                log.info("connector %d: contactor closed", self.id, extra=fields(connector=self.id))
            except DeviceError as exc:
                self.faults[FaultKind.POWER_SWITCH] = Fault(FaultKind.POWER_SWITCH, str(exc)[:50])
                await self._open_contactor(str(exc))
        if self.tx is None and self.scheduled_operative is not None:
            self.operative, self.scheduled_operative = self.scheduled_operative, None
            await self.charger.persist_availability(self)
        self._publish()

    def _publish(self) -> None:
        now = self.current()
        if now != self.reported:
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
            self.charger.status_changed()

    def show_indicator(self) -> None:
        """The reported status and whether the central system is reachable, on the LEDs."""
        if self.devices.indicator is not None:
            self.devices.indicator.show(
                INDICATOR[self.reported.status], online=self.charger.uplink.online
            )

    async def _open_contactor(self, why: str = "") -> None:
        contactor = self.devices.contactor
        if not contactor.closed:
            return
        try:
            await contactor.set_closed(False)
        except DeviceError as exc:  # the driver has cut its output; feedback disagrees
            self.faults[FaultKind.POWER_SWITCH] = Fault(FaultKind.POWER_SWITCH, str(exc)[:50])
            log.error(
                "connector %d: contactor did not open: %s",
                self.id,
                exc,
                extra=fields(connector=self.id),
            )
        else:
            log.info(
                "connector %d: contactor opened%s",
                self.id,
                f" ({why})" if why else "",
                extra=fields(connector=self.id),
            )

    async def _set_offer(self, amps: float | None) -> None:
        if amps == self._offered or self.devices.offer is None:
            self._offered = amps
            return
        try:
            await self.devices.offer.offer(amps)
            self._offered = amps
        except DeviceError as exc:
            log.warning("connector %d: offering %s A failed: %s", self.id, amps, exc)

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

    def _values(
        self, reading: MeterReading, key: str, context: Context, timestamp: str | None = None
    ) -> Sample | None:
        """The configured values of one reading, stamped ``timestamp`` (default: now)."""
        measurands = self.keys.get_csl(key)
        if not measurands:
            return None
        values = sampled_values(reading, measurands, context, offered_a=self._offered)
        if not values:
            return None
        return Sample(timestamp or self.charger.clock.timestamp(), values)

    # --- sessions ---

    def claim(self, id_tag: str, auth: AuthResult, *, remote: bool) -> None:
        """Reserve this connector for ``id_tag`` (synchronous: no other call can sneak in)."""
        timeout = self.keys.get_int("ConnectionTimeOut")
        self.pending = Pending(id_tag, auth, trio.current_time() + timeout, remote)
        self._publish()
        self._wake()

    def release(self, id_tag: str) -> None:
        if self.pending is not None and same_tag(self.pending.id_tag, id_tag):
            self.pending = None
            self._publish()
            self._wake()

    def _wake(self) -> None:
        self._send.send_nowait(_Rearm())

    async def authorized(self, id_tag: str, auth: AuthResult, *, remote: bool = False) -> None:
        """A driver is authorised for this connector: start now if the EV is there."""
        async with self._lock:
            if self.tx is not None:
                raise Refused(f"connector {self.id} already has a transaction")
            if self.plug.plugged:
                self.pending = None
                await self.begin(id_tag, auth)
            else:
                self.claim(id_tag, auth, remote=remote)
            await self._settle()

    async def begin(self, id_tag: str, auth: AuthResult) -> None:
        """Start a transaction now (the caller holds the connector's lock)."""
        if self.charger.stopping:
            log.warning("connector %d: not starting: ocppd is stopping", self.id)
            return
        if not self.charger.txlog.healthy:
            log.error("connector %d: not starting: the journal cannot be written", self.id)
            return
        reading = await self.read_meter()
        if reading is None:
            log.error("connector %d: not starting: the meter does not answer", self.id)
            return
        meter_start = round(reading.energy_wh)
        timestamp = self.charger.clock.timestamp()
        try:
            local_id = await self.charger.txlog.start(
                connector_id=self.id,
                id_tag=id_tag,
                meter_start_wh=meter_start,
                timestamp=timestamp,
                reservation_id=None,
            )
        except StorageUnavailable as exc:
            log.error("connector %d: not starting: %s", self.id, exc)
            return
        self.awaiting.add((local_id, "start"))
        tx = Transaction(
            local_id,
            self.id,
            id_tag,
            auth.parent_id_tag,
            meter_start,
            timestamp,
            last_energy_wh=reading.energy_wh,
        )
        begin = self._values(reading, "StopTxnSampledData", Context.BEGIN, timestamp)
        if begin is not None:
            tx.keep_for_stop(begin)
        self.tx = tx
        self.finishing = False
        log.info(
            "connector %d: transaction %d started for a tag (meterStart %d Wh, %s)",
            self.id,
            local_id,
            meter_start,
            auth.source,
            extra=fields(connector=self.id),
        )
        if self.devices.lock is not None:
            try:
                await self.devices.lock.lock()
            except DeviceError as exc:
                log.warning("connector %d: cable lock failed: %s", self.id, exc)
        self.charger.uplink.wake()
        if self._nursery is not None:
            self._nursery.start_soon(self._tick, tx)

    async def stop(self, reason: StopReason, id_tag: str | None = None) -> bool:
        """Stop the running transaction (False when there is none)."""
        async with self._lock:
            if self.tx is None:
                return False
            await self._stop(reason, id_tag)
            await self._settle()
            return True

    async def _stop(self, reason: StopReason, id_tag: str | None) -> None:
        # A stop always completes: it may be reached from a task that is being cancelled.
        with trio.CancelScope(shield=True):
            await self._stop_shielded(reason, id_tag)

    async def _stop_shielded(self, reason: StopReason, id_tag: str | None) -> None:
        tx = self.tx
        assert tx is not None
        await self._open_contactor(f"transaction {reason}")
        await self._set_offer(None)
        if self._tx_scope is not None:
            self._tx_scope.cancel()
        reading = await self.read_meter()
        energy = reading.energy_wh if reading is not None else tx.last_energy_wh
        meter_stop = max(round(energy), tx.meter_start_wh)
        timestamp = self.charger.clock.timestamp()
        if reading is not None:
            end = self._values(reading, "StopTxnSampledData", Context.END, timestamp)
            if end is not None:
                tx.keep_for_stop(end)
        self.tx = None
        self.finishing = self.plug.plugged
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
        elif reason is not StopReason.EV_DISCONNECTED:  # that one follows its own key
            await self._unlock_quietly()

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
            await self.charger.txlog.stop(
                tx.local_id,
                meter_stop_wh=meter_stop,
                timestamp=timestamp,
                reason=reason,
                id_tag=id_tag,
                transaction_data=list(tx.stop_data),
            )
            self.charger.uplink.wake()

        self.awaiting.add((tx.local_id, "stop"))
        try:
            await write()
        except StorageUnavailable as exc:
            log.error(
                "connector %d: stop of transaction %d not journaled yet (%s); retrying",
                self.id,
                tx.local_id,
                exc,
            )
            self.charger.spawn(self.charger.retry_storage, write)

    async def _tick(self, tx: Transaction) -> None:
        """While ``tx`` runs: periodic samples and checkpoints of the meter register."""
        with trio.CancelScope() as scope:
            self._tx_scope = scope
            interval = 0
            next_sample = math.inf
            next_checkpoint = trio.current_time() + CHECKPOINT_S
            while self.tx is tx:
                wanted = self.keys.get_int("MeterValueSampleInterval")
                if wanted != interval:  # first pass, or the central system changed it
                    interval = wanted
                    next_sample = trio.current_time() + interval if interval > 0 else math.inf
                with trio.move_on_at(min(next_sample, next_checkpoint)):
                    await self.keys.wait_changed()
                    continue
                now = trio.current_time()
                if now >= next_sample:
                    next_sample += interval  # keep the cadence on the clock, not on read times
                    next_checkpoint = now + CHECKPOINT_S
                    await self._sample(tx)
                else:
                    next_checkpoint = now + CHECKPOINT_S
                    async with self._lock:
                        reading = await self.read_meter() if self.tx is tx else None
                    if reading is not None:
                        await self._checkpoint(tx, reading)

    async def _checkpoint(self, tx: Transaction, reading: MeterReading) -> None:
        try:
            await self.charger.txlog.checkpoint(
                tx.local_id, energy_wh=reading.energy_wh, timestamp=self.charger.clock.timestamp()
            )
        except StorageUnavailable:
            pass  # the last checkpoint that landed is what a power cut will use

    async def _sample(self, tx: Transaction) -> None:
        async with self._lock:
            if self.tx is not tx:
                return
            reading = await self.read_meter()
            if reading is None:
                return
            await self._checkpoint(tx, reading)
            stamp = self.charger.clock.timestamp()  # one reading, one time
            sample = self._values(reading, "MeterValuesSampledData", Context.PERIODIC, stamp)
            if sample is not None:
                try:
                    await self.charger.txlog.meter_values(
                        tx.local_id, connector_id=self.id, samples=[sample], droppable=True
                    )
                except StorageUnavailable as exc:
                    log.warning("connector %d: meter values not journaled: %s", self.id, exc)
                self.charger.uplink.wake()
            stop_sample = self._values(reading, "StopTxnSampledData", Context.PERIODIC, stamp)
            if stop_sample is not None:
                tx.keep_for_stop(stop_sample)
            await self._check_invalid_energy()
            await self._settle()

    async def aligned_sample(self, timestamp: str) -> None:
        """A clock-aligned reading (the charger calls this at each interval boundary)."""
        async with self._lock:
            reading = await self.read_meter()
            if reading is None:
                return
            values = sampled_values(
                reading,
                self.keys.get_csl("MeterValuesAlignedData"),
                Context.CLOCK,
                offered_a=self._offered,
            )
            tx = self.tx
            if values:
                try:
                    await self.charger.txlog.meter_values(
                        tx.local_id if tx else None,
                        connector_id=self.id,
                        samples=[Sample(timestamp, values)],
                        droppable=True,
                    )
                except StorageUnavailable as exc:
                    log.warning("connector %d: aligned values not journaled: %s", self.id, exc)
                self.charger.uplink.wake()
            if tx is not None:
                stop_values = sampled_values(
                    reading,
                    self.keys.get_csl("StopTxnAlignedData"),
                    Context.CLOCK,
                    offered_a=self._offered,
                )
                if stop_values:
                    tx.keep_for_stop(Sample(timestamp, stop_values))

    async def triggered_values(self) -> Sample | None:
        """Newest values for TriggerMessage(MeterValues)."""
        async with self._lock:
            reading = await self.read_meter()
            if reading is None:
                return None
            return self._values(reading, "MeterValuesSampledData", Context.TRIGGER)

    # --- what the central system says about a transaction ---

    async def start_confirmed(self, local_id: int, transaction_id: int, info: IdTagInfo) -> None:
        """StartTransaction.conf arrived (possibly long after an offline start)."""
        async with self._lock:
            tx = self.tx
            if tx is None or tx.local_id != local_id:
                return
            tx.transaction_id = transaction_id
            if info.parent_id_tag:
                tx.parent_id_tag = info.parent_id_tag
            if info.status is not AuthStatus.ACCEPTED:
                log.warning(
                    "connector %d: central system says the tag of transaction %d is %s",
                    self.id,
                    transaction_id,
                    info.status,
                    extra=fields(connector=self.id, transaction=transaction_id),
                )
                tx.invalid_at_wh = tx.last_energy_wh
                await self._check_invalid_energy()
            await self._settle()

    async def _check_invalid_energy(self) -> None:
        """StopTransactionOnInvalidId / MaxEnergyOnInvalidId (1.6 §3.5.4, errata 3.17)."""
        tx = self.tx
        if tx is None or tx.invalid_at_wh is None:
            return
        allowance = (
            self.keys.get_int("MaxEnergyOnInvalidId")
            if self.keys.has("MaxEnergyOnInvalidId")
            else 0
        )
        delivered = tx.last_energy_wh - tx.meter_start_wh
        if allowance > 0 and delivered < allowance:
            return
        if self.keys.get_bool("StopTransactionOnInvalidId"):
            await self._stop(StopReason.DE_AUTHORIZED, None)
        elif tx.permitted:
            log.info("connector %d: energy suspended: the tag is not valid", self.id)
            tx.permitted = False

    # --- availability and the lock ---

    async def set_operative(self, operative: bool) -> str:
        """ChangeAvailability for this connector: "Accepted" or "Scheduled"."""
        async with self._lock:
            if self.tx is not None:
                if operative == self.operative:
                    self.scheduled_operative = None
                    return "Accepted"
                self.scheduled_operative = operative
                return "Scheduled"
            self.scheduled_operative = None
            if operative != self.operative:
                self.operative = operative
                if not operative:
                    self.pending = None
                await self.charger.persist_availability(self)
            await self._settle()
            return "Accepted"

    async def unlock(self) -> str:
        """UnlockConnector: end a transaction first, then unlock. Unlocked / UnlockFailed /
        NotSupported (no lock)."""
        lock = self.devices.lock
        if lock is None:
            return "NotSupported"
        async with self._lock:
            if self.tx is not None:
                await self._stop(StopReason.UNLOCK_COMMAND, None)
            self.locked_for = None
            try:
                await lock.unlock()
            except DeviceError as exc:
                log.warning("connector %d: unlock failed: %s", self.id, exc)
                self.faults[FaultKind.CONNECTOR_LOCK] = Fault(
                    FaultKind.CONNECTOR_LOCK, str(exc)[:50], blocks_charging=False
                )
                await self._settle()
                return "UnlockFailed"
            self.faults.pop(FaultKind.CONNECTOR_LOCK, None)
            await self._settle()
            return "Unlocked"

    async def release_lock_for(self, id_tag: str, parent: str | None) -> bool:
        """After a DeAuthorized stop the cable stays locked until the same tag (or its parent
        group) is shown."""
        if self.locked_for is None:
            return False
        if not (same_tag(self.locked_for, id_tag) or same_tag(self.locked_for, parent)):
            return False
        self.locked_for = None
        await self._unlock_quietly()
        return True

    async def _unlock_quietly(self) -> None:
        if self.devices.lock is None or not self.devices.lock.locked:
            return
        try:
            await self.devices.lock.unlock()
        except DeviceError as exc:
            log.warning("connector %d: unlock failed: %s", self.id, exc)

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
                await self._open_contactor(str(reason))
                await self._set_offer(None)

    def snapshot(self) -> dict[str, Any]:
        """The connector as ``ocppctl status --json`` shows it."""
        reading = self.latest
        tx = self.tx
        return {
            "id": self.id,
            "status": self.reported.status.value,
            "error_code": self.reported.error_code.value,
            "info": self.reported.info,
            "plugged": self.plug.plugged,
            "ev_requesting": self.plug.ev_requesting,
            "contactor_closed": self.devices.contactor.closed,
            "operative": self.operative,
            "scheduled_availability": (
                None
                if self.scheduled_operative is None
                else "Operative"
                if self.scheduled_operative
                else "Inoperative"
            ),
            "current_limit_a": self.current_limit_a(),
            "power_w": reading.power_w if reading else None,
            "energy_wh": round(reading.energy_wh) if reading else None,
            "transaction": None
            if tx is None
            else {
                "id": tx.transaction_id,
                "local_id": tx.local_id,
                "id_tag": tx.id_tag,
                "meter_start_wh": tx.meter_start_wh,
                "started": tx.started,
                "suspended_by_charger": not tx.permitted,
            },
        }


def pick(connectors: list[Connector], key: Callable[[Connector], bool]) -> Connector | None:
    return next((c for c in connectors if key(c)), None)


__all__ = ["ENERGY_REGISTER", "Connector", "Pending", "Refused", "Reported"]
