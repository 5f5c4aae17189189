"""The detail of a fault in OCPP 2.0.1: a NotifyEvent beside the Faulted status.

2.0.1's StatusNotification says Faulted and nothing more (G01); what is wrong is told as
an event of the device model (N07's NotifyEvent, trigger Delta): the component's
``Problem`` variable becomes ``true``, with the charger's error code as ``techCode``
(1.6's word: GroundFailure, PowerMeterFailure ...) and its info as ``techInfo``; it
becomes ``false`` (``cleared``) when the problem is gone. The component is the
connector of its EVSE, or the ChargingStation for a fault of the whole (1.6's connector
0: a damaged journal, a reader failure).

These events are not queued: a problem that began and ended while no 2.0.1 link was
open is not told afterwards; after each new link, every problem still there is told
once more (as every status is, B04.FR.02). A non-blocking error (a weak signal, a
high temperature that only reduces the current) is told alike, without Faulted.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import trio

from ocppd.clock import Clock, format_time
from ocppd.features.core.registration import Registration
from ocppd.features.core.words import ERROR_CODE
from ocppd.features.link import LinkView
from ocppd.features.v201.status import CONNECTOR_ID
from ocppd.model.charger import Charger
from ocppd.model.status import ErrorCode, Reported
from ocppd.session import CallFailure, Session

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp2.0.1"
TECH_INFO_MAX = 500  # EventDataType.techInfo
STATION = 0

Problem = tuple[ErrorCode, str | None]  # what is wrong, and the detail


def problem_of(reported: Reported) -> Problem | None:
    if reported.error_code is ErrorCode.NO_ERROR:
        return None
    return reported.error_code, reported.info


def component(cid: int) -> dict[str, Any]:
    if cid == STATION:
        return {"name": "ChargingStation"}
    return {"name": "Connector", "evse": {"id": cid, "connectorId": CONNECTOR_ID}}


class FaultEvents:
    """Tells a 2.0.1 CSMS each connector's problems as they begin and end."""

    def __init__(
        self, *, charger: Charger, link: LinkView, registration: Registration, clock: Clock
    ) -> None:
        self.charger = charger
        self.link = link
        self.registration = registration
        self.clock = clock
        self._told: dict[int, Problem] = {}  # on this link: the problems it heard of
        self._event_ids = itertools.count(1)
        self._bell = trio.Event()  # rung at every change worth a look

    def __repr__(self) -> str:
        return f"<FaultEvents told={sorted(self._told)}>"

    def _problems(self) -> dict[int, Problem]:
        found = {STATION: problem_of(self.charger.current())}
        for cid, connector in self.charger.connectors.items():
            found[cid] = problem_of(connector.reported)
        return {cid: p for cid, p in found.items() if p is not None}

    def _session(self) -> Session | None:
        """The open 2.0.1 session once registered on it, else None."""
        session = self.link.session
        if (
            session is None
            or session.closed
            or not self.link.healthy
            or not self.registration.accepted
            or session.rpc.dialect.subprotocol != SUBPROTOCOL
        ):
            return None
        return session

    async def run(self) -> None:
        """For the daemon's lifetime: look again at each status change and each change of
        the link (two followers ring one bell, so no change falls between a look and the
        next wait)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._follow, self.link.wait_changed)
            nursery.start_soon(self._follow, self.charger.wait_changed)
            session: Session | None = None
            while True:
                bell = self._bell  # taken before looking
                current = self._session()
                if current is not session:  # a new link: it has heard of nothing yet
                    session, self._told = current, {}
                if session is not None:
                    await self._tell(session)
                await bell.wait()

    async def _follow(self, wait: Callable[[], Awaitable[None]]) -> None:
        while True:
            await wait()
            self._bell.set()
            self._bell = trio.Event()

    async def _tell(self, session: Session) -> None:
        now = self._problems()
        for cid in sorted(set(now) | set(self._told)):
            problem, told = now.get(cid), self._told.get(cid)
            if problem == told:
                continue
            # a new or changed problem is told as it is now; one that is gone, as it was
            event = self._event(cid, problem or told, active=problem is not None)
            try:
                await session.call_payload("NotifyEvent", event)
            except CallFailure as exc:
                log.warning("NotifyEvent of %s not delivered: %s", component(cid)["name"], exc)
                return  # told at the next change or link
            if problem is None:
                del self._told[cid]
            else:
                self._told[cid] = problem

    def _event(self, cid: int, problem: Problem | None, *, active: bool) -> dict[str, Any]:
        now = self.clock.now() or datetime.now(UTC)  # 2.0.1 requires a time: the best known
        stamp = format_time(now)
        code, info = problem if problem is not None else (ErrorCode.OTHER_ERROR, None)
        data: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "timestamp": stamp,
            "trigger": "Delta",
            "actualValue": "true" if active else "false",
            "techCode": ERROR_CODE[code].value,
            "eventNotificationType": "HardWiredNotification",
            "component": component(cid),
            "variable": {"name": "Problem"},
        }
        if info:
            data["techInfo"] = info[:TECH_INFO_MAX]
        if not active:
            data["cleared"] = True
        return {"generatedAt": stamp, "seqNo": 0, "eventData": [data]}
