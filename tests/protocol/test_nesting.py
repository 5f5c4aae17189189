"""Frames nested deeper than any OCPP 1.6 PDU are refused before the JSON decoder sees them."""

from __future__ import annotations

import json

import pytest

from ocppd.protocol.errors import Violation
from ocppd.protocol.frames import MAX_DEPTH, BadFrame, Call, parse_frame
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.jsondepth import deeper_than
from ocppd.protocol.rpc import IncomingCall, Reply, Rpc
from ocppd.protocol.v16.codec import ACTIONS
from ocppd.protocol.v16.dialect import V16

DEEP = 100_000


def nested(levels: int) -> str:
    """A payload value ``levels`` arrays deep."""
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('[{"a":[1,{}]}]', 4),
        ("[[], [], []]", 2),
        ('["[[[[", "]]]]]]]"]', 1),  # brackets inside strings do not count
        (r'["\"[[[[", "a\\", {"b": "\\\"{{"}]', 2),  # nor escaped quotes and backslashes
        ('["unterminated [[[[[[', 1),  # an open string swallows the rest
        ("[" * 40, 40),  # not JSON, but this deep
    ],
)
def test_depth_is_measured_on_the_text_outside_strings(text, depth):
    assert not deeper_than(text, depth)
    assert deeper_than(text, depth - 1) or depth == 0


def test_a_frame_as_deep_as_the_limit_is_decoded():
    value = nested(MAX_DEPTH - 2)  # inside the payload object inside the frame array
    frame = parse_frame(f'[2,"a","DataTransfer",{{"data":{value}}}]')
    assert isinstance(frame, Call)


def test_a_call_one_level_deeper_is_answered_formation_violation_without_decoding():
    value = nested(MAX_DEPTH - 1)
    with pytest.raises(BadFrame) as caught:
        parse_frame(f'[2,"a","DataTransfer",{{"data":{value}}}]')
    assert caught.value.answerable
    assert caught.value.unique_id == "a"
    assert caught.value.violation is Violation.NESTED_TOO_DEEPLY


@pytest.mark.parametrize(
    "text",
    [
        '[2,"cs-1","DataTransfer",{"data":' + nested(DEEP) + "}]",
        '[2,"cs-1","DataTransfer",' + '{"data":' * DEEP,  # never closed
        ' [ 2 ,\n "cs-1" , "Reset", ' + "[" * DEEP,
    ],
)
def test_a_deep_call_whose_id_can_be_read_gets_a_formation_violation(text):
    rpc = Rpc(MessageIds("cp"), V16, ACTIONS)
    event = rpc.receive(text)
    assert isinstance(event, Reply)
    assert event.violation is Violation.NESTED_TOO_DEEPLY
    error = json.loads(event.text)
    assert error[:3] == [4, "cs-1", "FormationViolation"]
    assert "nested deeper than 16 levels" in error[3]
    # the conversation goes on: the next call is handled
    assert isinstance(rpc.receive('[2,"cs-2","Reset",{"type":"Soft"}]'), IncomingCall)


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP,
        '[3,"cp-1",' + nested(DEEP) + "]",  # an answer: nobody to answer
        '[4,"cp-1","GenericError","x",' + '{"a":' * DEEP,
        "[2," + nested(DEEP) + "]",  # no unique id
        '[2,"\\ud800",' + nested(DEEP) + "]",  # an id that is no Unicode
        '[2,"bad \\x escape",' + nested(DEEP) + "]",
        '{"a":' * DEEP,
    ],
)
def test_a_deep_frame_without_a_readable_call_id_is_ignored(text):
    with pytest.raises(BadFrame) as caught:
        parse_frame(text)
    assert not caught.value.answerable
    assert caught.value.reason == "not JSON we accept: nested deeper than 16 levels"


def test_a_deep_frame_is_refused_as_bytes_too():
    with pytest.raises(BadFrame) as caught:
        parse_frame(('[2,"b","Reset",' + "[" * DEEP).encode())
    assert caught.value.unique_id == "b"


def test_an_unknown_message_type_is_not_dumped_whole_into_the_reason():
    with pytest.raises(BadFrame) as caught:
        parse_frame(json.dumps([list(range(10_000)), "x"]))
    assert len(caught.value.reason) < 80
