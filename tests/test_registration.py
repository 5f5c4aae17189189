"""Registration: BootNotification until Accepted, with the timing each answer demands."""

from __future__ import annotations

import trio

from tests.harness import charger


async def test_accepted_reports_connector_zero_and_every_connector(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=120)
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        # StartupOfTheDevice goes through the outbox, beside the status reports
        told = [c.action for c in station.inbox if c.action != "SecurityEventNotification"]
        assert told[:4] == [
            "BootNotification",
            "StatusNotification",
            "StatusNotification",
            "StatusNotification",
        ]
        boot = station.inbox[0].payload
        assert boot["chargePointVendor"] == "ocppd-tests"
        assert boot["chargePointSerialNumber"] == "T-0001"
        statuses = [
            (c.payload["connectorId"], c.payload["status"])
            for c in station.calls("StatusNotification")
        ]
        assert statuses == [(0, "Available"), (1, "Available"), (2, "Available")]
        assert cp.keys.get_int("HeartbeatInterval") == 120
        assert not csms.violations


async def test_heartbeat_follows_the_interval_from_the_boot_answer(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=300)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        boot_at = station.calls("BootNotification")[0].t
        await trio.sleep(3 * 300 + 5)
        beats = [c.t - boot_at for c in station.calls("Heartbeat")]
        assert len(beats) == 3
        for n, t in enumerate(beats, start=1):
            assert abs(t - n * 300) < 2, beats


async def test_pending_answers_the_central_system_but_sends_nothing_until_the_interval(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(boot_status="Pending", heartbeat_interval=100)
    async with charger(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        # while Pending the central system may configure the charge point
        from ocpp.v16 import call

        response = await station.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert response.configuration_key[0]["key"] == "HeartbeatInterval"
        started = await station.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1))
        assert started.status == "Rejected"
        await trio.sleep(90)
        assert [c.action for c in station.inbox] == ["BootNotification"]
        csms.boot_status = "Accepted"
        await station.wait_for("BootNotification", count=2)
        second = station.calls("BootNotification")[1].t - station.calls("BootNotification")[0].t
        assert 99 <= second <= 102
        await cp.registered()
        assert not csms.violations


async def test_rejected_sends_nothing_and_answers_nothing_until_the_interval(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(boot_status="Rejected", heartbeat_interval=200)
    async with charger(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        from ocpp.v16 import call

        with trio.move_on_after(150) as scope:
            await station.call(call.GetConfiguration(), timeout=150)
        assert scope.cancelled_caught, "a Rejected charge point must not answer"
        assert [c.action for c in station.inbox] == ["BootNotification"]
        csms.boot_status = "Accepted"
        await station.wait_for("BootNotification", count=2)
        gap = station.calls("BootNotification")[1].t - station.calls("BootNotification")[0].t
        assert 199 <= gap <= 202
        await cp.registered()
        response = await station.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        assert response.configuration_key[0]["value"] == "1"
