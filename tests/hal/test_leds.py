"""Status LED patterns (the table) and the GPIO indicator playing them in virtual time."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import trio

from hal.base import DeviceError, IndicatorState
from hal.leds import OFFLINE_TAIL, PATTERNS, GpioIndicator, steps_for

R, G, B = 5, 6, 13


def shape(steps: Any) -> tuple[tuple[bool, float], ...]:
    """What a single LED shows: lit or not, and for how long."""
    return tuple((bool(colour), seconds) for colour, seconds in steps)


def test_every_state_has_a_pattern() -> None:
    assert set(PATTERNS) == set(IndicatorState)


@pytest.mark.parametrize("single", [True, False])
def test_states_look_different_and_offline_differs_from_every_state(single: bool) -> None:
    seen: dict[Any, IndicatorState] = {}
    shown = [s for s in IndicatorState if s is not IndicatorState.OFF]
    for state in shown:
        steps = steps_for(state, online=True, single=single)
        key = shape(steps) if single else steps
        assert key not in seen, f"{state} looks like {seen.get(key)}"
        seen[key] = state
    for state in IndicatorState:
        offline = steps_for(state, online=False, single=single)
        assert offline[-len(OFFLINE_TAIL) :] == OFFLINE_TAIL
        assert (shape(offline) if single else offline) not in seen


def test_steady_patterns_are_one_step_so_they_cost_no_wakeups() -> None:
    for state in (IndicatorState.AVAILABLE, IndicatorState.OFF):
        assert len(steps_for(state, online=True, single=False)) == 1


def lit(pins: Any, *numbers: int) -> tuple[bool, ...]:
    return tuple(bool(pins.pin(n).state) for n in numbers)


async def test_rgb_indicator_plays_the_pattern_and_switches_at_once(
    pins: Any, make_context: Any, autojump_clock: Any, sink: Any
) -> None:
    device = GpioIndicator({"red_pin": R, "green_pin": G, "blue_pin": B}, make_context("leds"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            device.show(IndicatorState.AVAILABLE)
            await trio.sleep(5)
            assert lit(pins, R, G, B) == (False, True, False)
            device.show(IndicatorState.PREPARING)  # cyan 0.5 s on / 0.5 s off
            assert lit(pins, R, G, B) == (False, True, True)
            await trio.sleep(0.75)
            assert lit(pins, R, G, B) == (False, False, False)
            await trio.sleep(0.5)
            assert lit(pins, R, G, B) == (False, True, True)
            device.show(IndicatorState.FAULTED)
            assert lit(pins, R, G, B) == (True, False, False)
            nursery.cancel_scope.cancel()
    await device.aclose()
    assert all(pins.pin(n).function == "input" for n in (R, G, B))


async def test_offline_adds_three_red_flashes_per_cycle(
    pins: Any, make_context: Any, autojump_clock: Any, sink: Any
) -> None:
    device = GpioIndicator({"red_pin": R, "green_pin": G}, make_context("leds"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(device.run, sink)
            device.show(IndicatorState.AVAILABLE, online=False)
            await trio.sleep(0.01)
            pins.pin(R).clear_states()
            cycle = sum(
                seconds
                for _, seconds in steps_for(IndicatorState.AVAILABLE, online=False, single=False)
            )
            await trio.sleep(cycle)
            nursery.cancel_scope.cancel()
    states = [bool(s.state) for s in pins.pin(R).states]
    rises = [1 for before, after in itertools.pairwise(states) if after and not before]
    assert len(rises) == 3
    await device.aclose()


async def test_two_led_indicator_shows_blue_as_green_and_single_led_blinks(
    pins: Any, make_context: Any, autojump_clock: Any, sink: Any
) -> None:
    dual = GpioIndicator({"red_pin": R, "green_pin": G}, make_context("dual"))
    dual.show(IndicatorState.CHARGING)
    assert lit(pins, R, G) == (False, True)
    single = GpioIndicator({"pin": B}, make_context("single"))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(single.run, sink)
            single.show(IndicatorState.SUSPENDED)  # 0.2 s on, 1.8 s off
            await trio.sleep(0.1)
            assert lit(pins, B) == (True,)
            await trio.sleep(0.5)
            assert lit(pins, B) == (False,)
            nursery.cancel_scope.cancel()
    await dual.aclose()
    await single.aclose()


@pytest.mark.parametrize(
    "options",
    [{}, {"pin": 5, "red_pin": 6}, {"red_pin": 5}, {"green_pin": 5, "blue_pin": 6}],
)
def test_indicator_wiring_must_be_one_two_or_three_leds(
    pins: Any, make_context: Any, options: dict[str, int]
) -> None:
    with pytest.raises(DeviceError, match="one LED"):
        GpioIndicator(options, make_context("leds"))
