"""A reservation in force survives SIGKILL (a power cut): the real daemon as a process, the
independent central system on loopback, real time (a few seconds)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trio
from ocpp.v16 import call

from tests.crash.daemon import CP_ID, DaemonProcess, Life, config_text, control


async def test_a_reservation_survives_sigkill_and_the_restarted_charger_honours_it(
    nursery, start_csms, tmp_path
):
    # the daemon's clock is the machine's until the central system gives it the time:
    # this central system tells the real time, so expiry is judged alike before and after
    csms = await start_csms(now=lambda: datetime.now(UTC))
    state = tmp_path / "state"
    state.mkdir()
    sockets = Path(tempfile.mkdtemp(prefix="ocppd-sock-"))  # short: a unix socket path
    socket = sockets / "control.sock"
    config = tmp_path / "ocppd.toml"
    config.write_text(config_text(url=csms.url, state_dir=state, socket=socket, connectors=2))
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    try:
        with trio.fail_after(60):
            first = DaemonProcess(config, socket, Life(0, "kill", tmp_path / "life0.log"))
            await first.start()
            try:
                await first.wait_ready()
                station = await csms.wait_station(CP_ID)
                await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 2)
                answer = await station.call(
                    call.ReserveNow(
                        connector_id=2, expiry_date=expiry, id_tag="RESV0001", reservation_id=5
                    )
                )
                assert answer.status == "Accepted"
                await station.wait_for(
                    "StatusNotification",
                    lambda p: p["connectorId"] == 2 and p["status"] == "Reserved",
                )
            finally:
                assert await first.kill() == -9

            second = DaemonProcess(config, socket, Life(1, "final", tmp_path / "life1.log"))
            await second.start()
            try:
                status = await second.wait_ready()
                reserved = status["connectors"][1]
                assert (reserved["status"], reserved["reservation"]["id"]) == ("Reserved", 5)
                station = await csms.wait_station(CP_ID, connection=2)
                await station.wait_for(
                    "StatusNotification",
                    lambda p: p["connectorId"] == 2 and p["status"] == "Reserved",
                )
                # the reserved tag starts there, with the reservation's id
                await control(socket, {"cmd": "sim", "action": "plug", "connector": 2})
                await control(socket, {"cmd": "swipe", "id_tag": "RESV0001"})
                start = await station.wait_for("StartTransaction")
                assert (start.payload["connectorId"], start.payload["reservationId"]) == (2, 5)
            finally:
                await second.kill()
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    assert not csms.violations
