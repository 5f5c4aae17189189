"""Fixtures for the hardware driver tests: a recording event sink, device contexts, gpiozero's
MockFactory, and a virtual clock that tolerates real I/O (ptys, worker threads).

Every async test bounds itself with ``trio.fail_after``. Tests on GPIO mocks use pytest-trio's
``autojump_clock``; tests with ptys or short worker threads use ``io_clock``, which jumps
only after 50 ms of real idleness so the kernel can deliver pty bytes first. Modbus tests
use the real clock: their worker threads wait out real pymodbus timeouts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hal.base import DeviceEvent, FaultCleared, FaultKind, FaultRaised
from hal.context import DeviceContext, SharedResources


class RecordingSink:
    """An EventSink that keeps every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self._changed = trio.Event()

    def report(self, event: DeviceEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(
        self, match: Callable[[DeviceEvent], bool], *, start: int = 0
    ) -> DeviceEvent:
        """The first event from index ``start`` that ``match``es, waiting if needed."""
        while True:
            for event in self.events[start:]:
                if match(event):
                    return event
            await self._changed.wait()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def faults(self) -> list[tuple[str, FaultKind]]:
        """("raised" | "cleared", kind) in order."""
        out: list[tuple[str, FaultKind]] = []
        for e in self.events:
            if isinstance(e, FaultRaised):
                out.append(("raised", e.fault.kind))
            elif isinstance(e, FaultCleared):
                out.append(("cleared", e.kind))
        return out

    def __repr__(self) -> str:
        return f"<RecordingSink {self.events}>"


def raised(kind: FaultKind) -> Callable[[DeviceEvent], bool]:
    return lambda e: isinstance(e, FaultRaised) and e.fault.kind is kind


def cleared(kind: FaultKind) -> Callable[[DeviceEvent], bool]:
    return lambda e: isinstance(e, FaultCleared) and e.kind is kind


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def make_context(tmp_path: Path) -> Callable[..., DeviceContext]:
    shared = SharedResources()

    def make(name: str = "test device", **kw: Any) -> DeviceContext:
        kw.setdefault("connector_id", 1)
        kw.setdefault("state_dir", tmp_path)
        kw.setdefault("shared", shared)
        return DeviceContext(name=name, **kw)

    return make


@pytest.fixture
def pins() -> Iterator[Any]:
    """gpiozero's MockFactory with PWM-capable pins, reset after the test."""
    factory = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = None


@pytest.fixture
def io_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0.05)
