"""Reservations in OCPP 2.0.1 (functional block H) against the independent 2.0.1 CSMS, on
the same reservations 1.6 keeps: ReserveNow (H01), CancelReservation (H02), using a reserved
EVSE (H03), ReservationStatusUpdate (H01.FR.16/17, H04). The OCTT 2.0.1 cases each test
replays are named (OCPP 2.0.1 Edition 3 Part 6, section 2.9 "H Reservation")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import trio
from ocpp.v16 import call as call16
from ocpp.v201 import call

from ocppd import ctl
from ocppd.testing.csms import CallFailed
from tests.harness import ControlRefused, charger, csms_now
from tests.netutil import Proxy
from tests.test_offline import Disk
from tests.v201.harness import BOTH, charger201, registered

TAG = "RESV0001"
OTHER = "OTHER001"
TOKEN = {"idToken": TAG, "type": "ISO14443"}


def reserve(
    reservation_id: int,
    evse_id: int | None = 1,
    token: str = TAG,
    *,
    minutes: float = 30,
    group: str | None = None,
    connector_type: str | None = None,
) -> call.ReserveNow:
    expiry = (csms_now() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return call.ReserveNow(
        id=reservation_id,
        expiry_date_time=expiry,
        id_token={"idToken": token, "type": "ISO14443"},
        evse_id=evse_id,
        group_id_token=None if group is None else {"idToken": group, "type": "Central"},
        connector_type=connector_type,
    )


def status_of(evse: int, status: str) -> Any:
    return lambda p: p["evseId"] == evse and p["connectorStatus"] == status


def update_of(reservation_id: int, status: str) -> Any:
    return lambda p: p == {"reservationId": reservation_id, "reservationUpdateStatus": status}


async def started(station: Any) -> dict[str, Any]:
    event = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
    payload: dict[str, Any] = event.payload
    return payload


# --- H01 S2, H03: a specific EVSE ---


async def test_tc_h_01_a_reserved_evse_charges_for_the_reserved_token(
    nursery, start_csms201, autojump_clock
):
    """TC_H_01_CS (H01.FR.23, H01.FR.15, H03.FR.01, H03.FR.09): Accepted, the EVSE's connector
    Reserved; the reserved token starts there, the first TransactionEvent names the
    reservation, which is used up (gone from the model and the journal, no status update)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(11))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await cp.sim("plug", 1)
        await trio.sleep(1)
        assert cp.connector(1).reported.status == "reserved"  # a cable alone: still Reserved
        await cp.swipe(TAG)
        first = await started(station)
        assert first["reservationId"] == 11
        assert first["idToken"]["idToken"] == TAG
        await station.wait_for("StatusNotification", status_of(1, "Occupied"))
        await trio.sleep(5)
        assert cp.charger.reservations.all() == []
        assert await cp.journal.reservations() == []
        assert not station.calls("ReservationStatusUpdate")  # the CSMS knows: H01.FR.15
    assert csms.violations == []


async def test_tc_h_02_another_token_may_not_use_a_reserved_evse(
    nursery, start_csms201, autojump_clock
):
    """TC_H_02_CS (H03.FR.01): the EV plugged in, another token is refused and nothing
    charges (main A); a RequestStartTransaction for it is Rejected (main B). The reservation
    stays."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(12))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="reserved for other"):
            await cp.swipe(OTHER)
        remote = await station.call(
            call.RequestStartTransaction(
                id_token={"idToken": OTHER, "type": "ISO14443"}, remote_start_id=5, evse_id=1
            )
        )
        assert remote.status == "Rejected"
        await trio.sleep(30)
        assert not station.calls("TransactionEvent")
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [12]
    assert csms.violations == []


async def test_tc_h_03_04_06_a_specific_evse_reserved_occupied_unavailable_or_faulted(
    nursery, start_csms201, autojump_clock
):
    """TC_H_03_CS (reserved already: Occupied, H01.FR.11), TC_H_04_CS (a transaction there:
    Occupied), TC_H_06_CS (Inoperative: Unavailable, H01.FR.14), and Faulted (H01.FR.12);
    an EVSE this station does not have, or evseId 0, is Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=4) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(21, evse_id=1))).status == "Accepted"
        assert (await station.call(reserve(22, evse_id=1, token=OTHER))).status == "Occupied"
        await cp.swipe(OTHER)
        await cp.sim("plug", 2)
        await started(station)
        assert (await station.call(reserve(23, evse_id=2))).status == "Occupied"
        answer = await station.call(
            call.ChangeAvailability(operational_status="Inoperative", evse={"id": 3})
        )
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(3, "Unavailable"))
        assert (await station.call(reserve(24, evse_id=3))).status == "Unavailable"
        await cp.sim("fault", 4, error_code="GroundFailure")
        await station.wait_for("StatusNotification", status_of(4, "Faulted"))
        assert (await station.call(reserve(25, evse_id=4))).status == "Faulted"
        assert (await station.call(reserve(26, evse_id=9))).status == "Rejected"
        assert (await station.call(reserve(27, evse_id=0))).status == "Rejected"
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [21]
    assert csms.violations == []


