"""OCTT 1.6 charge-point cases replayed step by step against the independent central system.

Each test follows one case of the OCPP 1.6 Compliancy Testing Tool's Test Case Document (Trial
2025-06, as quoted on ocpplab.com): its configuration and reusable states, its steps (the
comments give their numbers) and its tool validations. The cases of one profile that have a
test file of their own are replayed there (reservations, the local list, smart charging,
remote trigger, firmware, security); docs/octt.md is the index of every case, with the test
that replays it or why it cannot be replayed here.

The OCTT's reusable state "Charging" is a tag presented, the cable plugged in, the
StartTransaction accepted and the connector Charging; "Authorized" a tag presented and
accepted. A power cycle is the daemon dying without an orderly stop (its nursery cancelled)
and started again on the same state directory; a lost connection is the TCP proxy refusing
and cutting the link.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd.app import Outcome
from ocppd.testing.csms import Station
from tests.harness import Charger, ControlRefused, charger
from tests.netutil import Proxy

TAG = "OCTT0001"  # <Configured valid IdTag>
TAG2 = "OCTT0002"  # <Configured valid IdTag 2>
INVALID = "OCTT0BAD"
LOCK = '[connector.lock]\ndriver = "sim"\n'


def status_is(connector_id: int, status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda p: p["connectorId"] == connector_id and p["status"] == status


async def status(station: Station, connector_id: int, status: str, count: int = 1) -> Any:
    """The ``count``-th StatusNotification of ``status`` for the connector, in bounded time."""
    with trio.fail_after(900):
        return await station.wait_for(
            "StatusNotification", status_is(connector_id, status), count=count
        )


async def arrival(station: Station, action: str, count: int = 1) -> Any:
    with trio.fail_after(900):
        return await station.wait_for(action, count=count)


def statuses(station: Station, connector_id: int = 1) -> list[str]:
    return [
        c.payload["status"]
        for c in station.calls("StatusNotification")
        if c.payload["connectorId"] == connector_id
    ]


async def charging(cp: Charger, station: Station, tag: str = TAG) -> dict[str, Any]:
    """Reusable State Charging: the StartTransaction's payload once the connector charges."""
    await cp.sim("plug", 1)
    await cp.swipe(tag)
    start = await arrival(
        station, "StartTransaction", count=len(station.calls("StartTransaction")) + 1
    )
    await status(station, 1, "Charging", count=statuses(station).count("Charging") + 1)
    return dict(start.payload)


async def offline(proxy: Proxy, cp: Charger) -> None:
    """Remove the connectivity between the charge point and the central system."""
    proxy.refuse = True
    proxy.cut()
    await trio.sleep(5)
    assert cp.parts.connection.state != "connected"


def stamp(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))


# --- Cold boot ------------------------------------------------------------------------------------


async def test_tc_001_cold_boot_charge_point(nursery, start_csms, autojump_clock):
    """TC_001_CS: BootNotification Rejected; the next one comes after the interval of that
    answer; Accepted; a StatusNotification Available for connector 0 and every connector;
    then a Heartbeat every interval of the Accepted answer."""
    csms = await start_csms(boot_status="Rejected", heartbeat_interval=90)
    async with charger(nursery, csms) as cp:
        station = await cp.station()
        first = await arrival(station, "BootNotification")  # steps 1-2
        csms.boot_status = "Accepted"
        second = await arrival(station, "BootNotification", count=2)  # steps 3-4
        assert 89 <= second.t - first.t <= 92
        await cp.registered()  # steps 5-6
        assert [
            (c.payload["connectorId"], c.payload["status"])
            for c in station.calls("StatusNotification")
        ] == [(0, "Available"), (1, "Available")]
        await trio.sleep(3 * 90 + 5)  # steps 7-8
        beats = [c.t - second.t for c in station.calls("Heartbeat")]
        assert len(beats) == 3
        for n, t in enumerate(beats, start=1):
            assert abs(t - n * 90) < 2, beats
        assert not csms.violations


async def test_tc_002_cold_boot_charge_point_pending(nursery, start_csms, autojump_clock):
    """TC_002_CS: BootNotification Pending; the central system reads and changes the
    configuration (ChangeConfiguration Accepted); the next BootNotification after the
    interval; Accepted; Available for connector 0 and every connector; Heartbeats."""
    csms = await start_csms(boot_status="Pending", heartbeat_interval=60)
    async with charger(nursery, csms) as cp:
        station = await cp.station()
        first = await arrival(station, "BootNotification")  # steps 1-2
        read = await station.call(call.GetConfiguration())  # steps 3-4
        assert "MeterValueSampleInterval" in {k["key"] for k in read.configuration_key}
        changed = await station.call(  # steps 5-6
            call.ChangeConfiguration(key="MeterValueSampleInterval", value="30")
        )
        assert changed.status == "Accepted"
        csms.boot_status = "Accepted"
        second = await arrival(station, "BootNotification", count=2)  # steps 7-8
        assert 59 <= second.t - first.t <= 62
        await cp.registered()  # steps 9-10
        assert {c.payload["status"] for c in station.calls("StatusNotification")} == {"Available"}
        await trio.sleep(2 * 60 + 5)  # steps 11-12
        assert len(station.calls("Heartbeat")) == 2
        assert cp.keys.get_int("MeterValueSampleInterval") == 30
        assert not csms.violations


# --- Regular charging sessions --------------------------------------------------------------------


