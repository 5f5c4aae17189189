"""Work the model starts has an owner that decides what its errors mean (review D1).

The model alone, on virtual time: the charger with the simulated devices and small stand-ins
for the journal and the link (the protocols the model is written against)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio

from hal.base import ConnectorDevices, FaultKind, TagRead
from hal.context import DeviceContext, SharedResources
from hal.sim import SimContactor, SimMeter, SimPlug, SimWorld
from ocppd.clock import Clock
from ocppd.features import declared_keys
from ocppd.features.core.policies import follow_keys
from ocppd.model.auth import Authorizer
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys
from ocppd.model.status import ErrorCode, Status
from ocppd.model.supervise import Refused, supervised


class TxLog:
    """A journal that works and keeps nothing (no session starts in these tests)."""

    healthy, problem = True, None

    async def wait_unhealthy(self) -> None:
        await trio.sleep_forever()

    async def wait_healthy(self) -> None:
        pass


class Uplink:
    online = False

    def wake(self) -> None:
        pass

    def status_changed(self) -> None:
        pass


class Cache:
    async def cache_lookup(self, id_tag: str) -> None:
        return None


def make_charger(**kwargs: Any) -> Charger:
    k, clock, uplink = follow_keys(Keys(declared_keys())), Clock(), Uplink()
    return Charger(
        policies=k,
        clock=clock,
        txlog=TxLog(),  # type: ignore[arg-type]
        uplink=uplink,  # type: ignore[arg-type]
        authorizer=Authorizer(k, Cache(), clock, uplink),  # type: ignore[arg-type]
        settings=None,  # type: ignore[arg-type]
        reservation_store=None,  # type: ignore[arg-type]
        **kwargs,
    )


class CrashingDevice:
    """A driver whose watch task has a bug."""

    name = "buggy sensor"

    async def run(self, sink: Any) -> None:
        await trio.sleep(1)
        raise ZeroDivisionError("a driver bug")

    async def aclose(self) -> None:
        return None


def sim_devices(tmp_path: Path, *extra: Any) -> ConnectorDevices:
    world = SimWorld(1)
    context = DeviceContext("sim", 1, tmp_path, SharedResources(), sim=world)
    return ConnectorDevices(
        1, SimContactor({}, context), SimPlug({}, context), SimMeter({}, context), extra=[*extra]
    )


async def test_a_tag_from_a_reader_that_cannot_charge_is_refused_not_raised(autojump_clock):
    """The review's reproduction of D1: before, `Refused: no free connector` ended Charger.run."""
    charger = make_charger()
    async with trio.open_nursery() as nursery:
        await nursery.start(charger.run)
        charger.report(TagRead("DEADBEEF"))  # what hal/rfid.py does for every tag
        await trio.sleep(1)
        assert charger.last_tag is not None
        assert not charger.last_tag.accepted and charger.last_tag.outcome == "no free connector"
        nursery.cancel_scope.cancel()


async def test_a_device_watch_that_crashes_is_a_fault_of_its_connector(
    tmp_path, autojump_clock, caplog
):
    charger = make_charger()
    connector = charger.add_connector(
        sim_devices(tmp_path, CrashingDevice()), max_current_a=16.0, phases=3
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(charger.run)
        await trio.sleep(2)
        assert connector.reported.status is Status.FAULTED
        assert connector.reported.error_code is ErrorCode.OTHER_ERROR
        assert FaultKind.OTHER in connector.faults
        nursery.cancel_scope.cancel()
    crashes = [r for r in caplog.records if "buggy sensor watch failed" in r.getMessage()]
    assert crashes and crashes[0].exc_info is not None, "logged with its traceback"


async def test_supervised_work_turns_refusals_and_bugs_into_log_lines(autojump_clock, caplog):
    caplog.set_level(logging.INFO)

    async def refused() -> None:
        raise Refused("no free connector")

    async def buggy() -> None:
        raise KeyError("oops")

    await supervised("a refusal", refused)
    await supervised("a bug", buggy)
    messages = {r.getMessage(): r for r in caplog.records}
    assert messages["a refusal: not done: no free connector"].levelno == logging.INFO
    bug = messages["a bug failed (a bug; ocppd carries on)"]
    assert bug.levelno == logging.ERROR and bug.exc_info is not None


async def test_supervised_work_is_still_cancelled(autojump_clock):
    with trio.move_on_after(1) as scope:
        await supervised("forever", trio.sleep_forever)
    assert scope.cancelled_caught


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
async def test_supervised_work_never_swallows_an_interrupt(autojump_clock, interrupt):
    async def interrupted() -> None:
        raise interrupt()

    with pytest.raises(interrupt):
        await supervised("interrupted", interrupted)
