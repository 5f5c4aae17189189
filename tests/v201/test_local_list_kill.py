"""The 2.0.1 local list survives SIGKILL (D01: an update applies whole or not at all): the
real daemon process speaking 2.0.1, killed while a large Full update is in flight and again
right after an answered Differential one, restarts on the same state directory with one
whole list, never a mixture (the 1.6 twin: tests/test_local_list_restart.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from ocppd.testing.csms201 import CentralSystem201
from tests.crash.daemon import CP_ID, DaemonProcess, Life, config_text, control

OLD, NEW = 1_000, 4_000


def full(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "idToken": {"idToken": f"{prefix}{i:05d}", "type": "ISO14443"},
            "idTokenInfo": {"status": "Accepted"},
        }
        for i in range(count)
    ]


async def _registered(csms: CentralSystem201, connection: int) -> Any:
    with trio.fail_after(30):
        station = await csms.wait_station(CP_ID, connection=connection)
        await station.wait_for("StatusNotification", lambda p: p["evseId"] == 1)
    return station


async def _found(socket: Path, token: str) -> str:
    return str((await control(socket, {"cmd": "tag", "id_tag": token}))["source"])


async def test_a_killed_update_leaves_one_whole_list(nursery: trio.Nursery, tmp_path: Path) -> None:
    csms = CentralSystem201()
    await nursery.start(csms.serve)
    state, socket, cfg = tmp_path / "state", tmp_path / "control.sock", tmp_path / "ocppd.toml"
    text = config_text(
        url=csms.url, state_dir=state, socket=socket, connectors=1, version="ocpp2.0.1"
    )
    cfg.write_text(text)
    lives: list[DaemonProcess] = []

    async def life() -> tuple[DaemonProcess, dict[str, Any], Any]:
        daemon = DaemonProcess(
            cfg, socket, Life(len(lives), "kill", tmp_path / f"life-{len(lives)}.log")
        )
        lives.append(daemon)
        await daemon.start()
        status = await daemon.wait_ready()
        return daemon, status, await _registered(csms, len(lives))

    try:
        daemon, _, station = await life()
        answer = await station.call_raw(
            "SendLocalList",
            {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": full("L01", OLD)},
            timeout=60,
        )
        assert answer.status == "Accepted"
        version, prefix, entries = 1, "L01", OLD
        # killed at different moments of a large Full update (applying it takes about a
        # second here): before it arrives, while it is written, after it is answered
        for n, delay in enumerate((0.5, 1.0, 1.3, 3.0), start=2):
            new_prefix = f"L{n:02d}"

            async def replace_all(station: Any = station, n: int = n, p: str = new_prefix) -> None:
                payload = {
                    "versionNumber": n,
                    "updateType": "Full",
                    "localAuthorizationList": full(p, NEW),
                }
                try:
                    await station.call_raw("SendLocalList", payload, timeout=30)
                except Exception:  # the daemon dies under it: no answer is the point
                    pass

            nursery.start_soon(replace_all)
            await trio.sleep(delay)
            assert await daemon.kill() == -9
            daemon, status, station = await life()
            kept = status["local_list"]
            # all of one update, nothing of a half one
            assert (kept["version"], kept["entries"]) in ((version, entries), (n, NEW))
            if kept["version"] == n:
                version, prefix, entries = n, new_prefix, NEW
            assert await _found(socket, f"{prefix}{entries - 1:05d}") == "local-list"
            assert await _found(socket, f"{new_prefix}00000") == (
                "local-list" if prefix == new_prefix else "unknown"
            )
        update = [
            {
                "idToken": {"idToken": "LATE0001", "type": "Central"},
                "idTokenInfo": {"status": "Blocked"},
            },
            {"idToken": {"idToken": f"{prefix}00000", "type": "ISO14443"}},
        ]
        answer = await station.call_raw(
            "SendLocalList",
            {"versionNumber": 99, "updateType": "Differential", "localAuthorizationList": update},
            timeout=60,
        )
        assert answer.status == "Accepted"
        assert await daemon.kill() == -9  # right after the answer: a power cut
        daemon, status, station = await life()
        assert status["local_list"] == {"enabled": True, "version": 99, "entries": entries}
        assert await _found(socket, "LATE0001") == "local-list"
        assert await _found(socket, f"{prefix}00000") == "unknown"
        assert (await station.call_raw("GetLocalListVersion", {})).version_number == 99
        assert await daemon.terminate() == 0
    finally:
        for daemon in lives:
            await daemon.aclose()
    assert csms.violations == []
