"""Reservations against the independent central system (1.6 §3.11, §5.13 ReserveNow, §5.2
CancelReservation), with the OCTT 1.6 reservation cases replayed step by step: TC_046_1 reserve
a connector and start there locally, TC_046_2 the same with a remote start, TC_047 expiry,
TC_048_1-3 a connector refused (Faulted, Occupied, Unavailable), TC_048_4 Rejected, TC_049
reserve the charge point (connector 0), TC_050_1-3 the charge point refused (Faulted,
Occupied, Unavailable), TC_051 cancel, TC_052 cancel an unknown id, TC_053 the parentIdTag.
The steps and tool validations are those of the case texts (OCPP 1.6 Compliancy Testing Tool,
Test Case Document, Trial 2025-06, as quoted on ocpplab.com); docs/octt.md is the index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from hal.base import IndicatorState
from ocppd import ctl
from tests.harness import ControlRefused, charger, csms_now
from tests.test_offline import Disk

TAG = "RESV0001"
STRANGER = "OTHER001"
LEDS = '[connector.indicator]\ndriver = "sim"\n'


def reserve(
    reservation_id: int,
    connector_id: int = 1,
    id_tag: str = TAG,
    *,
    minutes: float = 30,
    parent: str | None = None,
) -> call.ReserveNow:
    expiry = (csms_now() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return call.ReserveNow(
        connector_id=connector_id,
        expiry_date=expiry,
        id_tag=id_tag,
        reservation_id=reservation_id,
        parent_id_tag=parent,
    )


def status_of(connector_id: int, status: str) -> Any:
    return lambda p: p["connectorId"] == connector_id and p["status"] == status


async def test_a_reserved_connector_is_reserved_then_charges_for_the_reserved_tag(
    nursery, start_csms, autojump_clock
):
    """Reserve a connector; a cable alone leaves it Reserved; the reserved tag starts there,
    the start carries the reservationId and the reservation ends with it (the LEDs, ocppctl
    and the journal follow)."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LEDS) as cp:
        station = await cp.registered()
        answer = await station.call(reserve(11))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        assert cp.world(1).indicator[0] is IndicatorState.RESERVED  # the LEDs show it
        status = await cp.status()
        assert status["connectors"][0]["reservation"]["id"] == 11
        assert TAG not in str(status["connectors"][0]["reservation"])  # tags are personal data
        assert "reservation   11 on connector 1 until 2026-11-21T10:" in ctl.format_status(status)
        await cp.sim("plug", 1)
        await trio.sleep(1)
        assert cp.connector(1).reported.status == "reserved"  # a cable alone: still Reserved
        await cp.swipe(TAG)
        start = await station.wait_for("StartTransaction")
        assert start.payload["reservationId"] == 11
        assert start.payload["connectorId"] == 1
        await station.wait_for("StatusNotification", status_of(1, "Charging"))
        await trio.sleep(1)
        assert cp.charger.reservations.all() == []
        assert await cp.journal.reservations() == []
        assert not csms.violations


