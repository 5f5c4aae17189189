"""The charger's wall clock: one injectable source of timestamps that are never before 2020.

Rule (documented in the README, "Time"):

1. Once the central system has told us its time (BootNotification.conf ``currentTime``,
   Heartbeat.conf), timestamps are trio's monotonic clock plus the offset that time
   gives. A later answer moves the offset only when it differs by more than
   ``STEP_S`` (network delay is not a clock error); each such step is logged.
2. Before that, the system clock is used when it reads 2020-01-01 or later (a Pi
   without a real-time clock restores its last known time at boot, or NTP set it).
3. Otherwise the time is unknown: :meth:`Clock.now` returns None and callers hold the
   event as a :class:`Stamp` (monotonic reading + boot id) that :meth:`Clock.resolve`
   turns into a time once it is known (rule 4).
4. A stamp from this OS boot resolves exactly (monotonic distance to now). A stamp
   from an earlier boot whose time was never known resolves to the first known time
   of this process: the earliest time that is certainly after the event.

Stamps handed out never decrease: after a backward step the clock stands still until
it has caught up, so timestamps within a transaction never go backwards.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import trio

log = logging.getLogger(__name__)

EPOCH_FLOOR = datetime(2020, 1, 1, tzinfo=UTC)
STEP_S = 2.0


def _read_boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return os.urandom(16).hex()  # not Linux: each process counts as its own boot


@dataclass(frozen=True, slots=True)
class Stamp:
    """When something happened: monotonic seconds in an OS boot, and the wall time if known."""

    boot_id: str
    mono: float
    wall: datetime | None


class Clock:
    """Wall-clock time for the charger. Tests inject ``wall`` and a trio MockClock."""

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        boot_id: str | None = None,
        monotonic: Callable[[], float] = trio.current_time,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self.boot_id = boot_id or _read_boot_id()
        self._offset: float | None = None  # wall - monotonic, from the central system
        self._last: float = 0.0  # the last wall time handed out (never go back)
        self._first_known: tuple[float, float] | None = None  # (mono, wall) first known
        self._stepped = trio.Event()

    @property
    def next_step(self) -> trio.Event:
        """Set when the wall clock next moves (the central system's time, adopted or
        stepped): a deadline on the wall clock is computed again. Take it before looking."""
        return self._stepped

    def _moved(self) -> None:
        self._stepped.set()
        self._stepped = trio.Event()

    def monotonic(self) -> float:
        return self._monotonic()

    @property
    def source(self) -> str:
        """Where time comes from now: ``central-system``, ``system`` or ``unknown``."""
        if self._offset is not None:
            return "central-system"
        return "system" if self._wall() >= EPOCH_FLOOR.timestamp() else "unknown"

    def _candidate(self, mono: float) -> float | None:
        if self._offset is not None:
            return mono + self._offset
        wall = self._wall()
        return wall if wall >= EPOCH_FLOOR.timestamp() else None

    def now(self) -> datetime | None:
        """The current time (UTC), or None while it is unknown (rule 3)."""
        mono = self.monotonic()
        wall = self._candidate(mono)
        if wall is None:
            return None
        if self._first_known is None:
            self._first_known = (mono, wall)
        self._last = max(self._last, wall)
        return datetime.fromtimestamp(self._last, UTC)

    def stamp(self) -> Stamp:
        return Stamp(self.boot_id, self.monotonic(), self.now())

    def resolve(self, stamp: Stamp) -> datetime | None:
        """The wall time of ``stamp`` (rule 4), or None while the time is still unknown."""
        if stamp.wall is not None:
            return stamp.wall
        now = self.now()
        if now is None or self._first_known is None:
            return None
        if stamp.boot_id == self.boot_id:
            wall = now.timestamp() - (self.monotonic() - stamp.mono)
            return datetime.fromtimestamp(max(wall, EPOCH_FLOOR.timestamp()), UTC)
        return datetime.fromtimestamp(self._first_known[1], UTC)

    def at(self, mono: float) -> datetime | None:
        """The wall time of an earlier reading ``mono`` of :meth:`monotonic` in this process,
        by its distance to now, or None while the time is unknown.

        What is known now applies to the past: a reading taken before the central system
        set the clock (or while no time was known at all) is placed on the clock as it is
        now. For an event whose report waits (a StatusNotification held back, or sent after
        reconnecting) this is its own time, not the time of sending.
        """
        now = self.now()
        if now is None:
            return None
        wall = now.timestamp() - max(0.0, self.monotonic() - mono)
        return datetime.fromtimestamp(max(wall, EPOCH_FLOOR.timestamp()), UTC)

    def set_reference(self, current_time: datetime) -> float | None:
        """Take the central system's time. Returns the step in seconds when the clock moved."""
        mono = self.monotonic()
        reference = current_time.timestamp()
        if reference < EPOCH_FLOOR.timestamp():
            log.warning("central system time %s is before 2020; ignored", current_time)
            return None
        before = self._candidate(mono)
        if before is not None and abs(reference - before) <= STEP_S:
            if self._offset is None:
                self._offset = before - mono  # adopt without a visible step
            return None
        self._offset = reference - mono
        self._moved()
        step = reference - before if before is not None else None
        if step is not None:
            log.info("clock set from central system time: step of %+.1f s", step)
        else:
            log.info("clock set from central system time %s", current_time.isoformat())
        return step

    def timestamp(self) -> str:
        """The wire text of now, or a placeholder (rule 3) that :meth:`resolve_text` fills later."""
        stamp = self.stamp()
        if stamp.wall is not None:
            return format_time(stamp.wall)
        return f"{PLACEHOLDER}{stamp.boot_id}:{stamp.mono:.3f}"

    def resolve_text(self, text: str) -> str | None:
        """A timestamp text ready for the wire, or None while a placeholder cannot be resolved."""
        if not text.startswith(PLACEHOLDER):
            return text
        boot_id, _, mono = text[len(PLACEHOLDER) :].rpartition(":")
        wall = self.resolve(Stamp(boot_id, float(mono), None))
        return None if wall is None else format_time(wall)

    def __repr__(self) -> str:
        now = self.now()
        return f"<Clock source={self.source} now={now.isoformat() if now else None}>"


PLACEHOLDER = "@unknown-time:"


def format_time(dt: datetime) -> str:
    """ISO 8601 UTC with a Z, milliseconds only when not zero (as the protocol codec writes)."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    millis = dt.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def resolve_payload(clock: Clock, payload: object) -> object | None:
    """``payload`` with every placeholder resolved, or None while one cannot be (time unknown)."""
    if isinstance(payload, str):
        return clock.resolve_text(payload)
    if isinstance(payload, dict):
        out = {}
        for key, value in payload.items():
            resolved = resolve_payload(clock, value)
            if resolved is None and value is not None:
                return None
            out[key] = resolved
        return out
    if isinstance(payload, list):
        items = []
        for value in payload:
            resolved = resolve_payload(clock, value)
            if resolved is None and value is not None:
                return None
            items.append(resolved)
        return items
    return payload


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


__all__ = ["EPOCH_FLOOR", "PLACEHOLDER", "Clock", "Stamp", "format_time", "resolve_payload", "utc"]