async def test_tc_003_regular_charging_session_plugin_first(nursery, start_csms, autojump_clock):
    """TC_003_CS: cable first (Preparing), then the tag: Authorize Accepted, StartTransaction
    Accepted, Charging."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await status(station, 1, "Preparing")  # steps 1-2
        await cp.swipe(TAG)
        authorize = await arrival(station, "Authorize")  # steps 3-4
        assert authorize.payload["idTag"] == TAG
        start = await arrival(station, "StartTransaction")  # steps 5-6
        assert start.payload["idTag"] == TAG
        await status(station, 1, "Charging")  # steps 7-8
        assert statuses(station) == ["Available", "Preparing", "Charging"]
        assert not csms.violations


async def test_tc_004_1_regular_charging_session_identification_first(
    nursery, start_csms, autojump_clock
):
    """TC_004_1_CS: MeterValueSampleInterval configured; Reusable State Authorized; the cable
    goes in: StartTransaction Accepted and Charging (steps 3 and 5 in either order)."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 60}) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)  # step 1: Authorized
        await arrival(station, "Authorize")
        await status(station, 1, "Preparing")
        await cp.sim("plug", 1)  # step 2
        start = await arrival(station, "StartTransaction")  # steps 3-4
        assert start.payload["idTag"] == TAG
        await status(station, 1, "Charging")  # steps 5-6
        await trio.sleep(61)
        assert station.calls("MeterValues")  # the configured interval is in use


async def test_tc_004_2_identification_first_connection_timeout(
    nursery, start_csms, autojump_clock
):
    """TC_004_2_CS: ConnectionTimeOut configured; Reusable State Authorized; no cable: once
    ConnectionTimeOut has expired the connector is Available again."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"ConnectionTimeOut": 30}) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)  # step 1
        preparing = await status(station, 1, "Preparing")
        available = await status(station, 1, "Available", count=2)  # steps 2-3
        assert 29 <= available.t - preparing.t <= 32
        assert not station.calls("StartTransaction")


async def test_tc_005_2_ev_side_disconnected_stop_and_keep_the_cable_locked(
    nursery, start_csms, autojump_clock
):
    """TC_005_2_CS: MinimumStatusDuration 0, StopTransactionOnEVSideDisconnect true,
    UnlockConnectorOnEVSideDisconnect false; Charging; the cable leaves the EV:
    StopTransaction reason EVDisconnected and a StatusNotification (Finishing: the cable
    stays locked in the socket, 1.6 §4.9), in either order; UnlockConnector Unlocked; the
    cable can be taken: Available. Meanwhile no one else may start there."""
    csms = await start_csms()
    keys = {
        "MinimumStatusDuration": 0,
        "StopTransactionOnEVSideDisconnect": True,
        "UnlockConnectorOnEVSideDisconnect": False,
    }
    async with charger(nursery, csms, keys=keys, connector_extra=LOCK) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await cp.sim("unplug", 1)
        stop = await arrival(station, "StopTransaction")  # steps 1-2
        assert stop.payload["reason"] == "EVDisconnected"
        await status(station, 1, "Finishing")  # steps 3-4
        assert cp.parts.hardware.connectors[1].lock.locked
        await trio.sleep(30)
        assert statuses(station)[-1] == "Finishing"
        with pytest.raises(ControlRefused):
            await cp.swipe(TAG2)
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "Unlocked"  # steps 5-6
        assert not cp.parts.hardware.connectors[1].lock.locked
        await status(station, 1, "Available", count=2)  # steps 7-8
        assert len(station.calls("StopTransaction")) == 1


async def test_tc_005_3_ev_side_disconnected_transaction_kept(nursery, start_csms, autojump_clock):
    """TC_005_3_CS: MinimumStatusDuration 0, StopTransactionOnEVSideDisconnect false,
    UnlockConnectorOnEVSideDisconnect false; Charging; the cable leaves the EV: a
    StatusNotification (SuspendedEV) and no StopTransaction; RemoteStopTransaction Accepted,
    then a StatusNotification and the StopTransaction (in either order)."""
    csms = await start_csms()
    keys = {
        "MinimumStatusDuration": 0,
        "StopTransactionOnEVSideDisconnect": False,
        "UnlockConnectorOnEVSideDisconnect": False,
    }
    async with charger(nursery, csms, keys=keys, connector_extra=LOCK) as cp:
        station = await cp.registered()
        start = await charging(cp, station)
        await cp.sim("unplug", 1)
        await status(station, 1, "SuspendedEV")  # steps 1-2
        assert cp.parts.hardware.connectors[1].lock.locked  # not unlocked on EV side
        await trio.sleep(10)
        assert not station.calls("StopTransaction")
        tx = (await station.call(call.RemoteStopTransaction(transaction_id=1))).status
        assert tx == "Accepted"  # steps 3-4
        stop = await arrival(station, "StopTransaction")  # steps 7-8
        assert stop.payload["reason"] == "Remote"
        assert stop.payload["meterStop"] >= start["meterStart"]
        with trio.fail_after(60):  # steps 5-6: the connector leaves SuspendedEV
            while statuses(station)[-1] == "SuspendedEV":
                await trio.sleep(1)
        assert statuses(station)[-1] in ("Finishing", "Available")


# --- Cache ----------------------------------------------------------------------------------------


async def test_tc_007_regular_start_charging_session_cached_id(nursery, start_csms, autojump_clock):
    """TC_007_CS: AuthorizationCacheEnabled and LocalPreAuthorize true, the tag in the cache:
    the tag makes the connector Preparing without waiting for the central system; the cable
    starts the transaction (Accepted) and the connector is Charging."""
    csms = await start_csms()
    keys = {"AuthorizationCacheEnabled": True, "LocalPreAuthorize": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        # Memory State IdTagCached: an Authorize.conf Accepted puts it in the cache
        answer = await station.call(call.ClearCache())
        assert answer.status == "Accepted"
        await cp.swipe(TAG)
        await arrival(station, "Authorize")
        await status(station, 1, "Available", count=2)  # released again after a swipe
        assert (await cp.control({"cmd": "tag", "id_tag": TAG}))["source"] == "cache"
        asked = len(station.calls("Authorize"))
        await cp.swipe(TAG)
        preparing = await status(station, 1, "Preparing", count=2)  # steps 1-2
        await cp.sim("plug", 1)
        start = await arrival(station, "StartTransaction")  # steps 3-4
        assert start.payload["idTag"] == TAG
        await status(station, 1, "Charging")  # steps 5-6
        assert len(station.calls("Authorize")) == asked, "pre-authorised from the cache"
        assert preparing.t <= start.t


async def test_tc_061_clear_authorization_data_in_authorization_cache(
    nursery, start_csms, autojump_clock
):
    """TC_061_CS: AuthorizationCacheEnabled and LocalPreAuthorize true, ConnectionTimeOut
    configured; Reusable State Authorized (Preparing); the connection timeout makes it
    Available; ClearCache Accepted; the same card again: an Authorize.req is sent (the
    cache no longer knows it)."""
    csms = await start_csms()
    keys = {"AuthorizationCacheEnabled": True, "LocalPreAuthorize": True, "ConnectionTimeOut": 20}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)
        await arrival(station, "Authorize")
        await status(station, 1, "Preparing")  # steps 1-2
        await status(station, 1, "Available", count=2)  # steps 3-4
        assert (await station.call(call.ClearCache())).status == "Accepted"  # steps 5-6
        assert (await cp.control({"cmd": "tag", "id_tag": TAG}))["source"] == "unknown"
        await cp.swipe(TAG)
        again = await arrival(station, "Authorize", count=2)  # steps 7-8
        assert again.payload["idTag"] == TAG


# --- Remote actions -------------------------------------------------------------------------------


async def test_tc_010_remote_start_charging_session_cable_plugged_in_first(
    nursery, start_csms, autojump_clock
):
    """TC_010_CS: GetConfiguration AuthorizeRemoteTxRequests; the cable in (Preparing);
    RemoteStartTransaction on the configured connector Accepted; Authorize.req when
    AuthorizeRemoteTxRequests is true; StartTransaction Accepted; Charging."""
    for authorize_remote in (False, True):
        csms = await start_csms()
        keys = {"AuthorizeRemoteTxRequests": authorize_remote}
        async with charger(nursery, csms, keys=keys) as cp:
            station = await cp.registered()
            read = await station.call(call.GetConfiguration(key=["AuthorizeRemoteTxRequests"]))
            [key] = read.configuration_key  # steps 1-2
            assert key["key"] == "AuthorizeRemoteTxRequests"
            assert key["value"] == str(authorize_remote).lower()
            await cp.sim("plug", 1)
            await status(station, 1, "Preparing")  # steps 3-4
            answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
            assert answer.status == "Accepted"  # steps 5-6
            start = await arrival(station, "StartTransaction")  # steps 9-10
            assert (start.payload["connectorId"], start.payload["idTag"]) == (1, TAG)
            await status(station, 1, "Charging")  # steps 11-12
            asked = [c.payload["idTag"] for c in station.calls("Authorize")]
            assert asked == ([TAG] if authorize_remote else [])  # steps 7-8
            if authorize_remote:
                assert station.calls("Authorize")[0].t <= start.t
            await cp.stop()


async def test_tc_011_1_remote_start_charging_session_remote_start_first(
    nursery, start_csms, autojump_clock
):
    """TC_011_1_CS: GetConfiguration AuthorizeRemoteTxRequests; RemoteStartTransaction
    Accepted; (Authorize.req if that key is true); Preparing; the cable: StartTransaction,
    Charging."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"AuthorizeRemoteTxRequests": True}) as cp:
        station = await cp.registered()
        read = await station.call(call.GetConfiguration(key=["AuthorizeRemoteTxRequests"]))
        assert read.configuration_key[0]["key"] == "AuthorizeRemoteTxRequests"  # steps 1-2
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"  # steps 3-4
        await arrival(station, "Authorize")  # steps 5-6
        await status(station, 1, "Preparing")  # steps 7-8
        await cp.sim("plug", 1)
        start = await arrival(station, "StartTransaction")  # steps 9-10
        assert start.payload["idTag"] == TAG
        await status(station, 1, "Charging")  # steps 11-12


