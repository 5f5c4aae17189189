"""Charging sessions end to end: each flow's messages and its status sequence (1.6 §4.9 table)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd.testing.csms import Delay, Station
from tests.harness import Charger, ControlRefused, charger

TAG = "04A2B3C4"


def statuses(station: Station, connector: int = 1) -> list[str]:
    return [
        c.payload["status"]
        for c in station.calls("StatusNotification")
        if c.payload["connectorId"] == connector
    ]


async def until_status(station: Station, status: str, count: int = 1) -> dict[str, Any]:
    with trio.fail_after(600):
        hit = await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == 1 and p["status"] == status,
            count=count,
        )
    return hit.payload


async def start_session(cp: Charger, station: Station, tag: str = TAG) -> dict[str, Any]:
    await cp.sim("plug", 1)
    await until_status(station, "Preparing")
    await cp.swipe(tag)
    await until_status(station, "Charging")
    return station.calls("StartTransaction")[-1].payload


async def test_plug_first_session(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 0}) as cp:
        station = await cp.registered()
        await cp.sim("power", 1, watts=7200)
        start = await start_session(cp, station)
        assert start == {
            "connectorId": 1,
            "idTag": TAG,
            "meterStart": 1000,
            "timestamp": start["timestamp"],
        }
        assert cp.world(1).contactor_closed
        await trio.sleep(3600)
        await cp.swipe(TAG)
        await until_status(station, "Finishing")
        assert not cp.world(1).contactor_closed
        await cp.sim("unplug", 1)
        await until_status(station, "Available", count=2)
        stop = station.calls("StopTransaction")[0].payload
        assert stop["transactionId"] == 1 and stop["idTag"] == TAG and stop["reason"] == "Local"
        assert stop["meterStop"] - start["meterStart"] == 7200
        actions = [c.action for c in station.inbox if c.action != "Heartbeat"]
        assert actions[-7:] == [
            "StatusNotification",
            "Authorize",
            "StartTransaction",
            "StatusNotification",
            "StopTransaction",
            "StatusNotification",
            "StatusNotification",
        ]
        assert statuses(station) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
        assert not csms.violations


async def test_tag_first_session(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)
        await until_status(station, "Preparing")
        assert not station.calls("StartTransaction")
        await trio.sleep(20)
        await cp.sim("plug", 1)
        await until_status(station, "Charging")
        assert station.calls("StartTransaction")[0].payload["idTag"] == TAG
        assert statuses(station) == ["Available", "Preparing", "Charging"]


async def test_tag_first_times_out_without_a_cable(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"ConnectionTimeOut": 45}) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)
        preparing = trio.current_time()
        await until_status(station, "Preparing")
        await until_status(station, "Available", count=2)
        assert 44 <= trio.current_time() - preparing <= 47
        await cp.sim("plug", 1)
        await until_status(station, "Preparing", count=2)
        await trio.sleep(10)
        assert not station.calls("StartTransaction"), "the authorisation had expired"


async def test_ev_disconnect_stops_the_transaction(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        await cp.sim("unplug", 1)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "EVDisconnected"
        await until_status(station, "Available", count=2)
        assert statuses(station) == ["Available", "Preparing", "Charging", "Available"]


async def test_ev_disconnect_suspends_when_stop_on_ev_side_disconnect_is_off(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"StopTransactionOnEVSideDisconnect": False}) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        await cp.sim("unplug", 1)
        await until_status(station, "SuspendedEV")
        assert not cp.world(1).contactor_closed
        assert not station.calls("StopTransaction")
        await cp.sim("plug", 1)
        await until_status(station, "Charging", count=2)
        assert cp.world(1).contactor_closed
        await cp.swipe(TAG)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Local"


async def test_a_cable_kept_locked_after_the_ev_left_is_released_by_the_drivers_tag(
    nursery, start_csms, autojump_clock
):
    """UnlockConnectorOnEVSideDisconnect false: after the EVDisconnected stop the cable stays
    locked in the socket and the connector Finishing (1.6 §4.9); the driver's own tag
    releases it (no central system needed), another tag does not."""
    csms = await start_csms()
    keys = {"UnlockConnectorOnEVSideDisconnect": False}
    async with charger(
        nursery, csms, keys=keys, connector_extra='[connector.lock]\ndriver = "sim"\n'
    ) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        await cp.sim("unplug", 1)
        await until_status(station, "Finishing")
        lock = cp.parts.hardware.connectors[1].lock
        assert lock.locked
        with pytest.raises(ControlRefused):
            await cp.swipe("OTHER001")
        assert lock.locked
        assert "unlocked" in await cp.swipe(TAG)
        assert not lock.locked
        await until_status(station, "Available", count=2)
        assert statuses(station) == ["Available", "Preparing", "Charging", "Finishing", "Available"]


async def test_the_ev_pausing_is_suspended_ev_and_the_contactor_opens(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        await cp.sim("suspend", 1)
        await until_status(station, "SuspendedEV")
        assert not cp.world(1).contactor_closed
        await cp.sim("resume", 1)
        await until_status(station, "Charging", count=2)
        assert cp.world(1).contactor_closed


async def test_a_different_tag_does_not_stop_but_its_parent_group_does(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    parents = {"AAAA0001": "FLEET-1", "AAAA0002": "FLEET-1", "BBBB0001": "OTHER"}

    def authorize(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
        return {"idTagInfo": {"status": "Accepted", "parentIdTag": parents[payload["idTag"]]}}

    def start(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "transactionId": 77,
            "idTagInfo": {"status": "Accepted", "parentIdTag": parents[payload["idTag"]]},
        }

    csms.overrides.update({"Authorize": authorize, "StartTransaction": start})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await start_session(cp, station, "AAAA0001")
        with pytest.raises(ControlRefused, match="no free connector"):  # another group
            await cp.swipe("BBBB0001")
        await trio.sleep(5)
        assert not station.calls("StopTransaction")
        await cp.swipe("aaaa0002")
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["idTag"] == "AAAA0002" and stop.payload["transactionId"] == 77


async def test_tags_are_compared_case_insensitively(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await start_session(cp, station, "abcdef01")
        authorizes = len(station.calls("Authorize"))
        await cp.swipe("ABCDEF01")
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Local"
        assert len(station.calls("Authorize")) == authorizes, "the own tag stops without Authorize"


async def test_an_eight_hour_session_with_60_s_sampling(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=900)
    keys = {
        "MeterValueSampleInterval": 60,
        "StopTxnSampledData": "Energy.Active.Import.Register",
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
    }
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("power", 1, watts=11000)
        start = await start_session(cp, station)
        await trio.sleep(8 * 3600)
        await cp.swipe(TAG)
        stop = (await station.wait_for("StopTransaction")).payload
        assert stop["meterStop"] - start["meterStart"] == 8 * 11000
        samples = station.calls("MeterValues")
        assert 479 <= len(samples) <= 481
        stamps = [s.payload["meterValue"][0]["timestamp"] for s in samples]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        energies = [float(s.payload["meterValue"][0]["sampledValue"][0]["value"]) for s in samples]
        assert energies == sorted(energies)
        assert all(s.payload["transactionId"] == 1 for s in samples)
        contexts = {
            v["context"] for s in samples for v in s.payload["meterValue"][0]["sampledValue"]
        }
        assert contexts == {"Sample.Periodic"}
        data = stop["transactionData"]
        assert data[0]["sampledValue"][0]["context"] == "Transaction.Begin"
        assert data[-1]["sampledValue"][0]["context"] == "Transaction.End"
        assert len(data) <= 96
        assert not csms.violations


async def test_remote_start_and_stop(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        await until_status(station, "Preparing")
        await cp.sim("plug", 1)
        await until_status(station, "Charging")
        assert not station.calls("Authorize")  # AuthorizeRemoteTxRequests is false
        tx = station.calls("StartTransaction")[0]
        assert tx.payload["idTag"] == TAG
        assert (
            await station.call(call.RemoteStopTransaction(transaction_id=999))
        ).status == "Rejected"
        assert (
            await station.call(call.RemoteStopTransaction(transaction_id=1))
        ).status == "Accepted"
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Remote"
        await until_status(station, "Finishing")


async def test_remote_start_is_rejected_on_connector_0_busy_or_unknown_connectors(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        for connector in (0, 2):
            answer = await station.call(
                call.RemoteStartTransaction(id_tag=TAG, connector_id=connector)
            )
            assert answer.status == "Rejected"
        await start_session(cp, station)
        busy = await station.call(call.RemoteStartTransaction(id_tag="OTHER", connector_id=1))
        assert busy.status == "Rejected"
        anywhere = await station.call(call.RemoteStartTransaction(id_tag="OTHER"))
        assert anywhere.status == "Rejected"


async def test_remote_start_authorizes_first_when_asked(nursery, start_csms, autojump_clock):
    csms = await start_csms(tags={"BLOCKED1": "Blocked"})
    async with charger(nursery, csms, keys={"AuthorizeRemoteTxRequests": True}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        answer = await station.call(call.RemoteStartTransaction(id_tag="BLOCKED1", connector_id=1))
        assert answer.status == "Accepted"  # accepted means "will try" (errata 3.32)
        await station.wait_for("Authorize")
        await trio.sleep(5)
        assert not station.calls("StartTransaction")
        await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        await until_status(station, "Charging")


async def test_remote_start_without_a_connector_picks_the_one_with_an_ev(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        await cp.sim("plug", 2)
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG))
        assert answer.status == "Accepted"
        start = await station.wait_for("StartTransaction")
        assert start.payload["connectorId"] == 2


async def test_tag_first_with_two_free_connectors_goes_where_the_ev_is_plugged(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        reply = await cp.swipe(TAG)
        assert "any free connector" in reply
        await trio.sleep(10)
        await cp.sim("plug", 2)
        start = await station.wait_for("StartTransaction")
        assert start.payload["connectorId"] == 2


async def test_invalid_tag_at_start_stops_with_deauthorized(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda station, payload: {
        "transactionId": 5,
        "idTagInfo": {"status": "Invalid"},
    }
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "DeAuthorized"
        assert stop.payload["transactionId"] == 5
        await until_status(station, "Finishing")
        assert not cp.world(1).contactor_closed


async def test_invalid_tag_with_an_energy_allowance_charges_up_to_it(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda station, payload: Delay(
        0, {"transactionId": 6, "idTagInfo": {"status": "Invalid"}}
    )
    keys = {"MaxEnergyOnInvalidId": 500, "MeterValueSampleInterval": 10}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("power", 1, watts=3600)  # 1 Wh per second
        start = await start_session(cp, station)
        stop = (await station.wait_for("StopTransaction")).payload
        delivered = stop["meterStop"] - start["meterStart"]
        assert 500 <= delivered <= 511
        assert stop["reason"] == "DeAuthorized"


async def test_invalid_tag_without_stop_on_invalid_id_suspends_energy(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda station, payload: {
        "transactionId": 8,
        "idTagInfo": {"status": "Blocked"},
    }
    async with charger(nursery, csms, keys={"StopTransactionOnInvalidId": False}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await until_status(station, "SuspendedEVSE")
        assert not cp.world(1).contactor_closed
        assert not station.calls("StopTransaction")


async def test_minimum_status_duration_hides_short_states(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MinimumStatusDuration": 30}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await trio.sleep(10)
        await cp.sim("unplug", 1)  # 10 s of Preparing: never reported
        await trio.sleep(60)
        await cp.sim("plug", 1)
        await trio.sleep(60)
        assert statuses(station) == ["Available", "Preparing"]
        preparing = next(
            c for c in station.calls("StatusNotification") if c.payload["status"] == "Preparing"
        )
        assert preparing.t - station.calls("BootNotification")[0].t >= 70 + 30


async def test_status_of_connector_zero_follows_charger_availability(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
        assert answer.status == "Accepted"
        for connector in (0, 1, 2):
            await station.wait_for(
                "StatusNotification",
                lambda p, c=connector: p["connectorId"] == c and p["status"] == "Unavailable",
            )
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="no free connector"):
            await cp.swipe(TAG)
        assert not station.calls("Authorize")
