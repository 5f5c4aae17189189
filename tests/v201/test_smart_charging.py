"""OCPP 2.0.1 Smart Charging (block K) end to end: the independent 2.0.1 CSMS sets, reads and
clears charging profiles (every frame validated against the official schemas; tests assert
no violation), and the limit reaches the simulated hardware, on virtual time.

The engine is the one 1.6 uses: a profile set in one version is kept in the same journal
table and seen in the other. Composite schedules are checked against schedules worked out
by hand in the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ocppd.testing.csms import Station
from tests.harness import Charger, charger, csms_now
from tests.v201.harness import charger201, registered

TAG = "04E1A2B3"
QUIET = {"MeterValueSampleInterval": 0}
PILOT = '[connector.pilot]\ndriver = "sim"'  # a control pilot the limit reaches


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_second(when: datetime) -> datetime:
    return when.replace(microsecond=0)


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
    transaction_id: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    schedule_id: int = 1,
    **schedule_extra: Any,
) -> dict[str, Any]:
    """A chargingProfile as a 2.0.1 central system writes it."""
    schedule: dict[str, Any] = {
        "id": schedule_id,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit} for s, limit in periods],
        **schedule_extra,
    }
    if start is not None:
        schedule["startSchedule"] = stamp(start)
    if duration is not None:
        schedule["duration"] = duration
    wire: dict[str, Any] = {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    for key, value in (
        ("transactionId", transaction_id),
        ("validFrom", None if valid_from is None else stamp(valid_from)),
        ("validTo", None if valid_to is None else stamp(valid_to)),
    ):
        if value is not None:
            wire[key] = value
    return wire


async def set_profile(station: Station, evse_id: int, wire: dict[str, Any]) -> tuple[str, str]:
    """The answer's status and reasonCode ("" when none)."""
    answer = await station.call_raw(
        "SetChargingProfile", {"evseId": evse_id, "chargingProfile": wire}
    )
    info = answer.status_info or {}
    return str(answer.status), info.get("reason_code", "")


async def clear(station: Station, **payload: Any) -> Any:
    return await station.call_raw("ClearChargingProfile", payload)


async def get_profiles(
    station: Station, request_id: int, criterion: dict[str, Any], evse_id: int | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """GetChargingProfiles' status and the ReportChargingProfiles of its requestId."""
    payload: dict[str, Any] = {"requestId": request_id, "chargingProfile": criterion}
    if evse_id is not None:
        payload["evseId"] = evse_id
    answer = await station.call_raw("GetChargingProfiles", payload)
    if answer.status != "Accepted":
        return str(answer.status), []
    with trio.fail_after(60):
        await station.wait_for(
            "ReportChargingProfiles",
            lambda p: p["requestId"] == request_id and not p.get("tbc", False),
        )
    reports = [
        r.payload
        for r in station.calls("ReportChargingProfiles")
        if r.payload["requestId"] == request_id
    ]
    return str(answer.status), reports


async def composite(station: Station, evse_id: int, duration: int, unit: str | None = "A") -> Any:
    payload: dict[str, Any] = {"evseId": evse_id, "duration": duration}
    if unit is not None:
        payload["chargingRateUnit"] = unit
    return await station.call_raw("GetCompositeSchedule", payload)


def periods(answer: Any) -> list[tuple[int, float]]:
    return [(p["start_period"], p["limit"]) for p in answer.schedule["charging_schedule_period"]]


async def start_session(cp: Charger, station: Station) -> str:
    """A 2.0.1 transaction on EVSE 1 (cable, then tag); its transactionId."""
    await cp.sim("plug", 1)
    await cp.swipe(TAG)
    with trio.fail_after(120):
        while cp.connector(1).tx is None or cp.connector(1).tx.transaction_id is None:
            await trio.sleep(0.5)
        await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
    tx_id = cp.connector(1).tx.transaction_id
    assert isinstance(tx_id, str)
    return tx_id


def offered(cp: Charger, connector: int = 1) -> float | None:
    return cp.world(connector).offered_a


async def test_tc_k_01_cs_tx_default_profile_on_an_evse_is_reported_and_limits_the_session(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_K_01_CS (K01.FR.07, K01.FR.15): a TxDefaultProfile for EVSE 1 is Accepted,
    GetChargingProfiles reports it as it was set (K09), and a session on EVSE 1 is offered
    its limit, the next period's at its boundary."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await registered(cp)
        now = whole_second(csms_now())
        wire = profile(1, "TxDefaultProfile", [(0, 10.0), (600, 16.0)], start=now, schedule_id=5)
        assert await set_profile(station, 1, wire) == ("Accepted", "")
        status, reports = await get_profiles(station, 11, {"chargingProfileId": [1]})
        assert status == "Accepted"
        assert len(reports) == 1 and "tbc" not in reports[0]
        report = reports[0]
        assert (report["evseId"], report["chargingLimitSource"]) == (1, "CSO")
        reported = report["chargingProfile"]
        assert len(reported) == 1 and reported[0]["id"] == 1
        assert reported[0]["chargingSchedule"][0]["id"] == 5
        assert reported[0]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 10.0},
            {"startPeriod": 600, "limit": 16.0},
        ]
        await start_session(cp, station)
        await trio.sleep(0.1)
        assert offered(cp) == 10.0
        await trio.sleep(601 - (csms_now() - now).total_seconds())
        assert offered(cp) == 16.0
    assert csms.violations == []


