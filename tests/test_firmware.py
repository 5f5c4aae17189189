"""Firmware Management against the independent central system, with a real HTTP server on
127.0.0.1 (trio, so the autojump clock sees it) and pyftpdlib for FTP.

UpdateFirmware: the download at retrieveDate, retries, a refused package, the
hand-over to the helper once no transaction runs; GetDiagnostics: the bundle
uploaded, unpacked and compared, with no secret in it.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd import __version__
from tests.fileservers import FtpServer, HttpServer, build_deb
from tests.harness import ControlRefused, charger, csms_now

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "dpkg-deb"], capture_output=True, check=False).returncode != 0,
    reason="needs dpkg-deb",
)


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


def statuses(station: Any, action: str = "FirmwareStatusNotification") -> list[str]:
    return [r.payload["status"] for r in station.calls(action)]


async def update(station: Any, location: str, *, in_s: float = 0, **extra: Any) -> None:
    retrieve = (csms_now() + timedelta(seconds=in_s)).isoformat()
    await station.call(call.UpdateFirmware(location=location, retrieve_date=retrieve, **extra))


async def test_update_is_downloaded_checked_and_handed_to_the_helper(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    """OCTT TC_044_1 up to the hand-over (the restart is the next test's)."""
    http.files["/fw/ocppd.deb"] = build_deb(tmp_path)
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await update(station, http.url("/fw/ocppd.deb", "user:s3cret@"), in_s=60)
        await trio.sleep(30)
        assert statuses(station) == []  # retrieveDate is in the future
        with trio.fail_after(300):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Installing"
            )
        assert statuses(station) == ["Downloading", "Downloaded", "Installing"]
        request = json.loads((cp.state_dir / "update" / "request.json").read_text())
        package = Path(request["file"])  # read without yielding (see the FTP test below)
        assert (request["package"], request["version"]) == ("ocppd", "9.9.9")
        assert package.read_bytes() == http.files["/fw/ocppd.deb"]  # noqa: ASYNC240
        assert package.stat().st_mode & 0o777 == 0o600  # noqa: ASYNC240
        assert cp.charger.held is not None  # no new session while the helper works
        state = await cp.control({"cmd": "firmware"})
        assert state["phase"] == "installing"
        assert "s3cret" not in json.dumps(state)


async def test_a_failing_download_is_retried_then_succeeds(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    http.files["/fw/ocppd.deb"] = build_deb(tmp_path)
    http.fail_first["/fw/ocppd.deb"] = 1
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await update(station, http.url("/fw/ocppd.deb"), retries=2, retry_interval=30)
        with trio.fail_after(300):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Installing"
            )
        assert statuses(station) == ["Downloading", "Downloaded", "Installing"]  # each once
        assert http.requests.count(("GET", "/fw/ocppd.deb")) == 2


async def test_download_failed_after_the_retries(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    """OCTT TC_044_2: a stalled server, each attempt timed out on the clock."""
    http.stall.add("/fw/stalls.deb")
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await update(station, http.url("/fw/stalls.deb"), retries=1, retry_interval=10)
        with trio.fail_after(600):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed"
            )
        assert statuses(station) == ["Downloading", "DownloadFailed"]
        assert http.requests.count(("GET", "/fw/stalls.deb")) == 2  # one retry
        assert not list((cp.state_dir / "firmware").glob("*"))  # nothing left behind
        assert cp.charger.held is None


