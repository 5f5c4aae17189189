"""The display device (luma.oled's SSD1306 over a fake I2C bus, the sim panel checked against
luma.core's dummy device) and
the buttons (gpiozero MockFactory).

The OLED tests drive a real ``luma.oled.device.ssd1306`` whose serial interface is a fake
I2C bus that records every write and can fail like an unplugged panel (OSError 121,
"Remote I/O error", what smbus2 raises). Writes run in worker threads, so these tests use
``io_clock`` (virtual time that waits for real idleness).
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hal_support import cleared, raised
from luma.core.device import dummy
from luma.oled.device import ssd1306

from hal.base import ButtonPressed, DeviceError, FaultKind
from hal.buttons import GpioButtons
from hal.display import Level, LumaDisplay, Page, sim_display, ssd1306_display
from hal.health import Backoff
from hal.sim import SimButtons

STOP, INFO = 20, 21


class FakeI2C:
    """A luma serial interface: counts command and data writes; ``broken`` makes them fail."""

    def __init__(self) -> None:
        self.broken = False
        self.commands: list[tuple[int, ...]] = []
        self.data_writes = 0
        self.cleaned = 0

    def _check(self) -> None:
        if self.broken:
            raise OSError(121, "Remote I/O error")

    def command(self, *cmd: int) -> None:
        self._check()
        self.commands.append(cmd)

    def data(self, data: Any) -> None:
        self._check()
        self.data_writes += 1

    def cleanup(self) -> None:
        self.cleaned += 1


def oled(bus: FakeI2C, **kw: Any) -> LumaDisplay:
    return LumaDisplay(
        "display (ssd1306)",
        lambda: ssd1306(bus, width=128, height=64),
        (128, 64),
        backoff=Backoff(1.0, 8.0, jitter=0.0),
        **kw,
    )


async def test_a_page_is_written_once_and_nothing_more_while_it_stays(
    io_clock: Any, sink: Any
) -> None:
    bus = FakeI2C()
    display = oled(bus)
    with trio.fail_after(900):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready", lines=("Tap your card",)))
            await trio.sleep(1)
            frames = bus.data_writes  # luma clears the panel when it opens it, then our page
            assert display.writes == 1 and frames == 2
            display.show(Page("Ready", lines=("Tap your card",)))  # the same page again
            await trio.sleep(600)
            assert display.writes == 1 and bus.data_writes == frames
            assert display.image.size == (128, 64)
            nursery.cancel_scope.cancel()


async def test_a_burst_of_pages_is_one_write_per_interval(io_clock: Any, sink: Any) -> None:
    bus = FakeI2C()
    display = oled(bus, min_interval_s=1.0)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("first"))
            await trio.sleep(0.1)
            for n in range(20):
                display.show(Page(f"page {n}"))
                await trio.sleep(0.01)
            await trio.sleep(3)
            assert display.writes == 2  # the first page, then only the last of the burst
            assert display.page.title == "page 19"
            nursery.cancel_scope.cancel()


async def test_a_failing_i2c_write_is_reported_retried_with_backoff_and_cleared(
    io_clock: Any, sink: Any
) -> None:
    bus = FakeI2C()
    bus.broken = True  # unplugged from the start
    display = oled(bus)
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready"))
            await sink.wait_for(raised(FaultKind.DISPLAY))
            started = trio.current_time()
            await trio.sleep(10)  # retries at 1, 2, 4 s: still broken, still one fault
            assert sink.faults() == [("raised", FaultKind.DISPLAY)]
            assert display.faulted and display.writes == 0
            bus.broken = False  # plugged back in: the next retry opens it again and writes
            await sink.wait_for(cleared(FaultKind.DISPLAY))
            assert trio.current_time() - started <= 10 + 8 + 1
            assert display.writes == 1 and bus.data_writes == 2  # opened (cleared), drawn
            assert display.page.title == "Ready"
            bus.broken = True  # fails mid-life: the wanted page is kept and written later
            display.show(Page("Charging"))
            await sink.wait_for(raised(FaultKind.DISPLAY), start=2)
            bus.broken = False
            await sink.wait_for(cleared(FaultKind.DISPLAY), start=3)
            assert display.writes == 2
            nursery.cancel_scope.cancel()
    assert sink.faults() == [
        ("raised", FaultKind.DISPLAY),
        ("cleared", FaultKind.DISPLAY),
        ("raised", FaultKind.DISPLAY),
        ("cleared", FaultKind.DISPLAY),
    ]


async def test_dim_and_blank_send_contrast_and_display_off(io_clock: Any, sink: Any) -> None:
    bus = FakeI2C()
    display = oled(bus)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready"))
            await trio.sleep(1)
            bus.commands.clear()
            display.set_level(Level.DIM)
            await trio.sleep(1)
            assert (0x81, 16) in bus.commands  # SETCONTRAST, dimmed
            bus.commands.clear()
            display.set_level(Level.OFF)
            await trio.sleep(1)
            assert (0xAE,) in bus.commands  # DISPLAYOFF
            nursery.cancel_scope.cancel()
    await display.aclose()
    assert bus.cleaned == 1


async def test_the_sim_display_keeps_what_lumas_dummy_device_keeps(
    autojump_clock: Any, sink: Any, make_context: Any
) -> None:
    display = sim_display({"rotation": 90}, make_context("display (sim)", connector_id=None))
    assert display.size == (64, 128)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready"))
            await trio.sleep(1)
            assert display.writes == 1 and display.image.size == (64, 128)
            assert display.png().startswith(b"\x89PNG")
            luma = dummy(width=128, height=64, rotate=1, mode="1")
            luma.display(display.image)  # what a luma device gets; it turns it for the panel
            assert luma.image.size == (128, 64)
            assert luma.image.rotate(90, expand=True).tobytes() == display.image.tobytes()
            nursery.cancel_scope.cancel()


async def test_buttons_report_each_press_once(
    pins: Any, make_context: Any, autojump_clock: Any, sink: Any
) -> None:
    buttons = GpioButtons(
        {"stop_pin": STOP, "info_pin": INFO, "pull": "up", "bounce_s": 0.0},
        make_context("buttons (gpio)", connector_id=None),
    )
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(buttons.run, sink)
            await trio.sleep(0.1)
            pins.pin(STOP).drive_low()  # pressed: contact to ground
            await trio.sleep(0.1)
            pins.pin(STOP).drive_high()
            await trio.sleep(0.1)
            pins.pin(INFO).drive_low()
            await trio.sleep(0.1)
            pins.pin(INFO).drive_high()
            await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
    assert sink.of(ButtonPressed) == [ButtonPressed("stop"), ButtonPressed("info")]
    await buttons.aclose()
    assert all(pins.pin(n).function == "input" for n in (STOP, INFO))


def test_a_button_pin_in_use_is_a_device_error(pins: Any, make_context: Any) -> None:
    first = GpioButtons({"stop_pin": STOP}, make_context("buttons"))
    with pytest.raises(DeviceError, match="cannot claim GPIO"):
        GpioButtons({"stop_pin": STOP}, make_context("buttons"))
    first.release()


async def test_sim_buttons_press_only_while_running(
    make_context: Any, autojump_clock: Any, sink: Any
) -> None:
    buttons = SimButtons({}, make_context("buttons (sim)", connector_id=None))
    assert not buttons.press("stop")
    with pytest.raises(ValueError, match="no button 'go'"):
        buttons.press("go")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(buttons.run, sink)
        await trio.sleep(0.1)
        assert buttons.press("info")
        nursery.cancel_scope.cancel()
    assert sink.of(ButtonPressed) == [ButtonPressed("info")]


async def test_a_missing_panel_is_a_fault_not_a_crash(
    io_clock: Any, sink: Any, make_context: Any
) -> None:
    """The real driver on an I2C bus that does not exist (no /dev/i2c-99): reported and
    retried, never raised out of run."""
    display = ssd1306_display({"i2c_bus": 99}, make_context("display (ssd1306)", connector_id=None))
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready"))
            await sink.wait_for(raised(FaultKind.DISPLAY))
            await trio.sleep(30)  # retried meanwhile: still one fault, the task still runs
            assert sink.faults() == [("raised", FaultKind.DISPLAY)] and display.writes == 0
            nursery.cancel_scope.cancel()
    await display.aclose()


async def test_a_missing_library_is_a_fault_too(io_clock: Any, sink: Any) -> None:
    def opener() -> Any:
        raise ImportError("No module named 'luma'")

    display = LumaDisplay("display (ssd1306)", opener, (128, 64))
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(display.run, sink)
            display.show(Page("Ready"))
            await sink.wait_for(raised(FaultKind.DISPLAY))
            nursery.cancel_scope.cancel()