async def test_tc_011_2_remote_start_charging_session_time_out(nursery, start_csms, autojump_clock):
    """TC_011_2 (Remote Start Charging Session - Time Out; the CS text is not among the pages
    read, the steps of TC_011_1 without the cable): RemoteStartTransaction Accepted,
    Preparing; no cable within ConnectionTimeOut: Available again, no transaction."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"ConnectionTimeOut": 40}) as cp:
        station = await cp.registered()
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"
        preparing = await status(station, 1, "Preparing")
        available = await status(station, 1, "Available", count=2)
        assert 39 <= available.t - preparing.t <= 42
        await cp.sim("plug", 1)
        await trio.sleep(10)
        assert not station.calls("StartTransaction")


async def test_tc_012_remote_stop_charging_session(nursery, start_csms, autojump_clock):
    """TC_012_CS: Charging; RemoteStopTransaction Accepted; StopTransaction reason Remote;
    Finishing (steps 3 and 5 in either order)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        answer = await station.call(call.RemoteStopTransaction(transaction_id=1))
        assert answer.status == "Accepted"  # steps 1-2
        stop = await arrival(station, "StopTransaction")  # steps 3-4
        assert (stop.payload["transactionId"], stop.payload["reason"]) == (1, "Remote")
        await status(station, 1, "Finishing")  # steps 5-6


# --- Reset ----------------------------------------------------------------------------------------


async def test_tc_013_hard_reset_without_transaction(nursery, start_csms, autojump_clock, tmp_path):
    """TC_013_CS: ChangeAvailability Inoperative (Accepted, Unavailable); Reset Hard
    Accepted; BootNotification; the StatusNotifications of connector 0 and every connector,
    the configured one still Unavailable (persistent state, 1.6 §5.14); ChangeAvailability
    Operative: Available."""
    await reset_case(nursery, start_csms, tmp_path, "Hard")


async def test_tc_014_soft_reset_without_transaction(nursery, start_csms, autojump_clock, tmp_path):
    """TC_014 (Soft Reset Without Transaction; the CS text is not among the pages read, the
    steps of TC_013 with a soft reset)."""
    await reset_case(nursery, start_csms, tmp_path, "Soft")


