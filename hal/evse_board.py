"""EVSE controller boards of the "EVSE DIN" family (EVSE-WB-DIN, SimpleEVSE) over Modbus RTU.

The board owns the control pilot, the proximity pilot and the contactor timing; the Pi
tells it how much current to offer. One :class:`EvseDinBoard` per (port, unit) is shared
through ``context.shared`` by up to three device facets of a connector:

- ``[connector.plug] driver = "evse-din"``: the vehicle state, and the cable's PP limit as
  ``CurrentAvailable``;
- ``[connector.contactor] driver = "evse-din"``: "closed" = charging enabled (register
  1000 = the offered current), "open" = disabled (1000 = 0; the board opens its relay);
- ``[connector.pilot] driver = "evse-din"``: the offered current.

Registers (holding, FC 3 read / FC 16 write; EVSE-WB-DIN manual as transcribed by
hhoefling/openWB_lite ``docs/infos.md``, openWB ``packages/modules/common/evse.py``,
evcc ``charger/simpleevse.go`` and syssi/esphome-evse-wallbox):
1000 configured current (A; 0 = charging off), 1001 actual PWM current, 1002 vehicle
state (1 ready, 2 EV present, 3 charging, 4 charging with ventilation, 5 failure: diode
check / RCD), 1003 PP cable limit (A), 1004 command bits, 1005 firmware, 1006 EVSE state
(1 steady 12 V, 2 PWM, 3 off); 2005 bit 7 = currents in 0.01 A (firmware 18+).

The board answers or it does not: two missed polls raise a CONTROLLER fault (blocking),
as does vehicle state 5 (vendor code ``evse-din:5``). The poll also re-asserts register
1000 when it differs from what ocppd wants (a board that rebooted starts with its
"current after boot", register 2000, and would charge unauthorised).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import trio

from hal.base import (
    UNPLUGGED,
    CurrentAvailable,
    DeviceError,
    DeviceEvent,
    DeviceUnavailable,
    EventSink,
    Fault,
    FaultKind,
    PlugChanged,
    PlugState,
)
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.modbus import ModbusBus, ModbusRefused, line_settings, open_bus
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)

REG_CURRENT = 1000
REG_STATUS_COUNT = 7  # 1000..1006
REG_CONFIG_BITS = 2005
PRECISE_CURRENT_BIT = 1 << 7
MIN_AMPS = 6

VEHICLE_STATES = {
    1: "ready",
    2: "EV present",
    3: "charging",
    4: "charging with ventilation",
    5: "failure",
}


@dataclass(frozen=True, slots=True)
class BoardStatus:
    """One poll of registers 1000-1006, currents in A."""

    configured_a: float
    actual_a: float
    vehicle: int
    pp_limit_a: int
    commands: int
    firmware: int
    evse: int

    @property
    def plug(self) -> PlugState | None:
        """None for the failure state (the plug state is then unknown)."""
        if self.vehicle == 1:
            return UNPLUGGED
        if self.vehicle == 2:
            return PlugState(plugged=True, ev_requesting=False)
        if self.vehicle in (3, 4):
            return PlugState(plugged=True, ev_requesting=True)
        return None


def parse_status(words: list[int], scale: int) -> BoardStatus:
    return BoardStatus(
        words[0] / scale, words[1] / scale, words[2], words[3], words[4], words[5], words[6]
    )


class EvseDinBoard:
    """One board: the poll loop, the wanted register 1000 and the facets' sinks."""

    def __init__(
        self, bus: ModbusBus, unit: int, poll_s: float, max_current_a: float, name: str
    ) -> None:
        self.name = name
        self.bus = bus
        self.unit = unit
        self.poll_s = poll_s
        self.max_current_a = max_current_a
        self.enabled = False
        self.offer_a: float | None = max_current_a  # until a pilot facet offers something
        self.status: BoardStatus | None = None
        self.faults = FaultLatch()
        self._scale: int | None = None  # 1 (A) or 100 (0.01 A), read on first contact
        self._written: int | None = None
        self._sinks: dict[str, EventSink] = {}
        self._poller_running = False
        self._poller_done = trio.Event()
        self._poke = trio.Event()
        self._plug: PlugState = UNPLUGGED
        self._pp: float | None = None

    # --- what ocppd wants ---

    def wanted_register(self) -> int:
        """Register 1000 as ocppd wants it: 0 unless enabled and offering >= 6 A."""
        if not self.enabled or self.offer_a is None:
            return 0
        amps = min(self.offer_a, self.max_current_a)
        if amps < MIN_AMPS:
            return 0
        scale = self._scale or 1
        return int(amps * scale)  # never more than offered

    async def apply(self) -> None:
        """Write register 1000 now. Raises DeviceUnavailable when the board does not answer."""
        await self._ensure_scale()
        value = self.wanted_register()
        await self.bus.write(self.unit, REG_CURRENT, [value])
        self._written = value
        log.info("%s: register 1000 = %s", self.name, value)

    async def _ensure_scale(self) -> None:
        """Register 2005 bit 7: currents in 0.01 A (firmware 18+); older boards: whole A."""
        if self._scale is None:
            try:
                (bits,) = await self.bus.read(self.unit, "holding", REG_CONFIG_BITS, 1)
            except ModbusRefused:
                bits = 0
            self._scale = 100 if bits & PRECISE_CURRENT_BIT else 1

    # --- events ---

    def attach(self, facet: str, sink: EventSink) -> None:
        self._sinks[facet] = sink
        if self._primary() is sink:
            self.faults.attach(sink)
            if self.status is not None and self._pp is not None:
                sink.report(CurrentAvailable(self._pp, source="cable"))
        if facet == "plug":
            sink.report(PlugChanged(self._plug))

    def detach(self, facet: str, sink: EventSink) -> None:
        if self._sinks.get(facet) is sink:
            del self._sinks[facet]
            self.faults.detach(sink)
            primary = self._primary()
            if primary is not None:
                self.faults.attach(primary)

    def _primary(self) -> EventSink | None:
        """Faults and the cable limit go to one sink only: plug, else contactor, else pilot."""
        for facet in ("plug", "contactor", "pilot"):
            if facet in self._sinks:
                return self._sinks[facet]
        return None

    def _report(self, facet: str | None, event: DeviceEvent) -> None:
        sink = self._primary() if facet is None else self._sinks.get(facet)
        if sink is not None:
            sink.report(event)

    @property
    def plug(self) -> PlugState:
        return self._plug

    # --- the poll loop, run by whichever facet's run() gets here first ---

    async def serve(self, facet: str, sink: EventSink) -> None:
        self.attach(facet, sink)
        try:
            while True:
                if self._poller_running:
                    await self._poller_done.wait()
                    continue
                self._poller_running = True
                try:
                    await self._poll_forever()
                finally:
                    self._poller_running = False
                    done, self._poller_done = self._poller_done, trio.Event()
                    done.set()
        finally:
            self.detach(facet, sink)

    def poke(self) -> None:
        """Poll now (after a command), instead of at the next interval."""
        self._poke.set()

    async def _poll_forever(self) -> None:
        backoff = Backoff(self.poll_s, max(60.0, self.poll_s))
        misses = 0
        while True:
            self._poke = trio.Event()
            try:
                await self.poll_once()
            except DeviceUnavailable as exc:
                misses += 1
                self._scale = None  # a board that was away may have been swapped or rebooted
                if misses >= 2:
                    self._fault("EVSE board not answering", "evse-din:no-answer", exc)
                    await trio.sleep(backoff.next_delay())
                else:
                    await trio.sleep(1.0)
                continue
            except DeviceError as exc:  # refused registers: not an EVSE DIN board at this unit
                self._fault("EVSE board refuses registers", "evse-din:refused", exc)
                await trio.sleep(backoff.next_delay())
                continue
            misses = 0
            backoff.reset()
            with trio.move_on_after(self.poll_s):
                await self._poke.wait()

    async def poll_once(self) -> BoardStatus:
        await self._ensure_scale()
        assert self._scale is not None
        words = await self.bus.read(self.unit, "holding", REG_CURRENT, REG_STATUS_COUNT)
        status = parse_status(words, self._scale)
        self.status = status
        if words[0] != self.wanted_register():
            if self._written is not None:
                log.warning(
                    "%s: register 1000 reads %s, expected %s; writing it again",
                    self.name,
                    words[0],
                    self.wanted_register(),
                )
            await self.apply()
        self._update(status)
        return status

    def _update(self, status: BoardStatus) -> None:
        if status.vehicle == 5:
            self._fault("EVSE board failure (diode check/RCD)", "evse-din:5", None)
        elif status.vehicle in VEHICLE_STATES:
            self.faults.clear_fault(FaultKind.CONTROLLER)
        else:
            self._fault(f"EVSE board state {status.vehicle}?", f"evse-din:{status.vehicle}", None)
        plug = status.plug
        if plug is not None and plug != self._plug:
            self._plug = plug
            log.info("%s: vehicle %s", self.name, VEHICLE_STATES.get(status.vehicle))
            self._report("plug", PlugChanged(plug))
        # the cable's rating while one is plugged (0 = not detected yet), else no limit
        limit = self.max_current_a
        if self._plug.plugged and status.pp_limit_a > 0:
            limit = min(float(status.pp_limit_a), self.max_current_a)
        if limit != self._pp:
            self._pp = limit
            self._report(None, CurrentAvailable(limit, source="cable"))

    def _fault(self, info: str, code: str | None, exc: Exception | None) -> None:
        if not self.faults.active(FaultKind.CONTROLLER):
            log.error("%s: %s%s", self.name, info, f": {exc}" if exc else "")
        self.faults.raise_fault(Fault(FaultKind.CONTROLLER, info, vendor_code=code))

    async def disable(self) -> None:
        """Charging off (register 1000 = 0), bounded and quiet: for aclose."""
        self.enabled = False
        with trio.move_on_after(2 * self.bus.settings.timeout_s + 1) as scope:
            scope.shield = True
            try:
                await self.bus.write(self.unit, REG_CURRENT, [0])
                self._written = 0
            except DeviceError:
                log.exception("%s: could not switch charging off", self.name)

    def __repr__(self) -> str:
        return (
            f"<EvseDinBoard {self.name} unit={self.unit} enabled={self.enabled} "
            f"offer={self.offer_a}A status={self.status} {self.faults!r}>"
        )