async def test_tc_h_07_a_reservation_not_used_expires_and_the_csms_hears_it(
    nursery, start_csms201, autojump_clock
):
    """TC_H_07_CS (H04.FR.01-03): at its expiry the EVSE is Available again and a
    ReservationStatusUpdate Expired follows; another driver may charge there then."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(31, minutes=1))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        await station.wait_for("ReservationStatusUpdate", update_of(31, "Expired"))
        assert await cp.journal.reservations() == []
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        assert "reservationId" not in await started(station)
    assert csms.violations == []


# --- H01 S1: an unspecified EVSE ---


async def test_tc_h_08_an_unspecified_evse_on_a_one_evse_station(
    nursery, start_csms201, autojump_clock
):
    """TC_H_08_CS (H01.FR.04, H01.FR.07, H01.FR.15, H03.FR.03): without evseId, Accepted;
    the only EVSE is kept for the token and reports Reserved (H01.FR.20); the token starts
    there and the TransactionEvent names the reservation."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(41, evse_id=None))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await cp.swipe(TAG)
        await cp.sim("plug", 1)
        assert (await started(station))["reservationId"] == 41
        await trio.sleep(5)
        assert cp.charger.reservations.all() == []
    assert csms.violations == []


async def test_an_unspecified_evse_keeps_one_free_for_the_token_among_two(
    nursery, start_csms201, autojump_clock
):
    """H01.FR.07: two EVSEs, none named Reserved while both are free; another driver takes
    one, the last one is then Reserved and refuses the next stranger; the token uses it."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(42, evse_id=None))).status == "Accepted"
        await trio.sleep(5)
        said = {c.payload["connectorStatus"] for c in station.calls("StatusNotification")}
        assert "Reserved" not in said
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        await started(station)
        await station.wait_for("StatusNotification", status_of(2, "Reserved"))
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe("THIRD001")
        await cp.swipe(TAG)
        await cp.sim("plug", 2)
        event = await station.wait_for(
            "TransactionEvent", lambda p: p["eventType"] == "Started" and p["evse"]["id"] == 2
        )
        assert event.payload["reservationId"] == 42
    assert csms.violations == []


async def test_tc_h_14_as_many_unspecified_reservations_as_evses_reserve_them_all(
    nursery, start_csms201, autojump_clock
):
    """TC_H_14_CS (H01.FR.04, H01.FR.20): one ReserveNow without evseId per EVSE, each for
    another token: each Accepted; with as many reservations as free EVSEs, every EVSE
    reports Reserved; one more is Occupied (H01.FR.11). A driver without a reservation is
    refused; each reserved token starts, its TransactionEvent names its own reservation."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(141, evse_id=None, token=TAG))).status == "Accepted"
        await trio.sleep(5)
        said = {c.payload["connectorStatus"] for c in station.calls("StatusNotification")}
        assert "Reserved" not in said  # two free EVSEs, one reservation: none named
        assert (await station.call(reserve(142, evse_id=None, token=OTHER))).status == ("Accepted")
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await station.wait_for("StatusNotification", status_of(2, "Reserved"))
        third = await station.call(reserve(143, evse_id=None, token="THIRD001"))
        assert third.status == "Occupied"
        status = await cp.status()
        assert [r["id"] for r in status["charge_point"]["reservations"]] == [141, 142]
        assert status["charge_point"]["reservation"]["id"] == 141
        shown = ctl.format_status(status)
        assert "reservation   141 on any connector" in shown
        assert "reservation   142 on any connector" in shown
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe("THIRD001")
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        assert (await started(station))["reservationId"] == 142
        await cp.swipe(TAG)
        await cp.sim("plug", 2)
        event = await station.wait_for(
            "TransactionEvent", lambda p: p["eventType"] == "Started" and p["evse"]["id"] == 2
        )
        assert event.payload["reservationId"] == 141
        await trio.sleep(5)
        assert cp.charger.reservations.all() == []
    assert csms.violations == []


