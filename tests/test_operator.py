"""What an operator does from the central system: reset, availability, unlock, data transfer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd.app import Outcome
from ocppd.features.core.words import STATUS
from ocppd.testing.csms import NoAnswer
from tests.harness import CP_ID, ControlRefused, charger, config_text, make_csms
from tests.test_offline import Disk

TAG = "OPER0001"
REPO = Path(__file__).resolve().parent.parent


async def arrival(station: Any, action: str, *args: Any, **kwargs: Any) -> Any:
    """The next ``action`` the central system receives (``Station.wait_for``), in bounded time."""
    with trio.fail_after(120):
        return await station.wait_for(action, *args, **kwargs)


async def charging(cp, station, connector: int = 1) -> None:
    await cp.sim("plug", connector)
    await cp.swipe(TAG)
    await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")


async def test_soft_reset_stops_the_transaction_first_then_restarts(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        answer = await station.call(call.Reset(type="Soft"))
        assert answer.status == "Accepted"
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "SoftReset"
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.SOFT_RESET]
        assert not cp.world(1).contactor_closed


async def test_hard_reset_stops_with_hard_reset(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await station.call(call.Reset(type="Hard"))
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "HardReset"
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.HARD_RESET]


async def test_a_stop_unanswered_before_a_reset_is_resent_identically_after_it(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    csms.overrides["StopTransaction"] = lambda station, payload: NoAnswer()
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        station = await cp.registered()
        await charging(cp, station)
        await station.call(call.Reset(type="Soft"))
        with trio.fail_after(60):
            await cp.done.wait()
    del csms.overrides["StopTransaction"]
    async with charger(nursery, csms, state_dir=tmp_path) as cp:
        await cp.registered(connection=2)
        with trio.fail_after(120):
            while (
                len(stops := [c for c in csms.all_calls(CP_ID) if c.action == "StopTransaction"])
                < 2
            ):
                await trio.sleep(1)
        assert stops[0].payload == stops[1].payload, "the resend is identical"
        assert stops[0].unique_id == stops[1].unique_id
        assert stops[1].payload["reason"] == "SoftReset"
        await trio.sleep(5)
        assert await cp.journal.queue_stats() is not None
        assert (await cp.journal.queue_stats()).pending == 0


async def test_change_availability_accepted_scheduled_rejected(
    nursery, start_csms, autojump_clock, tmp_path
):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, state_dir=tmp_path) as cp:
        station = await cp.registered()
        unknown = await station.call(call.ChangeAvailability(connector_id=5, type="Inoperative"))
        assert unknown.status == "Rejected"
        now = await station.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
        assert now.status == "Accepted"
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 2 and p["status"] == "Unavailable"
        )
        again = await station.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
        assert again.status == "Accepted"
        await charging(cp, station, connector=1)
        later = await station.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
        assert later.status == "Scheduled"
        await trio.sleep(5)
        assert STATUS[cp.connector(1).reported.status] == "Charging"
        await cp.swipe(TAG)
        await cp.sim("unplug", 1)
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable"
        )
        with pytest.raises(ControlRefused, match="no free connector"):
            await cp.swipe(TAG)
    # Inoperative survives a restart (the persistence OCTT TC_034 checks; test_octt.py replays it)
    async with charger(nursery, csms, connectors=2, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=2)
        boot_statuses = {
            c.payload["connectorId"]: c.payload["status"]
            for c in station.calls("StatusNotification")
        }
        assert boot_statuses == {0: "Available", 1: "Unavailable", 2: "Unavailable"}
        back = await station.call(call.ChangeAvailability(connector_id=0, type="Operative"))
        assert back.status == "Accepted"
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 2 and p["status"] == "Available"
        )


async def test_change_availability_that_cannot_be_persisted_is_rejected_and_changes_nothing(
    nursery, start_csms, autojump_clock, tmp_path
):
    """Review D5: it took effect first, then the journal fault became an InternalError."""
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(
        nursery, csms, connectors=2, state_dir=tmp_path, journal_options=options
    ) as cp:
        station = await cp.registered()
        disk.full = True
        for connector in (0, 2):
            answer = await station.call(
                call.ChangeAvailability(connector_id=connector, type="Inoperative")
            )
            assert answer.status == "Rejected"
        assert cp.charger.operative and cp.connector(2).operative
        disk.full = False  # the journal's probe finds it writable again
        await arrival(
            station,
            "StatusNotification",
            lambda p: p["connectorId"] == 0 and p["errorCode"] == "NoError",
            count=2,
        )
        await cp.sim("plug", 1)
        await cp.swipe(TAG)  # still in service
        await arrival(station, "StartTransaction")
    async with charger(nursery, csms, connectors=2, state_dir=tmp_path) as cp:
        station = await cp.registered(connection=2)
        boot = {
            c.payload["connectorId"]: c.payload["status"]
            for c in station.calls("StatusNotification")
        }
        assert boot == {0: "Available", 1: "Available", 2: "Available"}
    assert not csms.violations


async def test_the_charge_point_stays_available_until_a_scheduled_inoperative_applies(
    nursery, start_csms, autojump_clock
):
    """1.6 §5.2: a charge point is available while it is charging. ChangeAvailability(0,
    Inoperative) during a transaction: Scheduled; no new session anywhere from now on, the
    idle connector Unavailable at once, connector 0 only when the last transaction ended."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        await charging(cp, station, connector=1)
        answer = await station.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
        assert answer.status == "Scheduled"
        await arrival(
            station,
            "StatusNotification",
            lambda p: p["connectorId"] == 2 and p["status"] == "Unavailable",
        )
        await trio.sleep(60)
        zero = [
            c.payload for c in station.calls("StatusNotification") if c.payload["connectorId"] == 0
        ]
        assert [p["status"] for p in zero] == ["Available"]
        assert cp.world(1).contactor_closed
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="no free connector"):
            await cp.swipe("SECOND01")
        await cp.swipe(TAG)
        await arrival(station, "StopTransaction")
        await arrival(
            station,
            "StatusNotification",
            lambda p: p["connectorId"] == 0 and p["status"] == "Unavailable",
        )
        await arrival(
            station,
            "StatusNotification",
            lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable",
        )
    assert not csms.violations


