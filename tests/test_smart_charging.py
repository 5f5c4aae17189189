"""Smart Charging end to end: the independent central system sets, clears and reads charging
profiles, and the limit reaches the simulated hardware at each boundary (virtual time).

The OCTT 1.6 Smart Charging cases the charge point takes are replayed here by name
(TC_056, TC_057, TC_058_1, TC_059, TC_060, TC_066, TC_067, TC_072); the composite schedule
the charger answers is compared with the pure function (``ocppd/model/smart_charging.py``)
fed the same profiles.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ocppd import ctl
from ocppd.model.charging_profile import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    Recurrency,
    RunningTransaction,
    SchedulePeriod,
)
from ocppd.model.smart_charging import ConnectorFacts, Site, composite_schedule
from ocppd.testing.csms import CallFailed, Station
from tests.harness import CP_ID, Charger, charger, config_text, csms_now, make_csms
from tests.test_offline import Disk

REPO = Path(__file__).resolve().parent.parent
TAG = "04A2B3C4"
QUIET = {"MeterValueSampleInterval": 0}
PILOT = '[connector.pilot]\ndriver = "sim"'  # a control pilot the limit reaches
WIRE_PURPOSE = {
    "ChargePointMaxProfile": Purpose.CHARGE_POINT_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile(
    pid: int,
    purpose: str,
    periods: list[tuple[int, float]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    start: datetime | None = None,
    duration: int | None = None,
    unit: str = "A",
    transaction_id: int | None = None,
    recurrency: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> dict[str, Any]:
    """A csChargingProfiles object as a central system writes it."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit} for s, limit in periods],
    }
    if start is not None:
        schedule["startSchedule"] = stamp(start)
    if duration is not None:
        schedule["duration"] = duration
    wire: dict[str, Any] = {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    for key, value in (
        ("transactionId", transaction_id),
        ("recurrencyKind", recurrency),
        ("validFrom", None if valid_from is None else stamp(valid_from)),
        ("validTo", None if valid_to is None else stamp(valid_to)),
    ):
        if value is not None:
            wire[key] = value
    return wire


def engine_profile(connector_id: int, wire: dict[str, Any]) -> ChargingProfile:
    """The same profile in the engine's words, written out here independently of the
    daemon's own mapping."""
    schedule = wire["chargingSchedule"]

    def instant(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    return ChargingProfile(
        id=wire["chargingProfileId"],
        connector_id=connector_id,
        stack_level=wire["stackLevel"],
        purpose=WIRE_PURPOSE[wire["chargingProfilePurpose"]],
        kind=Kind(wire["chargingProfileKind"].lower()),
        schedule=ChargingSchedule(
            unit=RateUnit(schedule["chargingRateUnit"]),
            periods=tuple(
                SchedulePeriod(p["startPeriod"], p["limit"], p.get("numberPhases"))
                for p in schedule["chargingSchedulePeriod"]
            ),
            duration_s=schedule.get("duration"),
            start=instant(schedule.get("startSchedule")),
        ),
        recurrency=None
        if "recurrencyKind" not in wire
        else Recurrency(wire["recurrencyKind"].lower()),
        valid_from=instant(wire.get("validFrom")),
        valid_to=instant(wire.get("validTo")),
        transaction_id=wire.get("transactionId"),
    )


async def set_profile(station: Station, connector_id: int, wire: dict[str, Any]) -> str:
    answer = await station.call_raw(
        "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": wire}
    )
    return str(answer.status)


async def clear(station: Station, **criteria: Any) -> str:
    answer = await station.call_raw("ClearChargingProfile", criteria)
    return str(answer.status)


async def composite(
    station: Station, connector_id: int, duration: int, unit: str = "A"
) -> dict[str, Any]:
    answer = await station.call_raw(
        "GetCompositeSchedule",
        {"connectorId": connector_id, "duration": duration, "chargingRateUnit": unit},
    )
    return {
        "status": answer.status,
        "connector_id": answer.connector_id,
        "schedule_start": answer.schedule_start,
        "schedule": answer.charging_schedule,
    }


def expected_periods(
    profiles: list[ChargingProfile],
    site: Site,
    connector_id: int,
    start: datetime,
    duration: int,
    unit: RateUnit = RateUnit.AMPERE,
) -> list[tuple[int, float]]:
    schedule = composite_schedule(profiles, site, connector_id, start, duration, unit)
    return [(p.start_s, p.limit) for p in schedule.periods]


def answered_periods(answer: dict[str, Any]) -> list[tuple[int, float]]:
    return [(p["start_period"], p["limit"]) for p in answer["schedule"]["charging_schedule_period"]]


async def until_status(station: Station, status: str, connector: int = 1, count: int = 1) -> None:
    with trio.fail_after(900):
        await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == connector and p["status"] == status,
            count=count,
        )