async def test_tc_k_02_cs_a_tx_profile_without_its_transaction_is_rejected(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_K_02_CS (K01.FR.09): no transaction on EVSE 1: a TxProfile is Rejected
    (TxNotFound); without a transactionId it is Rejected too (K01.FR.03, MissingParam).
    Nothing is kept."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        wire = profile(3, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id="nope")
        assert await set_profile(station, 1, wire) == ("Rejected", "TxNotFound")
        bare = profile(3, "TxProfile", [(0, 8.0)], kind="Relative")
        assert await set_profile(station, 1, bare) == ("Rejected", "MissingParam")
        assert await cp.journal.charging_profiles() == []
    assert csms.violations == []


async def test_k02_central_smart_charging_during_a_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """K02 (K01.FR.33, K01.FR.39, K01.FR.05): a TxProfile naming the running
    transaction limits it at once; one naming another transaction is Rejected; a second
    profile at the same stack level for it is Rejected; the same id replaces the profile.
    The TxProfile ends with the transaction."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await registered(cp)
        tx_id = await start_session(cp, station)
        assert offered(cp) == 32.0
        other = profile(7, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id="other")
        assert await set_profile(station, 1, other) == ("Rejected", "TxNotFound")
        wire = profile(7, "TxProfile", [(0, 8.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, wire) == ("Accepted", "")
        await trio.sleep(0.1)
        assert offered(cp) == 8.0
        second = profile(8, "TxProfile", [(0, 12.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, second) == ("Rejected", "DuplicateProfile")
        again = profile(7, "TxProfile", [(0, 6.0)], kind="Relative", transaction_id=tx_id)
        assert await set_profile(station, 1, again) == ("Accepted", "")
        await trio.sleep(0.1)
        assert offered(cp) == 6.0
        status, reports = await get_profiles(station, 2, {"chargingProfilePurpose": "TxProfile"})
        assert status == "Accepted"
        assert [p["transactionId"] for p in reports[0]["chargingProfile"]] == [tx_id]
        await cp.swipe(TAG)  # the driver stops
        with trio.fail_after(60):
            await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        await trio.sleep(1)
        assert (await get_profiles(station, 3, {"chargingProfilePurpose": "TxProfile"}))[0] == (
            "NoProfiles"
        )
    assert csms.violations == []


REFUSED = [
    # K01.FR.22: the CSMS never sets ChargingStationExternalConstraints
    (0, profile(1, "ChargingStationExternalConstraints", [(0, 10.0)], kind="Relative"),
     "InvalidValue"),
    # K01.FR.34: several schedules are for ISO 15118, which this charger does not speak
    (1, {**profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative"),
         "chargingSchedule": [
             profile(1, "TxDefaultProfile", [(0, 10.0)])["chargingSchedule"][0],
             profile(1, "TxDefaultProfile", [(0, 8.0)], schedule_id=2)["chargingSchedule"][0],
         ]},
     "InvalidSchedule"),
    # K01.FR.20: phaseToUse needs phase switching
    (1, {**profile(1, "TxDefaultProfile", [], kind="Relative"),
         "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [
             {"startPeriod": 0, "limit": 10.0, "numberPhases": 1, "phaseToUse": 2}]}]},
     "UnsupportedParam"),
    # K01.FR.41, K01.FR.40
    (1, profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative",
                start=datetime(2026, 1, 1, tzinfo=UTC)), "InvalidSchedule"),
    (1, profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Absolute"), "InvalidSchedule"),
    # K01.FR.38; a station maximum belongs on evseId 0
    (0, profile(1, "ChargingStationMaxProfile", [(0, 10.0)], kind="Relative"), "InvalidValue"),
    (1, profile(1, "ChargingStationMaxProfile", [(0, 10.0)],
                start=datetime(2026, 1, 1, tzinfo=UTC)), "InvalidValue"),
    # K01.FR.28-like: no such EVSE; ProfileStackLevel is 8; K01.FR.31, K01.FR.35
    (5, profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative"), "UnknownEvse"),
    (1, profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative", stack=9),
     "InvalidStackLevel"),
    (1, profile(1, "TxDefaultProfile", [(60, 10.0)], kind="Relative"), "InvalidSchedule"),
    (1, profile(1, "TxDefaultProfile", [(0, 10.0), (0, 8.0)], kind="Relative"),
     "InvalidSchedule"),
]  # fmt: skip


@pytest.mark.parametrize(("evse_id", "wire", "reason"), REFUSED)
async def test_k01_profiles_the_charger_cannot_take_are_rejected_with_a_reason(
    nursery, start_csms201, autojump_clock, evse_id, wire, reason
) -> None:
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        assert await set_profile(station, evse_id, wire) == ("Rejected", reason)
        assert await cp.journal.charging_profiles() == []
    assert csms.violations == []


async def test_k01_fr_06_and_52_a_second_profile_in_a_slot_is_refused_while_valid_together(
    nursery, start_csms201, autojump_clock
) -> None:
    """K01.FR.06: the same purpose and stack level on the same EVSE is Rejected
    (DuplicateProfile) while the validity periods overlap, and kept beside the first when
    they do not (1.6 would have replaced it). K01.FR.52-53: a TxDefaultProfile on evseId 0
    and one on an EVSE may not share a stack level."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        day = whole_second(csms_now())
        first = profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative",
                        valid_from=day, valid_to=day + timedelta(hours=12))  # fmt: skip
        assert await set_profile(station, 1, first) == ("Accepted", "")
        overlapping = profile(2, "TxDefaultProfile", [(0, 8.0)], kind="Relative",
                              valid_from=day + timedelta(hours=11))  # fmt: skip
        assert await set_profile(station, 1, overlapping) == ("Rejected", "DuplicateProfile")
        later = profile(2, "TxDefaultProfile", [(0, 8.0)], kind="Relative",
                        valid_from=day + timedelta(hours=12))  # fmt: skip
        assert await set_profile(station, 1, later) == ("Accepted", "")
        everywhere = profile(3, "TxDefaultProfile", [(0, 6.0)], kind="Relative")
        assert await set_profile(station, 0, everywhere) == ("Rejected", "DuplicateProfile")
        everywhere = profile(3, "TxDefaultProfile", [(0, 6.0)], kind="Relative", stack=1)
        assert await set_profile(station, 0, everywhere) == ("Accepted", "")
        kept = sorted(json.loads(p)["id"] for p in await cp.journal.charging_profiles())
        assert kept == [1, 2, 3]
    assert csms.violations == []


