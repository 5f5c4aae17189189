"""The charge point as a whole: its connectors and what spans them.

A tag is presented to the charger, not to a connector: it ends its own transaction
(or one of its parent group) wherever that runs, or starts a session on the
connector where an EV waits, or on the only free connector, or on the first one
plugged within ConnectionTimeOut. Remote start and stop, availability, the
clock-aligned meter readings, power-loss recovery and reset requests live here too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from ocppd.model.auth import Authorizer, AuthResult, Uplink, same_tag
from ocppd.model.connector import Connector, Pending, Refused
from ocppd.model.keys import Keys
from ocppd.model.status import FAULT_CODES, ErrorCode, Status, charger_status, is_blocking
from ocppd.model.transaction import StopReason, StorageUnavailable, TransactionLog

log = logging.getLogger(__name__)

STORAGE_VENDOR_CODE = "journal"


class SettingsStore(Protocol):
    async def set_setting(self, name: str, value: str | None) -> None: ...


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
        keys: Keys,
        clock: Clock,
        txlog: TransactionLog,
        uplink: Uplink,
        authorizer: Authorizer,
        settings: SettingsStore,
        reader: RfidReader | None = None,
    ) -> None:
        self.keys = keys
        self.clock = clock
        self.txlog = txlog
        self.uplink = uplink
        self.authorizer = authorizer
        self.settings = settings
        self.reader = reader
        self.connectors: dict[int, Connector] = {}
        self.operative = True  # connector 0
        self.faults: dict[FaultKind, Fault] = {}
        self.pending: Pending | None = None  # tag first, several free connectors
        self.reset_requested: str | None = None  # "Soft" | "Hard"
        self.stopping = False  # an orderly stop began: no new transaction may start
        self._reset = trio.Event()
        self._changed = trio.Event()
        self._nursery: trio.Nursery | None = None
        self.reported = self.current()

    def __repr__(self) -> str:
        return f"<Charger connectors={list(self.connectors.values())!r} operative={self.operative}>"

    def add_connector(
        self, devices: ConnectorDevices, *, max_current_a: float, phases: int
    ) -> Connector:
        connector = Connector(self, devices, max_current_a=max_current_a, phases=phases)
        self.connectors[connector.id] = connector
        return connector

    def connector(self, connector_id: int) -> Connector | None:
        return self.connectors.get(connector_id)

    # --- connector 0 ---

    @property
    def faulted(self) -> bool:
        return any(is_blocking(f) for f in self.faults.values())

    @property
    def storage_ok(self) -> bool:
        """False while the journal cannot be written: no new session may start."""
        return (
            FaultKind.OTHER not in self.faults
            or self.faults[FaultKind.OTHER].vendor_code != STORAGE_VENDOR_CODE
        )

    def current(self) -> tuple[Status, ErrorCode, str | None]:
        status = charger_status(self.operative and self.storage_ok, self.faulted)
        fault = next(iter(self.faults.values()), None)
        if fault is None:
            return status, ErrorCode.NO_ERROR, None
        return status, FAULT_CODES[fault.kind], fault.info[:50] or None

    def status_changed(self) -> None:
        self.reported = self.current()
        self._changed.set()
        self._changed = trio.Event()
        self.uplink.status_changed()

    async def wait_changed(self) -> None:
        await self._changed.wait()

    def uplink_changed(self) -> None:
        """The central system became reachable or unreachable: the indicators show it."""
        for connector in self.connectors.values():
            connector.show_indicator()

    # --- lifetime ---

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        if self._nursery is None:
            raise RuntimeError("the charger is not running")
        self._nursery.start_soon(fn, *args)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for connector in self.connectors.values():
                await nursery.start(connector.run)
            if self.reader is not None:
                nursery.start_soon(self.reader.run, self, name=f"{self.reader.name} watch")
            nursery.start_soon(self._aligned_readings)
            nursery.start_soon(self._watch_storage)
            task_status.started()

    def report(self, event: DeviceEvent) -> None:
        """EventSink for charger-wide devices (the RFID reader)."""
        if isinstance(event, TagRead):
            self.spawn(self.present_tag, event.id_tag, "reader")
        elif isinstance(event, FaultRaised):
            self.faults[event.fault.kind] = event.fault
            log.warning("charger: %s fault: %s", event.fault.kind, event.fault.info)
            self.spawn(self._refresh_all)
        elif isinstance(event, FaultCleared) and event.kind in self.faults:
            del self.faults[event.kind]
            log.info("charger: %s fault cleared", event.kind)
            self.spawn(self._refresh_all)

    async def _watch_storage(self) -> None:
        """While the journal cannot be written, refuse new sessions and say why (connector 0:
        OtherError "journal: ..."; idle connectors: Unavailable); running ones go on."""
        while True:
            await self.txlog.wait_unhealthy()
            problem = self.txlog.problem or "cannot be written"
            log.error("journal unavailable (%s): no new sessions until it can be written", problem)
            self.faults[FaultKind.OTHER] = Fault(
                FaultKind.OTHER,
                f"journal: {problem}"[:50],
                STORAGE_VENDOR_CODE,
                blocks_charging=False,
            )
            await self._refresh_all()
            await self.txlog.wait_healthy()
            log.warning("journal writable again: sessions may start")
            self.faults.pop(FaultKind.OTHER, None)
            await self._refresh_all()

    async def _refresh_all(self) -> None:
        for connector in self.connectors.values():
            await connector.refresh()
        self.status_changed()

    async def retry_storage(self, write: Callable[[], Awaitable[None]]) -> None:
        """Retry a journal write that must land (a stop) until the journal can be written."""
        while True:
            await self.txlog.wait_healthy()
            try:
                await write()
                return
            except StorageUnavailable:
                await trio.sleep(1)

    # --- drivers' tags ---

    async def present_tag(self, id_tag: str, source: str = "reader") -> str:
        """A tag was shown (reader or `ocppctl swipe`). Returns what happened, for people."""
        id_tag = id_tag.strip().upper()[:20]
        if not id_tag:
            raise Refused("empty tag")
        log.info("tag presented (%s)", source)
        for connector in self.connectors.values():
            tx = connector.tx
            if tx is not None and same_tag(tx.id_tag, id_tag):
                await connector.stop(StopReason.LOCAL, id_tag)
                return f"transaction on connector {connector.id} stopped"
        auth: AuthResult | None = None
        for connector in self.connectors.values():
            tx = connector.tx
            if tx is not None and tx.parent_id_tag:
                auth = auth or await self.authorizer.authorize(id_tag)
                if same_tag(auth.parent_id_tag, tx.parent_id_tag):
                    await connector.stop(StopReason.LOCAL, id_tag)
                    return f"transaction on connector {connector.id} stopped (same group)"
        for connector in self.connectors.values():
            if connector.locked_for is not None:
                auth = auth or await self.authorizer.authorize(id_tag)
                if await connector.release_lock_for(id_tag, auth.parent_id_tag):
                    return f"connector {connector.id} unlocked"
        if not self.storage_ok:
            raise Refused(f"no new sessions: the journal cannot be written ({self.txlog.problem})")
        target = self._target()
        if target is None and not self._several_free():
            raise Refused("no free connector")
        auth = auth or await self.authorizer.authorize(id_tag)
        if not auth.accepted:
            log.info("tag refused: %s", auth.why)
            raise Refused(f"tag refused: {auth.why}")
        target = self._target()  # authorizing took time: look again
        if target is not None:
            await target.authorized(id_tag, auth)
            return (
                f"authorised: charging on connector {target.id}"
                if target.tx
                else f"authorised: plug in at connector {target.id}"
            )
        if self._several_free():
            timeout = self.keys.get_int("ConnectionTimeOut")
            self.pending = Pending(id_tag, auth, trio.current_time() + timeout)
            return "authorised: plug in at any free connector"
        raise Refused("no free connector")

    def _target(self) -> Connector | None:
        """Where a new session goes: the free connector with an EV, else the only free one."""
        free = [c for c in self.connectors.values() if c.free]
        waiting = [c for c in free if c.plug.plugged]
        if waiting:
            return waiting[0]
        return free[0] if len(free) == 1 else None

    def _several_free(self) -> bool:
        return sum(1 for c in self.connectors.values() if c.free) > 1

    async def plugged_in(self, connector: Connector) -> None:
        """An EV was plugged in at a free connector: a charger-wide authorization claims it.
        Called by the connector under its own lock."""
        pending, self.pending = self.pending, None
        if pending is None or trio.current_time() > pending.expires_at:
            return
        await connector.begin(pending.id_tag, pending.auth)

    # --- the central system's commands ---

    def remote_target(self, connector_id: int | None) -> Connector | None:
        """The connector a RemoteStartTransaction would use, or None (then: Rejected)."""
        if connector_id is not None:
            connector = self.connectors.get(connector_id)
            return connector if connector is not None and connector.free else None
        return self._target() or next((c for c in self.connectors.values() if c.free), None)

    async def remote_start(
        self, connector: Connector, id_tag: str, *, authorize_first: bool
    ) -> None:
        """After RemoteStartTransaction was answered Accepted (the connector was claimed)."""
        auth = AuthResult(True, None, "remote")
        if authorize_first:
            auth = await self.authorizer.authorize(id_tag)
            if not auth.accepted:
                log.info("remote start refused for connector %d: %s", connector.id, auth.why)
                connector.release(id_tag)
                return
        try:
            await connector.authorized(id_tag, auth, remote=True)
        except Refused as exc:
            log.info("remote start on connector %d not possible: %s", connector.id, exc)

    def acknowledged(self, local_id: int, what: str) -> None:
        """The central system answered (or the outbox gave up) a Start or Stop."""
        for connector in self.connectors.values():
            if (local_id, what) in connector.awaiting:
                connector.awaiting.discard((local_id, what))
                self.status_changed()

    def find_transaction(self, transaction_id: int) -> Connector | None:
        for connector in self.connectors.values():
            if connector.tx is not None and connector.tx.transaction_id == transaction_id:
                return connector
        return None

    async def change_availability(self, connector_id: int, operative: bool) -> str:
        """ChangeAvailability: Accepted, Scheduled or Rejected (unknown connector)."""
        if connector_id == 0:
            results = [await c.set_operative(operative) for c in self.connectors.values()]
            if self.operative != operative:
                self.operative = operative
                await self.settings.set_setting(
                    "availability.0", None if operative else "Inoperative"
                )
            await self._refresh_all()
            return "Scheduled" if "Scheduled" in results else "Accepted"
        connector = self.connectors.get(connector_id)
        if connector is None:
            return "Rejected"
        return await connector.set_operative(operative)

    async def persist_availability(self, connector: Connector) -> None:
        try:
            await self.settings.set_setting(
                f"availability.{connector.id}", None if connector.operative else "Inoperative"
            )
        except Exception as exc:  # availability applies now even if the disk refuses it
            log.warning("availability of connector %d not persisted: %s", connector.id, exc)

    def restore_availability(self, settings: dict[str, str]) -> None:
        """Inoperative survives restarts (1.6 §4.9, OCTT TC_034)."""
        self.operative = settings.get("availability.0") != "Inoperative"
        for connector in self.connectors.values():
            connector.operative = settings.get(f"availability.{connector.id}") != "Inoperative"
            connector.reported = connector.current()
        self.reported = self.current()

    async def stop_all(self, reason: StopReason) -> None:
        """Stop every transaction with ``reason`` and open every contactor (shielded).

        From here on no transaction starts: a tag whose Authorize is still on its way, or a
        cable plugged now, would otherwise start one that the daemon leaves running.
        """
        self.stopping = True
        with trio.CancelScope(shield=True):
            for connector in self.connectors.values():
                await connector.shutdown(reason)

    def request_reset(self, kind: str) -> None:
        self.reset_requested = kind
        self._reset.set()

    async def wait_reset(self) -> str:
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
        midnight and every interval after it), each connector reports MeterValuesAlignedData."""
        while True:
            interval = self.keys.get_int("ClockAlignedDataInterval")
            now = self.clock.now()
            if interval <= 0 or now is None:
                with trio.move_on_after(60 if now is None and interval > 0 else math.inf):
                    await self.keys.wait_changed()
                continue
            wall = now.timestamp()
            boundary = (math.floor(wall / interval) + 1) * interval
            with trio.move_on_after(boundary - wall):
                await self.keys.wait_changed()
                continue
            stamp = format_time(datetime.fromtimestamp(boundary, UTC))
            for connector in self.connectors.values():
                await connector.aligned_sample(stamp)

    def snapshot(self) -> list[dict[str, Any]]:
        return [c.snapshot() for c in self.connectors.values()]