async def reset_case(nursery: trio.Nursery, start_csms: Any, state: Path, reset: str) -> None:
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
        assert answer.status == "Accepted"  # steps 1-2
        await status(station, 1, "Unavailable")  # steps 3-4
        assert (await station.call(call.Reset(type=reset))).status == "Accepted"  # steps 5-6
        with trio.fail_after(60):
            await cp.done.wait()
        assert cp.outcome == [Outcome.HARD_RESET if reset == "Hard" else Outcome.SOFT_RESET]
    async with charger(nursery, csms, state_dir=state) as cp:
        again = await cp.registered(connection=2)  # steps 7-10
        assert again.calls("BootNotification")
        boot = {
            c.payload["connectorId"]: c.payload["status"] for c in again.calls("StatusNotification")
        }
        assert boot == {0: "Available", 1: "Unavailable"}
        answer = await again.call(call.ChangeAvailability(connector_id=1, type="Operative"))
        assert answer.status == "Accepted"  # steps 11-12
        await status(again, 1, "Available")  # steps 13-14


async def test_tc_015_hard_reset_with_transaction(nursery, start_csms, autojump_clock, tmp_path):
    """TC_015 (Hard Reset With Transaction; the CS text is not among the pages read): Charging;
    Reset Hard Accepted; the transaction is stopped with reason HardReset before the reboot
    (1.6 §5.14); after it, BootNotification and the connectors Available again."""
    await reset_with_transaction(nursery, start_csms, tmp_path, "Hard")


async def test_tc_016_soft_reset_with_transaction(nursery, start_csms, autojump_clock, tmp_path):
    """TC_016 (Soft Reset With Transaction; CS text not among the pages read): as TC_015 with
    a soft reset: StopTransaction reason SoftReset, then the boot."""
    await reset_with_transaction(nursery, start_csms, tmp_path, "Soft")


async def reset_with_transaction(
    nursery: trio.Nursery, start_csms: Any, state: Path, reset: str
) -> None:
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state) as cp:
        station = await cp.registered()
        await charging(cp, station)
        assert (await station.call(call.Reset(type=reset))).status == "Accepted"
        stop = await arrival(station, "StopTransaction")
        assert stop.payload["reason"] == f"{reset}Reset"
        with trio.fail_after(60):
            await cp.done.wait()
        assert not cp.world(1).contactor_closed
    async with charger(nursery, csms, state_dir=state) as cp:
        again = await cp.registered(connection=2)
        assert again.calls("BootNotification")
        await trio.sleep(5)
        assert not again.calls("StopTransaction"), "the stop was delivered once, before"
        assert {c.payload["status"] for c in again.calls("StatusNotification")} == {"Available"}


# --- Unlock connector -----------------------------------------------------------------------------


async def test_tc_017_1_unlock_connector_no_charging_session_not_fixed_cable(
    nursery, start_csms, autojump_clock
):
    """TC_017_1_CS: a socket with a cable lock, no transaction: UnlockConnector Unlocked."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LOCK) as cp:
        station = await cp.registered()
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "Unlocked"
        assert not cp.parts.hardware.connectors[1].lock.locked


async def test_tc_017_2_unlock_connector_no_charging_session_fixed_cable(
    nursery, start_csms, autojump_clock
):
    """TC_017_2_CS: a fixed cable (no lock configured): UnlockConnector NotSupported."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "NotSupported"


async def test_tc_018_1_unlock_connector_with_charging_session_not_fixed_cable(
    nursery, start_csms, autojump_clock
):
    """TC_018_1_CS: Charging; UnlockConnector Unlocked; StopTransaction reason UnlockCommand;
    Finishing; the cable out: Available."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LOCK) as cp:
        station = await cp.registered()
        await charging(cp, station)
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "Unlocked"  # steps 1-2
        stop = await arrival(station, "StopTransaction")  # steps 3-4
        assert stop.payload["reason"] == "UnlockCommand"
        await status(station, 1, "Finishing")  # steps 5-6
        await cp.sim("unplug", 1)
        await status(station, 1, "Available", count=2)  # steps 7-8
        assert not cp.parts.hardware.connectors[1].lock.locked


async def test_tc_018_2_unlock_connector_with_charging_session_fixed_cable(
    nursery, start_csms, autojump_clock
):
    """TC_018_2 (with a charging session, fixed cable; CS text not among the pages read):
    UnlockConnector NotSupported, and the transaction goes on (UnlockConnector is no remote
    stop, 1.6 §5.18)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "NotSupported"
        await trio.sleep(5)
        assert not station.calls("StopTransaction")
        assert cp.world(1).contactor_closed


# --- Configuration --------------------------------------------------------------------------------


# TC_019_CS's accessibility table: R (readonly), RW (writable) or None (either).
REQUIRED_KEYS: dict[str, dict[str, bool | None]] = {
    "Core": {
        "AuthorizeRemoteTxRequests": None,
        "ClockAlignedDataInterval": False,
        "ConnectionTimeOut": False,
        "ConnectorPhaseRotation": False,
        "GetConfigurationMaxKeys": True,
        "HeartbeatInterval": False,
        "LocalAuthorizeOffline": False,
        "LocalPreAuthorize": False,
        "MeterValuesAlignedData": False,
        "MeterValuesSampledData": False,
        "MeterValueSampleInterval": False,
        "NumberOfConnectors": True,
        "ResetRetries": False,
        "StopTransactionOnEVSideDisconnect": False,
        "StopTransactionOnInvalidId": False,
        "StopTxnAlignedData": False,
        "StopTxnSampledData": False,
        "SupportedFeatureProfiles": True,
        "TransactionMessageAttempts": False,
        "TransactionMessageRetryInterval": False,
        "UnlockConnectorOnEVSideDisconnect": False,
    },
    "LocalAuthListManagement": {
        "LocalAuthListEnabled": False,
        "LocalAuthListMaxLength": True,
        "SendLocalListMaxLength": True,
    },
    "SmartCharging": {
        "ChargeProfileMaxStackLevel": True,
        "ChargingScheduleAllowedChargingRateUnit": True,
        "ChargingScheduleMaxPeriods": True,
        "MaxChargingProfilesInstalled": True,
    },
}


