"""The Core's "send now" verbs (Remote Trigger and OCPP 2.0.1 call them): each sends its
message to the real central system at once, and takes the answer as the loops do."""

from __future__ import annotations

import pytest
import trio

from ocppd.session import CallFailure
from tests.harness import charger
from tests.netutil import Proxy


async def test_send_boot_sends_a_boot_notification_and_takes_its_answer(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=120)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        csms.heartbeat_interval = 900
        status = await cp.parts.registration.send_boot()
        assert status == "Accepted" and cp.parts.registration.accepted
        assert len(station.calls("BootNotification")) == 2
        assert station.calls("BootNotification")[1].payload["chargePointVendor"] == "ocppd-tests"
        assert cp.keys.get_int("HeartbeatInterval") == 900
        assert not csms.violations


async def test_send_heartbeat_sends_a_heartbeat_now(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert station.calls("Heartbeat") == []
        await cp.parts.heartbeat.send_heartbeat()
        assert len(station.calls("Heartbeat")) == 1
        assert cp.parts.heartbeat.sent == 1
        assert not csms.violations


async def test_send_status_sends_a_connectors_current_status_with_the_time_it_began(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        reported = await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Preparing"
        )
        await trio.sleep(30)
        before = len(station.calls("StatusNotification"))
        await cp.parts.statuses.send_status(1)
        await cp.parts.statuses.send_status(0)
        sent = [c.payload for c in station.calls("StatusNotification")[before:]]
        assert [(p["connectorId"], p["status"], p["errorCode"]) for p in sent] == [
            (1, "Preparing", "NoError"),
            (0, "Available", "NoError"),
        ]
        assert sent[0]["timestamp"] == reported.payload["timestamp"]  # when it began, not now
        with pytest.raises(ValueError, match="no connector 7"):
            await cp.parts.statuses.send_status(7)
        # the edge-triggered reporter does not send what the verb already sent
        await trio.sleep(60)
        assert len(station.calls("StatusNotification")) == before + 2
        assert not csms.violations


async def test_without_a_link_the_verbs_fail_as_calls_do(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True  # the central system cannot be reached
    async with charger(nursery, csms, url=proxy.url) as cp:
        await trio.sleep(5)
        assert cp.parts.connection.session is None
        with pytest.raises(CallFailure, match="not connected"):
            await cp.parts.registration.send_boot()
        with pytest.raises(CallFailure, match="not connected"):
            await cp.parts.heartbeat.send_heartbeat()
        with pytest.raises(CallFailure, match="not connected"):
            await cp.parts.statuses.send_status(1)
