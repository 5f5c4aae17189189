"""GetLog and LogStatusNotification (security whitepaper N01; OCTT TC_079 Get Security Log):
the security log or the diagnostics bundle uploaded as GetDiagnostics uploads, to a real
HTTP server on loopback, with the status reported through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from tests.fileservers import HttpServer
from tests.harness import charger, csms_now


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


def log_statuses(station: Any) -> list[tuple[str, int | None]]:
    return [
        (c.payload["status"], c.payload.get("requestId"))
        for c in station.calls("LogStatusNotification")
    ]


async def _get_log(station: Any, log_type: str, location: str, **extra: Any) -> Any:
    return await station.call(
        call.GetLog(
            log={"remoteLocation": location, **extra.pop("window", {})}, log_type=log_type, **extra
        )
    )


async def test_the_security_log_is_uploaded_and_reported(nursery, start_csms, autojump_clock, http):
    """OCTT TC_079."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await _get_log(station, "SecurityLog", http.url("/logs/"), request_id=7)
        assert answer.status == "Accepted" and answer.filename.endswith(".log")
        with trio.fail_after(120):
            await station.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")
        assert log_statuses(station) == [("Uploading", 7), ("Uploaded", 7)]
        body = http.received["/logs/"]
        assert b"StartupOfTheDevice ocppd" in body
        assert not list((cp.state_dir / "diagnostics").glob("*"))  # the local copy is gone


async def test_the_security_log_window_leaves_out_older_lines(
    nursery, start_csms, autojump_clock, http
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await trio.sleep(3600)
        window = {"oldestTimestamp": (csms_now() - timedelta(minutes=5)).isoformat()}
        await station.call(call.ChangeConfiguration(key="AuthorizationKey", value="AB" * 16))
        station = await cp.station(connection=2)
        await _get_log(station, "SecurityLog", http.url("/w/"), request_id=8, window=window)
        with trio.fail_after(120):
            await station.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")
        body = http.received["/w/"]
        assert b"ReconfigurationOfSecurityParameters" in body
        assert b"StartupOfTheDevice" not in body  # an hour older than the window


async def test_the_diagnostics_log_is_the_diagnostics_bundle(
    nursery, start_csms, autojump_clock, http
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await _get_log(station, "DiagnosticsLog", http.url("/d/"), request_id=9)
        assert answer.filename.endswith(".tar.gz")
        with trio.fail_after(120):
            await station.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")
        assert b"\x1f\x8b" in http.received["/d/"]


async def test_a_location_that_cannot_be_used_is_rejected(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await _get_log(station, "SecurityLog", "gopher://127.0.0.1/x", request_id=1)
        assert answer.status == "Rejected" and answer.filename is None
        await trio.sleep(30)
        assert log_statuses(station) == []


async def test_an_upload_that_keeps_failing_is_an_upload_failure_after_its_retries(
    nursery, start_csms, autojump_clock, http
):
    csms = await start_csms()
    http.fail_first["/busy/"] = 10
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await _get_log(
            station, "SecurityLog", http.url("/busy/"), request_id=3, retries=2, retry_interval=30
        )
        with trio.fail_after(300):
            await station.wait_for(
                "LogStatusNotification", lambda p: p["status"] == "UploadFailure"
            )
        assert log_statuses(station) == [("Uploading", 3), ("UploadFailure", 3)]
        assert [p for _, p in http.requests].count("/busy/") == 3


async def test_extended_trigger_log_status_names_the_running_upload_else_idle(
    nursery, start_csms, autojump_clock, http
):
    """ExtendedTriggerMessage(LogStatusNotification): Accepted, then a LogStatusNotification
    after the answer: Uploading with the requestId of the upload that runs (here between
    two attempts), Idle without a requestId when none runs [N01.FR.12]."""
    csms = await start_csms()
    http.fail_first["/slow/"] = 1
    trigger = call.ExtendedTriggerMessage(requested_message="LogStatusNotification")
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        assert (await station.call(trigger)).status == "Accepted"
        idle = await station.wait_for("LogStatusNotification")
        assert idle.payload == {"status": "Idle"}
        await _get_log(
            station, "SecurityLog", http.url("/slow/"), request_id=12, retries=1, retry_interval=600
        )
        await station.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploading")
        await trio.sleep(60)  # the first attempt failed; the second waits its retryInterval
        assert (await station.call(trigger)).status == "Accepted"
        running = await station.wait_for("LogStatusNotification", count=3)
        assert running.payload == {"status": "Uploading", "requestId": 12}
        with trio.fail_after(900):
            await station.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")
        assert (await station.call(trigger)).status == "Accepted"
        after = await station.wait_for("LogStatusNotification", count=5)
        assert after.payload == {"status": "Idle"}
    assert log_statuses(station) == [
        ("Idle", None),
        ("Uploading", 12),
        ("Uploading", 12),
        ("Uploaded", 12),
        ("Idle", None),
    ]
