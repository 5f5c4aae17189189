"""A stranger's card, an answer without a verdict, a start that cannot happen: refusals are log
lines, LED patterns and `ocppctl status`, never the end of the daemon (issue 11, items 1, 5, 8
and 9: F2, Preparing)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from hal.base import IndicatorState
from ocppd import ctl
from ocppd.testing.csms import Delay, ErrorAnswer, NoAnswer, Station
from tests.harness import Charger, ControlRefused, charger
from tests.test_offline import Disk

TAG, STRANGER = "04A2B3C4", "5EC2E7A9"


def statuses(station: Station, connector: int = 1) -> list[str]:
    return [
        c.payload["status"]
        for c in station.calls("StatusNotification")
        if c.payload["connectorId"] == connector
    ]


async def until_status(station: Station, status: str, connector: int = 1, count: int = 1) -> None:
    with trio.fail_after(600):
        await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == connector and p["status"] == status,
            count=count,
        )


async def arrival(station: Station, action: str, **kwargs: Any) -> Any:
    """The next ``action`` the central system receives (``Station.wait_for``), in bounded time."""
    with trio.fail_after(120):
        return await station.wait_for(action, **kwargs)


def records_naming(caplog: Any, text: str, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level and text in r.getMessage()]


async def test_a_refused_tag_is_a_log_line_a_led_pattern_and_a_status(
    nursery, start_csms, autojump_clock, caplog
):
    caplog.set_level(logging.DEBUG)
    csms = await start_csms(tags={STRANGER: "Invalid"})
    extra = '[connector.indicator]\ndriver = "sim"\n'
    async with charger(nursery, csms, connector_extra=extra) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await until_status(station, "Preparing")
        with pytest.raises(ControlRefused, match="tag refused: central system says Invalid"):
            await cp.swipe(STRANGER)
        assert cp.world(1).indicator[0] is IndicatorState.REFUSED
        status = await cp.status()
        assert status["last_tag"]["accepted"] is False
        assert status["last_tag"]["outcome"] == "tag refused: central system says Invalid"
        assert status["last_tag"]["source"] == "ocppctl"
        assert STRANGER not in str(status["last_tag"])
        await trio.sleep(5)  # the refusal is shown for a few seconds, then the status again
        assert cp.world(1).indicator[0] is IndicatorState.PREPARING
        assert records_naming(caplog, "refused: tag refused: central system says Invalid")
        assert not station.calls("StartTransaction")
        await cp.swipe(TAG)  # the next driver charges as usual
        await until_status(station, "Charging")
        assert (await cp.status())["last_tag"]["accepted"] is True
    assert not records_naming(caplog, STRANGER), "tags are personal data: DEBUG only"
    assert not csms.violations


async def test_tag_first_on_several_connectors_reports_preparing_before_charging(
    nursery, start_csms, autojump_clock
):
    """1.6 §4.9: A3 (Available -> Charging) is for a charger without authorization. The tag
    makes every free connector Preparing (the next one plugged in starts this session)."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        station = await cp.registered()
        assert "any free connector" in await cp.swipe(TAG)
        await until_status(station, "Preparing", connector=2)
        await trio.sleep(10)
        await cp.sim("plug", 2)
        await until_status(station, "Charging", connector=2)
        await until_status(station, "Available", connector=1, count=2)
        assert statuses(station, 2) == ["Available", "Preparing", "Charging"]
        assert statuses(station, 1) == ["Available", "Preparing", "Available"]
        start = station.calls("StartTransaction")
        assert len(start) == 1 and start[0].payload["connectorId"] == 2
        await cp.sim("plug", 1)  # the claim is gone: a cable here waits for its own tag
        await trio.sleep(10)
        assert len(station.calls("StartTransaction")) == 1
    assert not csms.violations


async def test_a_new_tag_at_a_finishing_connector_starts_a_new_session(
    nursery, start_csms, autojump_clock
):
    """1.6 §4.9 F2: Finishing -> Preparing when a tag is presented again: a new transaction."""
    csms = await start_csms(tags={STRANGER: "Blocked"})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await until_status(station, "Charging")
        await cp.swipe(TAG)
        await until_status(station, "Finishing")
        with pytest.raises(ControlRefused, match="Blocked"):
            await cp.swipe(STRANGER)
        await until_status(station, "Finishing", count=2)  # refused: still finishing
        assert "charging on connector 1" in await cp.swipe("0C0FFEE0")
        await until_status(station, "Charging", count=2)
        starts = station.calls("StartTransaction")
        assert [s.payload["idTag"] for s in starts] == [TAG, "0C0FFEE0"]
        assert statuses(station)[-5:] == [
            "Finishing",
            "Preparing",
            "Finishing",
            "Preparing",
            "Charging",
        ]
    assert not csms.violations


