"""Reservations against the independent central system (1.6 §3.11, §5.13 ReserveNow, §5.2
CancelReservation), with the OCTT 1.6 reservation cases as tests: TC_046 reserve a connector
and start there, TC_047 expiry, TC_048_1-4 refused (Faulted, Occupied, Unavailable,
Rejected), TC_049 reserve the charge point (connector 0), TC_051/052 cancel (and an unknown
id), TC_053 the parentIdTag. The case texts are not at hand here: the numbering follows the
OCTT catalogue in shared/notes/ocpp16-rules.md (section c), the steps the spec."""

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


async def test_tc046_a_reserved_connector_is_reserved_then_charges_for_the_reserved_tag(
    nursery, start_csms, autojump_clock
):
    """TC_046: reserve a connector; the reserved tag starts there and the start carries the
    reservationId; the reservation ends with it."""
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


async def test_tc047_a_reservation_expires_at_its_expiry_date(nursery, start_csms, autojump_clock):
    """TC_047: the connector is Available again at expiryDate (a deadline, not a poll)."""
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
    """TC_048_1: Faulted; and a reservation in force ends when its connector faults (§3.11)."""
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
    """TC_048_2: Occupied while a transaction runs, a cable is in, or another reservation
    holds the connector; connector 0 when no connector is free."""
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
    """TC_048_3: Unavailable; and ChangeAvailability Inoperative ends a reservation (§3.11)."""
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
    """TC_048_4: Rejected when the charger is not configured for it (connector 0 with
    ReserveConnectorZeroSupported false), and for a connector it does not have or an
    expiry already past."""
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


async def test_tc051_tc052_cancel_reservation_and_an_unknown_id(
    nursery, start_csms, autojump_clock
):
    """TC_051: CancelReservation makes the connector Available; TC_052: an unknown id is
    Rejected."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(reserve(27))).status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Reserved"))
        answer = await station.call(call.CancelReservation(reservation_id=27))
        assert answer.status == "Accepted"
        await station.wait_for("StatusNotification", status_of(1, "Available"), count=2)
        answer = await station.call(call.CancelReservation(reservation_id=27))
        assert answer.status == "Rejected"
        assert await cp.journal.reservations() == []
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe(STRANGER)
        start = await station.wait_for("StartTransaction")
        assert "reservationId" not in start.payload


async def test_tc053_the_parent_group_of_the_reserved_tag_may_use_it(
    nursery, start_csms, autojump_clock
):
    """TC_053: a reservation with a parentIdTag admits any tag of that group (its parent is
    known from authorisation); a tag of another group, or none, is refused."""
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
        assert (await station.call(reserve(28, parent="GROUP-A"))).status == "Accepted"
        await cp.sim("plug", 1)
        for stranger in ("KID00002", STRANGER):
            with pytest.raises(ControlRefused, match="reserved for other drivers"):
                await cp.swipe(stranger)
        assert not station.calls("StartTransaction")
        assert "charging" in await cp.swipe("KID00001")
        start = await station.wait_for("StartTransaction")
        assert (start.payload["idTag"], start.payload["reservationId"]) == ("KID00001", 28)


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
