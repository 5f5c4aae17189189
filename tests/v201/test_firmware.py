"""Firmware management in OCPP 2.0.1 (L01 secure, L02 non-secure UpdateFirmware) against the
independent 2.0.1 central system, with real packages on a real HTTP server on 127.0.0.1
(tests/fileservers.py), a throwaway manufacturer CA and packages signed with ``openssl`` as
docs/security.md tells a maker to (tests/test_signed_firmware.py's Maker).

The job is 1.6's (one job, one journal): its statuses are FirmwareStatusNotifications with
the requestId, journaled with the phase they tell, so a restart sends each once. OCTT cases:
TC_L_01_CS (secure update), TC_L_02_CS (InstallScheduled), TC_L_03_CS (DownloadScheduled),
TC_L_07_CS (DownloadFailed), TC_L_08_CS (InstallVerificationFailed), TC_L_10_CS
(AcceptedCanceled).
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v201 import call

from ocppd import __version__
from ocppd.ctl import format_firmware
from ocppd.features.firmware.update import Verdict
from ocppd.features.v201.firmware import UPDATE_STATUS
from ocppd.testing.csms import CallFailed
from tests.fileservers import FtpServer, HttpServer
from tests.harness import csms_now
from tests.pki import to_pem
from tests.test_signed_firmware import Maker, bootstrap, helper_inbox, package
from tests.v201.harness import charger201, registered

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "dpkg-deb"], capture_output=True, check=False).returncode != 0,
    reason="needs dpkg-deb",
)

STATUS = "FirmwareStatusNotification"
EVENT = "SecurityEventNotification"
SECURE_RUN = ["Downloading", "Downloaded", "SignatureVerified", "Installing"]


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


def firmware(
    location: str,
    maker: Maker | None = None,
    signature: str | None = None,
    *,
    in_s: float = 0,
    install_in_s: float | None = None,
) -> dict[str, Any]:
    now = csms_now()
    fw: dict[str, Any] = {
        "location": location,
        "retrieveDateTime": (now + timedelta(seconds=in_s)).isoformat(),
    }
    if maker is not None:
        fw["signingCertificate"] = to_pem(maker.cert)
    if signature is not None:
        fw["signature"] = signature
    if install_in_s is not None:
        fw["installDateTime"] = (now + timedelta(seconds=install_in_s)).isoformat()
    return fw


async def update(station: Any, request_id: int, fw: dict[str, Any], **extra: Any) -> Any:
    return await station.call(call.UpdateFirmware(request_id=request_id, firmware=fw, **extra))


def reports(station: Any) -> list[tuple[str, int | None]]:
    return [(r.payload["status"], r.payload.get("requestId")) for r in station.calls(STATUS)]


def events(station: Any) -> list[str]:
    return [r.payload["type"] for r in station.calls(EVENT) if "Firmware" in r.payload["type"]]


async def secure_setup(tmp_path: Path, state_dir: Path, http: HttpServer) -> tuple[Maker, Path]:
    """A maker whose root the installer put on the charger, and its signed package served."""
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    bootstrap(state_dir, maker.root)
    return maker, deb


def test_every_verdict_has_a_2_0_1_word():
    assert set(UPDATE_STATUS) == set(Verdict)


async def test_tc_l_01_a_secure_update_is_verified_and_handed_to_the_helper(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_01_CS up to the hand-over: each status once, with the requestId, in 2.0.1."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        answer = await update(
            station, 101, firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        )
        assert answer.status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        await trio.sleep(5)
        assert reports(station) == [(s, 101) for s in SECURE_RUN]
        request = json.loads(helper_inbox(state_dir).read_text())
        assert (request["package"], request["version"]) == ("ocppd", "9.9.9")
        assert station.calls("SignedFirmwareStatusNotification") == []  # 1.6's word, not here
        assert events(station) == []
        assert cp.charger.held is not None  # no new session while the helper works
        # L01.FR.07: the EVSEs not in use are Unavailable until the installation ends
        with trio.fail_after(30):
            await station.wait_for(
                "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable"
            )
    assert csms.violations == []


async def test_tc_l_02_install_scheduled_then_installed_at_install_date_time(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_02_CS: InstallScheduled after SignatureVerified, Installing at the time."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb), install_in_s=3600)
        assert (await update(station, 102, fw)).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "InstallScheduled")
        await trio.sleep(1800)
        assert not helper_inbox(state_dir).exists()
        with trio.fail_after(3600):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        assert [s for s, _ in reports(station)] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "InstallScheduled",
            "Installing",
        ]
        assert helper_inbox(state_dir).exists()
    assert csms.violations == []


async def test_tc_l_03_download_scheduled_survives_a_restart(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_03_CS across a restart: DownloadScheduled once, then the download at
    retrieveDateTime, reported by the daemon that runs then, in 2.0.1."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb), in_s=3600)
        assert (await update(station, 103, fw)).status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for(STATUS)
        await trio.sleep(5)
    assert http.requests == []
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp, connection=2)
        with trio.fail_after(7200):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
    sent = [
        (r.payload["status"], r.payload["requestId"])
        for r in csms.all_calls()
        if r.action == STATUS
    ]
    assert sent == [(s, 103) for s in ["DownloadScheduled", *SECURE_RUN]]
    assert csms.violations == []


async def test_a_restart_mid_download_keeps_the_job_and_sends_each_status_once(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """The daemon stops while the download hangs; the next one downloads again without a
    second Downloading, and goes on to the helper."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    http.stall.add("/fw/ocppd.deb")
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        assert (await update(station, 104, fw, retries=2, retry_interval=30)).status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for(STATUS, lambda p: p["status"] == "Downloading")
        await trio.sleep(5)  # the server holds the download
        assert (await cp.journal.job("firmware"))["phase"] == "downloading"
    http.stall.clear()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp, connection=2)
        with trio.fail_after(600):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        await trio.sleep(5)
    sent = [
        (r.payload["status"], r.payload["requestId"])
        for r in csms.all_calls()
        if r.action == STATUS
    ]
    assert sent == [(s, 104) for s in SECURE_RUN]
    assert helper_inbox(state_dir).exists()
    assert csms.violations == []


