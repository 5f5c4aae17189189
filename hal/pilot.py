"""Control-pilot PWM through the kernel's sysfs PWM interface (``/sys/class/pwm/pwmchipN/pwmM``).

The duty cycle offers a current per IEC 61851-1 / SAE J1772 (the formula OpenEVSE's
``J1772Pilot::SetPWM`` implements): 6-51 A → duty % = A / 0.6, 51-80 A → duty % =
A / 2.5 + 64; no offer (or less than 6 A) → 100 %, a steady +12 V ("EVSE not ready").
The output runs at 1 kHz. The safe state on close is 100 % with the PWM left enabled,
so the EV sees "not ready" even after the daemon is gone.

The generator must be a hardware PWM (``dtoverlay=pwm`` on a Raspberry Pi); the
daemon needs write access to the sysfs files (udev rule) and a unit without
``ProtectKernelTunables=yes``. All file I/O runs in a worker thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from hal.base import DeviceError, EventSink, Fault, FaultKind
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)

PERIOD_NS = 1_000_000  # 1 kHz
MIN_AMPS = 6.0
MAX_AMPS = 80.0


def duty_percent(amps: float | None) -> float:
    """The pilot duty cycle (percent) that offers ``amps``; 100 % = steady +12 V, no offer."""
    if amps is None or amps < MIN_AMPS:
        return 100.0
    amps = min(amps, MAX_AMPS)
    if amps <= 51.0:
        return amps / 0.6
    return amps / 2.5 + 64.0


def amps_for_duty(percent: float) -> float | None:
    """The inverse of :func:`duty_percent` (for logs and tests); None for no offer."""
    if percent >= 100.0 or percent < 10.0:
        return None
    if percent <= 85.0:
        return percent * 0.6
    return (percent - 64.0) * 2.5


class SysfsPwmChannel:
    """Blocking access to one sysfs PWM channel (call from a worker thread)."""

    def __init__(self, root: Path, chip: int, channel: int) -> None:
        self.chip_dir = root / f"pwmchip{chip}"
        self.channel = channel
        self.dir = self.chip_dir / f"pwm{channel}"

    def _write(self, name: str, value: int) -> None:
        fd = os.open(self.dir / name, os.O_WRONLY)
        try:
            os.write(fd, f"{value}\n".encode())
        finally:
            os.close(fd)

    def _read(self, name: str) -> int:
        try:
            return int((self.dir / name).read_text().strip() or 0)
        except ValueError:
            return 0

    def setup(self, settle_s: float) -> None:
        """Export the channel if needed and set the 1 kHz period (duty 0 first: the kernel
        refuses a period shorter than the current duty)."""
        if not self.dir.is_dir():
            if not self.chip_dir.is_dir():
                raise FileNotFoundError(f"{self.chip_dir} does not exist (PWM overlay loaded?)")
            fd = os.open(self.chip_dir / "export", os.O_WRONLY)
            try:
                os.write(fd, f"{self.channel}\n".encode())
            finally:
                os.close(fd)
        # udev fixes the new files' permissions a moment after export
        deadline = time.monotonic() + settle_s
        while not os.access(self.dir / "duty_cycle", os.W_OK) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._read("period") != PERIOD_NS:
            self._write("duty_cycle", 0)
            self._write("period", PERIOD_NS)

    def set_duty(self, duty_ns: int) -> None:
        self._write("duty_cycle", duty_ns)
        if self._read("enable") != 1:
            self._write("enable", 1)


class PwmPilot:
    """``PowerOffer`` on a sysfs PWM channel. A channel that cannot be written raises an
    EV_COMMUNICATION fault (blocking); ``run`` retries with back-off and clears it."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.OFFER, "pwm-sysfs", options)
        self.name = context.name
        self._max_a = context.max_current_a
        self._invert: bool = options["invert"]
        self._settle_s: float = options["export_timeout_s"]
        self._pwm = SysfsPwmChannel(
            Path(options["sysfs_root"]), options["chip"], options["channel"]
        )
        self._limiter = trio.CapacityLimiter(1)
        self._faults = FaultLatch()
        self._ready = False
        self._wanted_ns = PERIOD_NS
        self._applied_ns: int | None = None
        self._offer: float | None = None
        self._dirty = trio.Event()

    @property
    def offered(self) -> float | None:
        return self._offer

    @property
    def duty_ns(self) -> int | None:
        """The duty cycle written last (before inversion), None before the first write."""
        return self._applied_ns

    async def offer(self, amps: float | None) -> None:
        capped = None if amps is None else min(amps, self._max_a)
        self._offer = capped
        self._wanted_ns = round(duty_percent(capped) * PERIOD_NS / 100.0)
        self._dirty.set()
        try:
            await self._apply()
        except OSError as exc:
            self._failed(exc)
            raise DeviceError(f"{self.name}: cannot set pilot PWM: {exc}") from exc

    async def _apply(self) -> None:
        wanted = self._wanted_ns
        if not self._ready:
            await trio.to_thread.run_sync(self._pwm.setup, self._settle_s, limiter=self._limiter)
            self._ready = True
        raw = PERIOD_NS - wanted if self._invert else wanted
        await trio.to_thread.run_sync(self._pwm.set_duty, raw, limiter=self._limiter)
        self._applied_ns = wanted
        self._faults.clear_fault(FaultKind.EV_COMMUNICATION)

    def _failed(self, exc: OSError) -> None:
        self._ready = False
        self._applied_ns = None
        log.warning("%s: pilot PWM not writable: %s", self.name, exc)
        self._faults.raise_fault(
            Fault(
                FaultKind.EV_COMMUNICATION, "pilot PWM unavailable", vendor_code=type(exc).__name__
            )
        )

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        backoff = Backoff(1.0, 60.0)
        try:
            while True:
                self._dirty = trio.Event()
                if self._applied_ns != self._wanted_ns:
                    try:
                        await self._apply()
                    except OSError as exc:
                        self._failed(exc)
                        await trio.sleep(backoff.next_delay())
                        continue
                    backoff.reset()
                await self._dirty.wait()
        finally:
            self._faults.detach(sink)

    async def aclose(self) -> None:
        """Steady +12 V (100 %), PWM left enabled: the EV sees "not ready"."""
        self._offer = None
        self._wanted_ns = PERIOD_NS
        with trio.move_on_after(2.0) as scope:
            scope.shield = True
            try:
                await self._apply()
            except OSError:
                log.exception("%s: could not set the pilot to steady +12 V", self.name)

    def __repr__(self) -> str:
        percent = None if self._applied_ns is None else self._applied_ns * 100 / PERIOD_NS
        return f"<PwmPilot {self.name} {self._pwm.dir} offer={self._offer}A duty={percent}%>"