async def test_tc_k_08_cs_like_composite_schedule_worked_out_by_hand(
    nursery, start_csms201, autojump_clock
) -> None:
    """K08, TC_K_41_CS (combining purposes), TC_K_47_CS (unknown EVSE): a station maximum
    of 20 A and a TxDefaultProfile on EVSE 1 of 10 A, then 16 A from 300 s, for 900 s.
    EVSE 1's composite: 10 A, 16 A at 300 s, then the station's 20 A at 900 s (the
    connector allows 32 A); in W on 3 phases at 230 V: 6900, 11040, 13800. The station
    (evseId 0) has one EVSE: the same. Unknown EVSE: Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        t0 = whole_second(csms_now())
        cap = profile(1, "ChargingStationMaxProfile", [(0, 20.0)], start=t0)
        default = profile(2, "TxDefaultProfile", [(0, 10.0), (300, 16.0)], start=t0, duration=900)
        assert await set_profile(station, 0, cap) == ("Accepted", "")
        assert await set_profile(station, 1, default) == ("Accepted", "")
        answer = await composite(station, 1, 1200)
        assert answer.status == "Accepted"
        start = datetime.fromisoformat(answer.schedule["schedule_start"])
        late = int((start - t0).total_seconds())  # the request came this much after t0
        assert 0 <= late < 5
        assert answer.schedule["evse_id"] == 1 and answer.schedule["duration"] == 1200
        assert periods(answer) == [(0, 10.0), (300 - late, 16.0), (900 - late, 20.0)]
        assert {p["number_phases"] for p in answer.schedule["charging_schedule_period"]} == {3}
        watts = await composite(station, 1, 1200, "W")
        assert watts.schedule["charging_rate_unit"] == "W"
        assert [limit for _, limit in periods(watts)] == [6900.0, 11040.0, 13800.0]
        whole = await composite(station, 0, 1200, None)  # the first allowed unit: A
        assert whole.schedule["charging_rate_unit"] == "A"
        assert [limit for _, limit in periods(whole)] == [10.0, 16.0, 20.0]
        unknown = await composite(station, 3, 60)
        assert unknown.status == "Rejected" and unknown.status_info["reason_code"] == "UnknownEvse"
    assert csms.violations == []


async def test_k10_clear_by_id_by_criteria_and_all(nursery, start_csms201, autojump_clock) -> None:
    """K10: by id; by evseId and purpose; nothing matching: Unknown;
    ChargingStationExternalConstraints: Unknown with a reason (K10.FR.06); no criteria:
    every profile."""
    csms = await start_csms201()
    async with charger201(nursery, csms) as cp:
        station = await registered(cp)
        t0 = whole_second(csms_now())
        for pid, evse_id, purpose, stack in (
            (1, 0, "ChargingStationMaxProfile", 0),
            (2, 1, "TxDefaultProfile", 0),
            (3, 1, "TxDefaultProfile", 1),
            (4, 0, "TxDefaultProfile", 2),
        ):
            wire = profile(pid, purpose, [(0, 16.0)], start=t0, stack=stack)
            assert await set_profile(station, evse_id, wire) == ("Accepted", "")
        assert (await clear(station, chargingProfileId=1)).status == "Accepted"
        assert (await clear(station, chargingProfileId=1)).status == "Unknown"
        by_criteria = await clear(
            station,
            chargingProfileCriteria={"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
        )
        assert by_criteria.status == "Accepted"
        assert [json.loads(p)["id"] for p in await cp.journal.charging_profiles()] == [4]
        nothing = await clear(station, chargingProfileCriteria={"stackLevel": 7})
        assert nothing.status == "Unknown"
        external = await clear(
            station,
            chargingProfileCriteria={
                "chargingProfilePurpose": "ChargingStationExternalConstraints"
            },
        )
        assert external.status == "Unknown" and external.status_info["reason_code"]
        assert (await clear(station)).status == "Accepted"
        assert await cp.journal.charging_profiles() == []
    assert csms.violations == []


async def test_k09_criteria_select_and_a_large_set_comes_in_parts(
    nursery, start_csms201, autojump_clock
) -> None:
    """K09, TC_K_29_CS to TC_K_34_CS (evseId 0, an EVSE, none, chargingProfileId,
    stackLevel, chargingLimitSource): all given criteria must hold; evseId 0 is the
    station's own; a source other than CSO finds nothing (every profile here came from the
    CSMS); no criteria: every profile, one report per EVSE, tbc on all but the last."""
    csms = await start_csms201()
    async with charger201(nursery, csms, connectors=2) as cp:
        station = await registered(cp)
        t0 = whole_second(csms_now())
        for pid, evse_id, purpose, stack in (
            (1, 0, "ChargingStationMaxProfile", 0),
            (2, 1, "TxDefaultProfile", 0),
            (3, 2, "TxDefaultProfile", 1),
        ):
            wire = profile(pid, purpose, [(0, 16.0)], start=t0, stack=stack)
            assert await set_profile(station, evse_id, wire) == ("Accepted", "")
        _, reports = await get_profiles(station, 1, {})
        assert [(r["evseId"], r.get("tbc", False)) for r in reports] == [
            (0, True),
            (1, True),
            (2, False),
        ]
        _, reports = await get_profiles(station, 2, {}, evse_id=0)
        assert [p["id"] for r in reports for p in r["chargingProfile"]] == [1]
        _, reports = await get_profiles(
            station, 3, {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
        )
        assert [p["id"] for r in reports for p in r["chargingProfile"]] == [3]
        assert (await get_profiles(station, 4, {"chargingLimitSource": ["EMS"]}))[0] == (
            "NoProfiles"
        )
        _, reports = await get_profiles(station, 5, {"chargingLimitSource": ["EMS", "CSO"]})
        assert sorted(p["id"] for r in reports for p in r["chargingProfile"]) == [1, 2, 3]
    assert csms.violations == []


async def test_k05_remote_start_with_a_tx_profile_names_the_transaction(
    nursery, start_csms201, autojump_clock
) -> None:
    """K05: RequestStartTransaction with a TxProfile: the session is offered
    its limit from the start, and the profile then names the charger-made transactionId.
    One block K refuses (a Relative profile with a startSchedule, K01.FR.41) makes the
    start Rejected."""
    csms = await start_csms201()
    async with charger201(nursery, csms, keys=QUIET, connector_extra=PILOT) as cp:
        station = await registered(cp)
        wrong = profile(9, "TxProfile", [(0, 8.0)], kind="Relative", start=csms_now())
        refused = await station.call_raw(
            "RequestStartTransaction",
            {
                "remoteStartId": 76,
                "evseId": 1,
                "idToken": {"idToken": TAG, "type": "ISO14443"},
                "chargingProfile": wrong,
            },
        )
        assert refused.status == "Rejected"
        wire = profile(9, "TxProfile", [(0, 8.0)], kind="Relative")
        answer = await station.call_raw(
            "RequestStartTransaction",
            {
                "remoteStartId": 77,
                "evseId": 1,
                "idToken": {"idToken": TAG, "type": "ISO14443"},
                "chargingProfile": wire,
            },
        )
        assert answer.status == "Accepted"
        await cp.sim("plug", 1)
        with trio.fail_after(120):
            await station.wait_for("TransactionEvent", lambda p: p["eventType"] == "Started")
        await trio.sleep(1)
        assert offered(cp) == 8.0
        tx_id = cp.connector(1).tx.transaction_id
        _, reports = await get_profiles(station, 1, {"chargingProfileId": [9]})
        (reported,) = reports[0]["chargingProfile"]
        assert reported["transactionId"] == tx_id
        assert reported["chargingSchedule"][0]["id"] == 1  # the CSMS's, kept
    assert csms.violations == []


async def test_profiles_survive_a_restart_and_are_the_same_in_1_6(
    nursery, start_csms201, start_csms, autojump_clock, tmp_path: Path
) -> None:
    """A profile set over 2.0.1 is in the journal: after a restart 2.0.1 reports it, and a
    1.6 central system on the same state sees its limit in GetCompositeSchedule and clears
    it by id; one set over 1.6 is reported over 2.0.1 (its schedule id is the profile's)."""
    csms = await start_csms201()
    t0 = whole_second(csms_now())
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp)
        wire = profile(4, "TxDefaultProfile", [(0, 12.0)], start=t0)
        assert await set_profile(station, 1, wire) == ("Accepted", "")
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp, connection=2)
        _, reports = await get_profiles(station, 1, {})
        assert [p["id"] for r in reports for p in r["chargingProfile"]] == [4]
    csms16 = await start_csms()
    async with charger(nursery, csms16, state_dir=tmp_path) as cp:
        station16 = await cp.registered()
        answer = await station16.call_raw(
            "GetCompositeSchedule", {"connectorId": 1, "duration": 60, "chargingRateUnit": "A"}
        )
        limits = [p["limit"] for p in answer.charging_schedule["charging_schedule_period"]]
        assert limits == [12.0]
        cleared = await station16.call_raw("ClearChargingProfile", {"id": 4})
        assert cleared.status == "Accepted"
        set16 = {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 6,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "W",
                    "startSchedule": stamp(t0),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                },
            },
        }
        assert (await station16.call_raw("SetChargingProfile", set16)).status == "Accepted"
    async with charger201(nursery, csms, state_dir=tmp_path) as cp:
        station = await registered(cp, connection=3)
        _, reports = await get_profiles(station, 2, {})
        assert len(reports) == 1 and reports[0]["evseId"] == 0
        (reported,) = reports[0]["chargingProfile"]
        assert reported["id"] == 6
        assert reported["chargingProfilePurpose"] == "ChargingStationMaxProfile"
        assert reported["chargingSchedule"][0]["id"] == 6
        assert reported["chargingSchedule"][0]["chargingRateUnit"] == "W"
    assert csms.violations == [] and csms16.violations == []


