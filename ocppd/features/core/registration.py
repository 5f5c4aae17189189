"""Registration (1.6 §4.2; 2.0.1 B01-B03): BootNotification on every process start until
Accepted, in the version the session speaks (``speech.py``; the rules are alike in both).

Pending: answer the central system, send nothing of our own, ask again after
``interval``. Rejected: send nothing and answer nothing until ``interval`` has passed.
Accepted: take the heartbeat interval and the time. A plain reconnect in the same
process does not boot again (OCPP-J §5.4).

:meth:`Registration.send_boot` is the public "send now" verb (a triggered
BootNotification, 1.6 §5.17, takes its answer like any other);
:meth:`Registration.register` is the loop each connection runs until Accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum

import trio

from ocppd.clock import Clock
from ocppd.config import ChargePointInfo
from ocppd.features.core.speech import V16_ONLY, BootReason, Speech, speech_of
from ocppd.features.link import LinkView, open_session
from ocppd.journal import Journal, JournalError
from ocppd.model.keys import Keys
from ocppd.protocol.rpc import IncomingCall
from ocppd.session import CallFailure, Session

log = logging.getLogger(__name__)

REASON_SETTING = "registration.reason"  # journal setting: why the next process boots (a BootReason)
BOOT_RETRY_S = 60  # after a timeout or CALLERROR, and when Pending/Rejected come with interval 0


async def note_reason(journal: Journal, reason: BootReason) -> None:
    """Tell the next process why it boots (a Reset's restart: RemoteReset); what it cannot
    keep is a log line, and the next boot says PowerUp."""
    try:
        await journal.set_setting(REASON_SETTING, reason.value)
    except JournalError as exc:
        log.error("the reason of the next boot is not kept: %s", exc)


class RegistrationStatus(StrEnum):
    """The central system's verdict on our BootNotification (what ``ocppctl status`` shows)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class Registration:
    """Whether, and since when, the central system accepted this charge point."""

    def __init__(
        self,
        *,
        info: ChargePointInfo,
        keys: Keys,
        clock: Clock,
        link: LinkView,
        firmware_version: str | None = None,
        speeches: Mapping[str, Speech] = V16_ONLY,
        reason: BootReason = BootReason.POWER_UP,
        answered_while_rejected: Callable[[IncomingCall], bool] = lambda _call: False,
    ) -> None:
        self.info = info
        self.speeches = speeches
        self.reason = reason  # of this process's boot (a triggered one says Triggered)
        self._answered_while_rejected = answered_while_rejected
        self.keys = keys
        self.clock = clock
        self.link = link
        self.firmware_version = firmware_version
        self.status: RegistrationStatus | None = None
        self.since: datetime | None = None
        self._quiet_until = 0.0  # Rejected: no frames either way until then (trio clock)
        self._accepted = trio.Event()  # set by an Accepted answer (a triggered boot's too)

    def __repr__(self) -> str:
        return f"<Registration {self.status} since={self.since}>"

    @property
    def accepted(self) -> bool:
        return self.status is RegistrationStatus.ACCEPTED

    def answering(self, call: IncomingCall | None = None) -> bool:
        """False while Rejected: the central system's CALLs get no answer at all (1.6 §4.2),
        but for those a version allows then (``answered_while_rejected``: 2.0.1 B03.FR.08
        lets the CSMS ask for a BootNotification with TriggerMessage)."""
        rejected = (
            self.status is RegistrationStatus.REJECTED and trio.current_time() < self._quiet_until
        )
        return not rejected or (call is not None and self._answered_while_rejected(call))

    def forget(self) -> None:
        """The next link leads to another central system (a 2.0.1 network profile, B10.FR.10):
        the registration is not known there, so that link boots again."""
        if self.status is not None:
            log.info("another central system: registering again on the next link")
        self.status = None
        self.since = None
        if self._accepted.is_set():
            self._accepted = trio.Event()

    async def send_boot(
        self, session: Session | None = None, *, triggered: bool = False
    ) -> RegistrationStatus:
        """Send a BootNotification now (on ``session``, else on the open link) and take its
        answer: the time, and when Accepted the heartbeat interval; when Pending or Rejected,
        how long to wait before asking again. Raises CallFailure when there is no answer.
        ``triggered``: the central system asked for it (2.0.1 says so in the reason)."""
        session = session if session is not None else open_session(self.link)
        reason = BootReason.TRIGGERED if triggered else self.reason
        request = speech_of(self.speeches, session).boot(self.info, self.firmware_version, reason)
        response = await session.call(request)
        status = RegistrationStatus(response.status.value)
        interval = response.interval
        self.status = status
        if status is RegistrationStatus.ACCEPTED:
            self._accepted.set()
            self.clock.set_reference(response.current_time)
            self.since = self.clock.now()
            if interval > 0:
                await self.keys.apply("HeartbeatInterval", interval)
            log.info(
                "registration accepted; heartbeat every %d s",
                self.keys.get_int("HeartbeatInterval"),
            )
            return status
        if self._accepted.is_set():
            self._accepted = trio.Event()
        retry = interval if interval > 0 else BOOT_RETRY_S
        self._quiet_until = trio.current_time() + retry
        if status is RegistrationStatus.PENDING:
            self.clock.set_reference(response.current_time)
            log.info(
                "registration pending; answering the central system, asking again in %d s", retry
            )
        else:
            log.warning("registration rejected; silent for %d s, then asking again", retry)
        return status

    async def register(self, session: Session) -> None:
        """BootNotification on ``session`` until Accepted, at the pace the answers demand."""
        while True:
            if trio.current_time() < self._quiet_until:
                with trio.move_on_at(self._quiet_until):
                    await self._accepted.wait()  # a triggered BootNotification was Accepted
            if self.accepted:
                return
            try:
                status = await self.send_boot(session)
            except CallFailure as exc:
                if session.closed:
                    raise
                log.warning("BootNotification failed (%s); again in %d s", exc, BOOT_RETRY_S)
                await trio.sleep(BOOT_RETRY_S)
                continue
            if status is RegistrationStatus.ACCEPTED:
                return