async def test_unspecified_reservations_end_removed_when_the_station_goes_inoperative(
    nursery, start_csms201, autojump_clock
):
    """H01.FR.17 for reservations without evseId: their targeted EVSEs are all of the
    station's; the station Inoperative removes each (ReservationStatusUpdate Removed)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(151, evse_id=None))).status == "Accepted"
        assert (await station.call(reserve(152, evse_id=None, token=OTHER))).status == ("Accepted")
        answer = await station.call(call.ChangeAvailability(operational_status="Inoperative"))
        assert answer.status == "Accepted"
        await station.wait_for("ReservationStatusUpdate", update_of(151, "Removed"))
        await station.wait_for("ReservationStatusUpdate", update_of(152, "Removed"))
        assert cp.charger.reservations.all() == []
        assert await cp.journal.reservations() == []
    assert csms.violations == []


async def test_an_evse_lost_under_unspecified_reservations_removes_the_newest(
    nursery, start_csms201, autojump_clock
):
    """H01.FR.16 for reservations without evseId: two of them on two EVSEs; EVSE 2 faults:
    one EVSE cannot serve two, the newest is removed (ReservationStatusUpdate Removed),
    the first stays and EVSE 1 is kept for it (Reserved)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(155, evse_id=None))).status == "Accepted"
        assert (await station.call(reserve(156, evse_id=None, token=OTHER))).status == ("Accepted")
        await cp.sim("fault", 2, error_code="GroundFailure")
        await station.wait_for("ReservationStatusUpdate", update_of(156, "Removed"))
        await trio.sleep(5)
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [155]
        assert [c.payload["reservationId"] for c in station.calls("ReservationStatusUpdate")] == [
            156
        ]
        assert cp.connector(1).reported.status == "reserved"
    assert csms.violations == []


async def test_tc_h_09_10_12_13_an_unspecified_evse_refused(nursery, start_csms201, autojump_clock):
    """TC_H_09_CS (every EVSE reserved: Occupied), TC_H_10_CS (every EVSE in use: Occupied),
    TC_H_12_CS (the station Inoperative: Unavailable)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(51, evse_id=1))).status == "Accepted"
        assert (await station.call(reserve(52, evse_id=None, token=OTHER))).status == "Occupied"
        assert (await station.call(call.CancelReservation(reservation_id=51))).status == "Accepted"
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        await started(station)
        assert (await station.call(reserve(53, evse_id=None))).status == "Occupied"
        await cp.swipe(OTHER)  # stops it
        await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        await cp.sim("unplug", 1)
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        answer = await station.call(call.ChangeAvailability(operational_status="Inoperative"))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Unavailable"))
        assert (await station.call(reserve(54, evse_id=None))).status == "Unavailable"
    assert csms.violations == []


async def test_tc_h_13_without_non_evse_specific_an_unspecified_evse_is_rejected(
    nursery, start_csms201, autojump_clock
):
    """TC_H_13_CS (H01.FR.19): ReservationCtrlr.NonEvseSpecific false (1.6's
    ReserveConnectorZeroSupported, the same key): Rejected; a specific EVSE still may be."""
    csms = await start_csms201()
    keys = {"ReserveConnectorZeroSupported": False}
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        answer = await station.call(reserve(61, evse_id=None))
        assert answer.status == "Rejected"
        assert answer.status_info["reason_code"] == "NoEvse"
        got = await station.call(
            call.GetVariables(
                get_variable_data=[
                    {"component": {"name": "ReservationCtrlr"}, "variable": {"name": name}}
                    for name in ("NonEvseSpecific", "Available", "Enabled")
                ]
            )
        )
        values = {r["variable"]["name"]: r["attribute_value"] for r in got.get_variable_result}
        assert values == {"NonEvseSpecific": "false", "Available": "true", "Enabled": "true"}
        assert (await station.call(reserve(62, evse_id=1))).status == "Accepted"
    assert csms.violations == []


async def test_without_connector_types_in_the_config_a_type_cannot_be_promised(
    nursery, start_csms201, autojump_clock
):
    """H01 S3 on a station whose config names no connector type: a ReserveNow naming one is
    Rejected (UnknownConnectorType), with or without evseId; Unknown is no preference."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(reserve(71, evse_id=None, connector_type="cType2"))
        assert answer.status == "Rejected"
        assert answer.status_info["reason_code"] == "UnknownConnectorType"
        answer = await station.call(reserve(72, evse_id=1, connector_type="cCCS2"))
        assert answer.status == "Rejected"
        assert (await station.call(reserve(73, evse_id=1, connector_type="Unknown"))).status == (
            "Accepted"
        )
    assert csms.violations == []


