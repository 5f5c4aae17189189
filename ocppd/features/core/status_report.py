"""Status reporting (1.6 §4.9, §6.47; 2.0.1 G01, B04): a StatusNotification for every status
change, in order, in the version the session speaks (``speech.py``). A change the central
system would hear as no change (2.0.1's Occupied is Charging and SuspendedEV alike) is not
sent again.

The model tells of every change in the step that made it (its uplink's
``status_changed``, forwarded by a :class:`StatusFeed`); the reporter captures the
change at once, so a status that lasted no longer than one await (Preparing while a
start is journaled) is still reported, in order (1.6 errata 3.19: every change shall
be sent). It is edge-triggered: a change is sent, not a level polled.

A StatusNotification carries the time of the transition it reports (1.6 §6.47: "the
time for which the status is reported"), also when it is sent later: held back by
MinimumStatusDuration or by its transaction message, or sent after reconnecting.
Transitions are noted on trio's clock and placed on the wall clock when sent
(:meth:`Clock.at`), so one that happened before the time was known gets its time
once it is. Should the time still be unknown, the timestamp is left out, and the
central system takes the time of receipt (§6.47).

:meth:`StatusReporter.send_status` is the public "send now" verb (a triggered
StatusNotification, 1.6 §5.17); :meth:`StatusReporter.run` reports on one session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import trio

from ocppd.clock import Clock
from ocppd.features.core.speech import V16_ONLY, Speech, StatusReport, speech_of
from ocppd.features.link import LinkView, open_session
from ocppd.logs import fields
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys
from ocppd.model.status import ErrorCode, Reported, Status
from ocppd.session import CallFailure, Session

log = logging.getLogger(__name__)

# A connector's new status waits at most this long for its StartTransaction/StopTransaction to be
# answered, so the central system sees "StartTransaction, then Charging" (statuses are not queued
# and may otherwise overtake the transaction messages, 1.6 §3.7).
TX_HOLD_S = 10.0
# Changes kept per connector while they cannot be sent yet (offline, or held behind a
# StartTransaction). Only the newest matters after a reconnect (1.6 §4.9); online, a burst
# longer than this would lose its oldest, shortest-lived entries first.
MAX_TRANSITIONS = 16

Current = tuple[Status, ErrorCode, str | None, str | None, float, bool]
"""status, error code, info, vendor error code, when (trio clock) it began, and whether a
cable is in"""


Heard = Hashable
"""What the central system heard of a connector's status (``Speech.heard``)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One status change of one connector, as the model made it (edge, not level)."""

    status: Status
    error_code: ErrorCode
    info: str | None
    vendor_error_code: str | None
    since: float  # trio clock: when it changed
    after_tx_message: bool  # a Start/Stop of this connector awaited its answer when it changed
    plugged: bool = False  # a cable is in (2.0.1 hears it: Occupied)

    def heard(self, speech: Speech) -> Heard:
        return speech.heard(self.status, self.error_code, self.info, self.plugged)


class StatusFeed:
    """Where the model's "a status changed" goes. It is built before the model (whose uplink
    forwards each change here) and the reporter after it (the reporter reads the model), so
    the one listener, the reporter, joins when it is built."""

    def __init__(self) -> None:
        self._listener: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"<StatusFeed listener={self._listener is not None}>"

    def listen(self, listener: Callable[[], None]) -> None:
        if self._listener is not None:
            raise RuntimeError("a status feed has one listener")
        self._listener = listener

    def changed(self) -> None:
        if self._listener is not None:
            self._listener()


