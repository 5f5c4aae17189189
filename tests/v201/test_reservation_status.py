"""What a reservation makes a 2.0.1 StatusNotification say: the connector status Reserved,
for the last free connector a charge-point-wide reservation holds too (the model's
Status.RESERVED, mapped in features/v201/words.py). The reservation is made here through the
model's own verb, which ReserveNow of either version calls (2.0.1's: test_reservation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import trio
from ocpp.v201 import call

from ocppd.model.outcomes import ReserveResult
from ocppd.model.reservation import ANY_CONNECTOR, Reservation
from tests.harness import csms_now
from tests.v201.harness import charger201, registered


def status_of(evse: int, status: str) -> Any:
    return lambda p: p["evseId"] == evse and p["connectorStatus"] == status


async def test_the_last_free_connector_under_a_station_wide_reservation_is_reserved(
    nursery, start_csms201, autojump_clock
) -> None:
    """EVSE 2 Inoperative; a reservation of any connector: EVSE 1 reports Reserved; cancelled,
    it reports Available again."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        with trio.fail_after(600):
            answer = await station.call(
                call.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})
            )
            assert answer.status == "Accepted"
            await station.wait_for("StatusNotification", status_of(2, "Unavailable"))
            reservation = Reservation(
                reservation_id=7,
                connector_id=ANY_CONNECTOR,
                id_tag="RESV0001",
                parent_id_tag=None,
                expiry=csms_now() + timedelta(minutes=30),
            )
            reservations = cp.charger.reservations
            assert await reservations.reserve(reservation) is ReserveResult.ACCEPTED
            await station.wait_for("StatusNotification", status_of(1, "Reserved"))
            assert await reservations.cancel(7)
            await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
    assert csms.violations == []