async def test_a_package_the_config_does_not_allow_is_installation_failed(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    """OCTT TC_044_3: a firmware file the charger cannot install."""
    http.files["/fw/other.deb"] = build_deb(tmp_path, name="evil")
    http.files["/fw/s390x.deb"] = build_deb(tmp_path, arch="s390x")
    http.files["/fw/junk.deb"] = b"!<arch>\nnot a package"
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        for n, (path, why) in enumerate(
            [
                ("/fw/other.deb", "package evil is not allowed"),
                ("/fw/s390x.deb", "built for s390x"),
                ("/fw/junk.deb", "dpkg-deb"),
            ],
            start=1,
        ):
            await update(station, http.url(path))
            with trio.fail_after(300):
                await station.wait_for(
                    "FirmwareStatusNotification",
                    lambda p: p["status"] == "InstallationFailed",
                    count=n,
                )
            state = await cp.control({"cmd": "firmware"})
            assert why in state["last_error"]
        assert statuses(station) == ["Downloading", "Downloaded", "InstallationFailed"] * 3
        assert not (cp.state_dir / "update" / "request.json").exists()
        assert not list((cp.state_dir / "firmware").glob("*"))
        assert cp.charger.held is None


async def test_retrieve_date_in_the_future_survives_a_restart(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    http.files["/fw/ocppd.deb"] = build_deb(tmp_path)
    csms = await start_csms()
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered()
        await update(station, http.url("/fw/ocppd.deb"), in_s=3600)
        await trio.sleep(5)
    assert http.requests == []
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered(connection=2)
        await trio.sleep(1800)
        assert http.requests == []
        with trio.fail_after(7200):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Installing"
            )
        assert statuses(station) == ["Downloading", "Downloaded", "Installing"]


async def test_the_new_version_reports_installed_once_registered(
    nursery, start_csms, autojump_clock, tmp_path
):
    """OCTT TC_044_1 after the restart: Installed, once, after registration."""
    csms = await start_csms()
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        await cp.registered()
        job = {
            "id": "abc",
            "phase": "installing",
            "package": "ocppd",
            "version": f"{__version__}-1",
        }
        await cp.journal.put_job("firmware", job)
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered(connection=2)
        with trio.fail_after(60):
            await station.wait_for("FirmwareStatusNotification")
        await trio.sleep(5)
        assert statuses(station) == ["Installed"]
        boot = station.calls("BootNotification")[-1]
        assert boot.payload["firmwareVersion"] == __version__  # the version now running
        marker = json.loads((state_dir / "update" / "registered.json").read_text())
        assert marker == {"id": "abc", "version": __version__}
        assert await cp.journal.job("firmware") is None


async def test_a_rollback_reports_installation_failed_once(
    nursery, start_csms, autojump_clock, tmp_path
):
    """OCTT TC_044_3 through a rollback: reported by the old version, once."""
    csms = await start_csms()
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        await cp.registered()
        job = {"id": "abc", "phase": "installing", "package": "ocppd", "version": "99.0-1"}
        await cp.journal.put_job("firmware", job)
    outcome = {"id": "abc", "result": "InstallationFailed", "reason": "did not register"}
    (state_dir / "update").mkdir(exist_ok=True)
    (state_dir / "update" / "outcome.json").write_text(json.dumps(outcome))
    for connection in (2, 3):
        async with charger(nursery, csms, state_dir=state_dir) as cp:
            await cp.registered(connection=connection)
            await trio.sleep(5)
    assert [
        r.payload["status"] for r in csms.all_calls() if r.action == "FirmwareStatusNotification"
    ] == ["InstallationFailed"]


async def test_get_diagnostics_uploads_the_window_without_secrets(
    nursery, start_csms, autojump_clock, http
):
    """OCTT TC_045_1: the bundle uploaded, unpacked and compared; no secret in it."""
    csms = await start_csms()
    secret = "Sup3rSecretKey42"
    async with charger(nursery, csms, ocpp={"authorization_key": secret}) as cp:
        station = await cp.registered()
        since, until = csms_now() - timedelta(hours=2), csms_now() - timedelta(minutes=5)
        answer = await station.call(
            call.GetDiagnostics(
                location=http.url("/upload/"),
                retries=1,
                retry_interval=5,
                start_time=since.isoformat(),
                stop_time=until.isoformat(),
            )
        )
        assert answer.file_name.endswith(".tar.gz")
        with trio.fail_after(120):
            await station.wait_for(
                "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded"
            )
        assert statuses(station, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]
        body = http.received["/upload/"]
        assert secret.encode() not in body
        start = body.index(b"\x1f\x8b")
        with tarfile.open(fileobj=io.BytesIO(body[start:]), mode="r:gz") as tar:
            names = set(tar.getnames())
            assert {"journal.json", "state.json", "config.json", "versions.json"} <= names
            everything = b"".join(tar.extractfile(n).read() for n in names)  # type: ignore[union-attr]
            config = json.loads(tar.extractfile("config.json").read())  # type: ignore[union-attr]
            versions = json.loads(tar.extractfile("versions.json").read())  # type: ignore[union-attr]
            state = json.loads(tar.extractfile("state.json").read())  # type: ignore[union-attr]
        window = {k: datetime.fromisoformat(v) for k, v in state["window"].items()}
        assert window == {"since": since, "until": until}
        assert state["queue"]["pending"] >= 0 and state["firmware"]["phase"] == "idle"
        [selftest] = state["selftest"]["connectors"]
        assert selftest["id"] == 1 and selftest["contactor_closed"] is False
        assert selftest["meter"]["answered"] and selftest["meter"]["energy_wh"] >= 1000
        assert state["selftest"]["reader_present"] is True
        assert secret.encode() not in everything
        assert config["ocpp"]["authorization_key"] == "***"
        assert config["ocpp"]["charge_point_id"] == cp.settings.ocpp.charge_point_id
        assert versions["ocppd"] == __version__


async def test_installation_waits_for_the_running_transaction_and_refuses_new_sessions(
    nursery, start_csms, autojump_clock, http, tmp_path
):
    http.files["/fw/ocppd.deb"] = build_deb(tmp_path)
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("04A2B3C4")
        with trio.fail_after(60):
            await station.wait_for("StartTransaction")
        await update(station, http.url("/fw/ocppd.deb"))
        with trio.fail_after(300):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Downloaded"
            )
        await trio.sleep(600)
        assert statuses(station) == ["Downloading", "Downloaded"]  # the session goes on
        assert not (cp.state_dir / "update" / "request.json").exists()
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="a firmware update waits to install"):
            await cp.swipe("BBBBBBBB")
        await trio.sleep(5)
        assert len(station.calls("StartTransaction")) == 1
        await cp.swipe("04A2B3C4")  # the driver ends the session
        with trio.fail_after(300):
            await station.wait_for("StopTransaction")
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Installing"
            )
        assert (cp.state_dir / "update" / "request.json").exists()
        with trio.fail_after(60):  # no charging now and none allowed (1.6 §5.2)
            await station.wait_for(
                "StatusNotification",
                lambda p: p["connectorId"] == 0 and p["status"] == "Unavailable",
            )