# connector 1 is a Type 2 cable ([[connector]] type); connector 2 says no type
TYPE2 = """type = "cType2"
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
power_w = 7200.0
[connector.meter]
driver = "sim"
initial_wh = 1000.0
"""


async def test_tc_h_15_16_a_connector_type_is_reserved(nursery, start_csms201, autojump_clock):
    """TC_H_15_CS (H01.FR.06, H01.FR.09, H01.FR.24, H01.FR.15, H03.FR.02): connectorType
    cType2 without evseId: Accepted; the only Type 2 EVSE reports Reserved and refuses
    another driver, the other EVSE stays open; the token starts on the Type 2 EVSE and the
    TransactionEvent names the reservation. TC_H_16_CS (H01.FR.11): with every EVSE of the
    type reserved, another one of the type is Occupied. A type no connector has, or an
    evseId of another type: Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2, devices=TYPE2) as cp:
        station = await registered(cp)
        assert cp.connector(1).connector_type == "cType2" and cp.connector(2).connector_type is None
        answer = await station.call(reserve(181, evse_id=None, connector_type="cType2"))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        again = await station.call(reserve(182, evse_id=None, token=OTHER, connector_type="cType2"))
        assert again.status == "Occupied"  # TC_H_16_CS
        unknown = await station.call(reserve(183, evse_id=None, connector_type="cCCS2"))
        assert (unknown.status, unknown.status_info["reason_code"]) == (
            "Rejected",
            "UnknownConnectorType",
        )
        assert (await station.call(reserve(184, evse_id=2, connector_type="cType2"))).status == (
            "Rejected"
        )
        await cp.sim("plug", 1)
        # the cable at the Type 2 EVSE is not the stranger's to use; EVSE 2 is open
        assert "plug in at connector 2" in await cp.swipe(OTHER)
        await cp.sim("plug", 2)
        other = await started(station)
        assert other["evse"]["id"] == 2 and "reservationId" not in other
        assert "charging on connector 1" in await cp.swipe(TAG)
        event = await station.wait_for(
            "TransactionEvent", lambda p: p["eventType"] == "Started" and p["evse"]["id"] == 1
        )
        assert event.payload["reservationId"] == 181
        await trio.sleep(5)
        assert cp.charger.reservations.all() == []
    assert csms.violations == []


async def test_a_reservation_of_a_type_survives_a_restart_with_its_type(
    nursery, start_csms201, autojump_clock, tmp_path
):
    """The journal keeps the type: after a restart the Type 2 EVSE is still the one kept."""
    csms = await start_csms201()
    state = tmp_path / "state"
    state.mkdir()
    async with charger201(nursery, csms, connectors=2, devices=TYPE2, state_dir=state) as cp:
        station = await registered(cp)
        answer = await station.call(reserve(191, evse_id=None, connector_type="cType2"))
        assert answer.status == "Accepted"
        await cp.stop()
    async with charger201(nursery, csms, connectors=2, devices=TYPE2, state_dir=state) as cp:
        station = await registered(cp, connection=2)
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        assert [r.connector_type for r in cp.charger.reservations.all()] == ["cType2"]
    assert csms.violations == []


async def test_a_reserve_now_already_expired_or_malformed_is_refused_and_harmless(
    nursery, start_csms201, autojump_clock
):
    """An expiryDateTime already past: Rejected; a ReserveNow without its idToken, or with
    an evseId that is not an integer: a CALLERROR, and the station goes on (a reservation
    made afterwards works)."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(75, minutes=-1))).status == "Rejected"
        expiry = (csms_now() + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
        for payload in (
            {"id": 76, "expiryDateTime": expiry},
            {"id": 77, "expiryDateTime": expiry, "idToken": TOKEN, "evseId": "one"},
            {"id": 78, "expiryDateTime": "soon", "idToken": TOKEN},
        ):
            with pytest.raises(CallFailed) as refused:
                await station.call_raw("ReserveNow", payload, validate=False)
            assert refused.value.code in (
                "FormatViolation",
                "OccurrenceConstraintViolation",
                "TypeConstraintViolation",
                "PropertyConstraintViolation",
            )
        assert cp.charger.reservations.all() == []
        assert (await station.call(reserve(79))).status == "Accepted"
    assert csms.violations == []


# --- H02 ---


async def test_tc_h_17_18_cancel_a_reservation(nursery, start_csms201, autojump_clock):
    """TC_H_17_CS (H02.FR.02): Accepted, the EVSE Available again, no ReservationStatusUpdate
    (H02 remark); TC_H_18_CS (H02.FR.01): an unknown id is Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(call.CancelReservation(reservation_id=1))).status == "Rejected"
        assert (await station.call(reserve(81))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        assert (await station.call(call.CancelReservation(reservation_id=81))).status == (
            "Accepted"
        )
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        await trio.sleep(10)
        assert not station.calls("ReservationStatusUpdate")
        assert await cp.journal.reservations() == []
    assert csms.violations == []


# --- H03 groups ---


def with_group(group: str) -> Any:
    def answer(_station: Any, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "idTokenInfo": {
                "status": "Accepted",
                "groupIdToken": {"idToken": group, "type": "Central"},
            }
        }

    return answer


@pytest.mark.parametrize("evse_id", [1, None], ids=["TC_H_19_CS", "TC_H_24_CS"])
async def test_tc_h_19_24_a_token_of_the_reserved_group_uses_the_reservation(
    evse_id, nursery, start_csms201, autojump_clock
):
    """TC_H_19_CS (H03.FR.04, H03.FR.08) and TC_H_24_CS (H03.FR.06): the reservation names a
    groupIdToken; another token, which the CSMS's Authorize puts in that group, starts
    there and the TransactionEvent names the reservation."""
    csms = await start_csms201(overrides={"Authorize": with_group("FLEET-7")})
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await station.call(reserve(91, evse_id=evse_id, group="FLEET-7"))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        first = await started(station)
        assert (first["reservationId"], first["idToken"]["idToken"]) == (91, OTHER)
        assert [c.payload["idToken"]["idToken"] for c in station.calls("Authorize")] == [OTHER]
    assert csms.violations == []


# --- H01.FR.16/17: the station removes it ---


async def test_tc_h_21_an_inoperative_evse_ends_its_reservation_removed(
    nursery, start_csms201, autojump_clock
):
    """TC_H_21_CS (H01.FR.17): ChangeAvailability Inoperative of the reserved EVSE:
    Unavailable, ReservationStatusUpdate Removed; Operative again: Available, and another
    driver may charge. A fault does the same (H01.FR.16)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(101))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        inoperative = call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1})
        assert (await station.call(inoperative)).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Unavailable"))
        await station.wait_for("ReservationStatusUpdate", update_of(101, "Removed"))
        operative = call.ChangeAvailability(operational_status="Operative", evse={"id": 1})
        assert (await station.call(operative)).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        assert (await station.call(reserve(102, evse_id=2))).status == "Accepted"
        await cp.sim("fault", 2, error_code="GroundFailure")
        await station.wait_for("ReservationStatusUpdate", update_of(102, "Removed"))
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        assert "reservationId" not in await started(station)
        assert await cp.journal.reservations() == []
    assert csms.violations == []