async def test_smart_charging_ctrlr_variables(nursery, start_csms201, autojump_clock) -> None:
    """SmartChargingCtrlr over the 1.6 keys: RateUnit is ChargingScheduleAllowedChargingRateUnit
    in 2.0.1's words, ProfileStackLevel and PeriodsPerSchedule the 1.6 limits, Entries the
    profiles installed now; LimitChangeSignificance is kept."""
    csms = await start_csms201()
    keys = {"ChargingScheduleAllowedChargingRateUnit": "Current", "ChargeProfileMaxStackLevel": 4}
    async with charger201(nursery, csms, keys=keys) as cp:
        station = await registered(cp)
        wire = profile(1, "TxDefaultProfile", [(0, 16.0)], kind="Relative")
        assert await set_profile(station, 0, wire) == ("Accepted", "")
        names = ("RateUnit", "ProfileStackLevel", "PeriodsPerSchedule", "Available")
        items = [
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": name}}
            for name in names
        ]
        items.append(
            {
                "component": {"name": "SmartChargingCtrlr"},
                "variable": {"name": "Entries", "instance": "ChargingProfiles"},
            }
        )
        answer = await station.call_raw("GetVariables", {"getVariableData": items})
        values = [r["attribute_value"] for r in answer.get_variable_result]
        assert values == ["A", "4", "24", "true", "1"]
        watts = profile(2, "TxDefaultProfile", [(0, 11000.0)], kind="Relative", unit="W", stack=1)
        assert await set_profile(station, 0, watts) == ("Rejected", "UnsupportedRateUnit")
        change = await station.call_raw(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "SmartChargingCtrlr"},
                        "variable": {"name": "LimitChangeSignificance"},
                        "attributeValue": "5",
                    }
                ]
            },
        )
        assert change.set_variable_result[0]["attribute_status"] == "Accepted"
        assert cp.keys.get_int("SmartChargingCtrlr.LimitChangeSignificance") == 5
    assert csms.violations == []


