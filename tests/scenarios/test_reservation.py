"""Reservations, once per OCPP version: the central system reserves a connector for a
driver (1.6 ReserveNow by connectorId, 2.0.1 by evseId), the driver comes, does not come,
or the reservation is cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from tests.harness import ControlRefused
from tests.scenarios.test_sessions import QUIET
from tests.scenarios.versions import Version

TAG = "RESV0001"
OTHER = "OTHER001"


async def test_a_reserved_connector_charges_for_its_driver_only(
    nursery, version: Version, autojump_clock
) -> None:
    """Reserved for a tag: the connector Reserved; another driver is refused there; the
    reserved driver charges, and the session names the reservation, which is used up."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.reserve(station, 7, 1, TAG, minutes=30) == "Accepted"
        await version.wait_state(station, 1, "Reserved")
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe(OTHER)
        await cp.settle(5)
        assert version.sessions(csms) == [] and not cp.world(1).contactor_closed
        await cp.swipe(TAG)
        await version.wait_state(station, 1, "Occupied")
        await trio.sleep(300)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await version.wait_state(station, 1, "Available", count=2)
        session = version.session(csms)
        assert session.tag == TAG and session.reservation == 7
        assert version.states(station, 1) == ["Available", "Reserved", "Occupied", "Available"]
        assert await version.cancel_reservation(station, 7) == "Rejected"  # used up
    assert csms.violations == []


async def test_a_reservation_nobody_comes_for_expires(
    nursery, version: Version, autojump_clock
) -> None:
    """Reserved for 5 minutes, nobody comes: Available again at the expiry, and then
    anyone may charge there."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        reserved = trio.current_time()
        assert await version.reserve(station, 8, 1, TAG, minutes=5) == "Accepted"
        await version.wait_state(station, 1, "Reserved")
        await version.wait_state(station, 1, "Available", count=2)
        assert 299 <= trio.current_time() - reserved <= 302
        await cp.sim("plug", 1)
        await cp.swipe(OTHER)
        await cp.settle(5)
        session = version.session(csms)
        assert session.tag == OTHER and session.reservation is None
    assert csms.violations == []


async def test_a_cancelled_reservation_frees_the_connector(
    nursery, version: Version, autojump_clock
) -> None:
    """CancelReservation: Accepted and the connector Available; the same again, or an id
    never used: Rejected."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET) as cp:
        station = await version.registered(cp)
        assert await version.reserve(station, 9, 1, TAG, minutes=30) == "Accepted"
        await version.wait_state(station, 1, "Reserved")
        assert await version.cancel_reservation(station, 9) == "Accepted"
        await version.wait_state(station, 1, "Available", count=2)
        assert await version.cancel_reservation(station, 9) == "Rejected"
        assert await version.cancel_reservation(station, 404) == "Rejected"
        await cp.sim("plug", 1)
        await cp.swipe(OTHER)
        await cp.settle(5)
        assert version.session(csms).tag == OTHER
    assert csms.violations == []


async def test_a_connector_that_cannot_be_reserved_says_why(
    nursery, version: Version, autojump_clock
) -> None:
    """A connector in use: Occupied; one out of service: Unavailable; one faulted: Faulted
    (the same words in 1.6 ReservationStatus and 2.0.1 ReserveNowStatusEnumType)."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, connectors=3, keys=QUIET) as cp:
        station = await version.registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe(OTHER)
        await version.wait_state(station, 1, "Occupied")
        assert await version.reserve(station, 1, 1, TAG, minutes=30) == "Occupied"
        assert await version.change_availability(station, 2, operative=False) == "Accepted"
        await version.wait_state(station, 2, "Unavailable")
        assert await version.reserve(station, 2, 2, TAG, minutes=30) == "Unavailable"
        await cp.sim("fault", 3, error_code="GroundFailure")
        await version.wait_state(station, 3, "Faulted")
        assert await version.reserve(station, 3, 3, TAG, minutes=30) == "Faulted"
        await cp.settle(5)
        assert "Reserved" not in {s for c in (1, 2, 3) for s in version.states(station, c)}
    assert csms.violations == []


async def test_a_reservation_is_kept_across_a_power_cut(
    nursery, version: Version, autojump_clock, tmp_path: Path
) -> None:
    """Reserved, the power cut and back: still Reserved at boot, for the same driver."""
    csms = await version.start_csms(nursery)
    options = {"state_dir": tmp_path, "keys": QUIET}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        station = await version.registered(cp)
        assert await version.reserve(station, 5, 1, TAG, minutes=60) == "Accepted"
        await version.wait_state(station, 1, "Reserved")
        doomed.cancel_scope.cancel()
    async with version.charger(nursery, csms, **options) as cp:
        again = await version.registered(cp, connection=2)
        assert version.states(again, 1) == ["Reserved"]
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe(OTHER)
        await cp.swipe(TAG)
        await cp.settle(5)
        assert version.session(csms).reservation == 5
    assert csms.violations == []