async def test_tc046_1_reservation_of_a_connector_local_start(nursery, start_csms, autojump_clock):
    """TC_046_1_CS: ReserveNow Accepted, Reserved; another card is refused without an
    Authorize.req; the reserved card (Authorize optional) makes it Preparing; the cable
    plugged in at the reserved connector starts the transaction with the reservationId."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(reserve(41))  # steps 1-2
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))  # step 3
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe(STRANGER)
        await trio.sleep(5)
        assert not station.calls("Authorize")  # step 5: no Authorize.req for another card
        await cp.swipe(TAG)  # steps 6-7
        await station.wait_for("StatusNotification", status_of(1, "Preparing"))  # step 8
        await cp.sim("plug", 1)
        start = await station.wait_for("StartTransaction")  # step 10
        assert (start.payload["connectorId"], start.payload["idTag"]) == (1, TAG)
        assert start.payload["reservationId"] == 41
        await station.wait_for("StatusNotification", status_of(1, "Charging"))  # step 12
        assert [c.payload["idTag"] for c in station.calls("Authorize")] in ([], [TAG])
        assert not csms.violations


async def test_tc046_2_reservation_of_a_connector_remote_start(nursery, start_csms, autojump_clock):
    """TC_046_2_CS: ReserveNow Accepted, Reserved; charging started by a
    RemoteStartTransaction: the StartTransaction carries the idTag and the reservationId of
    step 1. Only that idTag may charge there: a remote start for another one is Rejected."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(42))).status == "Accepted"  # steps 1-2
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))  # step 3
        other = await station.call(call.RemoteStartTransaction(id_tag=STRANGER, connector_id=1))
        assert other.status == "Rejected"
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Preparing"))
        await cp.sim("plug", 1)
        start = await station.wait_for("StartTransaction")  # step 5
        assert (start.payload["idTag"], start.payload["reservationId"]) == (TAG, 42)
        await station.wait_for("StatusNotification", status_of(1, "Charging"))
        assert cp.charger.reservations.all() == []
        assert not csms.violations


async def test_tc047_a_reservation_expires_at_its_expiry_date(nursery, start_csms, autojump_clock):
    """TC_047_CS: Reserved, then Available again at expiryDate (a deadline, not a poll);
    then another valid tag charges there."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(12, minutes=5))).status == "Accepted"
        reserved = await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        available = await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        # the first Available is the boot's; the second comes at the expiry, not before
        assert 299 <= available.t - reserved.t <= 301
        assert await cp.journal.reservations() == []
        # expired: anyone may charge now
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe(STRANGER)


async def test_tc048_1_faulted_connector_refuses_a_reservation(nursery, start_csms, autojump_clock):
    """TC_048_1: a Faulted connector answers Faulted (the CS text is not among the pages
    read; the CSMS side's text expects Faulted); and a reservation in force ends when its
    connector faults (§3.11)."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(13, connector_id=2))).status == "Accepted"
        await cp.sim("fault", 1, error_code="GroundFailure")
        await cp.sim("fault", 2, error_code="GroundFailure")
        await station.wait_for("StatusNotification", status_of(2, "Faulted"))
        assert (await station.call(reserve(14, connector_id=1))).status == "Faulted"
        assert (await station.call(reserve(15, connector_id=0))).status == "Faulted"
        await trio.sleep(1)
        assert cp.charger.reservations.find(13) is None  # ended by the fault
        assert await cp.journal.reservations() == []
        await cp.sim("fault", 2, error_code="NoError")
        await station.wait_for("StatusNotification", status_of(2, "Available"), count=2)
        assert cp.connector(2).reported.status == "available"


async def test_tc048_2_occupied_connector_refuses_a_reservation(
    nursery, start_csms, autojump_clock
):
    """TC_048_2_CS: SetConnectorOccupied, then ReserveNow: Occupied, and the charge point goes
    on. Occupied while another reservation holds the connector, a cable is in (Preparing) or a
    transaction runs; connector 0 too when no connector is free (TC_050_2)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(16))).status == "Accepted"
        assert (await station.call(reserve(17, id_tag=STRANGER))).status == "Occupied"
        assert (await station.call(call.CancelReservation(reservation_id=16))).status == (
            "Accepted"
        )
        await cp.sim("plug", 1)
        assert (await station.call(reserve(18))).status == "Occupied"  # Preparing
        await cp.swipe(STRANGER)
        await station.wait_for("StartTransaction")
        assert (await station.call(reserve(19))).status == "Occupied"
        assert (await station.call(reserve(20, connector_id=0))).status == "Occupied"
        assert cp.charger.reservations.all() == []


async def test_tc048_3_unavailable_connector_refuses_a_reservation(
    nursery, start_csms, autojump_clock
):
    """TC_048_3: ChangeAvailability Inoperative, Unavailable, then ReserveNow: Unavailable (CS
    text not among the pages read; the CSMS side's steps); and ChangeAvailability
    Inoperative ends a reservation in force (§3.11)."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(21, connector_id=2))).status == "Accepted"
        for cid in (1, 2):
            answer = await station.call(
                call.ChangeAvailability(connector_id=cid, type="Inoperative")
            )
            assert answer.status == "Accepted"
        assert (await station.call(reserve(22, connector_id=1))).status == "Unavailable"
        assert (await station.call(reserve(23, connector_id=0))).status == "Unavailable"
        await trio.sleep(1)
        assert cp.charger.reservations.all() == []
        answer = await station.call(call.ChangeAvailability(connector_id=2, type="Operative"))
        await station.wait_for("StatusNotification", status_of(2, "Available"), count=2)


async def test_tc048_4_rejected_for_connector_zero_when_not_offered_or_an_unknown_connector(
    nursery, start_csms, autojump_clock
):
    """TC_048_4 ("Reservation - Rejected", a CSMS-side case; no CS text was found): Rejected
    when the charger is not configured for it (connector 0 with ReserveConnectorZeroSupported
    false, 1.6 §5.13), and for a connector it does not have or an expiry already past."""
    csms = await start_csms()
    keys = {"ReserveConnectorZeroSupported": False}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(24, connector_id=0))).status == "Rejected"
        assert (await station.call(reserve(25, connector_id=3))).status == "Rejected"
        assert (await station.call(reserve(26, minutes=-1))).status == "Rejected"
        answer = await station.call(call.GetConfiguration(key=["ReserveConnectorZeroSupported"]))
        assert answer.configuration_key == [
            {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "false"}
        ]
        assert cp.charger.reservations.all() == []


