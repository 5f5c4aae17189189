"""Temperature from sysfs: a 1-wire DS18B20 (``/sys/bus/w1/devices/28-*/temperature`` or
``w1_slave``) or a thermal zone (``/sys/class/thermal/thermal_zoneN/temp``).

``run`` reads every ``poll_interval_s`` and applies the limits (documented in
docs/hardware.md):

- above ``derate_c``: a TEMPERATURE_DERATING fault and ``CurrentAvailable``
  falling linearly from the connector's ``max_current_a`` at ``derate_c`` to
  ``min_current_a`` at ``max_c`` (whole amperes, rounded down);
- at or above ``max_c``: a HIGH_TEMPERATURE fault and ``CurrentAvailable(0)``;
- each level is left only ``hysteresis_c`` below its threshold.

A sensor that cannot be read twice in a row raises a TEMPERATURE_SENSOR fault; it
clears on the next good reading. What each fault means for charging is the charger
logic's table (``ocppd/model/status.py``).
DS18B20s read exactly 85.000 °C after a power-on reset: such a value is read again.
"""

from __future__ import annotations

import glob
import logging
import math
from collections.abc import Mapping
from enum import IntEnum
from pathlib import Path
from typing import Any

import trio

from hal.base import (
    CurrentAvailable,
    DeviceUnavailable,
    EventSink,
    Fault,
    FaultKind,
)
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)

POWER_ON_RESET_MILLI = 85000


def parse_sysfs(path: Path, text: str) -> float:
    """Degrees Celsius from a sysfs file's text (``w1_slave`` or millidegrees)."""
    if path.name == "w1_slave":
        lines = text.strip().splitlines()
        if len(lines) < 2 or not lines[0].rstrip().endswith("YES") or "t=" not in lines[1]:
            raise ValueError(f"w1_slave without a valid CRC: {text!r}")
        milli = int(lines[1].rsplit("t=", 1)[1])
    else:
        milli = int(text.strip())
    if path.name in ("w1_slave", "temperature") and milli == POWER_ON_RESET_MILLI:
        raise ValueError("85.000 °C: DS18B20 power-on reset value")
    return milli / 1000.0


def resolve(pattern: str) -> Path:
    """``pattern`` may contain ``*`` (the first match counts) and may name a w1 device
    directory (its ``temperature`` file, or ``w1_slave`` on older kernels)."""
    matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
    if not matches:
        raise FileNotFoundError(f"nothing matches {pattern}")
    path = Path(matches[0])
    if path.is_dir():
        for name in ("temperature", "w1_slave", "temp"):
            if (path / name).exists():
                return path / name
        raise FileNotFoundError(f"{path} has no temperature, w1_slave or temp file")
    return path


def read_celsius(pattern: str) -> float:
    """Blocking read (worker thread)."""
    path = resolve(pattern)
    return parse_sysfs(path, path.read_text())


class Level(IntEnum):
    NORMAL = 0
    DERATING = 1
    OVER = 2


class Limits:
    """The derating rule with hysteresis, without I/O."""

    def __init__(
        self,
        derate_c: float,
        max_c: float,
        hysteresis_c: float,
        max_current_a: float,
        min_current_a: float,
    ) -> None:
        if not derate_c < max_c:
            raise ValueError(f"derate_c ({derate_c}) must be below max_c ({max_c})")
        self.derate_c, self.max_c, self.hysteresis_c = derate_c, max_c, hysteresis_c
        self.max_current_a, self.min_current_a = max_current_a, min(min_current_a, max_current_a)
        self.level = Level.NORMAL

    def update(self, celsius: float) -> Level:
        if celsius >= self.max_c:
            self.level = Level.OVER
        elif self.level is Level.OVER and celsius > self.max_c - self.hysteresis_c:
            pass
        elif celsius > self.derate_c or (
            self.level is not Level.NORMAL and celsius > self.derate_c - self.hysteresis_c
        ):
            self.level = Level.DERATING
        else:
            self.level = Level.NORMAL
        return self.level

    def current(self, celsius: float) -> float:
        if self.level is Level.OVER:
            return 0.0
        if self.level is Level.NORMAL or celsius <= self.derate_c:
            return self.max_current_a
        share = (celsius - self.derate_c) / (self.max_c - self.derate_c)
        amps = self.max_current_a - share * (self.max_current_a - self.min_current_a)
        return float(max(math.floor(amps), math.ceil(self.min_current_a)))


class SysfsTemperature:
    """``TemperatureSensor`` on a sysfs file; ``run`` enforces the limits."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.TEMPERATURE, "sysfs", options)
        self.name = context.name
        self.path: str = options["path"]
        self._poll_s: float = options["poll_interval_s"]
        self.limits = Limits(
            options["derate_c"],
            options["max_c"],
            options["hysteresis_c"],
            context.max_current_a,
            options["min_current_a"],
        )
        self._faults = FaultLatch()
        self._limiter = trio.CapacityLimiter(1)
        self.last_c: float | None = None
        self._reported_a: float | None = None

    async def read(self) -> float:
        try:
            celsius = await trio.to_thread.run_sync(read_celsius, self.path, limiter=self._limiter)
        except (OSError, ValueError) as exc:
            raise DeviceUnavailable(f"{self.name}: {exc}") from exc
        self.last_c = celsius
        return celsius

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        backoff = Backoff(self._poll_s, max(60.0, self._poll_s))
        misses = 0
        try:
            while True:
                try:
                    celsius = await self.read()
                except DeviceUnavailable as exc:
                    misses += 1
                    if misses >= 2:
                        if not self._faults.active(FaultKind.TEMPERATURE_SENSOR):
                            log.error("%s: %s", self.name, exc)
                        self._faults.raise_fault(
                            Fault(
                                FaultKind.TEMPERATURE_SENSOR,
                                "temperature sensor unreadable",
                                vendor_code="temperature-sensor",
                            )
                        )
                        await trio.sleep(backoff.next_delay())
                    else:
                        await trio.sleep(1.0)
                    continue
                misses = 0
                backoff.reset()
                self._faults.clear_fault(FaultKind.TEMPERATURE_SENSOR)
                self._apply(celsius, sink)
                await trio.sleep(self._poll_s)
        finally:
            self._faults.detach(sink)

    def _apply(self, celsius: float, sink: EventSink) -> None:
        before = self.limits.level
        level = self.limits.update(celsius)
        # the new level's fault first, then the old one clears: never a moment without
        if level is Level.OVER:
            self._faults.raise_fault(Fault(FaultKind.HIGH_TEMPERATURE, "over temperature"))
            self._faults.clear_fault(FaultKind.TEMPERATURE_DERATING)
        elif level is Level.DERATING:
            self._faults.raise_fault(
                Fault(FaultKind.TEMPERATURE_DERATING, "high temperature: derating")
            )
            self._faults.clear_fault(FaultKind.HIGH_TEMPERATURE)
        else:
            self._faults.clear_fault(FaultKind.HIGH_TEMPERATURE)
            self._faults.clear_fault(FaultKind.TEMPERATURE_DERATING)
        if level is not before:
            log.warning("%s: %.1f °C: %s", self.name, celsius, level.name.lower())
        amps = self.limits.current(celsius)
        if amps != self._reported_a:
            self._reported_a = amps
            sink.report(CurrentAvailable(amps, source="temperature"))

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return (
            f"<SysfsTemperature {self.name} {self.path} {self.last_c}°C "
            f"{self.limits.level.name} {self._faults!r}>"
        )
