"""The 2.0.1 words of Smart Charging and the engine's: every enum value maps (2.0.1's
ChargingStationExternalConstraints excepted: only the charger sets such a limit), and a
profile read off the wire is said back the same (plain tests)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from ocppd.features import site
from ocppd.features.v201 import smart_charging
from ocppd.features.v201.smart_charging import (
    KIND,
    KIND_WORD,
    PURPOSE,
    PURPOSE_WORD,
    REASON,
    RECURRENCY,
    UNIT,
    UNIT_WORD,
    Refused,
    profile_from_wire,
    profile_to_wire,
    report_parts,
)
from ocppd.model.charging_profile import Kind, Purpose, RateUnit, Recurrency, Refusal
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.enums import (
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingRateUnitEnumType,
    RecurrencyKindEnumType,
)

RICH: dict[str, Any] = {
    "id": 7,
    "stackLevel": 2,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "validFrom": "2026-11-21T18:00:00Z",
    "validTo": "2027-01-01T00:00:00Z",
    "chargingSchedule": [
        {
            "id": 3,
            "startSchedule": "2026-11-21T18:00:00Z",
            "duration": 7200,
            "chargingRateUnit": "W",
            "minChargingRate": 1400.0,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                {"startPeriod": 3600, "limit": 4000.0, "numberPhases": 1},
            ],
        }
    ],
}


def decoded(payload: dict[str, Any]) -> Any:
    request = V201.decode_request("SetChargingProfile", {"evseId": 2, "chargingProfile": payload})
    return request.charging_profile


def test_every_wire_word_has_a_model_word_and_back() -> None:
    external = ChargingProfilePurposeEnumType.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    assert set(PURPOSE) == set(ChargingProfilePurposeEnumType) - {external}
    assert set(PURPOSE.values()) == set(Purpose)
    assert all(PURPOSE[PURPOSE_WORD[p]] is p for p in Purpose)
    assert set(KIND) == set(ChargingProfileKindEnumType) and set(KIND.values()) == set(Kind)
    assert all(KIND[KIND_WORD[k]] is k for k in Kind)
    assert set(RECURRENCY) == set(RecurrencyKindEnumType)
    assert set(RECURRENCY.values()) == set(Recurrency)
    assert set(UNIT) == set(ChargingRateUnitEnumType) and set(UNIT.values()) == set(RateUnit)
    assert all(UNIT[UNIT_WORD[u]] is u for u in RateUnit)
    assert set(REASON) == set(Refusal)
    assert all(len(code) <= 20 for code in REASON.values())  # reasonCode is CiString20


def test_a_wire_profile_keeps_every_field_and_is_said_back_the_same() -> None:
    profile = profile_from_wire(2, decoded(RICH))
    assert not isinstance(profile, Refused)
    assert (profile.id, profile.connector_id, profile.stack_level) == (7, 2, 2)
    assert profile.purpose is Purpose.TX_DEFAULT and profile.kind is Kind.RECURRING
    assert profile.recurrency is Recurrency.DAILY
    assert profile.schedule.id == 3 and profile.schedule.min_rate == 1400.0
    assert [(p.start_s, p.limit, p.phases) for p in profile.schedule.periods] == [
        (0, 11000.0, 3),
        (3600, 4000.0, 1),
    ]
    assert V201.to_payload(profile_to_wire(profile)) == RICH


def test_a_tx_profile_keeps_its_transaction_id_and_a_1_6_one_is_said_as_text() -> None:
    wire = copy.deepcopy(RICH)
    wire.update(chargingProfilePurpose="TxProfile", chargingProfileKind="Relative")
    wire["transactionId"] = "9f2c-4e"
    del wire["recurrencyKind"]
    del wire["chargingSchedule"][0]["startSchedule"]
    profile = profile_from_wire(1, decoded(wire))
    assert not isinstance(profile, Refused) and profile.transaction_id == "9f2c-4e"
    assert V201.to_payload(profile_to_wire(profile)) == wire
    from_1_6 = dataclasses.replace(profile, transaction_id=41)
    assert V201.to_payload(profile_to_wire(from_1_6))["transactionId"] == "41"


def test_reports_are_one_evse_each_and_split_by_size() -> None:
    base = profile_from_wire(2, decoded(RICH))
    assert not isinstance(base, Refused)
    profiles = [dataclasses.replace(base, id=n, connector_id=n % 2) for n in range(1, 7)]
    one = len(json.dumps(V201.to_payload(profile_to_wire(base)), separators=(",", ":"))) + 1
    parts = report_parts(profiles, max_bytes=2 * one)
    assert [(evse, [p.id for p in wires]) for evse, wires in parts] == [
        (0, [2, 4]),
        (0, [6]),
        (1, [1, 3]),
        (1, [5]),
    ]
    assert report_parts(profiles[:1], max_bytes=1) == [(1, (profile_to_wire(profiles[0]),))]


def test_the_2_0_1_smart_charging_key_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for spec in smart_charging.keys(site()):
        assert f"`{spec.name}`" in readme