async def test_tc_k_39_and_42_cs_composite_without_profiles_and_in_a_unit_not_taken(
    nursery, start_csms201, autojump_clock
) -> None:
    """TC_K_39_CS: no profile installed: the composite is the local maximum (the connector's
    32 A; the station: the sum of its two EVSEs). TC_K_42_CS: a unit RateUnit does not list
    is Rejected without a schedule."""
    csms = await start_csms201()
    keys = {"ChargingScheduleAllowedChargingRateUnit": "Current"}
    async with charger201(nursery, csms, keys=keys, connectors=2) as cp:
        station = await registered(cp)
        evse = await composite(station, 1, 300)
        assert evse.status == "Accepted" and periods(evse) == [(0, 32.0)]
        whole = await composite(station, 0, 300)
        assert whole.schedule["duration"] == 300 and periods(whole) == [(0, 64.0)]
        watts = await composite(station, 0, 300, "W")
        assert watts.status == "Rejected" and watts.schedule is None
        assert watts.status_info["reason_code"] == "UnsupportedRateUnit"
    assert csms.violations == []


async def test_a_profile_the_journal_cannot_keep_is_rejected_and_changes_nothing(
    nursery, start_csms201, autojump_clock, tmp_path: Path
) -> None:
    """Accepted means kept: on a full disk SetChargingProfile is Rejected (InternalError),
    a clear is Unknown, and what was in force stays."""
    from tests.test_offline import Disk

    csms = await start_csms201()
    disk = type("DiskOf", (Disk,), {"full": False})
    options = {"connection_factory": disk.factory()}
    async with charger201(nursery, csms, state_dir=tmp_path, journal_options=options) as cp:
        station = await registered(cp)
        t0 = whole_second(csms_now())
        kept = profile(1, "TxDefaultProfile", [(0, 10.0)], start=t0)
        assert await set_profile(station, 1, kept) == ("Accepted", "")
        with trio.fail_after(60):  # the queue delivered (its acknowledgements write too)
            while (await cp.status())["queue"]["pending"]:
                await trio.sleep(1)
        disk.full = True
        lost = profile(2, "TxDefaultProfile", [(0, 8.0)], stack=1, start=t0)
        assert await set_profile(station, 1, lost) == ("Rejected", "InternalError")
        assert (await clear(station, chargingProfileId=1)).status == "Unknown"
        assert periods(await composite(station, 1, 60)) == [(0, 10.0)]
        disk.full = False
    assert csms.violations == []