async def test_an_invalid_signing_certificate_is_refused_before_any_download(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """L01.FR.21-22, L01.FR.02: a certificate of another maker is InvalidCertificate, with the
    security event InvalidFirmwareSigningCertificate; nothing is downloaded."""
    _maker, deb = await secure_setup(tmp_path, state_dir, http)
    stranger = Maker(tmp_path)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), stranger, stranger.sign(deb))
        answer = await update(station, 105, fw)
        assert answer.status == "InvalidCertificate"
        assert answer.status_info["reason_code"] == "InvalidCertificate"
        with trio.fail_after(60):
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        await trio.sleep(30)
        assert events(station) == ["InvalidFirmwareSigningCertificate"]
        assert reports(station) == []
        assert http.requests == []
        assert await cp.journal.job("firmware") is None
    assert csms.violations == []


async def test_with_a_manufacturer_root_an_update_without_certificate_is_refused(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """A charger set up for signed firmware takes none it cannot check (L01.FR.11, L01.FR.21):
    InvalidCertificate, the security event, no download."""
    await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        answer = await update(station, 106, firmware(http.url("/fw/ocppd.deb")))
        assert answer.status == "InvalidCertificate"
        with trio.fail_after(60):
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        assert events(station) == ["InvalidFirmwareSigningCertificate"]
        assert http.requests == []
    assert csms.violations == []


async def test_an_invalid_signature_is_never_installed(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """L01.FR.03-04: Downloading, Downloaded, InvalidSignature and the security event
    InvalidFirmwareSignature; the file is deleted and never reaches the helper."""
    maker, _deb = await secure_setup(tmp_path, state_dir, http)
    other = package(tmp_path, version="9.9.8")
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(other))
        assert (await update(station, 107, fw)).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "InvalidSignature")
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        assert reports(station) == [
            ("Downloading", 107),
            ("Downloaded", 107),
            ("InvalidSignature", 107),
        ]
        assert events(station) == ["InvalidFirmwareSignature"]
        assert not helper_inbox(state_dir).exists()
        assert not list((state_dir / "firmware").glob("*"))
        assert cp.charger.held is None
    assert csms.violations == []


