"""Smart charging, once per OCPP version: the central system limits the current
(SetChargingProfile: 1.6 by connectorId and csChargingProfiles, 2.0.1 by evseId and
chargingProfile) and the energy delivered follows. The simulated EV draws 11 kW on three
phases at 230 V; a limit of A amperes lets it draw A x 690 W."""

from __future__ import annotations

from pathlib import Path

import trio

from tests.scenarios.test_sessions import QUIET, TAG, charging
from tests.scenarios.versions import Version

PILOT = '[connector.pilot]\ndriver = "sim"'  # a control pilot the limit reaches
WATTS_PER_AMP = 3 * 230.0


async def test_a_default_limit_slows_every_session_until_it_is_cleared(
    nursery, version: Version, autojump_clock
) -> None:
    """A default limit of 6 A for the station (connector 0): a session draws 4140 W; 30
    minutes later the limit is cleared and it draws the EV's 11 kW: 2070 + 5500 Wh. An id
    that names no profile cannot be cleared."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await version.registered(cp)
        await cp.sim("power", 1, watts=11000)
        assert await version.limit(station, 1, 0, 6.0) == "Accepted"
        await charging(version, cp, station)
        await trio.sleep(1800)
        assert await version.clear_limit(station, 1) == "Accepted"
        await trio.sleep(1800)
        await cp.swipe(TAG)
        await cp.settle(5)
        session = version.session(csms)
        assert abs(session.energy_wh - (6 * WATTS_PER_AMP / 2 + 11000 / 2)) <= 10
        assert await version.clear_limit(station, 1) == "Unknown"
    assert csms.violations == []


async def test_a_limit_for_the_running_session_ends_with_it(
    nursery, version: Version, autojump_clock
) -> None:
    """10 A for the running session (named by the id the central system knows): 6900 W for
    its remaining 30 minutes; a limit for a session that does not run is Rejected; the
    next session charges at full power."""
    csms = await version.start_csms(nursery)
    async with version.charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await version.registered(cp)
        await cp.sim("power", 1, watts=11000)
        await charging(version, cp, station)
        await trio.sleep(1800)
        running = version.session(csms)
        refused = await version.limit(station, 2, 1, 10.0, purpose="session", session="999")
        assert refused == "Rejected"
        assert (
            await version.limit(station, 2, 1, 10.0, purpose="session", session=running.id)
            == "Accepted"
        )
        await trio.sleep(1800)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await cp.settle(5)
        first = version.session(csms)
        assert abs(first.energy_wh - (11000 / 2 + 10 * WATTS_PER_AMP / 2)) <= 10
        await charging(version, cp, station)
        await trio.sleep(3600)
        await cp.swipe(TAG)
        await cp.settle(5)
        second = version.sessions(csms)[1]
        assert abs(second.energy_wh - 11000) <= 10
    assert csms.violations == []


async def test_the_station_maximum_caps_a_session_and_is_kept_across_a_power_cut(
    nursery, version: Version, autojump_clock, tmp_path: Path
) -> None:
    """The station's maximum of 8 A (1.6 ChargePointMaxProfile, 2.0.1
    ChargingStationMaxProfile): a session draws 5520 W; the power is cut; after the
    restart the next session is capped alike."""
    csms = await version.start_csms(nursery)
    options = {"state_dir": tmp_path, "keys": QUIET, "connector_extra": PILOT}
    async with trio.open_nursery() as doomed, version.charger(doomed, csms, **options) as cp:
        station = await version.registered(cp)
        await cp.sim("power", 1, watts=11000)
        assert await version.limit(station, 3, 0, 8.0, purpose="station") == "Accepted"
        await charging(version, cp, station)
        await trio.sleep(3600)
        await cp.swipe(TAG)
        await cp.settle(5)
        assert abs(version.session(csms).energy_wh - 8 * WATTS_PER_AMP) <= 10
        doomed.cancel_scope.cancel()
    async with version.charger(nursery, csms, **options) as cp:
        again = await version.registered(cp, connection=2)
        await cp.sim("power", 1, watts=11000)
        await charging(version, cp, again)
        await trio.sleep(3600)
        await cp.swipe(TAG)
        await cp.settle(5)
        assert abs(version.sessions(csms)[1].energy_wh - 8 * WATTS_PER_AMP) <= 10
    assert csms.violations == []