# --- H01.FR.01, H01.FR.02 ---


async def test_tc_h_22_configured_not_to_accept_reservations(
    nursery, start_csms201, autojump_clock
):
    """TC_H_22_CS (H01.FR.01): SetVariables ReservationCtrlr.Enabled false: Rejected; the
    reservation made before stays; true again: Accepted."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(111))).status == "Accepted"

        async def enabled(value: str) -> None:
            answer = await station.call(
                call.SetVariables(
                    set_variable_data=[
                        {
                            "component": {"name": "ReservationCtrlr"},
                            "variable": {"name": "Enabled"},
                            "attribute_value": value,
                        }
                    ]
                )
            )
            assert answer.set_variable_result[0]["attribute_status"] == "Accepted"

        await enabled("false")
        answer = await station.call(reserve(112, evse_id=2))
        assert (answer.status, answer.status_info["reason_code"]) == ("Rejected", "Disabled")
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [111]
        await enabled("true")
        assert (await station.call(reserve(112, evse_id=2))).status == "Accepted"
    assert csms.violations == []


async def test_tc_h_23_the_same_id_replaces_the_reservation(nursery, start_csms201, autojump_clock):
    """TC_H_23_CS (H01.FR.02): the same id with another token replaces it: the old token may
    no longer use it, the new one does, with that id."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(121))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        assert (await station.call(reserve(121, token=OTHER))).status == "Accepted"
        assert [r.id_tag for r in cp.charger.reservations.all()] == [OTHER]
        with pytest.raises(ControlRefused, match="reserved for other"):
            await cp.swipe(TAG)
        await cp.swipe(OTHER)
        await cp.sim("plug", 1)
        assert (await started(station))["reservationId"] == 121
    assert csms.violations == []


