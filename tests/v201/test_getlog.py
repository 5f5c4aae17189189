"""GetLog in OCPP 2.0.1 (N01) against the independent 2.0.1 central system: the security log
or the diagnostics bundle uploaded to a real HTTP server on loopback, reported by
LogStatusNotification with the requestId, in 2.0.1, through the outbox. OCTT cases:
TC_N_25_CS (diagnostics log), TC_N_26_CS (upload failed), TC_N_35_CS (security log),
TC_N_36_CS (a second request cancels the first).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v201 import call

from ocppd.features.firmware.logs import LogVerdict
from ocppd.features.v201.firmware import LOG_STATUS_WORDS
from tests.fileservers import FtpServer, HttpServer
from tests.v201.harness import charger201, registered

STATUS = "LogStatusNotification"


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


def log_statuses(station: Any) -> list[tuple[str, int | None]]:
    return [(c.payload["status"], c.payload.get("requestId")) for c in station.calls(STATUS)]


async def get_log(station: Any, log_type: str, location: str, request_id: int, **extra: Any) -> Any:
    return await station.call(
        call.GetLog(
            log={"remoteLocation": location}, log_type=log_type, request_id=request_id, **extra
        )
    )


def test_every_log_verdict_has_a_2_0_1_word():
    assert set(LOG_STATUS_WORDS) == set(LogVerdict)


async def test_tc_n_35_the_security_log_is_uploaded_and_reported(
    nursery, start_csms201, autojump_clock, http
):
    """OCTT TC_N_35_CS: Accepted with a file name, Uploading, Uploaded, same requestId."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await get_log(station, "SecurityLog", http.url("/logs/"), 35)
        assert answer.status == "Accepted" and answer.filename.endswith(".log")
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "Uploaded")
        assert log_statuses(station) == [("Uploading", 35), ("Uploaded", 35)]
        assert b"StartupOfTheDevice ocppd" in http.received["/logs/"]
        assert not list((cp.state_dir / "diagnostics").glob("*"))  # the local copy is gone
    assert csms.violations == []


async def test_tc_n_25_the_diagnostics_log_is_the_diagnostics_bundle(
    nursery, start_csms201, autojump_clock, http
):
    """OCTT TC_N_25_CS: the bundle of GetDiagnostics, a gzip'd tar, uploaded."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await get_log(station, "DiagnosticsLog", http.url("/d/"), 25)
        assert answer.status == "Accepted" and answer.filename.endswith(".tar.gz")
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "Uploaded")
        assert log_statuses(station) == [("Uploading", 25), ("Uploaded", 25)]
        body = http.received["/d/"]  # a multipart form: the file inside it
        start = body.index(b"\x1f\x8b")
        with tarfile.open(fileobj=io.BytesIO(body[start:]), mode="r:gz") as bundle:
            assert any(
                name.endswith("config.toml") or "config" in name for name in bundle.getnames()
            )
    assert csms.violations == []


async def test_tc_n_26_upload_failure_after_the_retries(
    nursery, start_csms201, autojump_clock, http
):
    """OCTT TC_N_26_CS: retries 3; every attempt refused: Uploading once, UploadFailure."""
    http.fail_first["/busy/"] = 10
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await get_log(
            station, "DiagnosticsLog", http.url("/busy/"), 26, retries=3, retry_interval=30
        )
        assert answer.status == "Accepted"
        with trio.fail_after(600):
            await station.wait_for(STATUS, lambda p: p["status"] == "UploadFailure")
        assert log_statuses(station) == [("Uploading", 26), ("UploadFailure", 26)]
        assert [p for _, p in http.requests].count("/busy/") == 4
    assert csms.violations == []


async def test_tc_n_36_a_second_request_cancels_the_first(
    nursery, start_csms201, autojump_clock, http
):
    """OCTT TC_N_36_CS: the second GetLog is AcceptedCanceled; the first upload is reported
    AcceptedCanceled with its own requestId, then the second runs (N01.FR.12)."""
    http.stall.add("/slow/")
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert (await get_log(station, "SecurityLog", http.url("/slow/"), 1)).status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for(STATUS, lambda p: p["status"] == "Uploading")
        # a trigger meanwhile names the upload that runs
        assert (await station.call(call.TriggerMessage(requested_message=STATUS))).status == (
            "Accepted"
        )
        with trio.fail_after(10):
            await station.wait_for(STATUS, count=2)
        answer = await get_log(station, "SecurityLog", http.url("/fast/"), 2)
        assert answer.status == "AcceptedCanceled"
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "Uploaded")
        await trio.sleep(120)  # the first upload's stall timeout passes: it says nothing more
        assert log_statuses(station) == [
            ("Uploading", 1),
            ("Uploading", 1),  # the trigger's
            ("AcceptedCanceled", 1),
            ("Uploading", 2),
            ("Uploaded", 2),
        ]
        assert "/fast/" in http.received and "/slow/" not in http.received
        # nothing uploads now: a trigger says Idle, without a requestId
        await station.call(call.TriggerMessage(requested_message=STATUS))
        with trio.fail_after(10):
            await station.wait_for(STATUS, count=6)
        assert station.calls(STATUS)[-1].payload == {"status": "Idle"}
    assert csms.violations == []


async def test_a_location_it_cannot_use_is_rejected(nursery, start_csms201, autojump_clock):
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        answer = await get_log(station, "SecurityLog", "gopher://127.0.0.1/logs/", 3)
        assert answer.status == "Rejected"
        assert answer.status_info["reason_code"] == "UnsupportedProtocol"
        await trio.sleep(30)
        assert log_statuses(station) == []
    assert csms.violations == []


@pytest.fixture
def ftp(tmp_path: Path) -> Any:
    root = tmp_path / "ftp"
    root.mkdir()
    with FtpServer(root) as server:
        yield server


async def test_the_security_log_over_ftp_and_a_wrong_password(
    nursery, start_csms201, autojump_clock, ftp
):
    """FTP (FileTransferProtocols): a refused login is PermissionDenied, its password never
    sent back; the right one stores the file under the name the answer gave."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await get_log(station, "SecurityLog", ftp.url("/", "fw:wrong@"), 4)
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "PermissionDenied")
        answer = await get_log(station, "SecurityLog", ftp.url("/"), 5)
        assert answer.status == "Accepted"
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "Uploaded")
        assert log_statuses(station) == [
            ("Uploading", 4),
            ("PermissionDenied", 4),
            ("Uploading", 5),
            ("Uploaded", 5),
        ]
        assert b"StartupOfTheDevice" in (ftp.root / answer.filename).read_bytes()
        assert not [r for r in station.calls() if "wrong" in json.dumps(r.payload)]
    assert csms.violations == []


async def test_a_server_that_forbids_the_upload_is_permission_denied(
    nursery, start_csms201, autojump_clock, http
):
    """HTTP 403 at every attempt: PermissionDenied (UploadLogStatusEnumType), not
    UploadFailure."""
    http.deny.add("/closed/")
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        await get_log(station, "SecurityLog", http.url("/closed/"), 6, retries=1, retry_interval=5)
        with trio.fail_after(120):
            await station.wait_for(STATUS, lambda p: p["status"] == "PermissionDenied")
        assert log_statuses(station) == [("Uploading", 6), ("PermissionDenied", 6)]
        assert [p for _, p in http.requests].count("/closed/") == 2
    assert csms.violations == []