async def test_trigger_verbs_send_idle_when_nothing_happens(nursery, start_csms, autojump_clock):
    from ocppd.features.firmware import TRIGGERS

    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        for message in ("FirmwareStatusNotification", "DiagnosticsStatusNotification"):
            send = TRIGGERS[message](cp.parts.services, None)
            assert send is not None
            await send()
        assert statuses(station) == ["Idle"]
        assert statuses(station, "DiagnosticsStatusNotification") == ["Idle"]


@pytest.fixture
def ftp(tmp_path: Path) -> Any:
    root = tmp_path / "ftp"
    root.mkdir()
    with FtpServer(root) as server:
        yield server


async def test_ftp_download_and_a_wrong_password(
    nursery, start_csms, autojump_clock, ftp, tmp_path
):
    (ftp.root / "ocppd.deb").write_bytes(build_deb(tmp_path))
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await update(station, ftp.url("/ocppd.deb", "fw:wrong@"))
        with trio.fail_after(300):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed"
            )
        state = await cp.control({"cmd": "firmware"})
        assert "wrong" not in json.dumps(state) and "FTP 530" in state["last_error"]
        await update(station, ftp.url("/ocppd.deb"))
        with trio.fail_after(300):
            await station.wait_for(
                "FirmwareStatusNotification", lambda p: p["status"] == "Installing"
            )
        # read without yielding: on the autojump clock a wait in a worker thread lets virtual
        # time run on to the helper's deadline, which removes the file (InstallationFailed)
        request = json.loads((cp.state_dir / "update" / "request.json").read_text())
        package = Path(request["file"])
        assert package.read_bytes() == (ftp.root / "ocppd.deb").read_bytes()  # noqa: ASYNC240


async def test_get_diagnostics_over_ftp(nursery, start_csms, autojump_clock, ftp):
    csms = await start_csms()
    async with charger(nursery, csms, ocpp={"authorization_key": "NeverInABundle16"}) as cp:
        station = await cp.registered()
        answer = await station.call(call.GetDiagnostics(location=ftp.url("/")))
        with trio.fail_after(120):
            await station.wait_for(
                "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded"
            )
        uploaded = ftp.root / answer.file_name
        with tarfile.open(uploaded, mode="r:gz") as tar:
            everything = b"".join(
                tar.extractfile(n).read()  # type: ignore[union-attr]
                for n in tar.getnames()
            )
        assert b"NeverInABundle16" not in everything
        assert b'"authorization_key": "***"' in everything
        assert not list((cp.state_dir / "diagnostics").glob("*"))  # the local copy is gone


