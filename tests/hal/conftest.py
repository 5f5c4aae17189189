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
from hal_support import RecordingSink

from hal.context import DeviceContext, SharedResources


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
