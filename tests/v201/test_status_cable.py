"""G01: 2.0.1's connector status is Occupied while a cable is in the connector, and only
then. 1.6's Preparing is also a driver who showed a tag before the cable, or a remote
start waiting for it: 2.0.1 says Available until the cable comes (H03.FR.10; E03, the
token first). The real daemon against the independent 2.0.1 CSMS, on virtual time."""

from __future__ import annotations

import trio

from tests.v201.harness import charger201, registered
from tests.v201.test_availability import statuses
from tests.v201.test_device_model import get_variables
from tests.v201.test_transactions import KEYS, TAG


async def test_a_tag_before_the_cable_leaves_the_connector_available_until_the_cable(
    nursery, start_csms201, autojump_clock
) -> None:
    """The tag first: no StatusNotification (Available is what the CSMS knows), and the
    device model's AvailabilityState agrees; the cable: Occupied; the cable out at the end:
    Available."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        assert statuses(station, 1) == ["Available"]
        await cp.swipe(TAG)
        await cp.settle(5)
        assert cp.connector(1).reported.status == "preparing"  # 1.6's word for it
        assert statuses(station, 1) == ["Available"]
        connector = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
        asked = {"component": connector, "variable": {"name": "AvailabilityState"}}
        state = await get_variables(station, asked)
        assert state[0]["attribute_value"] == "Available"
        await cp.sim("plug", 1)
        await cp.settle(5)
        assert statuses(station, 1) == ["Available", "Occupied"]
        await cp.swipe(TAG)  # the driver ends it
        await cp.settle(5)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        assert statuses(station, 1) == ["Available", "Occupied", "Available"]
    assert csms.violations == []


async def test_a_tag_that_times_out_without_a_cable_sends_nothing(
    nursery, start_csms201, autojump_clock
) -> None:
    """The driver never plugs in: the claim ends at EVConnectionTimeOut and the CSMS, which
    never heard of it, hears nothing (Available all along)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await cp.swipe(TAG)
        await trio.sleep(600)
        assert cp.connector(1).reported.status == "available"
        assert statuses(station, 1) == ["Available"]
    assert csms.violations == []


async def test_a_cable_first_is_occupied_at_once(nursery, start_csms201, autojump_clock) -> None:
    """The cable first (E02): Occupied before any tag."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=KEYS) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.settle(5)
        assert statuses(station, 1) == ["Available", "Occupied"]
    assert csms.violations == []