async def test_tc_019_retrieve_configuration(nursery, start_csms, autojump_clock):
    """TC_019_CS: GetConfiguration SupportedFeatureProfiles: no unknownKey, a comma-separated
    list with Core; GetConfiguration of every key: at least the required keys of the
    supported profiles, each with the accessibility (readonly) of the case's table; a single
    key asked for is answered alone. The AuthorizationKey, when set, is never read back."""
    csms = await start_csms()
    keys = {"AuthorizationKey": "0123456789abcdef0123456789abcdef"}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        profiles = await station.call(call.GetConfiguration(key=["SupportedFeatureProfiles"]))
        assert not profiles.unknown_key
        [entry] = profiles.configuration_key
        supported = entry["value"].split(",")
        assert "Core" in supported
        every = await station.call(call.GetConfiguration())
        got = {k["key"]: k for k in every.configuration_key}
        for profile in supported:
            for key, readonly in REQUIRED_KEYS.get(profile, {}).items():
                assert key in got, (profile, key)
                if readonly is not None:
                    assert got[key]["readonly"] is readonly, key
        one = await station.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert [k["key"] for k in one.configuration_key] == ["HeartbeatInterval"]
        secret = got.get("AuthorizationKey")
        assert secret is None or "0123456789abcdef" not in str(secret.get("value"))


async def test_tc_021_change_set_configuration(nursery, start_csms, autojump_clock):
    """TC_021 (Change/set Configuration; CS text not among the pages read): ChangeConfiguration
    of a writable key Accepted; GetConfiguration shows the new value; it applies (here the
    MeterValueSampleInterval of the next transaction)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(
            call.ChangeConfiguration(key="MeterValueSampleInterval", value="20")
        )
        assert answer.status == "Accepted"
        read = await station.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
        assert read.configuration_key[0]["value"] == "20"
        await charging(cp, station)
        await trio.sleep(61)
        samples = station.calls("MeterValues")
        assert 2 <= len(samples) <= 4
        gaps = {
            round(
                (
                    stamp(b.payload["meterValue"][0]) - stamp(a.payload["meterValue"][0])
                ).total_seconds()
            )
            for a, b in itertools.pairwise(samples)
        }
        assert gaps == {20}


async def test_tc_040_1_configuration_keys_not_supported(nursery, start_csms, autojump_clock):
    """TC_040_1_CS: ChangeConfiguration of key "Testing", value "true" (a key the charge point
    does not have): NotSupported."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeConfiguration(key="Testing", value="true"))
        assert answer.status == "NotSupported"
        read = await station.call(call.GetConfiguration(key=["Testing"]))
        assert read.unknown_key == ["Testing"]


async def test_tc_040_2_configuration_keys_invalid_value(nursery, start_csms, autojump_clock):
    """TC_040_2 (Configuration keys - Invalid value; CS text not among the pages read):
    ChangeConfiguration with a value the key does not take: Rejected, and nothing changes."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        before = cp.keys.get_int("MeterValueSampleInterval")
        for value in ("-1", "abc"):
            answer = await station.call(
                call.ChangeConfiguration(key="MeterValueSampleInterval", value=value)
            )
            assert answer.status == "Rejected"
        assert cp.keys.get_int("MeterValueSampleInterval") == before


# --- Authorization, not happy ---------------------------------------------------------------------


async def test_tc_023_start_charging_session_authorize_invalid(nursery, start_csms, autojump_clock):
    """TC_023_CS: MinimumStatusDuration 10, LocalPreAuthorize true; an invalid card:
    Authorize.conf Invalid; the cable: Preparing; no transaction starts."""
    csms = await start_csms(tags={INVALID: "Invalid"})
    keys = {"MinimumStatusDuration": 10, "LocalPreAuthorize": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        with pytest.raises(ControlRefused):
            await cp.swipe(INVALID)
        authorize = await arrival(station, "Authorize")  # steps 1-2
        assert authorize.payload["idTag"] == INVALID
        await cp.sim("plug", 1)
        await status(station, 1, "Preparing")  # steps 3-4
        await trio.sleep(60)
        assert not station.calls("StartTransaction")
        assert not cp.world(1).contactor_closed


async def test_tc_024_start_charging_session_lock_failure(nursery, start_csms, autojump_clock):
    """TC_024_CS: GetConfiguration AuthorizeRemoteTxRequests; RemoteStartTransaction Accepted;
    Preparing; the cable goes in but the lock does not lock (here the lock driver reports
    the failure): a StatusNotification Faulted with ConnectorLockFailure (the CSMS side's
    validation) and no transaction."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LOCK) as cp:
        station = await cp.registered()
        read = await station.call(call.GetConfiguration(key=["AuthorizeRemoteTxRequests"]))
        assert read.configuration_key[0]["key"] == "AuthorizeRemoteTxRequests"  # steps 1-2
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Accepted"  # steps 3-4
        await status(station, 1, "Preparing")  # steps 7-8
        await cp.sim("fault", 1, error_code="ConnectorLockFailure")
        await cp.sim("plug", 1)
        faulted = await status(station, 1, "Faulted")  # steps 9-10
        assert faulted.payload["errorCode"] == "ConnectorLockFailure"
        await trio.sleep(60)
        assert not station.calls("StartTransaction")
        assert not cp.world(1).contactor_closed


# --- Remote actions, not happy --------------------------------------------------------------------


async def test_tc_026_remote_start_charging_session_rejected(nursery, start_csms, autojump_clock):
    """TC_026_CS: LocalPreAuthorize false; Charging; a RemoteStartTransaction for the
    connector of that transaction is Rejected (and one for a connector the charge point does
    not have too); nothing new starts."""
    csms = await start_csms()
    async with charger(nursery, csms, keys={"LocalPreAuthorize": False}) as cp:
        station = await cp.registered()
        await charging(cp, station)
        for connector in (1, 2):
            answer = await station.call(
                call.RemoteStartTransaction(id_tag=TAG2, connector_id=connector)
            )
            assert answer.status == "Rejected"
        await trio.sleep(5)
        assert len(station.calls("StartTransaction")) == 1


