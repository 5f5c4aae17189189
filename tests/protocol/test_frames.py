"""Parsing and encoding OCPP-J frames, and which bad frames can be answered."""

from __future__ import annotations

import json

import pytest

from ocppd.protocol.errors import Violation
from ocppd.protocol.frames import (
    BadFrame,
    Call,
    CallError,
    CallResult,
    MessageTypeId,
    encode_frame,
    parse_frame,
)


def test_message_type_ids():
    assert (MessageTypeId.CALL, MessageTypeId.CALLRESULT, MessageTypeId.CALLERROR) == (2, 3, 4)


def test_parses_the_three_frame_types():
    assert parse_frame('[2,"19223201","BootNotification",{"a":1}]') == Call(
        "19223201", "BootNotification", {"a": 1}
    )
    assert parse_frame('[3, "19223201", {"status": "Accepted"}]') == CallResult(
        "19223201", {"status": "Accepted"}
    )
    assert parse_frame('[4,"1","GenericError","boom",{"x":[1]}]') == CallError(
        "1", "GenericError", "boom", {"x": [1]}
    )


def test_escaped_surrogate_pairs_are_fine():
    frame = parse_frame(r'[2,"1","DataTransfer",{"vendorId":"\ud83d\ude00"}]')
    assert frame == Call("1", "DataTransfer", {"vendorId": "\U0001f600"})


def test_parses_utf8_bytes():
    frame = parse_frame('[2,"1","DataTransfer",{"vendorId":"Grüße"}]'.encode())
    assert frame == Call("1", "DataTransfer", {"vendorId": "Grüße"})


def test_a_callerror_code_outside_1_6_is_kept_as_a_string():
    assert parse_frame('[4,"1","FormatViolation","",{}]') == CallError(
        "1", "FormatViolation", "", {}
    )


def unanswerable(text: str | bytes) -> BadFrame:
    with pytest.raises(BadFrame) as caught:
        parse_frame(text)
    assert not caught.value.answerable
    assert caught.value.violation is None
    return caught.value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'[2,"1","Heartbeat",{"x":"\xff"}]', "not UTF-8"),
        ("", "not JSON"),
        ('[2,"1","Heartbeat",{}', "not JSON"),
        ('[2,"1","Heartbeat",{"v":NaN}]', "not JSON"),
        ('[3,"1",{"v":Infinity}]', "not JSON"),
        ("[" * 100_000, "not JSON we accept: nested deeper than 16 levels"),
        ('[3,"1",' + '{"a":' * 100_000, "not JSON we accept: nested deeper than 16 levels"),
        (r'[2,"\ud800","Heartbeat",{}]', "not JSON we accept: escaped lone surrogate"),
        (r'[2,"1","DataTransfer",{"vendorId":"\uDC00"}]', "not JSON we accept: escaped lone"),
        ('{"messageTypeId":2}', "not a JSON array but object"),
        ('"hello"', "not a JSON array but string"),
        ("[]", "unknown MessageTypeId nothing"),
        ('[5,"1",{}]', "unknown MessageTypeId 5"),
        ('["2","1","Heartbeat",{}]', "unknown MessageTypeId '2'"),
        ('[2.0,"1","Heartbeat",{}]', "unknown MessageTypeId 2.0"),
        ('[true,"1","Heartbeat",{}]', "unknown MessageTypeId True"),
        ("[2]", "unique id must be a string, found nothing"),
        ('[2,1,"Heartbeat",{}]', "unique id must be a string, found integer"),
        ('[2,null,"Heartbeat",{}]', "unique id must be a string, found null"),
        ('[3,"1"]', "malformed CALLRESULT"),
        ('[3,"1",{},{}]', "malformed CALLRESULT"),
        ('[3,"1",null]', "malformed CALLRESULT"),
        ('[4,"1","GenericError","boom"]', "malformed CALLERROR"),
        ('[4,"1","GenericError","boom",null]', "malformed CALLERROR"),
        ('[4,"1",7,"boom",{}]', "malformed CALLERROR"),
        ('[4,"1","GenericError",{},{}]', "malformed CALLERROR"),
    ],
)
def test_frames_nobody_can_be_answered_for(text, reason):
    assert unanswerable(text).reason.startswith(reason)


@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ('[2,"abc"]', Violation.CALL_INCOMPLETE),
        ('[2,"abc","Heartbeat"]', Violation.CALL_INCOMPLETE),
        ('[2,"abc","Heartbeat",{},{}]', Violation.CALL_TOO_MANY_ELEMENTS),
        ('[2,"abc",null,{}]', Violation.ACTION_NOT_STRING),
        ('[2,"abc","Heartbeat",null]', Violation.PAYLOAD_NOT_OBJECT),
        ('[2,"abc","Heartbeat",[]]', Violation.PAYLOAD_NOT_OBJECT),
    ],
)
def test_malformed_calls_with_a_readable_id_can_be_answered(text, violation):
    with pytest.raises(BadFrame) as caught:
        parse_frame(text)
    assert caught.value.answerable
    assert caught.value.unique_id == "abc"
    assert caught.value.violation is violation


def test_unique_id_of_36_characters_is_fine_and_37_is_answered_with_the_id_as_received():
    assert parse_frame(json.dumps([2, "x" * 36, "Heartbeat", {}])).unique_id == "x" * 36
    with pytest.raises(BadFrame) as caught:
        parse_frame(json.dumps([2, "y" * 37, "Heartbeat", {}]))
    assert caught.value.answerable
    assert caught.value.unique_id == "y" * 37
    assert caught.value.violation is Violation.UNIQUE_ID_TOO_LONG


def test_a_long_id_on_a_callresult_is_not_checked_here():
    # only our own ids can match a CALLRESULT; the RPC layer ignores strangers
    assert parse_frame(json.dumps([3, "z" * 40, {}])) == CallResult("z" * 40, {})


def test_encodes_compact_json_without_escaping_non_ascii():
    assert encode_frame(Call("1", "DataTransfer", {"data": "Grüße €"})) == (
        '[2,"1","DataTransfer",{"data":"Grüße €"}]'
    )
    assert encode_frame(CallResult("1", {})) == '[3,"1",{}]'


def test_callerror_always_has_five_elements_and_empty_details_object():
    assert encode_frame(CallError("1", "NotSupported", "", {})) == '[4,"1","NotSupported","",{}]'


@pytest.mark.parametrize(
    "frame",
    [
        Call("a-1", "Heartbeat", {}),
        CallResult("a-1", {"currentTime": "2026-11-21T10:00:00Z"}),
        CallError("a-1", "InternalError", "handler crashed", {"path": "x"}),
    ],
)
def test_parse_reverses_encode(frame):
    assert parse_frame(encode_frame(frame)) == frame


def test_encode_refuses_what_is_not_a_frame():
    with pytest.raises(TypeError):
        encode_frame([2, "1", "Heartbeat", {}])  # type: ignore[arg-type]


def test_bad_frame_repr_names_the_violation():
    with pytest.raises(BadFrame) as caught:
        parse_frame('[2,"abc","Heartbeat"]')
    assert "CALL_INCOMPLETE" in repr(caught.value)
    assert "'abc'" in repr(caught.value)
