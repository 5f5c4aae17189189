"""ChangeAvailability in OCPP 2.0.1 (G03 EVSE and connector, G04 the station) against the
independent 2.0.1 CSMS."""

from __future__ import annotations

import trio
from ocpp.v201 import call

from tests.v201.harness import charger201, registered
from tests.v201.test_reset import OFFLINE_START, charging


def statuses(station, evse: int) -> list[str]:
    return [
        r.payload["connectorStatus"]
        for r in station.calls("StatusNotification")
        if r.payload["evseId"] == evse
    ]


async def test_tc_g_03_cs_and_tc_g_04_cs_an_evse_out_of_service_and_back(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_G_03_CS, TC_G_04_CS: one EVSE Inoperative (Unavailable), the other untouched; then
    Operative again (Available). Persisted: a restart keeps it (tested for 1.6 alike)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
        )
        assert answer.status == "Accepted"
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable"
        )
        answer = await station.call(
            call.ChangeAvailability(operational_status="Operative", evse={"id": 1})
        )
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == 1, count=3)
        await trio.sleep(1)
        assert statuses(station, 1) == ["Available", "Unavailable", "Available"]
        assert statuses(station, 2) == ["Available"]
    assert csms.violations == []


async def test_tc_g_07_cs_a_connector_out_of_service(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_G_07_CS: connector 1 of EVSE 1 (its only one) Inoperative."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.ChangeAvailability(
                operational_status="Inoperative", evse={"id": 1, "connector_id": 1}
            )
        )
        assert answer.status == "Accepted"
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable"
        )
    assert csms.violations == []


async def test_tc_g_05_cs_and_tc_g_13_cs_the_station_out_of_service_told_again(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_G_05_CS: the station Inoperative: every EVSE Unavailable. TC_G_13_CS: asked again,
    Accepted, and the CSMS hears every connector's state once more."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        request = call.ChangeAvailability(operational_status="Inoperative")
        assert (await station.call(request)).status == "Accepted"
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == 2, count=2)
        await trio.sleep(1)
        assert statuses(station, 1) == statuses(station, 2) == ["Available", "Unavailable"]
        assert (await station.call(request)).status == "Accepted"
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == 2, count=3)
        assert statuses(station, 1)[-1] == statuses(station, 2)[-1] == "Unavailable"
        request = call.ChangeAvailability(operational_status="Operative")
        assert (await station.call(request)).status == "Accepted"
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == 2, count=4)
        assert statuses(station, 2)[-1] == "Available"
    assert csms.violations == []


async def test_an_evse_with_a_transaction_goes_out_of_service_when_it_ends(
    nursery, start_csms201, autojump_clock
) -> None:
    """G03.FR.05 (TC_G_08_CS's situation): Scheduled while a transaction runs there; the
    transaction goes on, and the EVSE is Unavailable once it has ended."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=OFFLINE_START) as cp:
        station = await registered(cp)
        await charging(cp)
        answer = await station.call(
            call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
        )
        assert answer.status == "Scheduled"
        await trio.sleep(60)
        assert cp.connector(1).tx is not None
        assert "Unavailable" not in statuses(station, 1)
        await cp.sim("unplug", 1)
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable"
        )
    assert csms.violations == []


async def test_an_evse_or_connector_this_station_lacks_is_rejected(
    nursery, start_csms201, autojump_clock
) -> None:
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        for evse in ({"id": 2}, {"id": 1, "connector_id": 2}, {"id": 0, "connector_id": 1}):
            answer = await station.call(
                call.ChangeAvailability(operational_status="Inoperative", evse=evse)
            )
            assert answer.status == "Rejected", evse
        await trio.sleep(1)
        assert statuses(station, 1) == ["Available"]
    assert csms.violations == []