async def test_tc_027_remote_start_transaction_connector_id_shall_not_be_0(
    nursery, start_csms, autojump_clock
):
    """TC_027_CS: RemoteStartTransaction with connectorId 0: Rejected (the text allows a
    CallError too; 1.6 §5.11: a transaction never starts on connector 0)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=0))
        assert answer.status == "Rejected"
        await trio.sleep(5)
        assert not station.calls("StartTransaction")


async def test_tc_028_remote_stop_transaction_rejected(nursery, start_csms, autojump_clock):
    """TC_028 (Remote Stop Transaction - Rejected; the CSMS side's text): Charging; a
    RemoteStopTransaction for an unknown transactionId is Rejected; the transaction goes on."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        answer = await station.call(call.RemoteStopTransaction(transaction_id=4711))
        assert answer.status == "Rejected"
        await trio.sleep(5)
        assert not station.calls("StopTransaction")
        assert cp.world(1).contactor_closed


# --- Unlock, not happy ----------------------------------------------------------------------------


async def test_tc_030_unlock_connector_unlock_failure(nursery, start_csms, autojump_clock):
    """TC_030 (Unlock Connector - Unlock Failure; CS text not among the pages read):
    UnlockConnector answers UnlockFailed when the lock did not open."""
    csms = await start_csms()
    extra = '[connector.lock]\ndriver = "sim"\nfail = true\n'
    async with charger(nursery, csms, connector_extra=extra) as cp:
        station = await cp.registered()
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "UnlockFailed"


async def test_tc_031_unlock_connector_unknown_connector(nursery, start_csms, autojump_clock):
    """TC_031 (Unlock Connector - Unknown Connector; the CSMS side's text): UnlockConnector
    for a connector the charge point does not have: NotSupported (errata: UnlockFailed only
    when the lock was tried and failed)."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=LOCK) as cp:
        station = await cp.registered()
        answer = await station.call(call.UnlockConnector(connector_id=7))
        assert answer.status == "NotSupported"


# --- Power failure --------------------------------------------------------------------------------


async def test_tc_032_2_power_failure_stops_the_transaction_after_boot(
    nursery, start_csms, autojump_clock, tmp_path
):
    """TC_032_2_CS (no back-up power): Charging; the power goes and comes back (the daemon
    dies, no StopTransaction before it); BootNotification; StatusNotification of connector 0
    and every connector; the transaction is not resumed: StopTransaction reason PowerLoss;
    the connector is not Charging (the order of steps 3-7 may differ)."""
    csms = await start_csms()
    async with trio.open_nursery() as doomed, charger(doomed, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        start = await charging(cp, station)
        await trio.sleep(120)
        doomed.cancel_scope.cancel()  # the power is cut: nothing more leaves the charger
    assert not station.calls("StopTransaction")
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        again = await cp.registered(connection=2)  # steps 1-4
        stop = await arrival(again, "StopTransaction")  # steps 5-6
        assert stop.payload["reason"] == "PowerLoss"
        assert stop.payload["transactionId"] == 1
        assert stop.payload["meterStop"] >= start["meterStart"]
        await trio.sleep(5)
        assert "Charging" not in statuses(again)
        assert not cp.world(1).contactor_closed


async def test_tc_034_power_failure_with_unavailable_status(
    nursery, start_csms, autojump_clock, tmp_path
):
    """TC_034_CS: ChangeAvailability connector 0 Inoperative Accepted; Unavailable for
    connector 0 and every connector; the power goes and comes back; after the boot every
    StatusNotification is Unavailable (a persistent state, 1.6 §5.14)."""
    csms = await start_csms()
    async with (
        trio.open_nursery() as doomed,
        charger(doomed, csms, state_dir=tmp_path, connectors=2) as cp,
    ):
        station = await cp.registered()
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
        assert answer.status == "Accepted"  # steps 1-2
        for cid in (0, 1, 2):
            await status(station, cid, "Unavailable")  # steps 3-4
        doomed.cancel_scope.cancel()
    async with charger(nursery, csms, state_dir=tmp_path, connectors=2) as cp:
        again = await cp.registered(connection=2)  # steps 5-6
        boot = {
            c.payload["connectorId"]: c.payload["status"] for c in again.calls("StatusNotification")
        }
        assert boot == {0: "Unavailable", 1: "Unavailable", 2: "Unavailable"}  # steps 7-8
        with pytest.raises(ControlRefused):
            await cp.swipe(TAG)


# --- Offline behaviour ----------------------------------------------------------------------------


async def test_tc_036_connection_loss_during_transaction(nursery, start_csms, autojump_clock):
    """TC_036_CS: MeterValueSampleInterval configured; Charging; the connection is lost for
    several sample intervals, then restored: every queued MeterValues.req arrives, in
    chronological order and before any new one, spaced by the interval, with format Raw
    (or omitted) and context Sample.Periodic (or omitted)."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    interval = 30
    keys = {"MeterValueSampleInterval": interval, "ClockAlignedDataInterval": 0}
    async with charger(nursery, csms, url=proxy.url, keys=keys) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await trio.sleep(interval + 1)
        online = len(station.calls("MeterValues"))
        await offline(proxy, cp)
        await trio.sleep(5 * interval)  # at least 3 samples while offline
        proxy.refuse = False
        again = await cp.station(connection=2)
        with trio.fail_after(600):
            while len(again.calls("MeterValues")) < 5:
                await trio.sleep(1)
        await trio.sleep(2 * interval)
        samples = [c.payload for c in station.calls("MeterValues")]
        samples += [c.payload for c in again.calls("MeterValues")]
        assert online >= 1
        times = [stamp(p["meterValue"][0]) for p in samples]
        assert times == sorted(times), "queued values first, in chronological order"
        gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(times)}
        assert gaps == {interval}, "none lost: every interval is there"
        for payload in samples:
            for value in payload["meterValue"][0]["sampledValue"]:
                assert value.get("format", "Raw") == "Raw"
                assert value.get("context", "Sample.Periodic") == "Sample.Periodic"


