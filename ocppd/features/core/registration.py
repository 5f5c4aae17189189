"""Registration (1.6 §4.2): BootNotification on every process start until Accepted.

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
from datetime import datetime
from enum import StrEnum

import trio

from ocppd.clock import Clock
from ocppd.config import ChargePointInfo
from ocppd.features.link import LinkView, open_session
from ocppd.model.keys import Keys
from ocppd.protocol.v16 import messages as m
from ocppd.session import CallFailure, Session

log = logging.getLogger(__name__)

BOOT_RETRY_S = 60  # after a timeout or CALLERROR, and when Pending/Rejected come with interval 0


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
    ) -> None:
        self.info = info
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

    def answering(self) -> bool:
        """False while Rejected: the central system's CALLs get no answer at all (1.6 §4.2)."""
        return not (
            self.status is RegistrationStatus.REJECTED and trio.current_time() < self._quiet_until
        )

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

    async def send_boot(self, session: Session | None = None) -> RegistrationStatus:
        """Send a BootNotification now (on ``session``, else on the open link) and take its
        answer: the time, and when Accepted the heartbeat interval; when Pending or Rejected,
        how long to wait before asking again. Raises CallFailure when there is no answer."""
        session = session if session is not None else open_session(self.link)
        response = await session.call(self.boot_request())
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
