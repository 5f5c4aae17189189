"""The local authorization list survives SIGKILL: the real daemon process, killed right after
the central system's updates were answered, restarts on the same state directory with the
same list (1.6 §3.5.2: the list is kept until the central system changes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from ocppd.testing.csms import CentralSystem
from tests.crash.daemon import CP_ID, DaemonProcess, Life, config_text, control

TAGS = 2_000


async def _registered(csms: CentralSystem, connection: int) -> Any:
    with trio.fail_after(30):
        station = await csms.wait_station(CP_ID, connection=connection)
        await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
    return station


async def test_the_list_survives_sigkill_and_restart(nursery: trio.Nursery, tmp_path: Path) -> None:
    csms = CentralSystem()
    await nursery.start(csms.serve)
    state, socket, cfg = tmp_path / "state", tmp_path / "control.sock", tmp_path / "ocppd.toml"
    cfg.write_text(config_text(url=csms.url, state_dir=state, socket=socket, connectors=1))

    first = DaemonProcess(cfg, socket, Life(0, "kill", tmp_path / "life-0.log"))
    second = DaemonProcess(cfg, socket, Life(1, "final", tmp_path / "life-1.log"))
    try:
        await first.start()
        await first.wait_ready()
        station = await _registered(csms, 1)
        full = [{"idTag": f"KILL{i:05d}", "idTagInfo": {"status": "Accepted"}} for i in range(TAGS)]
        answer = await station.call_raw(
            "SendLocalList",
            {"listVersion": 7, "updateType": "Full", "localAuthorizationList": full},
        )
        assert answer.status == "Accepted"
        update = [
            {"idTag": "KILL00000"},
            {"idTag": "KILL00001", "idTagInfo": {"status": "Blocked"}},
        ]
        answer = await station.call_raw(
            "SendLocalList",
            {"listVersion": 8, "updateType": "Differential", "localAuthorizationList": update},
        )
        assert answer.status == "Accepted"
        assert await first.kill() == -9  # right after the answer: a power cut

        await second.start()
        status = await second.wait_ready()
        assert status["local_list"] == {"enabled": True, "version": 8, "entries": TAGS - 1}
        station = await _registered(csms, 2)
        assert (await station.call_raw("GetLocalListVersion", {})).list_version == 8
        found = await control(socket, {"cmd": "tag", "id_tag": "kill01999"})
        assert found == {"source": "local-list", "status": "Accepted", "expiry": None}
        found = await control(socket, {"cmd": "tag", "id_tag": "KILL00001"})
        assert found["status"] == "Blocked"
        found = await control(socket, {"cmd": "tag", "id_tag": "KILL00000"})
        assert found["source"] == "unknown"
        assert await second.terminate() == 0
    finally:
        await first.aclose()
        await second.aclose()