# --- durable, and one reservation in both versions ---


async def test_an_expiry_while_offline_is_told_after_the_reconnect(
    nursery, start_csms201, autojump_clock
):
    """H04.FR.01 is not lost: the reservation expires while the link is down; the update
    waits in the outbox and is delivered once the station is back."""
    csms = await start_csms201()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger201(nursery, csms, url=proxy.url) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(131, minutes=2))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(300)  # offline while it expires
        assert not cp.parts.uplink.online
        assert cp.charger.reservations.all() == []
        assert (await cp.journal.queue_stats()).pending == 1
        proxy.refuse = False
        again = await registered(cp, connection=2)
        await again.wait_for("ReservationStatusUpdate", update_of(131, "Expired"))
    assert csms.violations == []


async def test_an_expiry_while_the_journal_cannot_be_written_is_told_once_it_can(
    nursery, start_csms201, autojump_clock
):
    """The journal refuses writes (a full disk) when the reservation expires: the EVSE is
    Available again at once, the ReservationStatusUpdate waits in memory and is queued and
    sent once the journal takes it, and the reservation is forgotten on disk then too."""
    csms = await start_csms201()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger201(nursery, csms, journal_options=options) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(135, minutes=2))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        disk.full = True
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        await trio.sleep(30)
        assert not station.calls("ReservationStatusUpdate")
        assert [r.reservation_id for r in await cp.journal.reservations()] == [135]
        disk.full = False
        await station.wait_for("ReservationStatusUpdate", update_of(135, "Expired"))
        with trio.fail_after(120):
            while await cp.journal.reservations():
                await trio.sleep(1)
        await trio.sleep(10)
        assert len(station.calls("ReservationStatusUpdate")) == 1
    assert csms.violations == []


async def test_a_reservation_expired_while_ocppd_was_down_is_told_at_the_next_start(
    nursery, start_csms201, autojump_clock, tmp_path
):
    """A reservation survives a restart (Reserved again at boot); one that expired while
    ocppd was not running is gone and its ReservationStatusUpdate Expired is sent."""
    csms = await start_csms201()
    state = tmp_path / "state"
    state.mkdir()
    async with charger201(nursery, csms, state_dir=state, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(141, evse_id=1, minutes=60))).status == "Accepted"
        assert (await station.call(reserve(142, evse_id=2, minutes=2))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(2, "Reserved"))
        await cp.stop()
    await trio.sleep(180)
    async with charger201(nursery, csms, state_dir=state, connectors=2) as cp:
        station = await registered(cp, connection=2)
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        await station.wait_for("ReservationStatusUpdate", update_of(142, "Expired"))
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [141]
        await trio.sleep(10)
        assert len(station.calls("ReservationStatusUpdate")) == 1
    assert csms.violations == []