async def test_tc051_cancel_reservation(nursery, start_csms, autojump_clock):
    """TC_051_CS: Reserved with the valid IdTag; CancelReservation Accepted; the reserved
    connector is Available; charging with IdTag 2 carries no reservationId."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(27))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        answer = await station.call(call.CancelReservation(reservation_id=27))  # steps 1-2
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        assert await cp.journal.reservations() == []
        await cp.sim("plug", 1)  # step 5: charging with another valid tag
        assert "charging" in await cp.swipe(STRANGER)
        start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == STRANGER
        assert "reservationId" not in start.payload
        await station.wait_for("StatusNotification", status_of(1, "Charging"))


async def test_tc052_cancel_reservation_of_an_unknown_id_is_rejected(
    nursery, start_csms, autojump_clock
):
    """TC_052_CS: Reserved; a CancelReservation whose reservationId is not that of the
    reservation is Rejected and cancels nothing: the reserved connector stays Reserved, in
    the journal too, and only the reserved tag may use it."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(43))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        answer = await station.call(call.CancelReservation(reservation_id=44))  # steps 1-2
        assert answer.status == "Rejected"
        await trio.sleep(5)
        assert cp.connector(1).reported.status == "reserved"
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [43]
        assert [r.reservation_id for r in await cp.journal.reservations()] == [43]
        assert [c.payload["status"] for c in station.calls("StatusNotification")][-1] == "Reserved"
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe(STRANGER)


async def test_tc053_the_parent_group_of_the_reserved_tag_may_use_it(
    nursery, start_csms, autojump_clock
):
    """TC_053_CS: ReserveNow with idTag 1 and a parentIdTag, Reserved; IdTag 2 of that group
    is Authorized (its parent is known from the Authorize.conf), the cable goes in, and the
    StartTransaction carries the reservationId of step 1. A tag of another group, or of
    none, is refused."""
    csms = await start_csms()
    parents = {"KID00001": "GROUP-A", "KID00002": "GROUP-B"}

    def authorize(_station: Any, payload: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"status": "Accepted"}
        if payload["idTag"] in parents:
            info["parentIdTag"] = parents[payload["idTag"]]
        return {"idTagInfo": info}

    csms.overrides["Authorize"] = authorize
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(reserve(28, parent="GROUP-A"))  # steps 1-2
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))  # step 3
        for stranger in ("KID00002", STRANGER):
            with pytest.raises(ControlRefused, match="reserved for other drivers"):
                await cp.swipe(stranger)
        assert "plug in at connector 1" in await cp.swipe("KID00001")  # step 5
        await station.wait_for("StatusNotification", status_of(1, "Preparing"))
        await cp.sim("plug", 1)  # step 6
        start = await station.wait_for("StartTransaction")  # step 7
        assert (start.payload["idTag"], start.payload["reservationId"]) == ("KID00001", 28)
        await station.wait_for("StatusNotification", status_of(1, "Charging"))  # step 9
        assert [p["idTag"] for p in (c.payload for c in station.calls("StartTransaction"))] == [
            "KID00001"
        ]


