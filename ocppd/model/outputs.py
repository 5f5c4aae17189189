"""What one connector drives: the contactor, the current it offers, the cable lock, the LEDs.

The connector decides (``Connector._settle``: energy flows only while a transaction
runs, the charger permits it, the EV asks for it and no blocking fault is active); this
room carries the decision out on the devices and logs what they did. A device that does
not follow is never an exception here: a contactor that does not switch, or a lock that
does not release, comes back as the :class:`~hal.base.Fault` the connector then reports
(``DeviceError`` becomes ``Fault``); an offer or a lock that fails is a log line.
"""

from __future__ import annotations

import logging
import math

import trio

from hal.base import ConnectorDevices, DeviceError, Fault, FaultKind, IndicatorState
from ocppd.logs import fields
from ocppd.model.status import Status

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

REFUSED_SHOWN_S = 3.0  # how long the LEDs show a refusal before the status again


def _device_fault(kind: FaultKind, exc: DeviceError) -> Fault:
    return Fault(kind, str(exc)[:50])


class Outputs:
    """The outputs of one connector, and what they were last told."""

    def __init__(self, devices: ConnectorDevices) -> None:
        self.id = devices.connector_id
        self.devices = devices
        self.offered: float | None = None  # amps last offered (None: no offer)
        self.refused_until = -math.inf  # trio clock: the LEDs show REFUSED until then

    def __repr__(self) -> str:
        return (
            f"<Outputs connector={self.id} contactor={self.contactor_closed} "
            f"offered={self.offered}>"
        )

    @property
    def contactor_closed(self) -> bool:
        return self.devices.contactor.closed

    # --- energy ---

    async def follow(self, *, offer: float | None, close: bool) -> Fault | None:
        """Offer ``offer`` amps (None: nothing) and close the contactor when ``close``,
        else open it (first: energy stops before anything else changes). Returns the
        POWER_SWITCH fault when the contactor did not follow."""
        fault = None if close else await self.open_contactor()
        await self.set_offer(offer)
        if close and not self.devices.contactor.closed:
            try:
                await self.devices.contactor.set_closed(True)
                log.info("connector %d: contactor closed", self.id, extra=fields(connector=self.id))
            except DeviceError as exc:
                fault = _device_fault(FaultKind.POWER_SWITCH, exc)
                fault = await self.open_contactor(str(exc)) or fault
        return fault

    async def stop_energy(self, why: str) -> Fault | None:
        """Open the contactor, then withdraw the offer (a stop, a shutdown)."""
        fault = await self.open_contactor(why)
        await self.set_offer(None)
        return fault

    async def open_contactor(self, why: str = "") -> Fault | None:
        """Open the contactor (nothing when it is open). Returns the POWER_SWITCH fault when
        it did not open: the driver has cut its output, the feedback disagrees."""
        contactor = self.devices.contactor
        if not contactor.closed:
            return None
        try:
            await contactor.set_closed(False)
        except DeviceError as exc:
            log.error(
                "connector %d: contactor did not open: %s",
                self.id,
                exc,
                extra=fields(connector=self.id),
            )
            return _device_fault(FaultKind.POWER_SWITCH, exc)
        log.info(
            "connector %d: contactor opened%s",
            self.id,
            f" ({why})" if why else "",
            extra=fields(connector=self.id),
        )
        return None

    async def set_offer(self, amps: float | None) -> None:
        """Offer ``amps`` to the EV (the pilot's duty cycle); a failure is a log line."""
        if amps == self.offered or self.devices.offer is None:
            self.offered = amps
            return
        try:
            await self.devices.offer.offer(amps)
            self.offered = amps
        except DeviceError as exc:
            log.warning("connector %d: offering %s A failed: %s", self.id, amps, exc)

    # --- the cable lock ---

    @property
    def has_lock(self) -> bool:
        return self.devices.lock is not None

    async def lock(self) -> None:
        """Lock the cable (a transaction began); a failure is a log line."""
        if self.devices.lock is None:
            return
        try:
            await self.devices.lock.lock()
        except DeviceError as exc:
            log.warning("connector %d: cable lock failed: %s", self.id, exc)

    async def unlock(self) -> Fault | None:
        """Release the cable. Returns the CONNECTOR_UNLOCK fault when it did not release."""
        if self.devices.lock is None:
            return None
        try:
            await self.devices.lock.unlock()
        except DeviceError as exc:
            log.warning("connector %d: unlock failed: %s", self.id, exc)
            return _device_fault(FaultKind.CONNECTOR_UNLOCK, exc)
        return None

    async def unlock_quietly(self) -> None:
        """Release the cable if it is locked; a failure is a log line."""
        if self.devices.lock is None or not self.devices.lock.locked:
            return
        try:
            await self.devices.lock.unlock()
        except DeviceError as exc:
            log.warning("connector %d: unlock failed: %s", self.id, exc)

    # --- the LEDs ---

    def show(self, status: Status, *, online: bool) -> None:
        """``status`` (or, for a few seconds after one, a refusal) and whether the central
        system is reachable."""
        if self.devices.indicator is None:
            return
        refused = trio.current_time() < self.refused_until
        state = IndicatorState.REFUSED if refused else INDICATOR[status]
        self.devices.indicator.show(state, online=online)

    def refused(self) -> None:
        """From now on, for REFUSED_SHOWN_S, :meth:`show` shows a refusal."""
        self.refused_until = trio.current_time() + REFUSED_SHOWN_S
