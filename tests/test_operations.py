"""How people run and look at the daemon: ocppctl, systemd notifications, logs, signals."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd import ctl, logs
from ocppd.sdnotify import Notifier
from tests.harness import ControlRefused, charger


async def run_ctl(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """ocppctl as a user runs it (blocking sockets, so in a thread; real time)."""
    code = await trio.to_thread.run_sync(ctl.main, args)
    out = capsys.readouterr()
    return code, out.out, out.err


# --- ocppctl against a real socket (real time: ocppctl blocks, in a thread) ----------------------


async def test_ocppctl_status_shows_the_connection_and_every_connector(nursery, start_csms, capsys):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        await cp.registered()
        assert cp.socket.stat().st_mode & 0o777 == 0o660  # root and group ocppd only
        code, out, _ = await run_ctl(["-s", str(cp.socket), "status"], capsys)
        assert code == 0
        assert "connection    connected" in out
        assert "registration  Accepted" in out
        lines = [line.split() for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]
        assert [line[:3] for line in lines] == [
            ["1", "Available", "NoError"],
            ["2", "Available", "NoError"],
        ]
        code, out, _ = await run_ctl(["-s", str(cp.socket), "status", "--json"], capsys)
        status = json.loads(out)
        assert status["connection"]["state"] == "connected"
        assert status["connection"]["registration"] == "Accepted"
        assert status["connection"]["url"].endswith("/ocpp/CP-TEST")
        assert status["queue"] == {
            "pending": 0,
            "dead": 0,
            "dropped": 0,
            "waiting_for": {},
            "held_for": None,
        }
        first = status["connectors"][0]
        for key in (
            "id",
            "status",
            "error_code",
            "plugged",
            "contactor_closed",
            "current_limit_a",
            "power_w",
            "energy_wh",
            "transaction",
        ):
            assert key in first
        assert first["transaction"] is None and first["energy_wh"] == 1000


async def test_ocppctl_sim_and_swipe_run_a_session_and_status_follows(nursery, start_csms, capsys):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        sock = ["-s", str(cp.socket)]
        assert (await run_ctl([*sock, "sim", "power", "1", "11000"], capsys))[0] == 0
        assert (await run_ctl([*sock, "sim", "plug", "1"], capsys))[0] == 0
        code, out, _ = await run_ctl([*sock, "swipe", "04a2b3c4"], capsys)
        assert code == 0 and "charging on connector 1" in out
        with trio.fail_after(10):
            start = await station.wait_for("StartTransaction")
        assert start.payload["idTag"] == "04A2B3C4"
        await trio.sleep(1.5)
        status = json.loads((await run_ctl([*sock, "status", "--json"], capsys))[1])
        c1 = status["connectors"][0]
        assert c1["status"] == "Charging" and c1["contactor_closed"] is True
        assert c1["transaction"]["id_tag"] == "04A2B3C4"
        assert c1["transaction"]["meter_start_wh"] == 1000
        assert c1["power_w"] == 11000.0 and c1["energy_wh"] > 1000
        assert (await run_ctl([*sock, "swipe", "04A2B3C4"], capsys))[0] == 0
        assert (await run_ctl([*sock, "sim", "unplug", "1"], capsys))[0] == 0
        with trio.fail_after(10):
            await station.wait_for("StopTransaction")
            await station.wait_for(
                "StatusNotification", lambda p: p["status"] == "Available", count=2
            )
        assert not csms.violations


async def test_ocppctl_exit_codes(nursery, start_csms, capsys, tmp_path):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        sock = ["-s", str(cp.socket)]
        code, _, err = await run_ctl([*sock, "sim", "plug", "7"], capsys)
        assert code == 1 and "no connector 7" in err
        code, _, err = await run_ctl([*sock, "sim", "fault", "1", "Sparks"], capsys)
        assert code == 1 and "not a ChargePointErrorCode" in err
        code, _, err = await run_ctl([*sock, "swipe", "X" * 21], capsys)
        assert code == 1 and "at most 20" in err
    code, _, err = await run_ctl(["-s", str(tmp_path / "none.sock"), "status"], capsys)
    assert code == 3 and "is ocppd running" in err
    with pytest.raises(SystemExit) as usage:
        ctl.main(["sim", "dance", "1"])
    assert usage.value.code == 2


async def test_a_simulated_fault_is_reported_and_cleared(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("fault", 1, error_code="GroundFailure")
        fault = await station.wait_for(
            "StatusNotification", lambda p: p["errorCode"] == "GroundFailure"
        )
        assert fault.payload["status"] == "Faulted"
        await cp.sim("fault", 1, error_code="NoError")
        cleared = await station.wait_for(
            "StatusNotification", lambda p: p["status"] == "Available", count=2
        )
        assert cleared.payload["errorCode"] == "NoError"
        with pytest.raises(ControlRefused):
            await cp.sim("fault", 1, error_code="LocalListConflict")


# --- systemd --------------------------------------------------------------------------------------


def test_notifier_is_silent_without_systemd() -> None:
    assert Notifier({}).send(READY=1) is False
    assert Notifier({}).watchdog_s is None
    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_s is None


async def test_the_daemon_tells_systemd_ready_and_pings_the_watchdog(
    nursery, start_csms, autojump_clock, tmp_path
):
    listener = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    await listener.bind(str(path))
    received: list[str] = []

    async def systemd() -> None:
        while True:
            received.append((await listener.recv(4096)).decode())

    nursery.start_soon(systemd)
    env = {
        "NOTIFY_SOCKET": str(path),
        "WATCHDOG_USEC": "10000000",
        "WATCHDOG_PID": str(os.getpid()),
    }
    csms = await start_csms()
    async with charger(nursery, csms, notifier=Notifier(env)) as cp:
        await cp.registered()
        await trio.sleep(30)
    await trio.sleep(1)
    assert any(m.startswith("READY=1") for m in received)
    assert sum(m == "WATCHDOG=1" for m in received) >= 6  # every 5 s for 30 s
    assert any("STATUS=connected" in m for m in received)
    assert any(m.startswith("STOPPING=1") for m in received)


def test_a_full_notify_queue_never_blocks(tmp_path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))  # nobody reads it
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify.sock")})
    results = [notifier.send(WATCHDOG=1) for _ in range(500)]
    assert results[0] is True and results[-1] is False


# --- logs -----------------------------------------------------------------------------------------


def test_under_systemd_every_log_line_carries_its_priority(tmp_path, monkeypatch) -> None:
    target = tmp_path / "journal-stream"
    with target.open("w") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(logs, "_journal_handler", lambda: None)  # no journald socket here
        logs.setup("info")
        logging.getLogger("ocppd.test").warning("meter silent\nsecond line")
        logging.getLogger("ocppd.test").debug("not shown")
    logs.setup("info", stream=io.StringIO())
    assert target.read_text() == "<4>ocppd.test: meter silent\n<4>second line\n"


def test_on_a_terminal_lines_are_timestamped(monkeypatch) -> None:
    out = io.StringIO()
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    logs.setup("debug", stream=out)
    logging.getLogger("ocppd.test").info("hello %s", "world")
    assert out.getvalue().split(" ", 2)[2].startswith("INFO    ocppd.test: hello world")


async def test_the_authorization_key_is_never_logged_nor_returned(
    nursery, start_csms, autojump_clock, caplog
):
    caplog.set_level(logging.DEBUG)
    secret = "00112233445566778899AABBCCDDEEFF"
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=secret))
        assert answer.status == "Accepted"
        station = await cp.station(connection=2)  # a new key means a new connection with it
        listing = await station.call(call.GetConfiguration(key=["AuthorizationKey"]))
        assert listing.configuration_key == [{"key": "AuthorizationKey", "readonly": False}]
        everything = await station.call(call.GetConfiguration())
        assert secret not in json.dumps(everything.configuration_key)
    assert secret not in caplog.text
    assert "AuthorizationKey" in caplog.text  # the change itself is logged


# --- signals -------------------------------------------------------------------------------------


async def test_sighup_applies_a_good_config_and_keeps_running_on_a_broken_one(
    nursery, start_csms, autojump_clock, caplog
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        path: Path = cp.settings.path
        text = cp.settings_text
        await trio.Path(path).write_text(text.replace('level = "debug"', 'level = "warning"'))
        os.kill(os.getpid(), signal.SIGHUP)
        await trio.sleep(1)
        assert logging.getLogger().level == logging.WARNING
        caplog.clear()
        await trio.Path(path).write_text(text.replace('vendor = "ocppd-tests"', "vendor = 7"))
        os.kill(os.getpid(), signal.SIGHUP)
        await trio.sleep(1)
        assert f"{path}: charge_point.vendor: got 7" in caplog.text
        assert "still running on the previous configuration" in caplog.text
        assert cp.parts.connection.state == "connected"
        assert not cp.done.is_set()


async def test_sigterm_stops_in_order_with_reason_reboot(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-TERM")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        assert cp.world(1).contactor_closed
        os.kill(os.getpid(), signal.SIGTERM)
        with trio.fail_after(30):
            await cp.done.wait()
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Reboot"
        assert not cp.world(1).contactor_closed
        assert cp.outcome and cp.outcome[0].value == "stopped"