async def start_session(cp: Charger, station: Station) -> dict[str, Any]:
    await cp.sim("plug", 1)
    await until_status(station, "Preparing")
    await cp.swipe(TAG)
    await until_status(station, "Charging")
    with trio.fail_after(60):
        while cp.connector(1).tx is None or cp.connector(1).tx.transaction_id is None:
            await trio.sleep(0.5)
    return station.calls("StartTransaction")[-1].payload


async def limit_shown(cp: Charger, connector: int = 1) -> tuple[float, dict[str, Any]]:
    """``current_limit_a`` and its source as ``ocppctl status --json`` shows them."""
    status = await cp.status()
    shown = status["connectors"][connector - 1]
    return shown["current_limit_a"], shown["current_limit_source"]


def offered(cp: Charger, connector: int = 1) -> float | None:
    """What the simulated pilot offers the EV."""
    return cp.world(connector).offered_a


def one_connector_site(running: RunningTransaction | None = None) -> Site:
    return Site({1: ConnectorFacts(32.0, 3, running)})


# --- OCTT cases ----------------------------------------------------------------------------------


async def test_tc_056_a_tx_default_profile_limits_new_transactions(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        now = csms_now()
        wire = profile(1, "TxDefaultProfile", [(0, 10.0), (600, 16.0)], start=now)
        assert await set_profile(station, 1, wire) == "Accepted"
        await start_session(cp, station)
        assert offered(cp) == 10.0
        assert await limit_shown(cp) == (
            10.0,
            {"source": "profile", "profile_id": 1, "purpose": "TxDefaultProfile", "stack_level": 0},
        )
        await trio.sleep(601 - (csms_now() - now).total_seconds())
        assert offered(cp) == 16.0
        assert (await limit_shown(cp))[0] == 16.0


async def test_tc_057_a_tx_profile_for_the_running_transaction(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        tx_id = cp.connector(1).tx.transaction_id
        assert offered(cp) == 32.0
        other = profile(7, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id=tx_id + 1)
        assert await set_profile(station, 1, other) == "Rejected"  # not the running one
        wire = profile(7, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, wire) == "Accepted"
        await trio.sleep(0.1)
        assert offered(cp) == 8.0
        assert (await limit_shown(cp))[1]["purpose"] == "TxProfile"


async def test_tc_058_1_a_tx_profile_without_a_transaction_is_rejected(
    nursery, start_csms, autojump_clock
):
    """TC_058_1_CS: no transaction runs; SetChargingProfile TxProfile with a transactionId:
    Rejected (the text allows a CallError PropertyConstraintViolation too)."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        wire = profile(3, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id=1)
        assert await set_profile(station, 1, wire) == "Rejected"
        assert await cp.journal.charging_profiles() == []


async def test_tc_059_a_remote_start_with_a_relative_tx_profile(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        wire = profile(9, "TxProfile", [(0, 6.0), (300, 12.0)], kind="Relative", duration=900)
        answer = await station.call_raw(
            "RemoteStartTransaction", {"connectorId": 1, "idTag": TAG, "chargingProfile": wire}
        )
        assert answer.status == "Accepted"
        await trio.sleep(0.1)  # in force before the EV is there: the first offer is 6 A
        assert (await limit_shown(cp))[1]["profile_id"] == 9
        await cp.sim("plug", 1)
        await until_status(station, "Charging")
        assert offered(cp) == 6.0
        start = station.calls("StartTransaction")[-1].payload
        began = datetime.fromisoformat(start["timestamp"])
        # the composite schedule is the pure function's, with the transaction's start
        got = await composite(station, 1, 1200)
        assert got["status"] == "Accepted" and got["connector_id"] == 1
        at = datetime.fromisoformat(got["schedule_start"])
        running = RunningTransaction(began, cp.connector(1).tx.transaction_id)
        assert answered_periods(got) == expected_periods(
            [engine_profile(1, wire)], one_connector_site(running), 1, at, 1200
        )
        boundary = math.floor(began.timestamp()) + 300 - math.floor(at.timestamp())
        assert answered_periods(got)[:2] == [(0, 6.0), (boundary, 12.0)]
        # the relative boundaries reach the pilot
        await trio.sleep(300 - (csms_now() - began).total_seconds() + 0.5)
        assert offered(cp) == 12.0
        await trio.sleep(600)  # the duration ran out: the local maximum again
        assert offered(cp) == 32.0 and (await limit_shown(cp))[1] == {"source": "local_max"}


async def test_tc_060_a_remote_start_with_a_profile_that_is_no_tx_profile_is_rejected(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        wire = profile(9, "TxDefaultProfile", [(0, 6.0)], kind="Relative")
        answer = await station.call_raw(
            "RemoteStartTransaction", {"connectorId": 1, "idTag": TAG, "chargingProfile": wire}
        )
        assert answer.status == "Rejected"
        assert cp.connector(1).pending is None  # nothing was claimed


async def test_tc_066_composite_schedule_of_three_purposes_is_the_pure_function(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        tx = cp.connector(1).tx
        now = csms_now()
        wires = {
            0: profile(1, "ChargePointMaxProfile", [(0, 10.0)], start=now, duration=86_400),
            1: profile(2, "TxDefaultProfile", [(0, 14.0), (20, 9.0), (260, 12.0)], start=now),
        }
        tx_wire = profile(
            3,
            "TxProfile",
            [(0, 8.0), (100, 20.0), (200, 11.0)],
            start=now,
            duration=300,
            transaction_id=tx.transaction_id,
        )
        assert await set_profile(station, 0, wires[0]) == "Accepted"
        assert await set_profile(station, 1, wires[1]) == "Accepted"
        assert await set_profile(station, 1, tx_wire) == "Accepted"
        got = await composite(station, 1, 400)
        at = datetime.fromisoformat(got["schedule_start"])
        engine = [engine_profile(c, w) for c, w in wires.items()] + [engine_profile(1, tx_wire)]
        started = datetime.fromisoformat(tx.started)
        site = one_connector_site(RunningTransaction(started, tx.transaction_id))
        assert answered_periods(got) == expected_periods(engine, site, 1, at, 400)
        # the same in watts: limits x 230 V x 3 phases
        watts = await composite(station, 1, 400, unit="W")
        assert answered_periods(watts) == expected_periods(engine, site, 1, at, 400, RateUnit.WATT)
        assert watts["schedule"]["charging_rate_unit"] == "W"
        # connector 0: the whole charger under its maximum
        whole = await composite(station, 0, 400)
        assert answered_periods(whole) == expected_periods(engine, site, 0, at, 400)
        assert offered(cp) == 8.0  # TxProfile's 8 A under the 10 A maximum


async def test_tc_067_clear_by_id_by_criteria_and_all(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        now = csms_now()
        assert (
            await set_profile(
                station, 0, profile(1, "ChargePointMaxProfile", [(0, 20.0)], start=now)
            )
            == "Accepted"
        )
        assert (
            await set_profile(
                station,
                1,
                profile(
                    2, "TxDefaultProfile", [(0, 6.0), (60, 8.0), (200, 10.0)], stack=1, start=now
                ),
            )
            == "Accepted"
        )
        assert (
            await set_profile(
                station, 0, profile(3, "TxDefaultProfile", [(0, 12.0)], stack=2, start=now)
            )
            == "Accepted"
        )
        assert await clear(station, id=2) == "Accepted"
        assert await clear(station, id=2) == "Unknown"
        got = await composite(station, 1, 300)
        assert answered_periods(got) == [(0, 12.0)]  # profile 3 under the 20 A maximum
        assert (
            await clear(station, chargingProfilePurpose="TxDefaultProfile", stackLevel=2)
            == "Accepted"
        )
        assert answered_periods(await composite(station, 1, 300)) == [(0, 20.0)]
        assert await clear(station) == "Accepted"
        assert answered_periods(await composite(station, 1, 300)) == [(0, 32.0)]
        assert await clear(station) == "Unknown"
        assert await cp.journal.charging_profiles() == []


async def test_tc_072_stacked_tx_default_profiles(nursery, start_csms, autojump_clock):
    """Two stacked defaults: the higher level rules until its duration runs out, then the
    lower one shows; the composite schedule and the pilot at each boundary agree."""
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        tx = cp.connector(1).tx
        running = RunningTransaction(datetime.fromisoformat(tx.started), tx.transaction_id)
        now = csms_now()
        low = profile(
            1,
            "TxDefaultProfile",
            [(0, 6.0), (100, 8.0), (200, 10.0)],
            start=now,
            duration=400,
            valid_from=now,
            valid_to=now + timedelta(seconds=401),
        )
        high = profile(
            2,
            "TxDefaultProfile",
            [(0, 7.0), (50, 9.0)],
            stack=1,
            start=now,
            duration=150,
            valid_from=now,
            valid_to=now + timedelta(seconds=401),
        )
        assert await set_profile(station, 1, low) == "Accepted"
        assert await set_profile(station, 1, high) == "Accepted"
        got = await composite(station, 1, 400)
        at = datetime.fromisoformat(got["schedule_start"])
        engine = [engine_profile(1, low), engine_profile(1, high)]
        site = one_connector_site(running)
        assert answered_periods(got) == expected_periods(engine, site, 1, at, 400)
        assert at == now.replace(microsecond=0)  # virtual time: asked at the same second
        assert answered_periods(got) == [
            (0, 7.0),
            (50, 9.0),
            (150, 8.0),  # the higher level's duration ran out: the lower one shows
            (200, 10.0),
        ]
        for after, amps in ((1, 7.0), (51, 9.0), (151, 8.0), (201, 10.0), (402, 32.0)):
            await trio.sleep((now - csms_now()).total_seconds() + after)
            assert offered(cp) == amps, after
            assert (await limit_shown(cp))[0] == amps, after


# --- the limit on the hardware, over a day -------------------------------------------------------


async def test_a_day_of_a_weekly_profile_with_a_charger_maximum_cutting_across(
    nursery, start_csms, autojump_clock
):
    """A weekly recurring default (started a week ago at this hour), a charger maximum
    for two hours in the middle; every boundary reaches the pilot and ocppctl status."""
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        now = csms_now().replace(microsecond=0)
        week = profile(
            5,
            "TxDefaultProfile",
            [(0, 16.0), (3600, 10.0), (4 * 3600, 4.0), (5 * 3600, 20.0)],
            kind="Recurring",
            recurrency="Weekly",
            start=now - timedelta(days=7) + timedelta(seconds=60),
            duration=6 * 3600,
        )
        cap = profile(
            6,
            "ChargePointMaxProfile",
            [(0, 8.0)],
            start=now + timedelta(seconds=60 + 2 * 3600),
            duration=2 * 3600,
        )
        assert await set_profile(station, 1, week) == "Accepted"
        assert await set_profile(station, 0, cap) == "Accepted"
        await trio.sleep(0.1)
        assert offered(cp) == 32.0  # the week's schedule begins in 60 s
        # (seconds after the start, offered by the pilot, status, source) at each boundary
        expected = [
            (1, 16.0, "Charging", ("profile", 5)),
            (3600 + 1, 10.0, "Charging", ("profile", 5)),
            (2 * 3600 + 1, 8.0, "Charging", ("profile", 6)),  # the maximum cuts across
            (4 * 3600 + 1, None, "SuspendedEVSE", ("profile", 5)),  # 4 A: below 6 A, paused
            (5 * 3600 + 1, 20.0, "Charging", ("profile", 5)),
            (6 * 3600 + 1, 32.0, "Charging", ("local_max", None)),
        ]
        began = now + timedelta(seconds=60)
        for after, amps, status, (source, pid) in expected:
            await trio.sleep((began - csms_now()).total_seconds() + after)
            assert offered(cp) == amps, after
            assert cp.world(1).contactor_closed is (amps is not None)
            limit, shown = await limit_shown(cp)
            assert shown["source"] == source and shown.get("profile_id") == pid, after
            status_now = (await cp.status())["connectors"][0]["status"]
            assert status_now == status, after
            if amps is not None:
                assert limit == amps


# --- refusals the spec lists ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connector", "wire", "why"),
    [
        (
            1,
            profile(
                1, "ChargePointMaxProfile", [(0, 10.0)], start=datetime(2026, 1, 1, tzinfo=UTC)
            ),
            "maximum on connector 1",
        ),
        (
            1,
            profile(
                1, "TxDefaultProfile", [(0, 10.0)], stack=9, start=datetime(2026, 1, 1, tzinfo=UTC)
            ),
            "stack level above 8",
        ),
        (
            1,
            profile(
                1,
                "TxDefaultProfile",
                [(i, 10.0) for i in range(25)],
                start=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            "25 periods",
        ),
        (
            1,
            profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Absolute"),
            "absolute without a start",
        ),
    ],
)
async def test_profiles_the_charger_cannot_take_are_rejected(
    nursery, start_csms, autojump_clock, connector, wire, why
):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        assert await set_profile(station, connector, wire) == "Rejected", why


async def test_a_unit_not_allowed_is_rejected(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    keys = {"ChargingScheduleAllowedChargingRateUnit": "Current"}
    async with charger(nursery, csms, keys=keys, connector_extra=PILOT) as cp:
        station = await cp.registered()
        now = csms_now()
        watts = profile(1, "TxDefaultProfile", [(0, 7000.0)], start=now, unit="W")
        assert await set_profile(station, 1, watts) == "Rejected"
        amps = profile(1, "TxDefaultProfile", [(0, 10.0)], start=now)
        assert await set_profile(station, 1, amps) == "Accepted"


async def test_an_unknown_connector_is_a_property_constraint_violation(
    nursery, start_csms, autojump_clock
):
    """Errata 2025-04 §3.39: "an invalid value for connectorId" is a CALLERROR."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        wire = profile(1, "TxDefaultProfile", [(0, 10.0)], start=csms_now())
        with pytest.raises(CallFailed) as failed:
            await set_profile(station, 5, wire)
        assert failed.value.code == "PropertyConstraintViolation"
        answer = await composite(station, 5, 60)
        assert answer["status"] == "Rejected"


async def test_the_smart_charging_keys_are_offered(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        station = await cp.registered()
        answer = await station.call_raw("GetConfiguration", {})
        keys = {k["key"]: k.get("value") for k in answer.configuration_key}
        assert "SmartCharging" in keys["SupportedFeatureProfiles"].split(",")
        assert keys["ChargeProfileMaxStackLevel"] == "8"
        assert keys["ChargingScheduleAllowedChargingRateUnit"] == "Current,Power"
        assert keys["ChargingScheduleMaxPeriods"] == "24"
        assert keys["MaxChargingProfilesInstalled"] == "10"
        assert keys["ConnectorSwitch3to1PhaseSupported"] == "false"


# --- durable profiles ----------------------------------------------------------------------------


async def test_a_tx_profile_ends_with_its_transaction(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        tx_id = cp.connector(1).tx.transaction_id
        wire = profile(4, "TxProfile", [(0, 9.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, wire) == "Accepted"
        assert len(await cp.journal.charging_profiles()) == 1
        await cp.swipe(TAG)
        await until_status(station, "Finishing")
        await trio.sleep(1)
        assert await cp.journal.charging_profiles() == []
        assert await clear(station, id=4) == "Unknown"
        assert (await limit_shown(cp))[1] == {"source": "local_max"}


async def test_a_crash_keeps_the_profiles_and_ends_the_tx_profile_with_power_loss(
    nursery, start_csms, autojump_clock, tmp_path
):
    """The daemon dies mid-transaction (no orderly stop): after the restart the transaction
    is stopped with PowerLoss, its TxProfile is gone, the other profiles limit again."""
    csms = await start_csms()
    now = csms_now()
    default = profile(1, "TxDefaultProfile", [(0, 12.0)], start=now)
    cap = profile(2, "ChargePointMaxProfile", [(0, 20.0)], start=now)
    async with (
        trio.open_nursery() as doomed,
        charger(doomed, csms, keys=QUIET, connector_extra=PILOT, state_dir=tmp_path) as cp,
    ):
        station = await cp.registered()
        assert await set_profile(station, 1, default) == "Accepted"
        assert await set_profile(station, 0, cap) == "Accepted"
        await start_session(cp, station)
        tx_id = cp.connector(1).tx.transaction_id
        tx = profile(3, "TxProfile", [(0, 7.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, tx) == "Accepted"
        await trio.sleep(0.1)
        assert offered(cp) == 7.0
        doomed.cancel_scope.cancel()  # the process dies here: no StopTransaction
        await trio.sleep(1)
    assert not station.calls("StopTransaction")
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT, state_dir=tmp_path) as cp:
        again = await cp.registered(connection=2)
        with trio.fail_after(60):
            stop = await again.wait_for("StopTransaction")
        assert stop.payload["reason"] == "PowerLoss"
        kept = [json.loads(r)["id"] for r in await cp.journal.charging_profiles()]
        assert kept == [1, 2]
        assert await clear(again, id=3) == "Unknown"
        assert answered_periods(await composite(again, 1, 60)) == [(0, 12.0)]
        await start_session(cp, again)
        assert offered(cp) == 12.0


def test_profiles_survive_sigkill_of_the_real_process(tmp_path):
    """SIGKILL of the real daemon right after SetChargingProfile was answered: the profiles
    are back after the restart (errata 2025-04 §3.37)."""
    now = datetime.now(UTC)
    default = profile(1, "TxDefaultProfile", [(0, 11.0)], start=now - timedelta(minutes=1))
    cap = profile(2, "ChargePointMaxProfile", [(0, 9.0)], start=now - timedelta(minutes=1))

    async def main() -> list[tuple[int, float]]:
        csms = make_csms(now=lambda: datetime.now(UTC))
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.serve)
            text = config_text(
                url=csms.url,
                state_dir=tmp_path / "state",
                socket=tmp_path / "ctl.sock",
                log_level="info",
            )
            (tmp_path / "ocppd.toml").write_text(text)
            command = [sys.executable, "-m", "ocppd", "run", "-c", str(tmp_path / "ocppd.toml")]
            first = await trio.lowlevel.open_process(command, cwd=REPO, stderr=subprocess.DEVNULL)
            try:
                with trio.fail_after(60):
                    station = await csms.wait_station(CP_ID)
                    await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
                    assert await set_profile(station, 1, default) == "Accepted"
                    assert await set_profile(station, 0, cap) == "Accepted"
            finally:
                first.kill()  # SIGKILL: no orderly stop, no flush
                await first.wait()
            second = await trio.lowlevel.open_process(command, cwd=REPO, stderr=subprocess.DEVNULL)
            try:
                with trio.fail_after(60):
                    again = await csms.wait_station(CP_ID, connection=2)
                    await again.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
                    answer = await composite(again, 1, 60)
            finally:
                second.kill()
                await second.wait()
            nursery.cancel_scope.cancel()
        return answered_periods(answer)

    assert trio.run(main) == [(0, 9.0)]  # the 11 A default under the 9 A maximum


# --- the hardware that follows a limit ---------------------------------------------------------


def fake_pwm(tmp_path: Path) -> Path:
    """A sysfs PWM tree (/sys/class/pwm) with channel 0 of chip 0 exported."""
    channel = tmp_path / "pwm" / "pwmchip0" / "pwm0"
    channel.mkdir(parents=True)
    (channel.parent / "export").write_text("")
    for name in ("period", "duty_cycle", "enable"):
        (channel / name).write_text("0\n")
    return tmp_path / "pwm"


async def test_the_pilot_duty_cycle_follows_each_period_and_pauses_below_6_a(
    nursery, start_csms, tmp_path
):
    """The real sysfs PWM pilot driver (real clock: it writes from a worker thread): 10 A is
    a 16.7 % duty, 4 A is below the IEC 61851 minimum (steady +12 V, contactor open,
    SuspendedEVSE), 16 A is 26.7 % and charging again."""
    root = fake_pwm(tmp_path)
    duty = root / "pwmchip0" / "pwm0" / "duty_cycle"
    pilot = f'[connector.pilot]\ndriver = "pwm-sysfs"\nsysfs_root = "{root}"'
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=pilot) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        assert int(duty.read_text()) == round(1_000_000 * 32 / 0.6 / 100)
        now = csms_now().replace(microsecond=0) + timedelta(seconds=1)
        wire = profile(1, "TxDefaultProfile", [(0, 10.0), (3, 4.0), (6, 16.0)], start=now)
        assert await set_profile(station, 1, wire) == "Accepted"
        seen: list[tuple[int, str, bool]] = []
        for after in (2.0, 5.0, 8.0):
            await trio.sleep((now - csms_now()).total_seconds() + after)
            status = (await cp.status())["connectors"][0]["status"]
            seen.append((int(duty.read_text()), status, cp.world(1).contactor_closed))
        assert seen == [
            (166_667, "Charging", True),
            (1_000_000, "SuspendedEVSE", False),
            (266_667, "Charging", True),
        ]


async def test_a_contactor_only_charger_suspends_below_6_a_and_resumes_above(
    nursery, start_csms, autojump_clock
):
    """Without a pilot the limit cannot be offered: below 6 A the contactor opens
    (SuspendedEVSE), at or above it closes again."""
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        now = csms_now()
        wire = profile(1, "TxDefaultProfile", [(0, 3.0), (600, 10.0)], start=now)
        assert await set_profile(station, 1, wire) == "Accepted"
        await until_status(station, "SuspendedEVSE")
        assert not cp.world(1).contactor_closed
        await until_status(station, "Charging", count=2)
        assert cp.world(1).contactor_closed
        assert (csms_now() - now).total_seconds() == pytest.approx(600, abs=1)


async def test_current_offered_meter_values_show_the_limit(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    keys = {
        "MeterValueSampleInterval": 60,
        "MeterValuesSampledData": "Energy.Active.Import.Register,Current.Offered",
    }
    async with charger(nursery, csms, keys=keys, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        tx_id = cp.connector(1).tx.transaction_id
        wire = profile(4, "TxProfile", [(0, 9.5)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, wire) == "Accepted"
        count = len(station.calls("MeterValues"))
        with trio.fail_after(120):
            values = await station.wait_for("MeterValues", count=count + 1)
        offered_values = [
            float(sv["value"])
            for mv in values.payload["meterValue"]
            for sv in mv["sampledValue"]
            if sv.get("measurand") == "Current.Offered"
        ]
        assert offered_values == [9.5]


async def test_ocppctl_status_says_which_profile_limits_the_current(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        shown = ctl.format_status(await cp.status())
        assert "current limited" not in shown  # the configured maximum: nothing to say
        wire = profile(12, "TxDefaultProfile", [(0, 13.0)], stack=3, start=csms_now())
        assert await set_profile(station, 0, wire) == "Accepted"
        await trio.sleep(0.1)
        shown = ctl.format_status(await cp.status())
        assert (
            "connector 1   current limited to 13 A by charging profile 12 "
            "(TxDefaultProfile, stack level 3)" in shown
        )


async def test_replacing_clearing_by_connector_and_a_full_store(
    nursery, start_csms, autojump_clock
):
    """The same id, or the same connector + purpose + stack level, replaces (§3.13.2,
    §5.16.3); MaxChargingProfilesInstalled more are Rejected; a clear by connector clears
    only its own."""
    csms = await start_csms()
    keys = {"MaxChargingProfilesInstalled": 3}
    async with charger(nursery, csms, keys=keys, connectors=2) as cp:
        station = await cp.registered()
        now = csms_now()

        def default(pid: int, amps: float, stack: int = 0) -> dict[str, Any]:
            return profile(pid, "TxDefaultProfile", [(0, amps)], stack=stack, start=now)

        assert await set_profile(station, 1, default(1, 10.0)) == "Accepted"
        assert await set_profile(station, 1, default(2, 12.0)) == "Accepted"  # same slot
        assert answered_periods(await composite(station, 1, 60)) == [(0, 12.0)]
        assert await set_profile(station, 2, default(2, 14.0, stack=1)) == "Accepted"  # same id
        assert answered_periods(await composite(station, 1, 60)) == [(0, 32.0)]
        assert answered_periods(await composite(station, 2, 60)) == [(0, 14.0)]
        assert await set_profile(station, 1, default(3, 9.0)) == "Accepted"
        assert await set_profile(station, 2, default(4, 8.0)) == "Accepted"
        assert await set_profile(station, 2, default(5, 7.0, stack=2)) == "Rejected"  # full
        assert await clear(station, connectorId=2) == "Accepted"
        assert answered_periods(await composite(station, 2, 60)) == [(0, 32.0)]
        assert answered_periods(await composite(station, 1, 60)) == [(0, 9.0)]
        kept = [json.loads(r)["id"] for r in await cp.journal.charging_profiles()]
        assert kept == [3]


async def test_a_charger_maximum_is_shared_by_the_connectors_that_charge(
    nursery, start_csms, autojump_clock
):
    """§3.13.3: together never above the charger maximum: 20 A for two charging
    connectors is 10 A on each pilot; when one stops, the other takes 20 A."""
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connectors=2, connector_extra=PILOT) as cp:
        station = await cp.registered()
        cap = profile(1, "ChargePointMaxProfile", [(0, 20.0)], start=csms_now())
        assert await set_profile(station, 0, cap) == "Accepted"
        for number, tag in ((1, "AAAA0001"), (2, "BBBB0002")):
            await cp.sim("plug", number)
            await until_status(station, "Preparing", connector=number)
            await cp.swipe(tag)
            await until_status(station, "Charging", connector=number)
        await trio.sleep(0.5)
        assert (offered(cp, 1), offered(cp, 2)) == (10.0, 10.0)
        await cp.swipe("AAAA0001")
        await until_status(station, "Finishing", connector=1)
        await trio.sleep(0.5)
        assert offered(cp, 2) == 20.0
        assert (await limit_shown(cp, 2))[1]["purpose"] == "ChargePointMaxProfile"


async def test_a_clock_step_moves_the_next_boundary(nursery, start_csms, autojump_clock):
    """The central system's time steps the wall clock 300 s ahead: a profile starting at a
    wall-clock instant applies 300 s sooner, not when the old deadline expires."""
    ahead = [0.0]
    csms = await start_csms(
        heartbeat_interval=60, now=lambda: csms_now() + timedelta(seconds=ahead[0])
    )
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        begin = trio.current_time()
        start = csms_now() + timedelta(seconds=600)
        wire = profile(1, "TxDefaultProfile", [(0, 10.0)], start=start)
        assert await set_profile(station, 1, wire) == "Accepted"
        ahead[0] = 300.0  # the next Heartbeat answer carries it
        with trio.fail_after(120):
            await station.wait_for("Heartbeat", count=len(station.calls("Heartbeat")) + 1)
        await trio.sleep(begin + 302 - trio.current_time())
        assert offered(cp) == 10.0


async def test_a_remote_start_given_up_drops_its_profile(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await cp.registered()
        wire = profile(9, "TxProfile", [(0, 6.0)], kind="Relative")
        answer = await station.call_raw(
            "RemoteStartTransaction", {"connectorId": 1, "idTag": TAG, "chargingProfile": wire}
        )
        assert answer.status == "Accepted"
        await trio.sleep(0.1)
        assert (await limit_shown(cp))[1]["profile_id"] == 9
        await until_status(station, "Available", count=2)  # no EV within ConnectionTimeOut
        await trio.sleep(0.1)
        assert await limit_shown(cp) == (32.0, {"source": "local_max"})
        await cp.sim("plug", 1)
        await until_status(station, "Preparing", count=2)
        await cp.swipe(TAG)
        await until_status(station, "Charging")
        assert offered(cp) == 32.0  # the next transaction is not limited by it


async def test_a_profile_the_journal_cannot_keep_is_rejected_and_changes_nothing(
    nursery, start_csms, autojump_clock, tmp_path
):
    """Accepted means kept (errata §3.37): on a full disk SetChargingProfile is Rejected, a
    clear is Unknown, and the limit in force stays as it was."""
    csms = await start_csms()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger(
        nursery, csms, connector_extra=PILOT, state_dir=tmp_path, journal_options=options
    ) as cp:
        station = await cp.registered()
        now = csms_now()
        assert (
            await set_profile(station, 1, profile(1, "TxDefaultProfile", [(0, 10.0)], start=now))
            == "Accepted"
        )
        disk.full = True
        assert (
            await set_profile(
                station, 1, profile(2, "TxDefaultProfile", [(0, 8.0)], stack=1, start=now)
            )
            == "Rejected"
        )
        assert await clear(station, id=1) == "Unknown"
        assert answered_periods(await composite(station, 1, 60)) == [(0, 10.0)]
        disk.full = False
    async with charger(nursery, csms, connector_extra=PILOT, state_dir=tmp_path) as cp:
        again = await cp.registered(connection=2)
        assert answered_periods(await composite(again, 1, 60)) == [(0, 10.0)]
