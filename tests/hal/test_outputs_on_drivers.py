"""ocppd/model/outputs.py on real drivers: a GPIO contactor on gpiozero's MockFactory whose
auxiliary contact sticks, and the sim lock, offer and LEDs. A device that does not follow
comes back as the fault the connector reports, never as an exception."""

from __future__ import annotations

from typing import Any

import trio
from test_gpio import FEEDBACK, aux_contact, contactor

from hal.base import ConnectorDevices, FaultKind, IndicatorState
from hal.sim import SimIndicator, SimLock, SimMeter, SimOffer, SimPlug, SimWorld
from ocppd.model.outputs import INDICATOR, REFUSED_SHOWN_S, Outputs
from ocppd.model.status import Status


def outputs(make_context: Any, world: SimWorld, **lock: Any) -> Outputs:
    sim = make_context("sim", sim=world)
    return Outputs(
        ConnectorDevices(
            1,
            contactor(make_context, feedback_pin=FEEDBACK, feedback_timeout_s=0.5),
            SimPlug({}, sim),
            SimMeter({}, sim),
            lock=SimLock(lock, sim),
            offer=SimOffer({}, sim),
            indicator=SimIndicator({}, sim),
        )
    )


async def test_a_contactor_that_does_not_close_is_a_power_switch_fault(
    pins: Any, make_context: Any, autojump_clock: Any
) -> None:
    world = SimWorld(1)
    out = outputs(make_context, world)
    stuck = [True]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(aux_contact, pins, 0.03, stuck)
            fault = await out.follow(offer=16.0, close=True)
            assert fault is not None and fault.kind is FaultKind.POWER_SWITCH
            assert "did not close" in fault.info and len(fault.info) <= 50
            assert not out.contactor_closed and world.offered_a == 16.0 == out.offered
            stuck[0] = False
            assert await out.follow(offer=16.0, close=True) is None
            assert out.contactor_closed
            assert await out.stop_energy("test") is None
            assert not out.contactor_closed and world.offered_a is None
            nursery.cancel_scope.cancel()


async def test_a_lock_that_does_not_release_is_a_connector_unlock_fault(
    pins: Any, make_context: Any, autojump_clock: Any
) -> None:
    out = outputs(make_context, SimWorld(1), fail=True)
    await out.lock()
    fault = await out.unlock()
    assert fault is not None and fault.kind is FaultKind.CONNECTOR_UNLOCK
    await out.unlock_quietly()  # a log line, never an exception


async def test_a_refusal_shows_for_a_few_seconds_then_the_status(
    pins: Any, make_context: Any, autojump_clock: Any
) -> None:
    world = SimWorld(1)
    out = outputs(make_context, world)
    out.show(Status.CHARGING, online=True)
    assert world.indicator == (IndicatorState.CHARGING, True)
    out.refused()
    out.show(Status.CHARGING, online=False)
    assert world.indicator == (IndicatorState.REFUSED, False)
    await trio.sleep(REFUSED_SHOWN_S)
    out.show(Status.CHARGING, online=False)
    assert world.indicator == (IndicatorState.CHARGING, False)


def test_every_status_has_an_led_pattern() -> None:
    assert set(INDICATOR) == set(Status)
    assert IndicatorState.OFF not in INDICATOR.values()