class StatusReporter:
    """Reports the status of connector 0 and of every connector of ``charger``."""

    def __init__(
        self,
        *,
        charger: Charger,
        feed: StatusFeed,
        keys: Keys,
        clock: Clock,
        link: LinkView,
        speeches: Mapping[str, Speech] = V16_ONLY,
    ) -> None:
        self.charger = charger
        self.speeches = speeches
        self.keys = keys
        self.clock = clock
        self.link = link
        self._changed = trio.Event()
        self._sent: dict[int, Heard] = {}
        self._transitions: dict[int, list[Transition]] = {}  # not yet sent, oldest first
        self._captured: dict[int, tuple[Status, ErrorCode, str | None, bool]] = {}
        # connector 0: its status, and when (trio clock) it last changed
        self._zero: tuple[Reported | None, float] = (None, 0.0)
        self._note_charger_status()
        feed.listen(self.status_changed)

    def __repr__(self) -> str:
        waiting = sum(len(q) for q in self._transitions.values())
        return f"<StatusReporter sent={len(self._sent)} waiting={waiting}>"

    def status_changed(self) -> None:
        """Capture the change now (see the module docstring) and wake the reporting loop."""
        self._capture()
        self._changed.set()

    def _capture(self) -> None:
        for cid, (status, code, info, vendor, began, plugged) in self._current().items():
            key = (status, code, info, plugged)
            if self._captured.get(cid) == key:
                continue
            cable_alone = self._captured.get(cid) == (status, code, info, not plugged)
            since = trio.current_time() if cable_alone else began  # the cable changed now
            self._captured[cid] = key
            connector = self.charger.connectors.get(cid)
            queue = self._transitions.setdefault(cid, [])
            queue.append(
                Transition(
                    status,
                    code,
                    info,
                    vendor,
                    since,
                    connector is not None and bool(connector.awaiting),
                    plugged,
                )
            )
            if len(queue) > MAX_TRANSITIONS:
                del queue[0]

    def _note_charger_status(self) -> None:
        """Connectors note when their status changed (``changed_at``); connector 0's is noted
        here, as the charger tells of each change in the step that made it."""
        current = self.charger.current()
        if current != self._zero[0]:
            self._zero = (current, trio.current_time())

    def _current(self) -> dict[int, Current]:
        self._note_charger_status()
        zero, since0 = self.charger.current(), self._zero[1]
        out: dict[int, Current] = {
            0: (zero.status, zero.error_code, zero.info, None, since0, False)
        }
        for cid, c in self.charger.connectors.items():
            r = c.reported
            out[cid] = (
                r.status,
                r.error_code,
                r.info,
                r.vendor_error_code,
                c.changed_at,
                r.plugged,
            )
        return out

    async def send_status(self, connector_id: int, session: Session | None = None) -> None:
        """Send connector ``connector_id``'s current status now (0: the charge point's), on
        ``session``, else on the open link, with the time it began. ValueError for a
        connector that does not exist; CallFailure when there is no answer."""
        current = self._current().get(connector_id)
        if current is None:
            raise ValueError(f"no connector {connector_id}")
        session = session if session is not None else open_session(self.link)
        self._capture()
        status, code, info, vendor, since, plugged = current
        await self._send(session, connector_id, status, code, info, vendor, since, plugged)
        speech = speech_of(self.speeches, session)
        self._sent[connector_id] = speech.heard(status, code, info, plugged)
        self._changed.set()  # what is queued and now sent is dropped by the loop

    async def run(self, session: Session) -> None:
        """StatusNotification for every change, in order (1.6 §4.9, errata 3.19), with these
        exceptions:

        - a change that lasted less than MinimumStatusDuration is not sent (errors always are);
        - a change made while the connector's StartTransaction/StopTransaction awaited its
          answer waits for that answer, at most TX_HOLD_S, so the central system sees the
          transaction message first;
        - at the start of every connection (after a boot and after a reconnect alike) only
          the current status of each connector counts, and it is sent once for connector 0
          and every connector, also when it did not change since last sent: the central
          system at the other end may have restarted and forgotten it (Home Assistant's
          integration does). History is not replayed (1.6 §4.9).
        """
        self._capture()
        self._sent.clear()
        for queue in self._transitions.values():
            del queue[:-1]
        for cid, (status, code, info, vendor, since, plugged) in self._current().items():
            queue = self._transitions.setdefault(cid, [])
            if not queue:  # unchanged since last sent: its current status, once more
                connector = self.charger.connectors.get(cid)
                awaiting = connector is not None and bool(connector.awaiting)
                queue.append(Transition(status, code, info, vendor, since, awaiting, plugged))
        while True:
            self._changed = trio.Event()
            due = float("inf")
            for cid in sorted(self._transitions):
                due = min(due, await self._report_connector(session, cid))
            if due < float("inf"):
                with trio.move_on_at(due):
                    await self._changed.wait()
            else:
                await self._changed.wait()

    async def _report_connector(self, session: Session, cid: int) -> float:
        """Send what can be sent of connector ``cid``'s changes; returns when to look again."""
        queue = self._transitions[cid]
        connector = self.charger.connectors.get(cid)
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
            heard = change.heard(speech_of(self.speeches, session))
            if heard == last:
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
                change.plugged,
            )
            self._sent[cid] = heard
            if queue and queue[0] is change:
                queue.pop(0)
        return float("inf")

    async def _notify(
        self,
        session: Session,
        cid: int,
        status: Status,
        code: ErrorCode,
        info: str | None,
        vendor: str | None,
        since: float,
        plugged: bool,
    ) -> None:
        try:
            await self._send(session, cid, status, code, info, vendor, since, plugged)
        except CallFailure as exc:
            if session.closed:
                raise
            log.warning(
                "StatusNotification for connector %d failed: %s",
                cid,
                exc,
                extra=fields(connector=cid),
            )

    async def _send(
        self,
        session: Session,
        cid: int,
        status: Status,
        code: ErrorCode,
        info: str | None,
        vendor: str | None,
        since: float,
        plugged: bool,
    ) -> None:
        at = self.clock.at(since)  # when it changed, not now
        report = StatusReport(cid, status, code, info, vendor, at, plugged)
        request = speech_of(self.speeches, session).status(report)
        if request is not None:  # None: a connector this version does not report
            await session.call(request)
