"""What the charge point says on each connection: register, then heartbeat, status and the queue.

Registration (1.6 §4.2): BootNotification on every process start until Accepted.
Pending: answer the central system, send nothing of our own, ask again after
``interval``. Rejected: send nothing and answer nothing until ``interval`` has passed.
Accepted: take the heartbeat interval and the time, report connector 0 and every
connector, then keep heartbeats, status changes and the outbox going. A plain
reconnect in the same process does not boot again (OCPP-J §5.4); it reports the
statuses that changed while offline.

A StatusNotification carries the time of the transition it reports (1.6 §6.47: "the
time for which the status is reported"), also when it is sent later: held back by
MinimumStatusDuration or by its transaction message, or sent after reconnecting.
Transitions are noted on trio's clock and placed on the wall clock when sent
(:meth:`Clock.at`), so one that happened before the time was known gets its time
once it is. Should the time still be unknown, the timestamp is left out, and the
central system takes the time of receipt (§6.47).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import trio

from ocppd.cadence import Cadence
from ocppd.clock import Clock
from ocppd.config import ChargePointInfo
from ocppd.connection import Connection
from ocppd.features.core.transactions import Courier
from ocppd.features.core.words import ERROR_CODE, STATUS
from ocppd.logs import fields
from ocppd.model.auth import AuthStatus, IdTagInfo, NoVerdict, Offline
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys
from ocppd.model.status import ErrorCode, Status
from ocppd.protocol.v16 import messages as m
from ocppd.session import CallFailure, CallRejected, Session

log = logging.getLogger(__name__)

BOOT_RETRY_S = 60  # after a timeout or CALLERROR, and when Pending/Rejected come with interval 0
# A connector's new status waits at most this long for its StartTransaction/StopTransaction to be
# answered, so the central system sees "StartTransaction, then Charging" (statuses are not queued
# and may otherwise overtake the transaction messages, 1.6 §3.7).
TX_HOLD_S = 10.0


class Registration(StrEnum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass
class Sent:
    status: Status
    error_code: ErrorCode
    info: str | None


@dataclass(frozen=True, slots=True)
class Transition:
    """One status change of one connector, as the model made it (edge, not level)."""

    status: Status
    error_code: ErrorCode
    info: str | None
    vendor_error_code: str | None
    since: float  # trio clock: when it changed
    after_tx_message: bool  # a Start/Stop of this connector awaited its answer when it changed

    def same_as(self, sent: Sent | None) -> bool:
        return sent is not None and (sent.status, sent.error_code, sent.info) == (
            self.status,
            self.error_code,
            self.info,
        )


# Changes kept per connector while they cannot be sent yet (offline, or held behind a
# StartTransaction). Only the newest matters after a reconnect (1.6 §4.9); online, a burst
# longer than this would lose its oldest, shortest-lived entries first.
MAX_TRANSITIONS = 16


class Conversation:
    """The model's uplink, and the program each session runs."""

    def __init__(
        self,
        *,
        info: ChargePointInfo,
        keys: Keys,
        clock: Clock,
        firmware_version: str | None = None,
    ) -> None:
        self.info = info
        self.keys = keys
        self.clock = clock
        self.courier: Courier | None = None  # attach() gives it, once the model exists
        self.firmware_version = firmware_version
        self.charger: Charger | None = None
        self.connection: Connection | None = None
        self.registration: Registration | None = None
        self.registered_since: datetime | None = None
        self._quiet_until = 0.0  # Rejected: no frames either way until then (trio clock)
        self._status_event = trio.Event()
        self._sent: dict[int, Sent] = {}
        self._transitions: dict[int, list[Transition]] = {}  # not yet sent, oldest first
        self._captured: dict[int, tuple[Status, ErrorCode, str | None]] = {}
        # connector 0: its status, and when (trio clock) it last changed
        self._zero: tuple[tuple[Status, ErrorCode, str | None] | None, float] = (None, 0.0)
        self._untracked: list[tuple[str, dict[str, Any]]] = []
        self._untracked_event = trio.Event()
        self.heartbeats = 0

    def attach(self, charger: Charger, courier: Courier) -> None:
        """The model and the outbox courier, built after this (they need it as their uplink)."""
        self.charger = charger
        self.courier = courier
        self._note_charger_status()

    def __repr__(self) -> str:
        return f"<Conversation registration={self.registration} online={self.online}>"

    # --- the model's Uplink ---

    @property
    def session(self) -> Session | None:
        return self.connection.session if self.connection is not None else None

    @property
    def online(self) -> bool:
        session = self.session
        return (
            session is not None
            and not session.closed
            and self.registration is Registration.ACCEPTED
            and self.connection is not None
            and self.connection.healthy
        )

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """Authorize.req. No answer (not registered, a timeout, the link lost) is Offline: the
        offline rules decide. An answer without a verdict (a CALLERROR, a CALLRESULT that
        breaks the schema) is NoVerdict: the central system is there, so the tag is not
        authorised (1.6 §3.5; never the offline rules while online)."""
        session = self.session
        if session is None or not self.online:
            raise Offline("not connected and registered")
        try:
            response = await session.call(m.AuthorizeRequest(id_tag=id_tag))
        except CallRejected as exc:  # InvalidAnswer too
            raise NoVerdict(str(exc)) from exc
        except CallFailure as exc:
            raise Offline(str(exc)) from exc
        info = response.id_tag_info
        return IdTagInfo(AuthStatus(info.status.value), info.expiry_date, info.parent_id_tag)

    def wake(self) -> None:
        if self.courier is not None:
            self.courier.wake()

    def status_changed(self) -> None:
        """The model tells of every change in the step that made it: capture it now, so a
        status that lasted no longer than one await (Preparing while a start is journaled)
        is still reported, in order (1.6 errata 3.19: every change shall be sent)."""
        self._capture()
        self._status_event.set()

    def _capture(self) -> None:
        charger = self.charger
        if charger is None:
            return
        for cid, (status, code, info, vendor, since) in self._current(charger).items():
            key = (status, code, info)
            if self._captured.get(cid) == key:
                continue
            self._captured[cid] = key
            connector = charger.connectors.get(cid)
            queue = self._transitions.setdefault(cid, [])
            queue.append(
                Transition(
                    status,
                    code,
                    info,
                    vendor,
                    since,
                    connector is not None and bool(connector.awaiting),
                )
            )
            if len(queue) > MAX_TRANSITIONS:
                del queue[0]

    def _note_charger_status(self) -> None:
        """Connectors note when their status changed (``changed_at``); connector 0's is noted
        here, as the charger tells of each change in the step that made it."""
        if self.charger is None:
            return
        current = self.charger.current()
        if current != self._zero[0]:
            self._zero = (current, trio.current_time())

    def send_untracked(self, action: str, payload: dict[str, Any]) -> None:
        """A message that is not transaction-related: sent if online soon, else dropped."""
        if not self.online:
            log.debug("offline: %s not sent (not transaction-related)", action)
            return
        self._untracked.append((action, payload))
        self._untracked_event.set()

    def answering(self) -> bool:
        """False while Rejected: the central system's CALLs get no answer at all (1.6 §4.2)."""
        return not (
            self.registration is Registration.REJECTED and trio.current_time() < self._quiet_until
        )

    # --- the program of one session ---

    async def __call__(self, session: Session) -> None:
        booted_now = False
        if self.registration is not Registration.ACCEPTED:
            await self._register(session)
            booted_now = True
        assert self.connection is not None and self.courier is not None
        self.connection.mark_healthy()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._heartbeats, session)
            nursery.start_soon(self._report_statuses, session, booted_now)
            nursery.start_soon(self.courier.run, session)
            nursery.start_soon(self._send_untracked, session)

    def boot_request(self) -> m.BootNotificationRequest:
        i = self.info
        return m.BootNotificationRequest(
            charge_point_vendor=i.vendor,
            charge_point_model=i.model,
            charge_point_serial_number=i.serial_number,
            charge_box_serial_number=i.charge_box_serial_number,
            firmware_version=i.firmware_version or self.firmware_version,
            iccid=i.iccid,
            imsi=i.imsi,
            meter_type=i.meter_type,
            meter_serial_number=i.meter_serial_number,
        )

    async def _register(self, session: Session) -> None:
        while True:
            wait = trio.current_time() < self._quiet_until
            if wait:
                await trio.sleep_until(self._quiet_until)
            try:
                response = await session.call(self.boot_request())
            except CallFailure as exc:
                if session.closed:
                    raise
                log.warning("BootNotification failed (%s); again in %d s", exc, BOOT_RETRY_S)
                await trio.sleep(BOOT_RETRY_S)
                continue
            status = Registration(response.status.value)
            interval = response.interval
            self.registration = status
            if status is Registration.ACCEPTED:
                self.clock.set_reference(response.current_time)
                self.registered_since = self.clock.now()
                if interval > 0:
                    await self.keys.apply("HeartbeatInterval", interval)
                log.info(
                    "registration accepted; heartbeat every %d s",
                    self.keys.get_int("HeartbeatInterval"),
                )
                return
            retry = interval if interval > 0 else BOOT_RETRY_S
            self._quiet_until = trio.current_time() + retry
            if status is Registration.PENDING:
                self.clock.set_reference(response.current_time)
                log.info(
                    "registration pending; answering the central system, asking again in %d s",
                    retry,
                )
            else:
                log.warning("registration rejected; silent for %d s, then asking again", retry)

    async def _heartbeats(self, session: Session) -> None:
        """A Heartbeat every HeartbeatInterval (none while it is 0). A change of that key moves
        the deadline; a change of any other key leaves it where it is."""
        cadence = Cadence(lambda: self.keys.get_int("HeartbeatInterval"), self.keys.wait_changed)
        while True:
            await cadence.wait()
            try:
                response = await session.call(m.HeartbeatRequest())
            except CallFailure as exc:
                if session.closed:
                    raise
                log.warning("heartbeat failed: %s", exc)
                continue
            self.heartbeats += 1
            self.clock.set_reference(response.current_time)

    async def _report_statuses(self, session: Session, everything: bool) -> None:
        """StatusNotification for every change, in order (1.6 §4.9, errata 3.19), with these
        exceptions:

        - a change that lasted less than MinimumStatusDuration is not sent (errors always are);
        - a change made while the connector's StartTransaction/StopTransaction awaited its
          answer waits for that answer, at most TX_HOLD_S, so the central system sees the
          transaction message first;
        - at the start of a connection only the current status of each connector counts:
          after a boot, connector 0 and every connector; after a reconnect, those that differ
          from what was last sent (history is not replayed, 1.6 §4.9).
        """
        self._capture()
        if everything:
            self._sent.clear()
        for queue in self._transitions.values():
            del queue[:-1]
        while True:
            self._status_event = trio.Event()
            due = float("inf")
            for cid in sorted(self._transitions):
                due = min(due, await self._report_connector(session, cid))
            if due < float("inf"):
                with trio.move_on_at(due):
                    await self._status_event.wait()
            else:
                await self._status_event.wait()

    async def _report_connector(self, session: Session, cid: int) -> float:
        """Send what can be sent of connector ``cid``'s changes; returns when to look again."""
        charger = self.charger
        assert charger is not None
        queue = self._transitions[cid]
        connector = charger.connectors.get(cid)
        while queue:
            change = queue[0]
            now = trio.current_time()
            hold = self.keys.get_int("MinimumStatusDuration")
            if (
                change.after_tx_message
                and connector is not None
                and connector.awaiting
                and now - change.since < TX_HOLD_S
            ):
                return change.since + TX_HOLD_S
            last = self._sent.get(cid)
            if change.same_as(last):
                queue.pop(0)
                continue
            if last is not None and hold > 0 and change.error_code is ErrorCode.NO_ERROR:
                if len(queue) > 1:
                    if queue[1].since - change.since < hold:  # too short-lived to tell
                        queue.pop(0)
                        continue
                elif now - change.since < hold:
                    return change.since + hold
            await self._notify(
                session,
                cid,
                change.status,
                change.error_code,
                change.info,
                change.vendor_error_code,
                change.since,
            )
            self._sent[cid] = Sent(change.status, change.error_code, change.info)
            if queue and queue[0] is change:
                queue.pop(0)
        return float("inf")

    def _current(
        self, charger: Charger
    ) -> dict[int, tuple[Status, ErrorCode, str | None, str | None, float]]:
        self._note_charger_status()
        (status0, code0, info0), since0 = charger.current(), self._zero[1]
        out: dict[int, tuple[Status, ErrorCode, str | None, str | None, float]] = {
            0: (status0, code0, info0, None, since0)
        }
        for cid, c in charger.connectors.items():
            r = c.reported
            out[cid] = (r.status, r.error_code, r.info, r.vendor_error_code, c.changed_at)
        return out

    async def _notify(
        self,
        session: Session,
        cid: int,
        status: Status,
        code: ErrorCode,
        info: str | None,
        vendor: str | None,
        since: float,
    ) -> None:
        request = m.StatusNotificationRequest(
            connector_id=cid,
            error_code=ERROR_CODE[code],
            status=STATUS[status],
            info=info,
            timestamp=self.clock.at(since),  # when it changed, not now (None: left out)
            vendor_error_code=vendor,
        )
        try:
            await session.call(request)
        except CallFailure as exc:
            if session.closed:
                raise
            log.warning(
                "StatusNotification for connector %d failed: %s",
                cid,
                exc,
                extra=fields(connector=cid),
            )

    async def _send_untracked(self, session: Session) -> None:
        while True:
            await self._untracked_event.wait()
            self._untracked_event = trio.Event()
            batch, self._untracked = self._untracked, []
            for action, payload in batch:
                try:
                    await session.call_payload(action, payload)
                except CallFailure as exc:
                    if session.closed:
                        raise
                    log.warning("%s not delivered: %s", action, exc)

    def snapshot(self) -> dict[str, Any]:
        return {
            "registration": None if self.registration is None else self.registration.value,
            "heartbeats": self.heartbeats,
        }
