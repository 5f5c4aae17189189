"""Simulated devices: a whole charger without hardware, driven by ``ocppctl sim`` and the demo.

Each connector has one :class:`SimWorld`: the simulated EV and cable, the state of
the simulated contactor and offered current, and an energy register that
integrates the EV's power over trio's clock while energy can flow. The sim drivers
of that connector are views of the world. Everything starts idle (unplugged, no
fault) on every start; only the meter register persists, as a real meter's does.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from hal.base import (
    BUTTONS,
    ButtonPressed,
    DeviceError,
    DeviceEvent,
    DeviceUnavailable,
    EventSink,
    Fault,
    FaultCleared,
    FaultKind,
    FaultRaised,
    IndicatorState,
    MeterReading,
    PlugChanged,
    PlugState,
    Quantity,
)
from hal.context import DeviceContext

log = logging.getLogger(__name__)


class SimWorld:
    """The simulated EV, cable and power flow of one connector."""

    def __init__(self, connector_id: int, phases: int = 3) -> None:
        self.connector_id = connector_id
        self.phases = phases
        self.plugged = False
        self.ev_suspended = False
        self.power_w = 7360.0
        self.voltage_v = 230.0
        self.contactor_closed = False
        self.offered_a: float | None = None
        self.faults: dict[FaultKind, Fault] = {}
        self.meter_silent = False
        self.meter_delay_s = 0.0  # how long a reading takes (a slow bus, a meter timing out)
        self.lock_fails = False
        self.temperature_c = 25.0
        self.indicator: tuple[IndicatorState, bool] = (IndicatorState.OFF, True)
        self.shown: deque[tuple[IndicatorState, bool]] = deque(maxlen=32)  # the last LED states
        self.energy_wh = 0.0
        self._since: float | None = None
        self._sinks: list[EventSink] = []
        self._register_file: Path | None = None

    def __repr__(self) -> str:
        return (
            f"<SimWorld connector={self.connector_id} plugged={self.plugged} "
            f"suspended={self.ev_suspended} contactor={self.contactor_closed} "
            f"power={self.current_power_w():.0f}W energy={self.energy_wh:.1f}Wh>"
        )

    # --- what the EV side looks like ---

    @property
    def plug_state(self) -> PlugState:
        return PlugState(plugged=self.plugged, ev_requesting=self.plugged and not self.ev_suspended)

    def current_power_w(self) -> float:
        """The power flowing now: the EV's demand capped by the offered current."""
        if not (self.contactor_closed and self.plugged and not self.ev_suspended):
            return 0.0
        power = self.power_w
        if self.offered_a is not None:
            power = min(power, self.offered_a * self.voltage_v * self.phases)
        return max(power, 0.0)

    def _integrate(self) -> None:
        """Add the energy that flowed since the last call (trio's clock, so virtual in tests)."""
        now = trio.current_time()
        if self._since is not None:
            self.energy_wh += self.current_power_w() * (now - self._since) / 3600.0
        self._since = now

    # --- commands from ocppctl sim / the demo ---

    def attach(self, sink: EventSink) -> None:
        self._integrate()
        self._sinks.append(sink)

    def detach(self, sink: EventSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def _report(self, event: DeviceEvent) -> None:
        for sink in list(self._sinks):
            sink.report(event)

    def _changed(self) -> None:
        self._report(PlugChanged(self.plug_state))

    def plug(self) -> None:
        self._integrate()
        self.plugged, self.ev_suspended = True, False
        self._changed()

    def unplug(self) -> None:
        self._integrate()
        self.plugged, self.ev_suspended = False, False
        self._changed()

    def suspend(self) -> None:
        self._integrate()
        self.ev_suspended = True
        self._changed()

    def resume(self) -> None:
        self._integrate()
        self.ev_suspended = False
        self._changed()

    def set_power(self, watts: float) -> None:
        self._integrate()
        self.power_w = watts

    def raise_fault(self, fault: Fault) -> None:
        self._integrate()
        self.faults[fault.kind] = fault
        self._report(FaultRaised(fault))

    def clear_faults(self) -> None:
        self._integrate()
        for kind in list(self.faults):
            del self.faults[kind]
            self._report(FaultCleared(kind))

    def set_contactor(self, closed: bool) -> None:
        self._integrate()
        self.contactor_closed = closed

    def set_offer(self, amps: float | None) -> None:
        self._integrate()
        self.offered_a = amps

    # --- the persistent register ---

    def load_register(self, path: Path, initial_wh: float) -> None:
        self._register_file = path
        try:
            self.energy_wh = float(json.loads(path.read_text())["energy_wh"])
        except FileNotFoundError:
            self.energy_wh = initial_wh
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning(
                "sim meter register %s unreadable (%s); starting at %s Wh", path, exc, initial_wh
            )
            self.energy_wh = initial_wh
        self._since = trio.current_time()

    def take_reading(self) -> MeterReading:
        """Integrate up to now, persist the register (a real meter keeps it), return a reading."""
        self._integrate()
        if self._register_file is not None:
            tmp = self._register_file.with_suffix(".tmp")
            try:
                tmp.write_text(json.dumps({"energy_wh": self.energy_wh}))
                os.replace(tmp, self._register_file)
            except OSError as exc:  # a full disk must not stop the simulated meter
                log.debug("sim meter register not saved: %s", exc)
        power = self.current_power_w()
        amps = power / (self.voltage_v * self.phases) if self.phases else 0.0
        return MeterReading(
            energy_wh=round(self.energy_wh, 3),
            power_w=power,
            current_a=tuple(amps for _ in range(self.phases)),
            voltage_v=tuple(self.voltage_v for _ in range(self.phases)),
            power_offered_w=(
                self.offered_a * self.voltage_v * self.phases
                if self.offered_a is not None
                else None
            ),
            frequency_hz=50.0,
            temperature_c=self.temperature_c,
        )


def world_of(context: DeviceContext) -> SimWorld:
    if not isinstance(context.sim, SimWorld):
        raise DeviceError(f"{context.name}: no simulated world for this connector")
    return context.sim


class _SimDevice:
    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        self.name = context.name
        self.world = world_of(context) if context.connector_id is not None else None

    async def run(self, sink: EventSink) -> None:
        await trio.sleep_forever()

    async def aclose(self) -> None:
        return None


class SimContactor(_SimDevice):
    """A relay that always obeys; the world knows whether energy can flow."""

    @property
    def closed(self) -> bool:
        assert self.world is not None
        return self.world.contactor_closed

    async def set_closed(self, closed: bool) -> None:
        assert self.world is not None
        self.world.set_contactor(closed)

    async def aclose(self) -> None:
        if self.world is not None:
            self.world.set_contactor(False)

    def __repr__(self) -> str:
        return f"<SimContactor {self.name} closed={self.world and self.world.contactor_closed}>"


class SimPlug(_SimDevice):
    """The simulated EV's cable. Reports plug changes and sim faults of its connector."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        super().__init__(options, context)
        assert self.world is not None
        self.world.power_w = float(options.get("power_w", 7360.0))

    @property
    def state(self) -> PlugState:
        assert self.world is not None
        return self.world.plug_state

    async def run(self, sink: EventSink) -> None:
        assert self.world is not None
        self.world.attach(sink)
        try:
            sink.report(PlugChanged(self.world.plug_state))
            await trio.sleep_forever()
        finally:
            self.world.detach(sink)

    def __repr__(self) -> str:
        return f"<SimPlug {self.name} {self.world!r}>"


class SimMeter(_SimDevice):
    """Integrates the world's power flow; goes silent when told (to test meter failure)."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        super().__init__(options, context)
        assert self.world is not None
        self.world.voltage_v = float(options.get("voltage_v", 230.0))
        self.world.phases = context.phases
        path = context.state_dir / f"sim-meter-{context.connector_id}.json"
        self._path, self._initial = path, float(options.get("initial_wh", 0.0))
        self._loaded = False

    @property
    def quantities(self) -> frozenset[Quantity]:
        return frozenset(
            {
                Quantity.ENERGY_IMPORT,
                Quantity.POWER,
                Quantity.CURRENT,
                Quantity.VOLTAGE,
                Quantity.FREQUENCY,
            }
        )

    @property
    def phases(self) -> int:
        assert self.world is not None
        return self.world.phases

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            assert self.world is not None
            self.world.load_register(self._path, self._initial)
            self._loaded = True

    async def read(self) -> MeterReading:
        assert self.world is not None
        self._ensure_loaded()
        if self.world.meter_delay_s > 0:
            await trio.sleep(self.world.meter_delay_s)
        if self.world.meter_silent:
            raise DeviceUnavailable(f"{self.name}: no answer (simulated)")
        return self.world.take_reading()

    async def run(self, sink: EventSink) -> None:
        self._ensure_loaded()
        await trio.sleep_forever()

    def __repr__(self) -> str:
        return f"<SimMeter {self.name} energy={self.world and self.world.energy_wh:.1f}Wh>"


class SimReader:
    """No reader at all: tags come from ``ocppctl swipe``."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        self.name = context.name

    async def run(self, sink: EventSink) -> None:
        await trio.sleep_forever()

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<SimReader {self.name}>"


class SimLock(_SimDevice):
    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        super().__init__(options, context)
        assert self.world is not None
        self.world.lock_fails = bool(options.get("fail", False))
        self._locked = False

    @property
    def locked(self) -> bool:
        return self._locked

    async def lock(self) -> None:
        self._locked = True

    async def unlock(self) -> None:
        assert self.world is not None
        if self.world.lock_fails:
            raise DeviceError(f"{self.name}: lock feedback still reads locked (simulated)")
        self._locked = False


class SimOffer(_SimDevice):
    async def offer(self, amps: float | None) -> None:
        assert self.world is not None
        self.world.set_offer(amps)

    async def aclose(self) -> None:
        if self.world is not None:
            self.world.set_offer(None)


class SimIndicator(_SimDevice):
    def show(self, state: IndicatorState, *, online: bool = True) -> None:
        assert self.world is not None
        if self.world.indicator != (state, online):
            self.world.shown.append((state, online))
        self.world.indicator = (state, online)


class SimTemperature(_SimDevice):
    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        super().__init__(options, context)
        assert self.world is not None
        self.world.temperature_c = float(options.get("celsius", 25.0))

    async def read(self) -> float:
        assert self.world is not None
        return self.world.temperature_c


class SimButtons:
    """Buttons pressed by ``ocppctl sim press stop|info``."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        self.name = context.name
        self.presses = 0
        self._sink: EventSink | None = None

    def press(self, button: str) -> bool:
        """Press ``button`` (trio thread); False when nobody listens yet."""
        if button not in BUTTONS:
            raise ValueError(f"no button {button!r} (expected one of {', '.join(BUTTONS)})")
        if self._sink is None:
            return False
        self.presses += 1
        self._sink.report(ButtonPressed(button))
        return True

    async def run(self, sink: EventSink) -> None:
        self._sink = sink
        try:
            await trio.sleep_forever()
        finally:
            self._sink = None

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<SimButtons {self.name} presses={self.presses}>"