async def test_a_helper_that_never_finishes_is_installation_failed_in_time(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        await cp.registered()
        job = {"id": "abc", "phase": "installing", "package": "ocppd", "version": "99.0-1"}
        await cp.journal.put_job("firmware", job)
    async with charger(nursery, csms, state_dir=state_dir) as cp:
        station = await cp.registered(connection=2)
        await trio.sleep(300)
        assert statuses(station) == []
        assert cp.charger.held == "a firmware update waits to install"
        with trio.fail_after(1300):
            await station.wait_for("FirmwareStatusNotification")
        assert statuses(station) == ["InstallationFailed"]
        assert cp.charger.held is None
        state = await cp.control({"cmd": "firmware"})
        assert state["last_error"] == "the update helper did not finish"


async def test_get_diagnostics_upload_failed_after_the_retries_and_a_retry_that_works(
    nursery, start_csms, autojump_clock, http
):
    """OCTT TC_045_2 (upload failed), and a retry that succeeds."""
    http.fail_first["/broken/"] = 10
    http.fail_first["/flaky/"] = 1
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await station.call(
            call.GetDiagnostics(location=http.url("/broken/"), retries=2, retry_interval=20)
        )
        with trio.fail_after(300):
            await station.wait_for(
                "DiagnosticsStatusNotification", lambda p: p["status"] == "UploadFailed"
            )
        assert http.requests.count(("POST", "/broken/")) == 3
        assert statuses(station, "DiagnosticsStatusNotification") == ["Uploading", "UploadFailed"]
        state = await cp.control({"cmd": "firmware"})
        assert "HTTP 503" in state["diagnostics_error"]
        await station.call(
            call.GetDiagnostics(location=http.url("/flaky/"), retries=1, retry_interval=20)
        )
        with trio.fail_after(300):
            await station.wait_for(
                "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded"
            )
        assert http.requests.count(("POST", "/flaky/")) == 2
        assert not list((cp.state_dir / "diagnostics").glob("*"))


async def test_ocppctl_firmware_and_diagnostics(nursery, start_csms, capsys, tmp_path, http):
    """As an installer runs them (real time: ocppctl blocks, in a thread)."""
    from tests.test_operations import run_ctl

    http.stall.add("/fw/slow.deb")
    csms = await start_csms()
    secret = "OnSiteSecret9916"
    async with charger(nursery, csms, ocpp={"authorization_key": secret}) as cp:
        station = await cp.registered()
        await update(station, http.url("/fw/slow.deb", "op:pass1234@"), in_s=3600)
        await trio.sleep(0.5)
        sock = ["-s", str(cp.socket)]
        code, out, _ = await run_ctl([*sock, "firmware"], capsys)
        assert code == 0
        assert "phase          waiting" in out
        assert "http://***@127.0.0.1" in out and "pass1234" not in out
        assert "new sessions   allowed" in out
        code, out, _ = await run_ctl([*sock, "firmware", "--json"], capsys)
        assert json.loads(out)["retrieve_date"] is not None
        target = tmp_path / "bundle.tar.gz"
        code, out, err = await run_ctl(
            [*sock, "diagnostics", "--since", "2026-11-21T09:00:00Z", "-o", str(target)], capsys
        )
        assert (code, out.strip(), err) == (0, str(target), "")
        assert target.stat().st_mode & 0o777 == 0o600
        with tarfile.open(target, mode="r:gz") as tar:
            state = json.loads(tar.extractfile("state.json").read())  # type: ignore[union-attr]
            everything = b"".join(
                tar.extractfile(n).read()  # type: ignore[union-attr]
                for n in tar.getnames()
            )
        assert state["window"]["since"].startswith("2026-11-21T09:00:00")
        assert secret.encode() not in everything and b"pass1234" not in everything
        code, _, err = await run_ctl([*sock, "diagnostics", "--since", "yesterday"], capsys)
        assert code == 1 and "ISO 8601" in err


async def test_trigger_message_asks_for_the_firmware_and_diagnostics_status(
    nursery, start_csms, autojump_clock, http
):
    """Remote Trigger (1.6 §5.17) through this profile's triggers: Idle when nothing
    happens; the phase while an update is under way (here: waiting for a stalled
    server, Downloading)."""
    http.stall.add("/fw/slow.deb")
    csms = await start_csms(heartbeat_interval=3600)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        for message in ("FirmwareStatusNotification", "DiagnosticsStatusNotification"):
            answer = await station.call(call.TriggerMessage(requested_message=message))
            assert answer.status == "Accepted"
        with trio.fail_after(60):
            await station.wait_for("DiagnosticsStatusNotification")
        assert statuses(station) == ["Idle"]
        assert statuses(station, "DiagnosticsStatusNotification") == ["Idle"]
        await update(station, http.url("/fw/slow.deb"))
        await station.wait_for("FirmwareStatusNotification", count=2)
        answer = await station.call(
            call.TriggerMessage(requested_message="FirmwareStatusNotification")
        )
        assert answer.status == "Accepted"
        with trio.fail_after(10):
            await station.wait_for("FirmwareStatusNotification", count=3)
        assert statuses(station) == ["Idle", "Downloading", "Downloading"]