async def test_a_certificate_without_a_signature_is_invalid_signature(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """L01 step 5: a signature missing entirely is InvalidSignature (after the download)."""
    maker, _deb = await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        assert (
            await update(station, 108, firmware(http.url("/fw/ocppd.deb"), maker))
        ).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "InvalidSignature")
        assert not helper_inbox(state_dir).exists()
    assert csms.violations == []


async def test_tc_l_07_download_failed_after_the_retries(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_07_CS: a location that does not exist: Downloading once, DownloadFailed."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb_does_not_exist"), maker, maker.sign(deb))
        assert (await update(station, 109, fw, retries=2, retry_interval=60)).status == "Accepted"
        with trio.fail_after(600):
            await station.wait_for(STATUS, lambda p: p["status"] == "DownloadFailed")
        assert reports(station) == [("Downloading", 109), ("DownloadFailed", 109)]
        assert len(http.requests) == 3
        # L01.FR.26: a trigger repeats the status last sent, with its requestId
        answer = await station.call(call.TriggerMessage(requested_message=STATUS))
        assert answer.status == "Accepted"
        with trio.fail_after(10):
            await station.wait_for(STATUS, count=3)
        assert station.calls(STATUS)[-1].payload == {"status": "DownloadFailed", "requestId": 109}
    assert csms.violations == []