async def test_a_remote_start_on_a_group_reservation_learns_the_group_first(
    nursery, start_csms, autojump_clock
):
    """A remote start for a tag that only its parent group could admit is authorised first
    (1.6 §5.13: the parent is looked up, else asked with Authorize), then starts or not."""
    csms = await start_csms()
    csms.overrides["Authorize"] = lambda _st, p: {
        "idTagInfo": {
            "status": "Accepted",
            "parentIdTag": "GROUP-A" if p["idTag"] == "KID00001" else "GROUP-B",
        }
    }
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(35, parent="GROUP-A"))).status == "Accepted"
        await cp.sim("plug", 1)
        answer = await station.call(call.RemoteStartTransaction(id_tag="KID00002", connector_id=1))
        assert answer.status == "Accepted"  # "will attempt": the group is not known yet
        await station.wait_for("Authorize", lambda p: p["idTag"] == "KID00002")
        await trio.sleep(2)
        assert not station.calls("StartTransaction")
        assert (
            "reserved for another driver"
            in (await cp.status())["connectors"][0]["last_refusal"]["why"]
        )
        answer = await station.call(call.RemoteStartTransaction(id_tag="KID00001", connector_id=1))
        assert answer.status == "Accepted"
        start = await station.wait_for("StartTransaction")
        assert (start.payload["idTag"], start.payload["reservationId"]) == ("KID00001", 35)
        assert [c.payload["idTag"] for c in station.calls("Authorize")] == ["KID00002", "KID00001"]


async def test_a_stranger_is_refused_and_the_reservation_stays(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LEDS) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(29))).status == "Accepted"
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe(STRANGER)
        assert cp.world(1).indicator[0] is IndicatorState.REFUSED
        # a remote start for another tag is refused too; for the reserved tag it starts
        answer = await station.call(call.RemoteStartTransaction(id_tag=STRANGER, connector_id=1))
        assert answer.status == "Rejected"
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [29]
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        start = await station.wait_for("StartTransaction")
        assert (start.payload["idTag"], start.payload["reservationId"]) == (TAG, 29)


async def test_the_same_reservation_id_replaces_the_old_one(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(30, connector_id=1))).status == "Accepted"
        assert (await station.call(reserve(30, connector_id=2, id_tag="NEWTAG01"))).status == (
            "Accepted"
        )
        await station.wait_for("StatusNotification", status_of(2, "Reserved"))
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        [kept] = cp.charger.reservations.all()
        assert (kept.connector_id, kept.id_tag) == (2, "NEWTAG01")
        [row] = await cp.journal.reservations()
        assert (row.reservation_id, row.connector_id, row.id_tag) == (30, 2, "NEWTAG01")
        # a refused replacement leaves the old one in force
        await cp.sim("plug", 1)
        assert (await station.call(reserve(30, connector_id=1))).status == "Occupied"
        assert [r.connector_id for r in cp.charger.reservations.all()] == [2]