async def test_a_reservation_made_over_16_is_kept_and_used_over_201(
    nursery, start_csms, start_csms201, autojump_clock, tmp_path
):
    """One reservation, two versions: made by a 1.6 central system, the station reconnects
    (after a restart) to a 2.0.1 one: the EVSE reports Reserved and the TransactionEvent of
    the reserved tag names the reservation."""
    csms16 = await start_csms()
    state = tmp_path / "state"
    state.mkdir()
    async with charger(nursery, csms16, state_dir=state, ocpp={"versions": BOTH}) as cp:
        station = await cp.registered()
        expiry = (csms_now() + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
        answer = await station.call(
            call16.ReserveNow(connector_id=1, expiry_date=expiry, id_tag=TAG, reservation_id=151)
        )
        assert answer.status == "Accepted"
        await cp.stop()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state) as cp:
        station = await registered(cp)
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        assert (await station.call(reserve(152, evse_id=1, token=OTHER))).status == "Occupied"
        await cp.swipe(TAG)
        await cp.sim("plug", 1)
        assert (await started(station))["reservationId"] == 151
    assert csms.violations == [] and csms16.violations == []


async def test_a_reservation_made_over_201_is_kept_over_16_and_ends_there_silently(
    nursery, start_csms, start_csms201, autojump_clock, tmp_path
):
    """Made by a 2.0.1 CSMS, the station restarts onto a 1.6 one: connector 1 is Reserved;
    a 1.6 CancelReservation ends it; an expiry over 1.6 queues no 2.0.1 message (1.6 has
    none: its StatusNotification Available tells)."""
    csms = await start_csms201()
    state = tmp_path / "state"
    state.mkdir()
    async with charger201(nursery, csms, state_dir=state, connectors=2) as cp:
        station = await registered(cp)
        assert (await station.call(reserve(161, evse_id=1))).status == "Accepted"
        assert (await station.call(reserve(162, evse_id=2, minutes=5))).status == "Accepted"
        await cp.stop()
    csms16 = await start_csms()
    async with charger(
        nursery, csms16, state_dir=state, connectors=2, ocpp={"versions": BOTH}
    ) as cp:
        station = await cp.registered()
        booted = {
            (c.payload["connectorId"], c.payload["status"])
            for c in station.calls("StatusNotification")
        }
        assert {(1, "Reserved"), (2, "Reserved")} <= booted
        answer = await station.call(call16.CancelReservation(reservation_id=161))
        assert answer.status == "Accepted"
        await station.wait_for(
            "StatusNotification", lambda p: (p["connectorId"], p["status"]) == (2, "Available")
        )
        await trio.sleep(5)
        assert cp.charger.reservations.all() == []
        # what waits for a 2.0.1 link is this start's security event, nothing else
        stats = await cp.journal.queue_stats()
        assert [(protocol, count) for protocol, count, _ in stats.by_protocol] == [("ocpp2.0.1", 1)]
        head = await cp.journal.next_message("ocpp2.0.1")
        assert head is not None and head.action == "SecurityEventNotification"
    assert csms16.violations == []


async def test_reservation_ctrlr_enabled_false_rejects_a_16_reserve_now_too(
    nursery, start_csms, autojump_clock
):
    """One key store: ReservationCtrlr.Enabled false (here from the config file) makes 1.6's
    ReserveNow Rejected too, 1.6's word for "configured not to accept reservations"."""
    csms16 = await start_csms()
    keys = {'"ReservationCtrlr.Enabled"': False}  # quoted: a dotted TOML key is a table
    async with charger(nursery, csms16, keys=keys) as cp:
        station = await cp.registered()
        expiry = (csms_now() + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
        answer = await station.call(
            call16.ReserveNow(connector_id=1, expiry_date=expiry, id_tag=TAG, reservation_id=171)
        )
        assert answer.status == "Rejected"
        assert cp.charger.reservations.all() == []
    assert csms16.violations == []
