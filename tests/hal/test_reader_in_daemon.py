"""The whole daemon with a real serial RFID reader (an RDM6300 on a pty) and simulated
connectors, against the independent central system: a stranger's card, a busy charger, a
Finishing connector and a reader that is unplugged never take the charger down (issue 11,
items 1 and 2; review D1, D3). Virtual time that waits for the pty (``io_clock``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
from hal_fake_serial import PtyPort
from ocpp.v16 import call

from hal.base import IndicatorState
from hal.rfid_protocols import rdm6300_frame
from ocppd.testing.csms import Delay, Station
from tests.harness import Charger, charger
from tests.test_offline import Disk

TAG, OTHER, STRANGER = "0F00A1B2C3", "0F00D4E5F6", "0A0B0C0D0E"
INDICATOR = '[connector.indicator]\ndriver = "sim"\n'


def rfid(port: PtyPort) -> str:
    return f'driver = "serial"\nport = "{port.path}"\nprotocol = "rdm6300"\nhold_s = 1.0'


async def until(predicate: Callable[[], Any], what: str) -> None:
    with trio.move_on_after(120):
        while not predicate():
            await trio.sleep(0.1)
        return
    raise AssertionError(f"no {what} within 120 s")


async def show(port: PtyPort, tag: str) -> None:
    """A card held on the reader for a moment, then taken away (the next one is a new swipe)."""
    port.write(rdm6300_frame(tag) * 2)
    await trio.sleep(2)


async def until_status(
    station: Station, status: str, connector: int = 1, count: int = 1, code: str | None = None
) -> dict[str, Any]:
    with trio.fail_after(120):
        hit = await station.wait_for(
            "StatusNotification",
            lambda p: (
                p["connectorId"] == connector
                and p["status"] == status
                and (code is None or p["errorCode"] == code)
            ),
            count=count,
        )
    return hit.payload


async def arrival(station: Station, action: str, **kwargs: Any) -> Any:
    """The next ``action`` the central system receives (``Station.wait_for``), in bounded time."""
    with trio.fail_after(120):
        return await station.wait_for(action, **kwargs)


async def reader_open(cp: Charger) -> None:
    """The reader has opened its port (pyserial flushes what arrived before)."""
    reader = cp.parts.hardware.rfid
    await until(lambda: reader.opened >= 1, "open reader")


def statuses(station: Station, connector: int = 1) -> list[str]:
    return [
        c.payload["status"]
        for c in station.calls("StatusNotification")
        if c.payload["connectorId"] == connector
    ]


async def last_tag(cp: Charger) -> dict[str, Any]:
    status = await cp.status()
    return status["last_tag"] or {}


async def test_an_unknown_card_on_the_reader_is_refused_and_the_daemon_carries_on(
    nursery, start_csms, io_clock, tmp_path: Path, caplog
):
    caplog.set_level(logging.DEBUG)
    port = PtyPort(tmp_path).plug()
    csms = await start_csms(tags={STRANGER: "Invalid"})
    async with charger(nursery, csms, rfid=rfid(port), connector_extra=INDICATOR) as cp:
        station = await cp.registered()
        await reader_open(cp)
        await cp.sim("plug", 1)
        await until_status(station, "Preparing")
        await show(port, STRANGER)
        await arrival(station, "Authorize")
        await until(lambda: cp.charger.last_tag is not None, "the refusal")
        tag = await last_tag(cp)
        assert tag == {
            "at": tag["at"],
            "source": "reader",
            "accepted": False,
            "outcome": "tag refused: central system says Invalid",
        }
        assert (IndicatorState.REFUSED, True) in cp.world(1).shown
        assert not station.calls("StartTransaction")
        await show(port, TAG)  # the daemon is alive: the next driver charges
        await until_status(station, "Charging")
        assert (await last_tag(cp))["accepted"] is True
        assert cp.world(1).indicator[0] is IndicatorState.CHARGING
    port.unplug()
    refusals = [r for r in caplog.records if "tag (reader) refused" in r.getMessage()]
    assert refusals and refusals[0].levelno == logging.INFO
    public = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in public if STRANGER in m or TAG in m], "tags only at DEBUG"
    assert not csms.violations


async def test_a_card_while_the_charger_is_busy_is_refused_and_at_finishing_starts_anew(
    nursery, start_csms, io_clock, tmp_path: Path
):
    port = PtyPort(tmp_path).plug()
    csms = await start_csms()
    async with charger(nursery, csms, rfid=rfid(port)) as cp:
        station = await cp.registered()
        await reader_open(cp)
        await cp.sim("plug", 1)
        await show(port, TAG)
        await until_status(station, "Charging")
        await show(port, OTHER)  # every connector is busy
        await until(lambda: cp.charger.last_tag.outcome == "no free connector", "the refusal")
        assert cp.world(1).contactor_closed, "the running session goes on"
        await show(port, TAG)  # stops the session: Finishing, the EV still plugged in
        await until_status(station, "Finishing")
        await show(port, OTHER)  # 1.6 §4.9 F2: a new transaction
        await until_status(station, "Charging", count=2)
        starts = [s.payload["idTag"] for s in station.calls("StartTransaction")]
        assert starts == [TAG, OTHER]
        assert statuses(station)[-3:] == ["Finishing", "Preparing", "Charging"]
    port.unplug()
    assert not csms.violations


async def test_a_reader_unplugged_mid_session_is_a_warning_on_connector_0(
    nursery, start_csms, io_clock, tmp_path: Path
):
    """Review D3: every connector went Faulted (errorCode NoError) and every contactor opened."""
    port = PtyPort(tmp_path).plug()
    csms = await start_csms()
    async with charger(nursery, csms, rfid=rfid(port), connectors=2) as cp:
        station = await cp.registered()
        await reader_open(cp)
        await cp.sim("plug", 1)
        await show(port, TAG)
        await until_status(station, "Charging")
        port.unplug()
        outage = await until_status(station, "Available", connector=0, code="ReaderFailure")
        assert outage["info"] == "RFID reader not available"
        await trio.sleep(30)
        assert cp.world(1).contactor_closed, "the running session goes on"
        assert "Faulted" not in statuses(station, 1) + statuses(station, 2)
        await cp.sim("plug", 2)
        answer = await station.call(call.RemoteStartTransaction(id_tag=OTHER, connector_id=2))
        assert answer.status == "Accepted"
        await until_status(station, "Charging", connector=2)
        port.plug()  # the same path comes back: the reader is reopened, the error clears
        await until_status(station, "Available", connector=0, count=2, code="NoError")
        await show(port, TAG)
        stop = await arrival(station, "StopTransaction")
        assert stop.payload["transactionId"] == 1 and stop.payload["reason"] == "Local"
    port.unplug()
    assert not csms.violations


async def test_a_second_card_during_a_slow_authorize_and_a_full_journal_are_refused(
    nursery, start_csms, io_clock, tmp_path: Path
):
    port = PtyPort(tmp_path).plug()
    csms = await start_csms()
    csms.overrides["Authorize"] = lambda station, payload: Delay(
        10, {"idTagInfo": {"status": "Accepted"}}
    )
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(nursery, csms, rfid=rfid(port), journal_options=options) as cp:
        station = await cp.registered()
        await reader_open(cp)
        await cp.sim("plug", 1)
        port.write(rdm6300_frame(TAG))
        with trio.fail_after(60):
            await station.wait_for("Authorize")  # answered in 10 s; the connector is claimed
        await show(port, OTHER)
        assert cp.charger.last_tag.outcome == "no free connector"
        assert len(station.calls("Authorize")) == 1
        await until_status(station, "Charging")
        await show(port, TAG)
        await until_status(station, "Finishing")
        disk.full = True
        await show(port, OTHER)  # F2 here, but the start cannot be journaled
        with trio.fail_after(60):
            await station.wait_for("Authorize", count=2)
        await trio.sleep(12)
        assert not cp.charger.last_tag.accepted
        assert cp.charger.last_tag.outcome == "the journal cannot be written"
        await show(port, OTHER)  # now known: refused at once, no Authorize
        assert cp.charger.last_tag.outcome.startswith("no new sessions: the journal")
        assert len(station.calls("Authorize")) == 2
        disk.full = False
        await until_status(station, "Available", connector=0, count=2, code="NoError")
        await until_status(station, "Finishing", count=2)
        await show(port, OTHER)
        await until_status(station, "Charging", count=2)
    port.unplug()
    assert not csms.violations