async def test_tc049_connector_zero_keeps_one_free_connector_for_the_reserved_tag(
    nursery, start_csms, autojump_clock
):
    """TC_049, connector 0 with two connectors: a stranger may take one, not the last free one; the
    reserved tag starts on any connector with the reservationId."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(31, connector_id=0))).status == "Accepted"
        await trio.sleep(1)
        status = await cp.status()
        assert status["charge_point"]["reservation"]["id"] == 31
        assert "reservation   31 on any connector until" in ctl.format_status(status)
        assert cp.connector(1).reported.status == cp.connector(2).reported.status == "available"
        # a connector reservation may not take the last connector connector 0 needs ...
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(STRANGER)
        assert (await station.call(reserve(32, connector_id=2, id_tag=STRANGER))).status == (
            "Occupied"
        )
        # ... nor may another driver
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="reserved for other drivers"):
            await cp.swipe("OTHER002")
        answer = await station.call(call.RemoteStartTransaction(id_tag="OTHER002"))
        assert answer.status == "Rejected"
        assert "charging on connector 2" in await cp.swipe(TAG)
        await station.wait_for("StartTransaction", count=2)
        starts = [c.payload for c in station.calls("StartTransaction")]
        assert [(p["connectorId"], p.get("reservationId")) for p in starts] == [(1, None), (2, 31)]
        await trio.sleep(1)
        assert cp.charger.reservations.all() == []
        assert await cp.journal.reservations() == []


@pytest.mark.xfail(
    strict=True,
    reason="TC_049: a connector-0 reservation reports no connector Reserved, even the last "
    "free one it holds; the OCTT's central-system side of TC_049 expects a StatusNotification "
    "Reserved (the charge-point text was not read). Reporting it needs a connector's status "
    "to follow the other connectors (model/status.py derives it per connector): not a small "
    "fix, left for a decision (docs/octt.md).",
)
async def test_tc049_the_last_free_connector_under_a_connector_zero_reservation_is_reserved(
    nursery, start_csms, autojump_clock
):
    """TC_049 as the OCTT runs reservation cases (SetConnectorUnavailable for all unused
    connectors): ReserveNow for connector 0 Accepted; a StatusNotification Reserved for the
    one connector left, which only the reserved tag may use."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(2, "Unavailable"))
        assert (await station.call(reserve(58, connector_id=0))).status == "Accepted"
        with trio.fail_after(10):
            await station.wait_for("StatusNotification", status_of(1, "Reserved"))


ZERO_ON = {"ReserveConnectorZeroSupported": True}


async def test_tc050_1_reservation_of_a_charge_point_faulted(nursery, start_csms, autojump_clock):
    """TC_050_1 (Reservation of a Charge Point - Faulted; the CS text is not among the pages
    read, the steps are those of TC_050_3 with SetChargePointFaulted): every connector
    Faulted, then ReserveNow for connector 0: Faulted (1.6 §5.13), nothing is kept, and the
    charge point goes on: once the fault clears a connector-0 reservation is Accepted."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, keys=ZERO_ON) as cp:
        station = await cp.registered()
        for cid in (1, 2):
            await cp.sim("fault", cid, error_code="GroundFailure")
            await station.wait_for("StatusNotification", status_of(cid, "Faulted"))
        assert (await station.call(reserve(51, connector_id=0))).status == "Faulted"
        assert cp.charger.reservations.all() == []
        assert await cp.journal.reservations() == []
        for cid in (1, 2):
            await cp.sim("fault", cid, error_code="NoError")
            await station.wait_for("StatusNotification", status_of(cid, "Available"), count=2)
        assert (await station.call(reserve(52, connector_id=0))).status == "Accepted"


async def test_tc050_2_reservation_of_a_charge_point_occupied(nursery, start_csms, autojump_clock):
    """TC_050_2 (Reservation of a Charge Point - Occupied; CS text not among the pages read,
    the steps of TC_050_3 with the charge point occupied): no connector free (a transaction
    on one, a cable in the other), then ReserveNow for connector 0: Occupied (1.6 §5.13);
    a charge point already reserved for a driver is Occupied for another reservation too."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, keys=ZERO_ON) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(53, connector_id=0))).status == "Accepted"
        assert (await station.call(reserve(54, connector_id=0, id_tag=STRANGER))).status == (
            "Occupied"
        )
        assert (await station.call(call.CancelReservation(reservation_id=53))).status == (
            "Accepted"
        )
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(STRANGER)
        await station.wait_for("StatusNotification", status_of(1, "Charging"))
        await cp.sim("plug", 2)
        await station.wait_for("StatusNotification", status_of(2, "Preparing"))
        assert (await station.call(reserve(55, connector_id=0))).status == "Occupied"
        assert cp.charger.reservations.all() == []
        # the charge point goes on: the transaction runs, and the cable in 2 may still start
        assert cp.world(1).contactor_closed
        assert "charging on connector 2" in await cp.swipe("OTHER002")