async def offline_keys(**more: Any) -> dict[str, Any]:
    return {"LocalAuthorizeOffline": True, "AuthorizationCacheEnabled": True, **more}


async def test_tc_037_1_offline_start_transaction_valid_idtag(nursery, start_csms, autojump_clock):
    """TC_037_1_CS: LocalAuthorizeOffline, the cache and (here) the local list on, the valid
    tag cached; offline, the driver starts with it; once connectivity is restored:
    StartTransaction (Accepted), and Charging."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys=await offline_keys()) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)  # Memory State IdTagCached
        await arrival(station, "Authorize")
        await status(station, 1, "Available", count=2)
        await offline(proxy, cp)
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe(TAG)
        assert cp.world(1).contactor_closed
        await trio.sleep(60)
        proxy.refuse = False
        again = await cp.station(connection=2)
        start = await arrival(again, "StartTransaction")  # steps 1-2
        assert start.payload["idTag"] == TAG
        await status(again, 1, "Charging")  # steps 3-4


@pytest.mark.parametrize("stop_on_invalid", [False, True])
async def test_tc_037_2_3_offline_start_transaction_invalid_idtag(
    nursery, start_csms, autojump_clock, stop_on_invalid
):
    """TC_037_2 / TC_037_3 (Offline Start Transaction - Invalid IdTag, with
    StopTransactionOnInvalidId false / true; the CS texts are not among the pages read, the
    steps of TC_037_1): offline, a tag started with AllowOfflineTxForUnknownId; back online the
    StartTransaction.conf says Invalid: with StopTransactionOnInvalidId true the transaction
    stops (DeAuthorized), with false the energy is suspended (SuspendedEVSE, 1.6 §3.5.4)."""
    csms = await start_csms(tags={INVALID: "Invalid"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    keys = await offline_keys(
        AllowOfflineTxForUnknownId=True, StopTransactionOnInvalidId=stop_on_invalid
    )
    async with charger(nursery, csms, url=proxy.url, keys=keys) as cp:
        await cp.registered()
        await offline(proxy, cp)
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe(INVALID)
        await trio.sleep(60)
        proxy.refuse = False
        again = await cp.station(connection=2)
        start = await arrival(again, "StartTransaction")
        assert start.payload["idTag"] == INVALID
        if stop_on_invalid:
            stop = await arrival(again, "StopTransaction")
            assert stop.payload["reason"] == "DeAuthorized"
        else:
            await status(again, 1, "SuspendedEVSE")
            await trio.sleep(10)
            assert not again.calls("StopTransaction")
        assert not cp.world(1).contactor_closed


async def test_tc_038_offline_stop_transaction(nursery, start_csms, autojump_clock):
    """TC_038_CS: Charging; offline, the driver stops the transaction; connectivity restored:
    StopTransaction with reason Local (or omitted) and Finishing (in either order)."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await offline(proxy, cp)
        await cp.swipe(TAG)
        assert not cp.world(1).contactor_closed
        await trio.sleep(60)
        proxy.refuse = False
        again = await cp.station(connection=2)
        stop = await arrival(again, "StopTransaction")  # steps 1-2
        assert stop.payload.get("reason", "Local") == "Local"
        await status(again, 1, "Finishing")  # steps 3-4


async def test_tc_039_offline_transaction(nursery, start_csms, autojump_clock):
    """TC_039_CS: offline, a transaction starts and stops and the cable is removed;
    connectivity restored: StartTransaction (Accepted) then StopTransaction with reason Local
    (or omitted), for the same transaction."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys=await offline_keys()) as cp:
        station = await cp.registered()
        await cp.swipe(TAG)  # cached, so it is valid offline
        await arrival(station, "Authorize")
        await status(station, 1, "Available", count=2)
        await offline(proxy, cp)
        await cp.sim("plug", 1)
        assert "charging" in await cp.swipe(TAG)
        await trio.sleep(600)
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        proxy.refuse = False
        again = await cp.station(connection=2)
        start = await arrival(again, "StartTransaction")  # steps 1-2
        stop = await arrival(again, "StopTransaction")  # steps 3-4
        assert start.t <= stop.t
        assert stop.payload.get("reason", "Local") == "Local"
        assert stop.payload["transactionId"] == 1  # the id the central system gave the start
        assert stamp(stop.payload) > stamp(start.payload)


# --- Fault behaviour ------------------------------------------------------------------------------


async def test_tc_041_fault_behavior(nursery, start_csms, autojump_clock):
    """TC_041_CS: the charge point in a fault state: StatusNotification Faulted; the EV
    driver tries to start a transaction: none starts (the tool waits the configured
    transaction duration)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("fault", 1, error_code="GroundFailure")
        await status(station, 1, "Faulted")  # steps 1-2
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused):
            await cp.swipe(TAG)
        answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=1))
        assert answer.status == "Rejected"
        await trio.sleep(300)  # step 3
        assert not station.calls("StartTransaction")
        assert not cp.world(1).contactor_closed


# --- Data transfer --------------------------------------------------------------------------------