async def test_an_authorize_answer_that_breaks_the_schema_refuses_the_tag(
    nursery, start_csms, autojump_clock, caplog
):
    """Before: the CALLRESULT failing validation counted as "no answer" and the offline rules
    started a transaction online, for a tag the central system never accepted."""
    csms = await start_csms()
    csms.overrides["Authorize"] = lambda station, payload: {"idTagInfo": {}}
    keys = {"AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="no valid answer from the central system"):
            await cp.swipe(STRANGER)
        await trio.sleep(30)
        assert not station.calls("StartTransaction")
        assert records_naming(caplog, "Authorize answered without a valid verdict", logging.WARNING)


async def test_a_callerror_to_authorize_refuses_the_tag(nursery, start_csms, autojump_clock):
    """The central system is there, so the charger is not offline (1.6 §3.5): no offline rules."""
    csms = await start_csms()
    csms.overrides["Authorize"] = lambda station, payload: ErrorAnswer("InternalError", "db down")
    keys = {"AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        with pytest.raises(ControlRefused, match="InternalError"):
            await cp.swipe(STRANGER)
        await trio.sleep(30)
        assert not station.calls("StartTransaction")


async def test_no_answer_to_authorize_applies_the_offline_rules(
    nursery, start_csms, autojump_clock
):
    """The decision's other half (unchanged): a central system that does not answer is
    unavailable, which is what the offline rules are for (1.6 §3.5)."""
    csms = await start_csms()
    csms.overrides["Authorize"] = lambda station, payload: NoAnswer()
    keys = {"AllowOfflineTxForUnknownId": True}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        assert "charging on connector 1" in await cp.swipe(STRANGER)
        start = await arrival(station, "StartTransaction")
        assert start.payload["idTag"] == STRANGER


async def remote_start(cp: Charger, station: Station, connector: int = 1) -> str:
    answer = await station.call(call.RemoteStartTransaction(id_tag=TAG, connector_id=connector))
    return str(answer.status)


async def test_a_remote_start_that_cannot_start_says_why(
    nursery, start_csms, autojump_clock, caplog
):
    """Review D6: the meter does not answer (and its driver has not noticed yet): Accepted,
    then nothing happened, silently."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        cp.world(1).meter_silent = True
        assert await remote_start(cp, station) == "Accepted"
        await trio.sleep(5)
        assert not station.calls("StartTransaction")
        refusal = (await cp.status())["connectors"][0]["last_refusal"]
        assert refusal["what"] == "remote start" and refusal["why"] == "the meter does not answer"
        assert records_naming(caplog, "remote start: not starting: the meter does not answer")
        cp.world(1).meter_silent = False
        assert await remote_start(cp, station) == "Accepted"
        await arrival(station, "StartTransaction")


async def test_a_remote_start_when_the_journal_cannot_be_written(
    nursery, start_csms, autojump_clock
):
    """Not known yet: Accepted, then the start fails and says why. Known: Rejected."""
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(nursery, csms, connectors=2, journal_options=options) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        disk.full = True
        assert await remote_start(cp, station) == "Accepted"
        await trio.sleep(5)
        refusal = (await cp.status())["connectors"][0]["last_refusal"]
        assert refusal["why"].startswith("the journal cannot be written")
        assert await remote_start(cp, station, connector=2) == "Rejected"
        assert await remote_start(cp, station) == "Rejected"
        disk.full = False
        await until_status(station, "Preparing", connector=1, count=2)
        assert await remote_start(cp, station) == "Accepted"
        await arrival(station, "StartTransaction")


def test_ocppctl_status_tells_the_owner_what_became_of_the_last_tag_and_start():
    status = {
        "version": "0.1.0",
        "connection": {
            "state": "connected",
            "url": "ws://csms/ocpp/CP",
            "registration": "Accepted",
        },
        "queue": {"pending": 0},
        "charge_point": {
            "status": "Available",
            "error_code": "ReaderFailure",
            "info": "RFID reader not available",
        },
        "last_tag": {
            "at": "2026-11-21T10:00:05Z",
            "source": "reader",
            "accepted": False,
            "outcome": "tag refused: central system says Invalid",
        },
        "connectors": [
            {
                "id": 1,
                "status": "Preparing",
                "error_code": "NoError",
                "last_refusal": {
                    "at": "2026-11-21T10:01:00Z",
                    "what": "remote start",
                    "why": "the meter does not answer",
                },
            }
        ],
    }
    text = ctl.format_status(status)
    assert "charge point  Available, ReaderFailure (RFID reader not available)" in text
    assert (
        "last tag      refused (reader at 2026-11-21T10:00:05Z): "
        "tag refused: central system says Invalid"
    ) in text
    assert (
        "connector 1   remote start not started at 2026-11-21T10:01:00Z: the meter does not answer"
    ) in text


async def test_a_status_that_lasts_while_the_reporter_waits_is_still_reported_in_order(
    nursery, start_csms, autojump_clock
):
    """1.6 errata 3.19: every status change shall be sent. While the reporter waits for the
    answer to another connector's StatusNotification, a cached tag (LocalPreAuthorize) at a
    Finishing connector goes Finishing -> Preparing -> Charging; the reporter used to look
    only at the newest status afterwards and never sent the Preparing."""
    csms = await start_csms()
    keys = {"LocalPreAuthorize": True, "AuthorizationCacheEnabled": True}
    async with charger(nursery, csms, connectors=2, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await until_status(station, "Charging")
        await cp.swipe(TAG)
        await until_status(station, "Finishing")
        csms.overrides["StatusNotification"] = lambda station, payload: Delay(3, {})
        answer = await station.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
        assert answer.status == "Accepted"
        await until_status(station, "Unavailable", connector=2)
        await cp.swipe(TAG)  # while connector 2's StatusNotification waits for its answer
        await until_status(station, "Charging", count=2)
        assert len(station.calls("Authorize")) == 1  # the second start came from the cache
        assert statuses(station)[-3:] == ["Finishing", "Preparing", "Charging"]
        times = [c.payload.get("timestamp") for c in station.calls("StatusNotification")]
        assert [t for t in times if t] == sorted(t for t in times if t)
    assert not csms.violations