async def test_unlock_connector_without_a_lock_is_not_supported(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await charging(cp, station)
        for connector in (1, 3):
            answer = await station.call(call.UnlockConnector(connector_id=connector))
            assert answer.status == "NotSupported"
        assert not station.calls("StopTransaction"), "not a remote stop"


async def test_unlock_connector_ends_the_transaction_then_unlocks(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra='[connector.lock]\ndriver = "sim"\n') as cp:
        station = await cp.registered()
        await charging(cp, station)
        assert cp.parts.hardware.connectors[1].lock.locked
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "Unlocked"
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "UnlockCommand"
        assert not cp.parts.hardware.connectors[1].lock.locked
        idle = await station.call(call.UnlockConnector(connector_id=1))
        assert idle.status == "Unlocked"


async def test_unlock_failed_only_when_the_lock_did_not_open(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    extra = '[connector.lock]\ndriver = "sim"\nfail = true\n'
    async with charger(nursery, csms, connector_extra=extra) as cp:
        station = await cp.registered()
        answer = await station.call(call.UnlockConnector(connector_id=1))
        assert answer.status == "UnlockFailed"
        report = await station.wait_for(
            "StatusNotification", lambda p: p["errorCode"] == "ConnectorLockFailure"
        )
        assert report.payload["status"] == "Available"  # a warning: charging stays possible


async def test_data_transfer_to_an_unknown_vendor(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        answer = await station.call(call.DataTransfer(vendor_id="com.example", data="hi"))
        assert answer.status == "UnknownVendorId"


@asynccontextmanager
async def daemon_process(tmp_path: Path, extra: str = "") -> AsyncIterator[tuple[Any, Any]]:
    """A central system here and the real daemon as a process; yields (csms, process) once
    the charge point has registered. The process is killed if it is still running at the end."""
    csms = make_csms()
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.serve)
        text = config_text(
            url=csms.url,
            state_dir=tmp_path / "state",
            socket=tmp_path / "ctl.sock",
            log_level="info",
        )
        (tmp_path / "ocppd.toml").write_text(text.replace("[rfid]", f"{extra}\n[rfid]"))
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "ocppd", "run", "-c", str(tmp_path / "ocppd.toml")],
            cwd=REPO,
            stderr=subprocess.DEVNULL,
        )
        try:
            with trio.fail_after(60):
                station = await csms.wait_station(CP_ID)
                await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
                yield csms, process
        finally:
            if process.returncode is None:
                process.kill()
            nursery.cancel_scope.cancel()


def test_a_hard_reset_runs_the_configured_command(tmp_path):
    """The real process: Reset Hard stops, runs [system] hard_reset_command, exits 0."""
    marker = tmp_path / "rebooted"
    command = json.dumps(["sh", "-c", f"echo done > {marker}"])

    async def main() -> int:
        async with daemon_process(tmp_path, f"[system]\nhard_reset_command = {command}\n") as (
            csms,
            process,
        ):
            await csms.stations[CP_ID].call(call.Reset(type="Hard"))
            with trio.fail_after(30):
                return await process.wait()

    assert trio.run(main) == 0
    assert marker.read_text() == "done\n"


def test_a_soft_reset_keeps_the_process_and_boots_again(tmp_path):
    async def main() -> tuple[int, bool, list[str]]:
        async with daemon_process(tmp_path) as (csms, process):
            await csms.stations[CP_ID].call(call.Reset(type="Soft"))
            with trio.fail_after(60):
                again = await csms.wait_station(CP_ID, connection=2)
                await again.wait_for("BootNotification")
                alive = process.returncode is None  # the same process, re-executed in place
                os.kill(process.pid, signal.SIGTERM)
                code = await process.wait()
            return code, alive, [c.action for c in csms.all_calls(CP_ID)]

    code, alive, actions = trio.run(main)
    assert code == 0 and alive
    assert actions.count("BootNotification") == 2