async def test_tc050_3_reservation_of_a_charge_point_unavailable(
    nursery, start_csms, autojump_clock
):
    """TC_050_3_CS: ReserveConnectorZeroSupported true; SetChargePointUnavailable
    (ChangeAvailability connector 0 Inoperative); ReserveNow for connector 0: Unavailable;
    the charge point goes on (Operative again, a connector-0 reservation is Accepted)."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, keys=ZERO_ON) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
        assert answer.status == "Accepted"
        for cid in (0, 1, 2):
            await station.wait_for("StatusNotification", status_of(cid, "Unavailable"))
        assert (await station.call(reserve(56, connector_id=0))).status == "Unavailable"  # 1-2
        assert cp.charger.reservations.all() == []
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Operative"))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(0, "Available"), count=2)
        assert (await station.call(reserve(57, connector_id=0))).status == "Accepted"


async def test_a_reservation_survives_a_restart_and_an_expired_one_is_dropped(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    state = tmp_path / "state"
    state.mkdir()
    async with charger(nursery, csms, state_dir=state, connectors=2) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(33, connector_id=1, minutes=60))).status == "Accepted"
        assert (await station.call(reserve(34, connector_id=2, minutes=2))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(2, "Reserved"))
        await cp.stop()
    await trio.sleep(180)  # ocppd is down while reservation 34 expires
    async with charger(nursery, csms, state_dir=state, connectors=2) as cp:
        station = await cp.registered(connection=2)
        booted = [c.payload for c in station.calls("StatusNotification")]
        assert {(p["connectorId"], p["status"]) for p in booted} >= {
            (1, "Reserved"),
            (2, "Available"),
        }
        assert [r.reservation_id for r in cp.charger.reservations.all()] == [33]
        assert [r.reservation_id for r in await cp.journal.reservations()] == [33]
        await cp.sim("plug", 1)
        # the cable in connector 1 is not the stranger's to use: connector 2 is
        assert "plug in at connector 2" in await cp.swipe(STRANGER)
        assert "charging on connector 1" in await cp.swipe(TAG)
        start = await station.wait_for("StartTransaction")
        assert (start.payload["connectorId"], start.payload["reservationId"]) == (1, 33)


async def test_a_reservation_that_ends_while_the_journal_cannot_be_written_is_forgotten_later(
    nursery, start_csms, autojump_clock
):
    """Ended is ended: a restart must not bring it back, so the delete is retried until the
    journal takes it. Meanwhile no reservation can be made (nothing could be kept)."""
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(nursery, csms, connectors=2, journal_options=options) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(40))).status == "Accepted"
        disk.full = True
        answer = await station.call(call.CancelReservation(reservation_id=40))
        assert answer.status == "Accepted"
        assert cp.charger.reservations.all() == []
        assert [r.reservation_id for r in await cp.journal.reservations()] == [40]  # not yet
        await trio.sleep(5)
        assert (await station.call(reserve(41, connector_id=2))).status in (
            "Rejected",
            "Unavailable",
        )
        disk.full = False
        with trio.fail_after(120):
            while await cp.journal.reservations():
                await trio.sleep(1)
        assert cp.charger.reservations.all() == []