async def test_tc_l_08_a_package_the_config_does_not_allow_is_install_verification_failed(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_08_CS: a well signed package of a name ``firmware.packages`` does not allow."""
    maker = Maker(tmp_path)
    other = package(tmp_path, name="something-else")
    http.files["/fw/other.deb"] = other.read_bytes()
    bootstrap(state_dir, maker.root)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/other.deb"), maker, maker.sign(other))
        assert (await update(station, 110, fw)).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "InstallVerificationFailed")
        assert [s for s, _ in reports(station)] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "InstallVerificationFailed",
        ]
        assert not helper_inbox(state_dir).exists()
    assert csms.violations == []


async def test_tc_l_10_a_second_update_cancels_the_first(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """OCTT TC_L_10_CS: AcceptedCanceled; the first update is never downloaded, the second
    runs to the helper."""
    maker, deb = await secure_setup(tmp_path, state_dir, http)
    http.files["/fw/first.deb"] = deb.read_bytes()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        first = firmware(http.url("/fw/first.deb"), maker, maker.sign(deb), in_s=120)
        assert (await update(station, 111, first)).status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for(STATUS, lambda p: p["status"] == "DownloadScheduled")
        second = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        assert (await update(station, 112, second)).status == "AcceptedCanceled"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        await trio.sleep(300)  # past the first one's retrieveDateTime
        assert reports(station) == [("DownloadScheduled", 111), *((s, 112) for s in SECURE_RUN)]
        assert ("GET", "/fw/first.deb") not in http.requests
        # L01.FR.27: the helper has it: a third is Rejected
        third = firmware(http.url("/fw/first.deb"), maker, maker.sign(deb))
        answer = await update(station, 113, third)
        assert answer.status == "Rejected"
        assert answer.status_info["reason_code"] == "InstallInProgress"
    assert csms.violations == []


async def test_l02_a_non_secure_update_without_a_manufacturer_root(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """L02: no ManufacturerRootCertificate, no signing certificate: Downloading, Downloaded,
    Installing with the requestId, no signature check [L02.FR.01, L02.FR.06]."""
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        assert (
            await update(station, 114, firmware(http.url("/fw/ocppd.deb")))
        ).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        assert reports(station) == [("Downloading", 114), ("Downloaded", 114), ("Installing", 114)]
        assert helper_inbox(state_dir).exists()
        state = await cp.control({"cmd": "firmware"})  # ocppctl firmware
        assert (state["signed"], state["request_id"], state["ocpp"]) == (False, 114, "ocpp2.0.1")
        assert "asked in       ocpp2.0.1, requestId 114" in format_firmware(state)
    assert csms.violations == []


async def test_without_a_manufacturer_root_a_signed_update_is_invalid_certificate(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """A signing certificate this charger cannot check is not taken on trust [L01.FR.22]."""
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), maker, maker.sign(deb))
        assert (await update(station, 115, fw)).status == "InvalidCertificate"
        assert http.requests == []
    assert csms.violations == []


async def test_a_location_it_cannot_use_is_rejected(
    nursery, start_csms201, autojump_clock, state_dir
):
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        answer = await update(station, 116, firmware("gopher://127.0.0.1/fw.deb"))
        assert answer.status == "Rejected"
        assert answer.status_info["reason_code"] == "UnsupportedProtocol"
        assert "unsupported protocol" in answer.status_info["additional_info"]
        await trio.sleep(5)
        assert reports(station) == []
    assert csms.violations == []


async def test_the_new_version_reports_installed_in_2_0_1_once_then_idle_when_triggered(
    nursery, start_csms201, autojump_clock, state_dir
):
    """L01.FR.28 after the helper restarted the daemon as the new version: Installed with the
    requestId, once, after registration; a trigger then says Idle [L01.FR.25]."""
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        answer = await station.call(call.TriggerMessage(requested_message=STATUS))
        assert answer.status == "Accepted"
        with trio.fail_after(10):
            await station.wait_for(STATUS)
        assert station.calls(STATUS)[-1].payload == {"status": "Idle"}  # nothing ever ran
        job = {
            "id": "abc",
            "phase": "installing",
            "package": "ocppd",
            "version": f"{__version__}-1",
            "protocol": "ocpp2.0.1",
            "signed": {
                "request_id": 117,
                "certificate": None,
                "signature": None,
                "install_at": None,
            },
        }
        await cp.journal.put_job("firmware", job)
    for connection in (2, 3):
        async with charger201(nursery, csms, state_dir=state_dir) as cp:
            station = await registered(cp, connection=connection)
            await trio.sleep(10)
    sent = [r.payload for r in csms.all_calls() if r.action == STATUS]
    assert sent == [{"status": "Idle"}, {"status": "Installed", "requestId": 117}]
    assert csms.violations == []


async def test_a_2_0_1_status_waits_for_a_2_0_1_link(
    nursery, start_csms, start_csms201, autojump_clock, http, tmp_path, state_dir
):
    """A job asked in 2.0.1 is reported in 2.0.1 only: over a 1.6 link its statuses wait in
    the outbox (decision 5), and a later 2.0.1 link delivers them in order."""
    deb = package(tmp_path)
    http.files["/fw/ocppd.deb"] = deb.read_bytes()
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(http.url("/fw/ocppd.deb"), in_s=3600)
        assert (await update(station, 118, fw)).status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for(STATUS)
    csms16 = await start_csms()
    async with charger201(nursery, csms16, state_dir=state_dir, versions=["ocpp1.6"]) as cp:
        station16 = await cp.registered()
        with trio.fail_after(7200):
            while not helper_inbox(state_dir).exists():
                await trio.sleep(60)
        await trio.sleep(10)
        assert station16.calls("FirmwareStatusNotification") == []
        assert station16.calls("SignedFirmwareStatusNotification") == []
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp, connection=2)
        with trio.fail_after(60):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
    sent = [
        (r.payload["status"], r.payload["requestId"])
        for r in csms.all_calls()
        if r.action == STATUS
    ]
    assert sent == [
        ("DownloadScheduled", 118),
        ("Downloading", 118),
        ("Downloaded", 118),
        ("Installing", 118),
    ]
    assert csms.violations == []


async def test_file_transfer_protocols_is_the_1_6_key(
    nursery, start_csms201, autojump_clock, state_dir
):
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        answer = await station.call(
            call.GetVariables(
                get_variable_data=[
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "FileTransferProtocols"},
                    }
                ]
            )
        )
        result = answer.get_variable_result[0]
        assert result["attribute_status"] == "Accepted"
        assert set(result["attribute_value"].split(",")) == {"HTTP", "HTTPS", "FTP", "FTPS"}
    assert csms.violations == []


@pytest.fixture
def ftp(tmp_path: Path) -> Any:
    root = tmp_path / "ftp"
    root.mkdir()
    with FtpServer(root) as server:
        yield server


async def test_tc_l_01_over_ftp(nursery, start_csms201, autojump_clock, ftp, tmp_path, state_dir):
    """OCTT TC_L_01_CS with the package on an FTP server (FileTransferProtocols)."""
    maker = Maker(tmp_path)
    deb = package(tmp_path)
    (ftp.root / "ocppd.deb").write_bytes(deb.read_bytes())
    bootstrap(state_dir, maker.root)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = firmware(ftp.url("/ocppd.deb"), maker, maker.sign(deb))
        assert (await update(station, 119, fw)).status == "Accepted"
        with trio.fail_after(300):
            await station.wait_for(STATUS, lambda p: p["status"] == "Installing")
        # read without yielding: on the autojump clock virtual time would run on to the
        # helper's deadline, which removes the file
        request = json.loads(helper_inbox(state_dir).read_text())
        assert Path(request["file"]).read_bytes() == deb.read_bytes()  # noqa: ASYNC240
        assert reports(station) == [(s, 119) for s in SECURE_RUN]
    assert csms.violations == []


@pytest.mark.parametrize(
    "certificate",
    [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n" + "A" * 5000,
    ],
)
async def test_a_garbage_signing_certificate_is_invalid_certificate(
    nursery, start_csms201, autojump_clock, http, tmp_path, state_dir, certificate
):
    """Hostile input is a refusal with its security event, never a crash."""
    await secure_setup(tmp_path, state_dir, http)
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        fw = {**firmware(http.url("/fw/ocppd.deb")), "signingCertificate": certificate}
        fw["signature"] = "bm90IGEgc2lnbmF0dXJl"
        assert (await update(station, 120, fw)).status == "InvalidCertificate"
        with trio.fail_after(60):
            await station.wait_for(EVENT, lambda p: "Firmware" in p["type"])
        assert http.requests == []
        # the daemon goes on: the next request is judged as any
        assert (await update(station, 121, firmware("gopher://x/y"))).status == "InvalidCertificate"
    assert csms.violations == []


async def test_l03_l04_publish_firmware_is_a_local_controllers_not_supported_here(
    nursery, start_csms201, autojump_clock, state_dir
):
    """L03/L04 are for a local controller, which ocppd is not: the CALLERROR NotSupported
    (a 2.0.1 action no block takes), and TriggerMessage PublishFirmwareStatusNotification
    stays NotImplemented."""
    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir) as cp:
        station = await registered(cp)
        for request in (
            call.PublishFirmware(
                location="http://127.0.0.1/fw.deb", checksum="0" * 32, request_id=1
            ),
            call.UnpublishFirmware(checksum="0" * 32),
        ):
            with pytest.raises(CallFailed) as refused:
                await station.call(request)
            assert refused.value.code == "NotSupported"
    assert csms.violations == []


async def test_a_charger_without_firmware_management_offers_neither_l_nor_n(
    nursery, start_csms201, autojump_clock, state_dir
):
    """Blocks L and N run 1.6's Firmware Management job: a daemon built without that profile
    answers them NotSupported (nothing would ever run an accepted update)."""
    from ocppd.features import core

    csms = await start_csms201()
    async with charger201(nursery, csms, state_dir=state_dir, profiles=(core.profile,)) as cp:
        station = await registered(cp)
        for request in (
            call.UpdateFirmware(request_id=1, firmware=firmware("http://127.0.0.1/fw.deb")),
            call.GetLog(
                log={"remoteLocation": "http://127.0.0.1/"}, log_type="SecurityLog", request_id=2
            ),
        ):
            with pytest.raises(CallFailed) as refused:
                await station.call(request)
            assert refused.value.code == "NotSupported"
        answer = await station.call(call.TriggerMessage(requested_message=STATUS))
        assert answer.status == "Rejected"  # the message exists; this charger cannot send it
    assert csms.violations == []
