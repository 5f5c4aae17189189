"""Security events (security whitepaper A04, §8): the rolling security log, and
SecurityEventNotification through the outbox: critical ones always, in order and once
across outages and restarts; link failures (a stranger's certificate, a refused
password) once per outage. OCTT TC_078 (InvalidCentralSystemCertificate event) and
TC_085's refusal side.
"""

from __future__ import annotations

import ssl
import stat
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme
from ocpp.v16 import call

from ocppd import __version__, ctl
from ocppd.features.security.events import LOG_NAME, SecurityLog
from ocppd.features.security.watch import VERSION_SETTING, low_space
from ocppd.journal import Journal
from tests.harness import CP_ID, EPOCH, ControlRefused, charger, wall
from tests.netutil import Proxy
from tests.test_link import refusing_tls_server
from tests.test_offline import Disk
from tests.test_operations import run_ctl

KEY = "00112233445566778899aabbccddeeff"


def events(csms: Any) -> list[str]:
    return [
        c.payload["type"] for c in csms.all_calls(CP_ID) if c.action == "SecurityEventNotification"
    ]


def _server(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


async def test_startup_is_told_and_kept_in_the_security_log(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice"
        )
        assert told.payload["timestamp"].endswith("Z")
        assert "ocppd" in told.payload["techInfo"]
    path = tmp_path / LOG_NAME
    lines = path.read_text().splitlines()
    assert [line.split()[1] for line in lines] == ["StartupOfTheDevice", "ResetOrReboot"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_critical_events_of_an_outage_and_a_restart_arrive_in_order_and_once(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, state_dir=tmp_path, url=proxy.url) as cp:
        station = await cp.registered()
        await station.wait_for("SecurityEventNotification")
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(30)
    # stopped while offline: ResetOrReboot waits in the journal; so does the next start's event
    async with charger(nursery, csms, state_dir=tmp_path, url=proxy.url) as cp:
        await trio.sleep(60)
        assert events(csms) == ["StartupOfTheDevice"]
        proxy.refuse = False
        station = await cp.registered(connection=2)
        await station.wait_for("SecurityEventNotification", count=2)
        await trio.sleep(120)
        assert events(csms) == ["StartupOfTheDevice", "ResetOrReboot", "StartupOfTheDevice"]
    ids = [c.unique_id for c in csms.all_calls(CP_ID) if c.action == "SecurityEventNotification"]
    assert len(set(ids)) == len(ids)


async def test_a_strangers_certificate_is_told_once_when_the_right_server_answers(
    nursery, start_csms, autojump_clock, tmp_path
):
    """OCTT TC_078: InvalidCentralSystemCertificate security event."""
    ca = trustme.CA()
    good = await start_csms(ssl_context=_server(ca), passwords={CP_ID: KEY})
    stranger = await start_csms(ssl_context=_server(trustme.CA()), passwords={CP_ID: KEY})
    proxy = await nursery.start(Proxy(stranger.port).serve)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ocpp = {"security_profile": 2, "authorization_key": KEY, "ca_file": str(tmp_path / "ca.pem")}
    url = proxy.url.replace("ws://", "wss://")
    async with charger(nursery, good, state_dir=tmp_path, url=url, ocpp=ocpp) as cp:
        with trio.move_on_after(100):
            while cp.parts.connection.backoff.failures < 3:
                await cp.parts.connection.wait_changed()
        assert cp.parts.connection.last_error_kind == "tls-certificate"
        proxy.target_port = good.port
        station = await cp.registered()
        await station.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "InvalidCentralSystemCertificate",
        )
        await trio.sleep(120)
    assert events(good).count("InvalidCentralSystemCertificate") == 1
    logged = (tmp_path / LOG_NAME).read_text()
    assert logged.count("InvalidCentralSystemCertificate") >= 3
    assert not stranger.stations


async def test_a_refused_password_is_told_as_failed_to_authenticate(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms(passwords={CP_ID: "another-password-16"})
    ocpp = {"security_profile": 1, "authorization_key": KEY}
    async with charger(nursery, csms, state_dir=tmp_path, ocpp=ocpp) as cp:
        while cp.parts.connection.last_error_kind != "unauthorized":
            await cp.parts.connection.wait_changed()
        csms.passwords[CP_ID] = KEY
        station = await cp.registered()
        await station.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "FailedToAuthenticateAtCentralSystem",
        )
    assert KEY not in (tmp_path / LOG_NAME).read_text()


def test_the_security_log_rolls_over_and_keeps_at_most_twice_its_cap(tmp_path: Path) -> None:
    log = SecurityLog(tmp_path, max_bytes=1000)
    for n in range(200):
        log.append(f"2026-12-02T10:00:00Z InvalidMessages line {n:03d}")
    files = log.files()
    assert [p.name for p in files] == [f"{LOG_NAME}.1", LOG_NAME]
    assert all(p.stat().st_size <= 1000 for p in files)
    text = log.read()
    assert text.endswith("line 199\n")
    assert "line 000" not in text
    log.clear()
    assert log.files() == []


async def test_a_clock_set_by_the_central_system_is_a_setting_system_time_event(
    nursery, start_csms, autojump_clock
):
    """The central system's time is an hour ahead: BootNotification's answer steps the
    clock (SettingSystemTime, critical); a heartbeat that agrees with it does not."""
    csms = await start_csms(
        now=lambda: datetime.fromtimestamp(wall() + 3600, UTC), heartbeat_interval=60
    )
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "SettingSystemTime"
        )
        await station.wait_for("Heartbeat", count=3)
        assert events(csms).count("SettingSystemTime") == 1
        stamp = datetime.fromisoformat(told.payload["timestamp"].replace("Z", "+00:00"))
        assert stamp.timestamp() >= EPOCH + 3600  # stamped on the clock as it was set