# --- facets ------------------------------------------------------------------------------------


def board_for(options: Mapping[str, Any], context: DeviceContext) -> EvseDinBoard:
    settings = line_settings(options, "rtu")
    bus = open_bus(context, settings)
    unit = options["unit"]
    return context.shared.get(
        ("evse-din", settings.port, unit),
        lambda: EvseDinBoard(
            bus,
            unit,
            options["poll_interval_s"],
            context.max_current_a,
            f"connector {context.connector_id} EVSE board {settings.port}#{unit}",
        ),
    )


class _Facet:
    facet = ""
    kind = DeviceKind.PLUG

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        self.name = context.name
        self.board = board_for(with_defaults(self.kind, "evse-din", options), context)

    async def run(self, sink: EventSink) -> None:
        await self.board.serve(self.facet, sink)

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.board!r}>"


class EvseDinPlug(_Facet):
    facet = "plug"

    @property
    def state(self) -> PlugState:
        return self.board.plug


class EvseDinContactor(_Facet):
    """ "Closed" = the board may charge at the offered current; it switches its relay."""

    facet = "contactor"
    kind = DeviceKind.CONTACTOR

    @property
    def closed(self) -> bool:
        return self.board.enabled

    async def set_closed(self, closed: bool) -> None:
        self.board.enabled = closed
        try:
            await self.board.apply()
        except DeviceError as exc:
            if closed:
                self.board.enabled = False
            raise DeviceError(f"{self.name}: {exc}") from exc
        finally:
            self.board.poke()

    async def aclose(self) -> None:
        await self.board.disable()


class EvseDinOffer(_Facet):
    """The current the board offers on the pilot while charging is enabled."""

    facet = "pilot"
    kind = DeviceKind.OFFER

    async def offer(self, amps: float | None) -> None:
        self.board.offer_a = amps
        try:
            await self.board.apply()
        except DeviceError as exc:
            raise DeviceError(f"{self.name}: {exc}") from exc
        finally:
            self.board.poke()

    async def aclose(self) -> None:
        self.board.offer_a = None
        await self.board.disable()
