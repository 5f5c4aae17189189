"""The OCPP version is a parameter of the RPC state: 1.6 is one dialect, a made-up one works too."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ocppd.protocol.dialect import Dialect
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import Answered, Failed, IncomingCall, Reply, Rpc
from ocppd.protocol.v16 import codec
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from tests.protocol.tiny_dialect import TINY, EchoRequest, EchoResponse, PingRequest, PingResponse


def test_the_16_dialect_is_the_generated_codec_under_its_subprotocol():
    assert (V16.name, V16.subprotocol) == ("OCPP 1.6", "ocpp1.6")
    assert V16.actions == codec.ACTIONS
    assert V16.requests["Reset"] is m.ResetRequest
    assert V16.responses["Reset"] is m.ResetResponse
    assert V16.action_of(m.HeartbeatRequest()) == "Heartbeat"
    assert repr(V16) == f"<Dialect OCPP 1.6 (ocpp1.6): {len(codec.ACTIONS)} actions>"


def test_a_dialect_must_spell_every_violation():
    codes = {v: c for v, c in TINY.error_codes.items() if v is not Violation.BUSY}
    with pytest.raises(ValueError, match="no CALLERROR code for BUSY"):
        dataclasses.replace(TINY, error_codes=codes)


def test_a_dialect_must_type_every_action():
    with pytest.raises(ValueError, match="no request or response type for Shout"):
        dataclasses.replace(TINY, actions=TINY.actions | {"Shout"})


def test_our_call_and_its_answer_go_through_the_tiny_dialect():
    rpc = Rpc(MessageIds("cp"), TINY, {"Echo"})
    text, pending = rpc.call(PingRequest())
    assert json.loads(text) == [2, "cp-1", "Ping", {}]
    event = rpc.receive('[3,"cp-1",{"at":"noon"}]')
    assert event == Answered(pending, PingResponse(at="noon"))
    with pytest.raises(TypeError, match="response, not a request"):
        rpc.call(EchoResponse("x"))
    with pytest.raises(ValueError, match=r"not an OCPP Tiny 0\.1 action"):
        rpc.call_payload("Heartbeat", {})  # a 1.6 action means nothing here


def test_their_call_is_decoded_and_answered_in_the_tiny_dialect():
    rpc = Rpc(MessageIds("cp"), TINY, {"Echo"})
    event = rpc.receive('[2,"cs-1","Echo",{"text":"hello"}]')
    assert event == IncomingCall("cs-1", "Echo", EchoRequest("hello"))
    assert rpc.reply("cs-1", EchoResponse("hello")) == '[3,"cs-1",{"text":"hello"}]'


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('[2,"cs-1","Echo",{}]', "OccurrenceConstraintViolation"),  # 1.6: Occurence...
        ('[2,"cs-1","Echo",{"text":"a","loud":"yes"}]', "ProtocolError"),  # 1.6: Formation...
        ('[2,"cs-1","Echo"]', "RpcFrameworkError"),  # 1.6: ProtocolError
        ('[2,"cs-1","Reset",{"type":"Soft"}]', "NotImplemented"),  # a 1.6 action is unknown
        ('[2,"cs-1","Ping",{}]', "NotSupported"),
    ],
)
def test_refusals_are_spelled_by_the_dialect_spoken(text, code):
    rpc = Rpc(MessageIds("cp"), TINY, {"Echo"})
    event = rpc.receive(text)
    assert isinstance(event, Reply)
    assert json.loads(event.text)[:3] == [4, "cs-1", code]


def test_a_handlers_refusal_and_an_invalid_answer_are_spelled_by_the_dialect_too():
    rpc = Rpc(MessageIds("cp"), TINY, {"Echo"})
    rpc.receive('[2,"cs-1","Echo",{"text":"hello"}]')
    refusal = OcppError(Violation.TOO_MANY_ITEMS, "too long")
    assert json.loads(rpc.reply_error("cs-1", refusal)) == [
        4,
        "cs-1",
        "OccurrenceConstraintViolation",
        "too long",
        {},
    ]
    rpc.call(PingRequest())
    event = rpc.receive('[3,"cp-1",{"at":7}]')
    assert isinstance(event, Failed) and event.invalid_result
    assert event.error.code == "TypeConstraintViolation"


def test_supported_actions_must_be_actions_of_the_dialect():
    with pytest.raises(ValueError, match=r"not OCPP Tiny 0\.1 actions: Reset"):
        Rpc(MessageIds(), TINY, {"Echo", "Reset"})


def test_the_same_frame_is_read_in_the_dialect_of_each_conversation():
    tiny = Rpc(MessageIds("cp"), TINY, {"Echo"})
    v16 = Rpc(MessageIds("cp"), V16, {"Reset"})
    text = '[2,"cs-1","Reset",{"type":"Soft","when":"now"}]'
    assert json.loads(tiny.receive(text).text)[2] == "NotImplemented"  # type: ignore[union-attr]
    assert json.loads(v16.receive(text).text)[2] == "FormationViolation"  # type: ignore[union-attr]
    assert "tiny0.1" in repr(tiny) and "ocpp1.6" in repr(v16)


def test_a_dialect_is_data_that_any_rpc_can_share():
    assert isinstance(TINY, Dialect)
    first, second = Rpc(MessageIds("a"), TINY, {"Echo"}), Rpc(MessageIds("b"), TINY, set())
    first.receive('[2,"x","Echo",{"text":"1"}]')
    assert second.handling == frozenset()
    assert first.dialect is second.dialect is TINY