@pytest.mark.parametrize(
    ("server", "event"),
    [("old-tls", "InvalidTLSVersion"), ("weak-cipher", "InvalidTLSCipherSuite")],
)
async def test_a_tls_refusal_of_ours_is_its_security_event(
    nursery, start_csms, tmp_path, server, event
):
    """A central system that offers only TLS 1.1, or only suites the whitepaper does not
    list: the attempt fails at once and the security log names the event. In real time:
    the refusing server is OpenSSL in a thread, which a virtual clock would race past."""
    ca = trustme.CA()
    context = _server(ca)
    if server == "old-tls":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-AES128-SHA256")
    port = refusing_tls_server(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ocpp = {"security_profile": 2, "authorization_key": KEY, "ca_file": str(tmp_path / "ca.pem")}
    csms = await start_csms()
    url = f"wss://127.0.0.1:{port}/ocpp"
    async with charger(nursery, csms, state_dir=tmp_path, url=url, ocpp=ocpp) as cp:
        with trio.fail_after(10):
            while cp.parts.connection.last_error is None:
                await cp.parts.connection.wait_changed()
    lines = [line.split(" ", 2)[1] for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert event in lines


async def test_frames_that_are_not_ocpp_are_invalid_messages_bounded_per_kind(
    nursery, start_csms, autojump_clock, tmp_path
):
    """InvalidMessages [SEC §8]: a central system that floods the charger with garbage gets
    its CALLERRORs, and the security log one line per kind of fault per 10 minutes (the
    next one counts what was left out); an action this charger merely does not handle is
    valid OCPP and no event."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        for n in range(200):
            await station.send_text("this is not json")  # FRAME: ignored, nothing to answer
            await station.send_text(f'[2,"bad-{n}","Reset",{{"type":"Sideways"}}]')  # SCHEMA
            await station.send_text(f'[2,"unk-{n}","Frobnicate",{{}}]')  # UNKNOWN_ACTION
        await cp.settle(5)
        answered = await station.call(
            call.ChangeConfiguration(key="HeartbeatInterval", value="300")
        )
        assert answered.status == "Accepted"  # the link and the charger carry on
        lines = [line for line in (tmp_path / LOG_NAME).read_text().splitlines()]
        invalid = [line for line in lines if " InvalidMessages " in line]
        kinds = sorted(line.split(" ", 3)[2].rstrip(":") for line in invalid)
        assert kinds == ["FRAME", "SCHEMA", "UNKNOWN_ACTION"]
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidMessages"
        )
        assert len(told.payload["techInfo"]) <= 255
        assert events(csms).count("InvalidMessages") == 1  # non-critical: once per link

        await trio.sleep(601)  # a new window: the next frame of a kind tells what was left out
        await station.send_text('[2,"late","Reset",{"type":"Sideways"}]')
        await cp.settle(5)
        last = (tmp_path / LOG_NAME).read_text().splitlines()[-1]
        assert " InvalidMessages SCHEMA (199 more since the last event): " in last


async def _keep_version(state_dir: Path, version: str) -> None:
    """As if an ocppd of ``version`` had run last on this journal."""
    journal = await Journal.open(state_dir, inline=True)
    async with journal:
        await journal.set_setting(VERSION_SETTING, version)


async def test_a_new_version_at_start_is_firmware_updated_once(
    nursery, start_csms, autojump_clock, tmp_path
):
    """FirmwareUpdated (critical): whatever installed it, the ocppd that starts is not the
    one that ran before; told once, after StartupOfTheDevice's check, and not again."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        await cp.registered()  # the first start on this journal: nothing to compare
    await _keep_version(tmp_path, "0.0.1")
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=2)
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated"
        )
        assert told.payload["techInfo"] == f"ocppd 0.0.1 replaced by {__version__}"
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=3)
        await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice"
        )
        await cp.settle(30)
    assert events(csms).count("FirmwareUpdated") == 1
    assert (tmp_path / LOG_NAME).read_text().count(" FirmwareUpdated ") == 1


