"""Registration, heartbeat and status in OCPP 2.0.1 (B01-B04, G01, G02) against the
independent 2.0.1 CSMS, and the choice of version at connect time."""

from __future__ import annotations

import itertools

import pytest
import trio
from ocpp.v201 import call

from ocppd import ctl
from tests.harness import charger
from tests.netutil import Proxy
from tests.v201.harness import BOTH, charger201, registered
from tests.v201.test_reset import OFFLINE_START


async def test_tc_b_01_cs_cold_boot_accepted_heartbeats_and_statuses(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_01_CS: a cold boot, Accepted; the heartbeat interval comes from the answer (G02),
    and every EVSE's status is reported (G01, B04.FR.02), with nothing the CSMS rejects."""
    csms = await start_csms201(heartbeat_interval=60)
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        assert csms.offers == [tuple(BOTH)]
        boot = station.calls("BootNotification")
        assert len(boot) == 1
        assert boot[0].payload["reason"] == "PowerUp"
        assert boot[0].payload["chargingStation"]["vendorName"] == "ocppd-tests"
        assert boot[0].payload["chargingStation"]["model"] == "sim"
        assert boot[0].payload["chargingStation"]["serialNumber"] == "T-0001"
        statuses = [
            (p["evseId"], p["connectorId"], p["connectorStatus"])
            for p in (r.payload for r in station.calls("StatusNotification"))
        ]
        assert statuses == [(1, 1, "Available"), (2, 1, "Available")]
        assert cp.keys.get_int("HeartbeatInterval") == 60
        await trio.sleep(601)
        beats = station.calls("Heartbeat")
        assert 9 <= len(beats) <= 11
        assert station.calls("BootNotification") == boot  # one boot per process
        status = await cp.status()
        assert status["connection"]["protocol"] == "ocpp2.0.1"
        assert "connected in ocpp2.0.1" in ctl.format_status(status)
        assert csms.violations == []


async def test_offering_both_to_a_16_central_system_speaks_16(
    nursery, start_csms, autojump_clock
) -> None:
    """The central system's choice decides: a 1.6-only one agrees to 1.6 and hears 1.6."""
    csms = await start_csms()
    async with charger201(nursery, csms) as cp:
        station = await cp.registered()
        assert csms.offers == [tuple(BOTH)]
        boot = station.calls("BootNotification")[0].payload
        assert boot["chargePointVendor"] == "ocppd-tests"
        assert "reason" not in boot
        assert {r.payload["connectorId"] for r in station.calls("StatusNotification")} == {0, 1}
        assert (await cp.status())["connection"]["protocol"] == "ocpp1.6"
        assert csms.violations == []


async def test_a_charger_offering_16_alone_is_refused_by_a_201_central_system(
    nursery, start_csms201, autojump_clock
) -> None:
    """Without ``ocpp.versions`` a charger speaks 1.6 only, as before the upgrade: a 2.0.1
    CSMS that speaks nothing else refuses the handshake, and the charger keeps trying."""
    csms = await start_csms201()
    async with charger(nursery, csms) as cp:
        await trio.sleep(30)
        assert csms.connections == []
        assert csms.offers and set(csms.offers) == {("ocpp1.6",)}
        assert (await cp.status())["connection"]["state"] != "connected"


async def test_tc_b_02_cs_pending_sends_nothing_but_what_is_triggered(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_02_CS: Pending: the station answers the CSMS (B02.FR.01), sends nothing of its own
    but what it is asked for (B02.FR.02), and boots again after the interval; once Accepted
    it reports its statuses."""
    csms = await start_csms201(boot_status="Pending", heartbeat_interval=30)
    async with charger201(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        await trio.sleep(10)
        assert [r.action for r in station.calls()] == ["BootNotification"]
        answer = await station.call(
            call.TriggerMessage(
                requested_message="StatusNotification", evse={"id": 1, "connector_id": 1}
            )
        )
        assert answer.status == "Accepted"
        triggered = await station.wait_for("StatusNotification")
        assert triggered.payload["connectorStatus"] == "Available"
        await station.wait_for("BootNotification", count=2)
        boots = station.calls("BootNotification")
        assert boots[1].t - boots[0].t >= 30
        assert {r.action for r in station.calls()} == {"BootNotification", "StatusNotification"}
        csms.boot_status = "Accepted"
        with trio.fail_after(80):  # the next boot (at 60 s), then a heartbeat 30 s later
            await station.wait_for("BootNotification", count=3)
            await station.wait_for("StatusNotification", count=2)
            await station.wait_for("Heartbeat")
        assert csms.violations == []


async def test_tc_b_02_cs_pending_the_csms_retrieves_a_base_report(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_02_CS with the retrieval B02 is for: while Pending the CSMS may retrieve
    information (B02.FR.01) with GetBaseReport, whose answer is the NotifyReports
    (B07.FR.03). They are what the CSMS asked for, so the strict CSMS counts no violation;
    nothing else goes out until Accepted (B02.FR.02)."""
    csms = await start_csms201(boot_status="Pending", heartbeat_interval=30)
    async with charger201(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        answer = await station.call(
            call.GetBaseReport(request_id=5, report_base="ConfigurationInventory")
        )
        assert answer.status == "Accepted"
        last = await station.wait_for("NotifyReport", lambda p: not p.get("tbc", False))
        assert last.payload["requestId"] == 5
        await trio.sleep(10)
        assert {r.action for r in station.calls()} == {"BootNotification", "NotifyReport"}
        assert csms.violations == []


async def test_tc_b_03_cs_rejected_is_silent_until_the_interval_but_for_a_triggered_boot(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_B_03_CS: Rejected: no message until the interval has passed (B03.FR.04) and no
    answer to the CSMS, but to the one call it may make then, a TriggerMessage for a
    BootNotification (B03.FR.08), whose boot says Triggered."""
    csms = await start_csms201(boot_status="Rejected", heartbeat_interval=300)
    async with charger201(nursery, csms) as cp:
        station = await cp.station()
        await station.wait_for("BootNotification")
        with pytest.raises(trio.TooSlowError):
            await station.call(call.Reset(type="Immediate"), timeout=10)
        await trio.sleep(100)
        boots = station.calls("BootNotification")
        assert [r.action for r in station.calls()] == ["BootNotification"] * len(boots)
        assert all(b.t - a.t >= 300 for a, b in itertools.pairwise(boots))
        assert cp.outcome == []  # the Reset was not taken either
        csms.boot_status = "Accepted"
        answer = await station.call(call.TriggerMessage(requested_message="BootNotification"))
        assert answer.status == "Accepted"
        boot = await station.wait_for("BootNotification", lambda p: p["reason"] == "Triggered")
        assert boot.t < 300
        await registered(cp)
        assert csms.violations == []


async def test_g01_statuses_as_201_says_them(nursery, start_csms201, autojump_clock) -> None:
    """G01: Occupied while a cable is in (1.6's Preparing, Charging, Finishing ... alike, so
    a change among those is no news), Faulted for a fault, Unavailable out of service."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await station.wait_for("StatusNotification", lambda p: p["connectorStatus"] == "Occupied")
        await cp.sim("fault", 1, error_code="GroundFailure")
        await station.wait_for("StatusNotification", lambda p: p["connectorStatus"] == "Faulted")
        await cp.sim("fault", 1, error_code="NoError")
        await cp.sim("unplug", 1)
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorStatus"] == "Available", count=2
        )
        await trio.sleep(5)
        said = [r.payload["connectorStatus"] for r in station.calls("StatusNotification")]
        assert said[0] == "Available" and said[-1] == "Available"
        assert "Faulted" in said
        assert all(a != b for a, b in itertools.pairwise(said))  # each one news
        assert all(r.payload["evseId"] == 1 for r in station.calls("StatusNotification"))
        assert csms.violations == []


async def test_b04_every_status_again_after_a_reconnect(
    nursery, start_csms201, autojump_clock
) -> None:
    """B04.FR.02: after the link was lost, the status of every connector is sent again (also
    the unchanged); the BootNotification is not (one per process)."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        await cp.sim("plug", 2)
        await station.wait_for("StatusNotification", lambda p: p["connectorStatus"] == "Occupied")
        await station.close()
        again = await registered(cp, connection=2)
        said = [(r.payload["evseId"], r.payload["connectorStatus"]) for r in again.calls()[:2]]
        assert said == [(1, "Available"), (2, "Occupied")]
        assert again.calls("BootNotification") == []
        assert csms.violations == []


async def test_a_transaction_stays_in_the_version_it_started_in(
    nursery, start_csms201, start_csms, autojump_clock, tmp_path
) -> None:
    """Design decision 5: a transaction that started over 1.6 ends in 1.6 whatever the next
    link speaks. Its StopTransaction, queued while the 1.6 link was down, is held on a 2.0.1
    link (``ocppctl status`` says for which version) while that link carries on, and a
    transaction started there is recorded in 2.0.1 behind it; the next 1.6 link delivers the
    1.6 stop and holds the 2.0.1 Started, which a 2.0.1 link delivers after it."""
    old = await start_csms()
    proxy = await nursery.start(Proxy(old.port).serve)
    keys = {**OFFLINE_START, "MeterValueSampleInterval": 60}
    # first a charger that offers 1.6 alone (its first start is recorded in 1.6), then both
    async with charger201(
        nursery, old, state_dir=tmp_path, url=proxy.url, keys=keys, versions=["ocpp1.6"]
    ) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-1")
        await station.wait_for("StartTransaction")
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await cp.swipe("TAG-1")  # stopped offline: the stop is queued in 1.6
        await cp.settle(5)
        assert [c for c in old.all_calls() if c.action == "StopTransaction"] == []
    csms = await start_csms201(heartbeat_interval=60)
    async with charger201(nursery, csms, state_dir=tmp_path, keys=keys) as cp:
        station = await registered(cp)
        await cp.sim("plug", 1)
        await cp.swipe("TAG-2")  # over 2.0.1: recorded in 2.0.1, passes the 1.6 stop
        with trio.fail_after(60):
            await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
        status = await cp.status()
        waiting = [m for m in await cp.journal.pending_messages() if m.protocol == "ocpp1.6"]
        assert "StopTransaction" in [m.action for m in waiting]
        assert status["queue"]["waiting_for"] == {"ocpp1.6": len(waiting)}
        assert status["queue"]["held_for"] == "ocpp1.6"
        assert f"{len(waiting)} wait for a connection in ocpp1.6" in ctl.format_status(status)
        await cp.swipe("TAG-2")
        ended = await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        assert ended.payload["idToken"]["idToken"] == "TAG-2"
        kinds = [c.payload["eventType"] for c in station.calls("TransactionEvent")]
        assert kinds[0] == "Started" and kinds[-1] == "Ended"
    assert csms.violations == []
    proxy.refuse = False
    async with charger201(nursery, old, state_dir=tmp_path, url=proxy.url, keys=keys) as cp:
        station = await cp.registered(connection=2)
        with trio.fail_after(60):
            stop = await station.wait_for("StopTransaction")
            while any(m.protocol == "ocpp1.6" for m in await cp.journal.pending_messages()):
                await trio.sleep(1)
        assert stop.payload["idTag"] == "TAG-1"
        starts = [c for c in old.all_calls() if c.action == "StartTransaction"]
        assert {c.payload["idTag"] for c in starts} == {"TAG-1"}
        assert "ocpp1.6" not in (await cp.status())["queue"]["waiting_for"]
    assert old.violations == []


async def test_a_faults_detail_is_a_notify_event(nursery, start_csms201, autojump_clock) -> None:
    """G01 says Faulted; what is wrong is a NotifyEvent (Problem true, the error code as
    techCode), and its end another (Problem false, cleared); after a reconnect a problem
    still there is told again."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await cp.sim("fault", 1, error_code="GroundFailure")
        event = (await station.wait_for("NotifyEvent")).payload["eventData"][0]
        assert event["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
        assert event["variable"] == {"name": "Problem"}
        assert (event["actualValue"], event["techCode"], event["trigger"]) == (
            "true",
            "GroundFailure",
            "Delta",
        )
        await station.close()
        again = await registered(cp, connection=2)
        with trio.fail_after(30):
            told = (await again.wait_for("NotifyEvent")).payload["eventData"][0]
        assert (told["actualValue"], told["techCode"]) == ("true", "GroundFailure")
        await cp.sim("fault", 1, error_code="NoError")
        cleared = (await again.wait_for("NotifyEvent", count=2)).payload["eventData"][0]
        assert (cleared["actualValue"], cleared.get("cleared")) == ("false", True)
        assert cleared["eventId"] != told["eventId"]
        await trio.sleep(5)
        assert len(again.calls("NotifyEvent")) == 2
    assert csms.violations == []


async def test_no_notify_event_over_16(nursery, start_csms, autojump_clock) -> None:
    csms = await start_csms()
    async with charger201(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("fault", 1, error_code="GroundFailure")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Faulted")
        await trio.sleep(5)
        assert csms.violations == []


async def test_a_reload_with_other_versions_dials_again_offering_them(
    nursery, start_csms, start_csms201, autojump_clock
) -> None:
    """``ocpp.versions`` is a setting of the link: a reload that changes it re-dials at once
    with the new offer (connected or not), as for the URL."""
    old = await start_csms()
    async with charger201(nursery, old, versions=["ocpp1.6"]) as cp:
        await cp.registered()
        text = cp.settings_text.replace('versions = ["ocpp1.6"]', 'versions = ["ocpp2.0.1"]')
        await trio.Path(cp.settings.path).write_text(text)
        assert cp.daemon.reload() == []
        with trio.fail_after(5):
            while len(old.offers) < 2:
                await trio.sleep(0.1)
        assert old.offers == [("ocpp1.6",), ("ocpp2.0.1",)]  # and refused: it speaks 1.6
    csms = await start_csms201()
    async with charger201(nursery, csms, versions=["ocpp1.6"]) as cp:
        await trio.sleep(10)
        assert csms.connections == []
        text = cp.settings_text.replace(
            'versions = ["ocpp1.6"]', 'versions = ["ocpp2.0.1", "ocpp1.6"]'
        )
        await trio.Path(cp.settings.path).write_text(text)
        assert cp.daemon.reload() == []
        fixed = trio.current_time()
        await registered(cp)
        assert trio.current_time() - fixed < 1
        assert (await cp.status())["connection"]["protocol"] == "ocpp2.0.1"
    assert csms.violations == []