async def test_without_smart_charging_its_calls_are_not_supported(
    nursery, start_csms201, autojump_clock
) -> None:
    """K01.FR.29: a daemon built without the Smart Charging profile answers block K's calls
    with NotSupported; a RequestStartTransaction's profile is ignored (TC_K_38_CS)."""
    from ocppd.features import PROFILES
    from ocppd.testing.csms import CallFailed

    without = tuple(p for p in PROFILES if p.name != "SmartCharging")
    csms = await start_csms201()
    async with charger201(nursery, csms, profiles=without) as cp:
        station = await registered(cp)
        wire = profile(1, "TxDefaultProfile", [(0, 10.0)], kind="Relative")
        with pytest.raises(CallFailed) as failed:
            await set_profile(station, 1, wire)
        assert failed.value.code == "NotSupported"
        start = await station.call_raw(
            "RequestStartTransaction",
            {
                "remoteStartId": 5,
                "evseId": 1,
                "idToken": {"idToken": TAG, "type": "ISO14443"},
                "chargingProfile": profile(2, "TxProfile", [(0, 6.0)], kind="Relative"),
            },
        )
        assert start.status == "Accepted"
        answer = await station.call_raw(
            "GetVariables",
            {
                "getVariableData": [
                    {
                        "component": {"name": "SmartChargingCtrlr"},
                        "variable": {"name": "Entries", "instance": "ChargingProfiles"},
                    }
                ]
            },
        )
        assert answer.get_variable_result[0]["attribute_value"] == "0"
    assert csms.violations == []