async def test_clearing_the_security_log_is_a_critical_event_and_its_first_line(
    nursery, start_csms, autojump_clock, tmp_path
):
    """SecurityLogWasCleared (critical): ``ocppctl security-log clear`` empties the log,
    whose first line is then the event; a log removed while ocppd was stopped is found
    at the next start. The log rolling over is no clearing (A04.FR.04 asks for it)."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        assert await cp.control({"cmd": "security-log", "action": "clear"}) == (
            "security log cleared"
        )
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "SecurityLogWasCleared"
        )
        assert told.payload["techInfo"] == "cleared by ocppctl"
        [line] = (tmp_path / LOG_NAME).read_text().splitlines()
        assert line.split(" ", 2)[1:] == ["SecurityLogWasCleared", "cleared by ocppctl"]
        with pytest.raises(ControlRefused):
            await cp.control({"cmd": "security-log", "action": "shred"})
    for path in tmp_path.glob(f"{LOG_NAME}*"):
        path.unlink()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=2)
        await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "StartupOfTheDevice"
        )
        await cp.settle(5)
        assert events(csms) == [
            "StartupOfTheDevice",
            "SecurityLogWasCleared",
            "ResetOrReboot",
            "SecurityLogWasCleared",
            "StartupOfTheDevice",
        ]
    first = (tmp_path / LOG_NAME).read_text().splitlines()[0]
    assert " SecurityLogWasCleared the security log was gone at start" in first


async def test_a_journal_out_of_space_is_memory_exhaustion_told_once_it_works_again(
    nursery, start_csms, autojump_clock, tmp_path
):
    """MemoryExhaustion (critical): the journal refuses a write for want of space. The
    security log has it at once; the outbox cannot take it then, so it is queued as soon
    as the journal works again [A04.FR.02], with the time it happened."""
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path, journal_options=options) as cp:
        station = await cp.registered()
        disk.full = True
        change = call.ChangeConfiguration(key="HeartbeatInterval", value="123")
        await station.call(change)  # the key cannot be kept: the journal is full
        with trio.fail_after(30):
            while " MemoryExhaustion " not in (tmp_path / LOG_NAME).read_text():
                await trio.sleep(1)
        happened = trio.current_time()
        assert "MemoryExhaustion" not in events(csms)
        await trio.sleep(120)
        disk.full = False
        told = await station.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "MemoryExhaustion"
        )
        assert trio.current_time() - happened >= 120
        assert "journal storage is full" in told.payload["techInfo"]
        stamp = datetime.fromisoformat(told.payload["timestamp"].replace("Z", "+00:00"))
        assert stamp.timestamp() <= wall() - 100  # stamped when it happened
        await cp.settle(30)
    assert events(csms).count("MemoryExhaustion") == 1


def test_a_filesystem_is_getting_full_below_5_percent_or_64_mb_free() -> None:
    gb = 2**30
    assert not low_space(10 * gb, 100 * gb)
    assert low_space(4 * gb, 100 * gb)  # under 5 %
    assert not low_space(200 * 2**20, 1 * gb)  # 20 % of a small card
    assert low_space(60 * 2**20, 1 * gb)  # under 64 MB


async def test_ocppctl_security_log_clear(nursery, start_csms, capsys, tmp_path):
    """The command line: ``ocppctl security-log clear`` exits 0 and says so; any other
    action is a usage error (exit 2)."""
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        await cp.registered()
        code, out, _ = await run_ctl(["-s", str(cp.socket), "security-log", "clear"], capsys)
        assert (code, out.strip()) == (0, "security log cleared")
        first = (tmp_path / LOG_NAME).read_text().splitlines()[0]
        assert first.split(" ", 2)[1] == "SecurityLogWasCleared"
    with pytest.raises(SystemExit) as usage:
        ctl.main(["security-log", "shred"])
    assert usage.value.code == 2
