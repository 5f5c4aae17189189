"""The RPC rules on the wire: the CALLERROR table, frames that are ignored, crossing CALLs.

The central system sends raw text; the charge point's answer is read back from the
frames the central system recorded.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import trio
from ocpp.v16 import call

from ocppd.protocol.errors import Violation
from ocppd.protocol.v16.errors import VIOLATION_CODES
from ocppd.testing.csms import CentralSystem, Delay, Station
from tests.harness import charger, csms_now

PROFILE_FIELDS = (
    '"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",'
    '"chargingProfileKind":"Relative"'
)


def schedule(period: str, extra: str = "") -> str:
    return (
        '{"idTag":"A1","chargingProfile":{'
        + PROFILE_FIELDS
        + extra
        + ',"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":['
        + period
        + "]}}}"
    )


# (violation, frame text); the unique id is always "e2e"
DEEP = 100_000
# an action of the dialect that no built profile handles: one the charge point sends (every
# action the central system sends in 1.6 and the security whitepaper has a handler now)
UNSUPPORTED_CALL = '[2,"e2e","Heartbeat",{}]'
ROWS: list[tuple[Violation, str]] = [
    (Violation.NESTED_TOO_DEEPLY, '[2,"e2e","Reset",{"type":' + "[" * DEEP + "]" * DEEP + "}]"),
    (Violation.CALL_INCOMPLETE, '[2,"e2e","Reset"]'),
    (Violation.CALL_TOO_MANY_ELEMENTS, '[2,"e2e","Reset",{"type":"Soft"},1]'),
    (Violation.ACTION_NOT_STRING, '[2,"e2e",7,{}]'),
    (Violation.PAYLOAD_NOT_OBJECT, '[2,"e2e","Reset",["Soft"]]'),
    (Violation.UNKNOWN_ACTION, '[2,"e2e","FlyToTheMoon",{}]'),
    (
        Violation.UNSUPPORTED_ACTION,
        UNSUPPORTED_CALL,
    ),
    (Violation.ADDITIONAL_PROPERTY, '[2,"e2e","Reset",{"type":"Soft","urgent":true}]'),
    (Violation.MISSING_PROPERTY, '[2,"e2e","Reset",{}]'),
    (Violation.WRONG_TYPE, '[2,"e2e","ChangeAvailability",{"connectorId":"1","type":"Operative"}]'),
    (Violation.STRING_TOO_LONG, '[2,"e2e","RemoteStartTransaction",{"idTag":"' + "X" * 21 + '"}]'),
    (
        Violation.NUMBER_OUT_OF_RANGE,
        '[2,"e2e","RemoteStartTransaction",'
        + schedule('{"startPeriod":0,"limit":' + "9" * 400 + "}")
        + "]",
    ),
    (Violation.NOT_IN_ENUM, '[2,"e2e","Reset",{"type":"Medium"}]'),
    (
        Violation.BAD_DATE_TIME,
        '[2,"e2e","RemoteStartTransaction",'
        + schedule('{"startPeriod":0,"limit":16}', ',"validFrom":"yesterday"')
        + "]",
    ),
    (
        Violation.NOT_MULTIPLE_OF,
        '[2,"e2e","RemoteStartTransaction",' + schedule('{"startPeriod":0,"limit":7.05}') + "]",
    ),
    (  # a connector the charger does not have (errata §3.39)
        Violation.UNKNOWN_TARGET,
        '[2,"e2e","SetChargingProfile",{"connectorId":9,"csChargingProfiles":'
        '{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",'
        '"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A",'
        '"chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}]',
    ),
    (  # one key more than GetConfigurationMaxKeys (100)
        Violation.TOO_MANY_ITEMS,
        '[2,"e2e","GetConfiguration",{"key":[' + ",".join(f'"K{n}"' for n in range(101)) + "]}]",
    ),
]
# Rows that cannot be reached over the wire with the actions this charge point handles are
# covered by tests/protocol: a too-long id (answered, below), a duplicate id (our handlers answer
# before the next frame is read), minItems and format uri (no supported action has them), a
# handler failure, a security refusal (no handler of this charge point raises one yet) and a full
# backlog (it fills only while a handler hangs).
UNREACHABLE = {
    Violation.OUT_OF_BOUNDS,  # no 1.6 schema has a minimum or maximum
    Violation.DUPLICATE_UNIQUE_ID,
    Violation.TOO_FEW_ITEMS,
    Violation.BAD_URI,
    Violation.HANDLER_FAILED,
    Violation.NOT_PERMITTED,
    Violation.BUSY,
}


def test_every_violation_has_a_wire_row_or_a_reason() -> None:
    covered = {v for v, _ in ROWS} | UNREACHABLE | {Violation.UNIQUE_ID_TOO_LONG}
    assert covered == set(Violation)


async def _answer_to(csms: CentralSystem, unique_id: str) -> list[Any]:
    while True:
        for _, frame in csms.frames:
            if frame.direction == "in" and frame.unique_id == unique_id and frame.message_type != 2:
                return (
                    [frame.message_type, frame.unique_id, *frame.payload]
                    if frame.message_type == 4
                    else [3, frame.unique_id, frame.payload]
                )
        await trio.sleep(0.01)


@pytest.mark.parametrize(("violation", "text"), ROWS, ids=[v.name for v, _ in ROWS])
async def test_a_malformed_call_gets_the_callerror_of_its_row(
    nursery, start_csms, autojump_clock, violation: Violation, text: str
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await station.send_text(text)
        with trio.fail_after(10):
            answer = await _answer_to(csms, "e2e")
        assert answer[0] == 4, answer
        assert answer[2] == VIOLATION_CODES[violation].value, answer
        assert isinstance(answer[3], str) and answer[3]
        assert isinstance(answer[4], dict)
        # the connection survives and the next call is answered normally
        response = await station.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        assert response.configuration_key[0]["value"] == "1"


async def test_a_too_long_unique_id_is_answered_with_that_id(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        long_id = "L" * 40
        await station.send_text(f'[2,"{long_id}","Reset",{{"type":"Soft"}}]')
        with trio.fail_after(10):
            answer = await _answer_to(csms, long_id)
        assert answer[2] == "ProtocolError"
        assert cp.charger.reset_requested is None


@pytest.mark.parametrize(
    "text",
    [
        "this is not JSON",
        '{"not": "an array"}',
        '[9,"x1",{}]',
        '[3,"nobody-asked",{}]',
        '[4,"nobody-asked","GenericError","",{}]',
        "[]",
        '[2,12345,"Reset",{"type":"Soft"}]',
        "[" * DEEP,
        '[3,"nobody-asked",' + "[" * DEEP + "]" * DEEP + "]",
    ],
)
async def test_frames_that_ask_nothing_are_ignored_and_the_link_stays(
    nursery, start_csms, autojump_clock, text: str
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        before = len(csms.frames)
        await station.send_text(text)
        await trio.sleep(5)
        sent = [f for _, f in csms.frames[before:] if f.direction == "in"]
        replies = [f for f in sent if f.message_type != 2]
        assert replies == []  # nothing answers the frame; what is no OCPP is a security event
        told = [f.payload.get("type") for f in sent if f.action == "SecurityEventNotification"]
        assert [f.action for f in sent] == ["SecurityEventNotification"] * len(told)
        stray_answer = text.startswith(("[3,", "[4,")) and len(text) < 100
        assert told == ([] if stray_answer else ["InvalidMessages"])  # a late answer is OCPP
        response = await station.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        assert response.configuration_key[0]["value"] == "1"
        assert cp.parts.connection.connects == 1
        assert cp.charger.reset_requested is None


async def test_crossing_calls_are_answered_while_our_call_waits(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=60)
    held = trio.Event()

    def slow_heartbeat(station: Station, payload: dict[str, Any]) -> Delay:
        held.set()
        return Delay(20, {"currentTime": csms_now().isoformat().replace("+00:00", "Z")})

    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        csms.overrides["Heartbeat"] = slow_heartbeat
        await held.wait()
        asked = trio.current_time()
        response = await station.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert trio.current_time() - asked < 1, "the charge point answered while it waited"
        assert response.configuration_key[0]["value"] == "60"
        await trio.sleep(25)
        assert cp.parts.heartbeat.sent == 1
        assert not csms.violations


async def test_only_one_call_of_ours_is_in_flight(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=10)
    csms.overrides["StatusNotification"] = lambda station, payload: Delay(3, {})
    async with charger(nursery, csms, connectors=3) as cp:
        await cp.registered()
        await trio.sleep(30)
        outstanding = 0
        peak = 0
        for _, frame in csms.frames:
            if frame.direction == "in" and frame.message_type == 2:
                outstanding += 1
            elif frame.direction == "out" and frame.message_type in (3, 4):
                outstanding -= 1
            peak = max(peak, outstanding)
        assert peak == 1
        json.dumps([f.payload for _, f in csms.frames])  # everything recorded is plain JSON


@pytest.mark.parametrize(
    ("text", "level", "line"),
    [
        (
            UNSUPPORTED_CALL,
            logging.INFO,
            "unsupported action Heartbeat from the central system (answered NotSupported)",
        ),
        (
            '[2,"e2e","FlyToTheMoon",{}]',
            logging.WARNING,
            "unknown action 'FlyToTheMoon' from the central system (answered NotImplemented)",
        ),
        (
            '[2,"e2e","Reset",{"type":"Medium"}]',
            logging.WARNING,
            "malformed call from the central system: invalid Reset request",
        ),
    ],
    ids=["unsupported", "unknown", "malformed"],
)
async def test_the_log_says_whether_an_action_is_unsupported_unknown_or_malformed(
    nursery, start_csms, autojump_clock, caplog, text: str, level: int, line: str
):
    caplog.set_level(logging.INFO)
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        caplog.clear()
        await station.send_text(text)
        with trio.fail_after(10):
            await _answer_to(csms, "e2e")
    said = [r for r in caplog.records if r.name == "ocppd.session"]
    assert [(r.levelno, r.getMessage()[: len(line)]) for r in said] == [(level, line)]