async def test_tc_062_data_transfer_to_a_charge_point(nursery, start_csms, autojump_clock):
    """TC_062_CS: a DataTransfer.req with a vendorId the charge point does not support is not
    accepted: Rejected, UnknownMessageId or UnknownVendorId (ocppd: UnknownVendorId)."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(
            call.DataTransfer(vendor_id="org.openchargealliance.octt", message_id="test")
        )
        assert answer.status in ("Rejected", "UnknownMessageId", "UnknownVendorId")
        assert answer.status == "UnknownVendorId"


# --- Remote trigger -------------------------------------------------------------------------------


async def test_tc_054_trigger_message(nursery, start_csms, autojump_clock):
    """TC_054_CS: TriggerMessage for MeterValues, Heartbeat, StatusNotification,
    DiagnosticsStatusNotification and FirmwareStatusNotification (the last two "if
    implemented": ocppd has both): each Accepted, then the message requested; with nothing
    in progress the two notifications say Idle (1.6 §4.4, §4.5)."""
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        asked = [
            ("MeterValues", 1),
            ("Heartbeat", None),
            ("StatusNotification", 1),
            ("DiagnosticsStatusNotification", None),
            ("FirmwareStatusNotification", None),
        ]
        for message, connector in asked:
            before = len(station.calls(message))
            answer = await station.call(
                call.TriggerMessage(requested_message=message, connector_id=connector)
            )
            assert answer.status == "Accepted", message  # steps 2, 6, 10, 14, 18
            sent = await arrival(station, message, count=before + 1)  # steps 3, 7, 11, 15, 19
            if message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
                assert sent.payload["status"] == "Idle"
            if message == "MeterValues":
                assert sent.payload["connectorId"] == 1
                values = sent.payload["meterValue"][0]["sampledValue"]
                assert {v.get("context") for v in values} == {"Trigger"}
        assert not csms.violations


# --- Stop transaction with the same / parent idTag ------------------------------------------------


async def test_tc_068_stop_transaction_idtag_matches(nursery, start_csms, autojump_clock):
    """TC_068_CS: Charging; another card: no Authorize.req and no StopTransaction (one reader,
    one connector); the card that started it: StopTransaction with that idTag, Finishing."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        asked = len(station.calls("Authorize"))
        with pytest.raises(ControlRefused):
            await cp.swipe(TAG2)
        await trio.sleep(10)
        assert len(station.calls("Authorize")) == asked  # step 1
        assert not station.calls("StopTransaction")
        await cp.swipe(TAG)
        stop = await arrival(station, "StopTransaction")  # steps 3-4
        assert stop.payload["idTag"] == TAG
        await status(station, 1, "Finishing")  # steps 5-6


async def test_tc_069_stop_transaction_parent_idtag_matches(nursery, start_csms, autojump_clock):
    """TC_069_CS: Charging with a tag of a parent group; another tag of the same group: an
    Authorize.req for it, then StopTransaction with its idTag, Finishing."""
    csms = await start_csms()
    group = {"idTagInfo": {"status": "Accepted", "parentIdTag": "OCTTGROUP"}}
    csms.overrides["Authorize"] = lambda _station, _payload: group
    csms.overrides["StartTransaction"] = lambda _station, _payload: {"transactionId": 9, **group}
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await cp.swipe(TAG2)
        authorize = await arrival(station, "Authorize", count=2)  # steps 1-2
        assert authorize.payload["idTag"] == TAG2
        stop = await arrival(station, "StopTransaction")  # steps 3-4
        assert (stop.payload["idTag"], stop.payload["transactionId"]) == (TAG2, 9)
        await status(station, 1, "Finishing")  # steps 5-6


# --- Meter values ---------------------------------------------------------------------------------


async def test_tc_070_sampled_meter_values(nursery, start_csms, autojump_clock):
    """TC_070_CS: MeterValueSampleInterval x, ClockAlignedDataInterval 0; GetConfiguration
    MeterValuesSampledData; Charging; for three intervals a MeterValues.req every x seconds
    after the start, context Sample.Periodic, one sampledValue per configured measurand,
    no location EV (but for SoC)."""
    csms = await start_csms()
    interval = 45
    keys = {"MeterValueSampleInterval": interval, "ClockAlignedDataInterval": 0}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        read = await station.call(call.GetConfiguration(key=["MeterValuesSampledData"]))
        measurands = read.configuration_key[0]["value"].split(",")
        measurands = [m for m in measurands if m] or ["Energy.Active.Import.Register"]
        start = await charging(cp, station)
        await trio.sleep(3 * interval + 1)
        samples = [c.payload for c in station.calls("MeterValues")]
        assert len(samples) == 3
        times = [stamp(p["meterValue"][0]) for p in samples]
        offsets = [round((t - stamp(start)).total_seconds()) for t in times]
        assert offsets == [interval, 2 * interval, 3 * interval]
        for payload in samples:
            values = payload["meterValue"][0]["sampledValue"]
            assert {v.get("context") for v in values} == {"Sample.Periodic"}
            assert {v.get("measurand", "Energy.Active.Import.Register") for v in values} == set(
                measurands
            )
            for value in values:
                if value.get("measurand") != "SoC":
                    assert value.get("location") != "EV"


async def test_tc_071_clock_aligned_meter_values(nursery, start_csms, autojump_clock):
    """TC_071 (Clock-aligned Meter Values; CS text not among the pages read):
    ClockAlignedDataInterval x, MeterValueSampleInterval 0; MeterValuesAlignedData read;
    MeterValues at the clock boundaries (a multiple of x after midnight), context
    Sample.Clock, one sampledValue per configured measurand."""
    csms = await start_csms()
    interval = 300
    keys = {"ClockAlignedDataInterval": interval, "MeterValueSampleInterval": 0}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        read = await station.call(call.GetConfiguration(key=["MeterValuesAlignedData"]))
        measurands = [m for m in read.configuration_key[0]["value"].split(",") if m]
        await charging(cp, station)
        await trio.sleep(3 * interval + 1)
        samples = [c.payload for c in station.calls("MeterValues") if c.payload["connectorId"] == 1]
        assert len(samples) >= 3
        for payload in samples:
            moment = stamp(payload["meterValue"][0])
            seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
            assert seconds % interval == 0 and moment.microsecond == 0
            values = payload["meterValue"][0]["sampledValue"]
            assert {v.get("context") for v in values} == {"Sample.Clock"}
            if measurands:
                assert {v.get("measurand", "Energy.Active.Import.Register") for v in values} == set(
                    measurands
                )
