"""Nothing lost: the outbox's retry rules, offline sessions, unknown time, storage faults."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
import trio

from ocppd.testing.csms import ErrorAnswer, Station
from tests.harness import CP_ID, EPOCH, ControlRefused, charger
from tests.netutil import Proxy

TAG = "0FF11NE1"


def tx_messages(csms: Any) -> list[Any]:
    return [
        c
        for c in csms.all_calls(CP_ID)
        if c.action in ("StartTransaction", "MeterValues", "StopTransaction")
    ]


async def offline_session(cp: Any, minutes: int = 5) -> None:
    await cp.sim("plug", 1)
    await cp.swipe(TAG)
    await trio.sleep(minutes * 60)
    await cp.swipe(TAG)
    await cp.sim("unplug", 1)


async def test_a_callerror_is_retried_after_interval_times_attempts_with_the_same_id(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    failures = [ErrorAnswer("InternalError", "busy"), ErrorAnswer("InternalError", "busy")]

    def start(station: Station, payload: dict[str, Any]) -> Any:
        if failures:
            return failures.pop(0)
        return {"transactionId": 41, "idTagInfo": {"status": "Accepted"}}

    csms.overrides["StartTransaction"] = start
    keys = {"TransactionMessageAttempts": 3, "TransactionMessageRetryInterval": 30}
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction", count=3)
        tries = station.calls("StartTransaction")
        assert [round(b.t - a.t) for a, b in itertools.pairwise(tries)] == [30, 60]
        assert len({t.unique_id for t in tries}) == 1
        assert all(t.payload == tries[0].payload for t in tries)
        await cp.swipe(TAG)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["transactionId"] == 41


async def test_a_start_given_up_is_a_dead_letter_and_its_transaction_uses_minus_one(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    csms.overrides["StartTransaction"] = lambda station, payload: ErrorAnswer("GenericError")
    keys = {
        "TransactionMessageAttempts": 2,
        "TransactionMessageRetryInterval": 10,
        "MeterValueSampleInterval": 30,
    }
    async with charger(nursery, csms, keys=keys) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StartTransaction", count=2)
        await trio.sleep(100)
        await cp.swipe(TAG)
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["transactionId"] == -1
        samples = station.calls("MeterValues")
        assert samples and all(s.payload["transactionId"] == -1 for s in samples)
        assert len(station.calls("StartTransaction")) == 2
        await trio.sleep(1)  # the answer to the Stop is being processed
        status = await cp.status()
        assert status["queue"]["dead"] == 1 and status["queue"]["pending"] == 0


async def test_the_queue_drains_only_after_registration_is_accepted(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(boot_status="Pending", heartbeat_interval=60)
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    async with charger(
        nursery,
        csms,
        url=proxy.url,
        keys={"AllowOfflineTxForUnknownId": True, "MeterValueSampleInterval": 60},
    ) as cp:
        await offline_session(cp)
        proxy.refuse = False
        station = await cp.station()
        await station.wait_for("BootNotification")
        await trio.sleep(50)
        assert [c.action for c in station.inbox] == ["BootNotification"]
        csms.boot_status = "Accepted"
        await station.wait_for("StopTransaction")
        order = [c.action for c in tx_messages(csms)]
        assert order[0] == "StartTransaction" and order[-1] == "StopTransaction"
        assert set(order[1:-1]) == {"MeterValues"} and len(order) == 2 + 5
        ids = {c.payload.get("transactionId") for c in tx_messages(csms)[1:]}
        assert ids == {1}
        stamps = [c.payload["meterValue"][0]["timestamp"] for c in tx_messages(csms)[1:-1]]
        assert stamps == sorted(stamps)
        assert not csms.violations


async def test_statuses_are_not_queued_only_the_current_one_is_sent(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(
        nursery, csms, url=proxy.url, keys={"AllowOfflineTxForUnknownId": True}
    ) as cp:
        first = await cp.registered()
        proxy.refuse = True
        proxy.cut()
        await trio.sleep(5)
        await offline_session(cp, minutes=1)  # Preparing, Charging, Finishing, Available
        await cp.sim("plug", 1)  # and now Preparing
        proxy.refuse = False
        second = await cp.station(connection=2)
        await second.wait_for("StopTransaction")
        await trio.sleep(20)
        # the current status of connector 0 and 1, once each: not the offline history
        assert [
            (c.payload["connectorId"], c.payload["status"])
            for c in second.calls("StatusNotification")
        ] == [(0, "Available"), (1, "Preparing")]
        assert first is not second


async def test_an_offline_start_that_the_central_system_finds_invalid_is_stopped(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(tags={TAG: "Invalid"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    async with charger(
        nursery, csms, url=proxy.url, keys={"AllowOfflineTxForUnknownId": True}
    ) as cp:
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        assert cp.world(1).contactor_closed
        await trio.sleep(600)
        proxy.refuse = False
        station = await cp.station()
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "DeAuthorized"
        assert not cp.world(1).contactor_closed


async def test_with_no_time_known_events_are_stamped_once_the_central_system_tells_it(
    nursery, start_csms, autojump_clock
):
    """A board without RTC boots in 1970 and offline: stamps wait for the central system's
    time and are then placed by the monotonic clock, never before 2020."""
    from ocppd.clock import Clock
    from tests import harness

    csms = await start_csms(now=lambda: datetime.fromtimestamp(EPOCH + trio.current_time(), UTC))
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    original = harness.wall
    harness.wall = lambda: 86400.0 + trio.current_time()  # 1970-01-02
    try:
        async with charger(
            nursery,
            csms,
            url=proxy.url,
            keys={"AllowOfflineTxForUnknownId": True, "MeterValueSampleInterval": 0},
        ) as cp:
            assert isinstance(cp.daemon.clock, Clock) and cp.daemon.clock.source == "unknown"
            started_at = trio.current_time()
            await offline_session(cp, minutes=10)
            await trio.sleep(100)
            proxy.refuse = False
            station = await cp.station()
            stop = await station.wait_for("StopTransaction")
            boot_time = datetime.fromtimestamp(EPOCH + station.calls("BootNotification")[0].t, UTC)
            start = station.calls("StartTransaction")[0].payload
            start_ts = datetime.fromisoformat(start["timestamp"].replace("Z", "+00:00"))
            stop_ts = datetime.fromisoformat(stop.payload["timestamp"].replace("Z", "+00:00"))
            assert start_ts.year >= 2020
            assert round((stop_ts - start_ts).total_seconds()) == 600
            elapsed = station.calls("BootNotification")[0].t - started_at
            assert abs((boot_time - start_ts).total_seconds() - elapsed) < 2
            for call in csms.all_calls(CP_ID):
                assert "1970" not in str(call.payload)
    finally:
        harness.wall = original


class Disk:
    """A journal connection whose writes fail like a full disk, while ``full`` is set."""

    full = False

    @classmethod
    def factory(cls) -> type[sqlite3.Connection]:
        disk = cls

        class Failing(sqlite3.Connection):
            def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
                if disk.full and sql.lstrip().upper().startswith(
                    ("INSERT", "UPDATE", "DELETE", "BEGIN")
                ):
                    exc = sqlite3.OperationalError("database or disk is full")
                    exc.sqlite_errorcode = 13  # SQLITE_FULL
                    exc.sqlite_errorname = "SQLITE_FULL"
                    raise exc
                return super().execute(sql, parameters)

        return Failing


async def test_a_full_disk_refuses_new_sessions_keeps_the_running_one_safe_and_recovers(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(nursery, csms, connectors=2, journal_options=options) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe(TAG)
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        disk.full = True
        await cp.swipe(TAG)  # the stop cannot be journaled yet
        assert not cp.world(1).contactor_closed, "the contactor opens whatever the disk says"
        report = await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 0 and p["errorCode"] == "OtherError"
        )
        assert report.payload["info"].startswith("journal:")
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 2 and p["status"] == "Unavailable"
        )
        await cp.sim("plug", 2)
        with pytest.raises(ControlRefused, match="journal cannot be written"):
            await cp.swipe("SECOND01")
        status = await cp.status()
        assert status["journal"]["healthy"] is False
        assert not station.calls("StopTransaction")
        disk.full = False
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Local"
        await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 2 and p["status"] == "Preparing"
        )
        await cp.swipe("SECOND01")
        await station.wait_for("StartTransaction", count=2)
