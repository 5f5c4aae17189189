"""GPIO contactor, plug inputs and cable lock on gpiozero's MockFactory, in virtual time."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hal_support import RecordingSink, cleared, raised

from hal.base import DeviceError, FaultKind, PlugChanged, PlugState
from hal.gpio import GpioContactor, GpioLock, GpioPlug

OUT, FEEDBACK = 17, 22


def level(pins: Any, number: int) -> bool:
    return bool(pins.pin(number).state)


async def aux_contact(pins: Any, delay: float = 0.03, stuck: list[bool] | None = None) -> None:
    """The contactor's auxiliary contact (to ground, pulled up): follows the coil after
    ``delay`` unless ``stuck[0]`` is set (welded or dead coil)."""
    while True:
        coil = level(pins, OUT)
        await trio.sleep(delay)
        if stuck and stuck[0]:
            continue
        if coil:
            pins.pin(FEEDBACK).drive_low()
        else:
            pins.pin(FEEDBACK).drive_high()


def contactor(make_context: Any, **options: Any) -> GpioContactor:
    return GpioContactor({"pin": OUT, **options}, make_context("contactor"))


# --- contactor without feedback -------------------------------------------------------------


async def test_contactor_starts_open_and_follows_commands(pins: Any, make_context: Any) -> None:
    device = contactor(make_context)
    assert level(pins, OUT) is False and device.closed is False
    await device.set_closed(True)
    assert level(pins, OUT) is True and device.closed is True
    await device.set_closed(False)
    assert level(pins, OUT) is False
    await device.aclose()
    assert pins.pin(OUT).function == "input"


async def test_active_low_relay_board_is_driven_high_while_open(
    pins: Any, make_context: Any
) -> None:
    device = contactor(make_context, active_high=False)
    assert level(pins, OUT) is True
    await device.set_closed(True)
    assert level(pins, OUT) is False
    await device.aclose()


async def test_aclose_opens_a_closed_contactor_and_is_idempotent(
    pins: Any, make_context: Any
) -> None:
    device = contactor(make_context)
    await device.set_closed(True)
    await device.aclose()
    await device.aclose()
    assert device.closed is False
    assert [bool(s.state) for s in pins.pin(OUT).states][-1] is False


async def test_a_pin_in_use_is_a_device_error_and_frees_the_pins_it_claimed(
    pins: Any, make_context: Any
) -> None:
    first = contactor(make_context)
    with pytest.raises(DeviceError, match="cannot claim GPIO"):
        GpioContactor({"pin": 5, "feedback_pin": OUT}, make_context("second"))
    # pin 5 was claimed first and must be free again
    other = contactor(make_context, pin=5)
    await other.aclose()
    await first.aclose()


# --- contactor with feedback ---------------------------------------------------------------


async def test_feedback_that_follows_confirms_close_and_open(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = contactor(make_context, feedback_pin=FEEDBACK)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(aux_contact, pins)
            nursery.start_soon(device.run, sink)
            await device.set_closed(True)
            assert device.contact_closed is True
            await trio.sleep(5)
            await device.set_closed(False)
            assert device.contact_closed is False
            await trio.sleep(5)
            nursery.cancel_scope.cancel()
    assert sink.faults() == []
    await device.aclose()


async def test_contact_that_does_not_close_raises_fault_keeps_output_off_then_clears(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = contactor(make_context, feedback_pin=FEEDBACK, feedback_timeout_s=0.5)
    stuck = [True]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(aux_contact, pins, 0.03, stuck)
            nursery.start_soon(device.run, sink)
            start = trio.current_time()
            with pytest.raises(DeviceError, match="did not close"):
                await device.set_closed(True)
            assert trio.current_time() - start == pytest.approx(0.5, abs=0.05)
            assert level(pins, OUT) is False and device.closed is False
            await sink.wait_for(raised(FaultKind.POWER_SWITCH))
            # the failed close blocks for a hold time, then clears so the logic may retry
            await sink.wait_for(cleared(FaultKind.POWER_SWITCH))
            assert 5 <= trio.current_time() - start <= 11
            stuck[0] = False
            await device.set_closed(True)  # the coil supply is back
            assert device.closed is True
            nursery.cancel_scope.cancel()
    switch = FaultKind.POWER_SWITCH
    assert sink.faults() == [("raised", switch), ("cleared", switch)]
    await device.aclose()


async def test_welded_contact_on_open_raises_and_clears_when_it_opens(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = contactor(make_context, feedback_pin=FEEDBACK)
    stuck = [False]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(aux_contact, pins, 0.03, stuck)
            nursery.start_soon(device.run, sink)
            await device.set_closed(True)
            stuck[0] = True  # welded from now on
            with pytest.raises(DeviceError, match="welded"):
                await device.set_closed(False)
            assert level(pins, OUT) is False
            await sink.wait_for(raised(FaultKind.POWER_SWITCH))
            await trio.sleep(30)
            assert sink.faults() == [("raised", FaultKind.POWER_SWITCH)]
            stuck[0] = False  # freed
            await sink.wait_for(cleared(FaultKind.POWER_SWITCH))
            nursery.cancel_scope.cancel()


async def test_contact_closing_by_itself_while_idle_is_reported_as_welded(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = contactor(make_context, feedback_pin=FEEDBACK, feedback_timeout_s=0.5)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await trio.sleep(1)
            pins.pin(FEEDBACK).drive_low()
            event = await sink.wait_for(raised(FaultKind.POWER_SWITCH))
            assert "welded" in event.fault.info  # type: ignore[union-attr]
            pins.pin(FEEDBACK).drive_high()
            await sink.wait_for(cleared(FaultKind.POWER_SWITCH))
            nursery.cancel_scope.cancel()


async def test_contact_dropping_out_while_charging_switches_the_output_off(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = contactor(make_context, feedback_pin=FEEDBACK, feedback_timeout_s=0.5)
    stuck = [False]
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(aux_contact, pins, 0.03, stuck)
            nursery.start_soon(device.run, sink)
            await device.set_closed(True)
            stuck[0] = True
            pins.pin(FEEDBACK).drive_high()  # e.g. the emergency stop cut the coil supply
            await sink.wait_for(raised(FaultKind.POWER_SWITCH))
            assert level(pins, OUT) is False and device.closed is False
            nursery.cancel_scope.cancel()


# --- plug -------------------------------------------------------------------------------------


PLUG, REQUEST = 27, 23


async def test_plug_reports_initial_state_and_debounced_changes(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = GpioPlug({"pin": PLUG, "debounce_s": 0.1}, make_context("plug"))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await sink.wait_for(lambda e: isinstance(e, PlugChanged))
            for _ in range(5):  # contact bounce
                pins.pin(PLUG).drive_high()
                await trio.sleep(0.01)
                pins.pin(PLUG).drive_low()
                await trio.sleep(0.01)
            pins.pin(PLUG).drive_high()
            await trio.sleep(0.5)
            pins.pin(PLUG).drive_low()
            await trio.sleep(0.5)
            nursery.cancel_scope.cancel()
    assert [e.state for e in sink.of(PlugChanged)] == [
        PlugState(False, False),
        PlugState(True, True),
        PlugState(False, False),
    ]
    await device.aclose()


async def test_requesting_input_and_active_low_pulled_up_inputs(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = GpioPlug(
        {
            "pin": PLUG,
            "active_high": False,
            "pull": "up",
            "requesting_pin": REQUEST,
            "requesting_active_high": False,
            "requesting_pull": "up",
            "debounce_s": 0.05,
        },
        make_context("plug"),
    )
    assert device.state == PlugState(False, False)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await sink.wait_for(lambda e: isinstance(e, PlugChanged))
            pins.pin(PLUG).drive_low()  # EV connected (state B)
            await trio.sleep(0.2)
            assert device.state == PlugState(True, False)
            pins.pin(REQUEST).drive_low()  # EV asks for energy (state C)
            await trio.sleep(0.2)
            assert device.state == PlugState(True, True)
            pins.pin(REQUEST).drive_high()  # EV pauses
            await trio.sleep(0.2)
            nursery.cancel_scope.cancel()
    assert [e.state for e in sink.of(PlugChanged)] == [
        PlugState(False, False),
        PlugState(True, False),
        PlugState(True, True),
        PlugState(True, False),
    ]
    await device.aclose()


async def test_edges_from_another_thread_reach_trio(
    pins: Any, make_context: Any, sink: RecordingSink
) -> None:
    """lgpio calls back from its own thread; MockFactory does when driven from a thread."""
    device = GpioPlug({"pin": PLUG, "debounce_s": 0.01}, make_context("plug"))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            await sink.wait_for(lambda e: isinstance(e, PlugChanged))
            await trio.to_thread.run_sync(pins.pin(PLUG).drive_high)
            await sink.wait_for(lambda e: isinstance(e, PlugChanged) and e.state.plugged)
            nursery.cancel_scope.cancel()
    await device.aclose()


# --- lock ---------------------------------------------------------------------------------------


async def test_level_lock_without_feedback(pins: Any, make_context: Any) -> None:
    device = GpioLock({"pin": 5}, make_context("lock"))
    await device.lock()
    assert device.locked and level(pins, 5)
    await device.unlock()
    assert not device.locked and not level(pins, 5)
    await device.aclose()


async def test_pulsed_lock_with_feedback_confirms_or_raises_and_clears(
    pins: Any, make_context: Any, autojump_clock: Any, sink: RecordingSink
) -> None:
    device = GpioLock(
        {"lock_pin": 5, "unlock_pin": 6, "feedback_pin": 13, "pulse_s": 0.5},
        make_context("lock"),
    )
    jammed = [False]

    async def motor() -> None:  # the lock follows a pulse unless jammed
        while True:
            await trio.sleep(0.05)
            if jammed[0]:
                continue
            if level(pins, 5):
                pins.pin(13).drive_low()  # locked (contact to ground)
            elif level(pins, 6):
                pins.pin(13).drive_high()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(motor)
            nursery.start_soon(device.run, sink)
            await device.lock()
            assert device.locked
            assert not level(pins, 5)  # the pulse ended
            jammed[0] = True
            with pytest.raises(DeviceError, match="unlock"):
                await device.unlock()
            assert device.locked
            await sink.wait_for(raised(FaultKind.CONNECTOR_UNLOCK))
            pins.pin(13).drive_high()  # freed by hand
            await sink.wait_for(cleared(FaultKind.CONNECTOR_UNLOCK))
            nursery.cancel_scope.cancel()
    await device.aclose()


def test_lock_needs_one_kind_of_actuator(pins: Any, make_context: Any) -> None:
    with pytest.raises(DeviceError, match="either pin"):
        GpioLock({"pin": 5, "lock_pin": 6, "unlock_pin": 7}, make_context("lock"))
    with pytest.raises(DeviceError, match="either pin"):
        GpioLock({"lock_pin": 6}, make_context("lock"))
