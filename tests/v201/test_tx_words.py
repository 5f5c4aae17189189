"""The model's words in OCPP 2.0.1 transactions: every table total, every word a 2.0.1 word."""

from __future__ import annotations

from enum import Enum

import pytest

from ocppd.features.v201 import transactions as tx
from ocppd.model.metering import Context
from ocppd.model.status import Status
from ocppd.model.transaction import StartCause, StopReason
from ocppd.protocol.v201.enums import (
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    TriggerReasonEnumType,
)


@pytest.mark.parametrize(
    ("table", "keys", "words"),
    [
        (tx.STOPPED_REASON, StopReason, ReasonEnumType),
        (tx.STOP_TRIGGER, StopReason, TriggerReasonEnumType),
        (tx.START_TRIGGER, StartCause, TriggerReasonEnumType),
        (tx.CHARGING_STATE, Status, ChargingStateEnumType),
        (tx.SAMPLE_TRIGGER, Context, TriggerReasonEnumType),
        (tx.READING_CONTEXT, Context, ReadingContextEnumType),
    ],
)
def test_every_model_word_has_a_2_0_1_word(
    table: dict[Enum, Enum], keys: type[Enum], words: type[Enum]
) -> None:
    assert set(table) == set(keys)
    assert all(isinstance(word, words) for word in table.values())


def test_every_2_0_1_verdict_on_a_token_is_a_model_verdict() -> None:
    assert set(tx.AUTH_STATUS) == set(AuthorizationStatusEnumType)
    refused = {w for w, status in tx.AUTH_STATUS.items() if status.value != "Accepted"}
    assert refused == set(AuthorizationStatusEnumType) - {AuthorizationStatusEnumType.ACCEPTED}


def test_the_reasons_that_say_who_ended_it() -> None:
    """E05-E07: the driver's tag, the central system, the cable, a verdict on the token."""
    assert tx.STOP_TRIGGER[StopReason.LOCAL] is TriggerReasonEnumType.STOP_AUTHORIZED
    assert tx.STOP_TRIGGER[StopReason.REMOTE] is TriggerReasonEnumType.REMOTE_STOP
    assert tx.STOP_TRIGGER[StopReason.EV_DISCONNECTED] is (
        TriggerReasonEnumType.EV_COMMUNICATION_LOST
    )
    assert tx.STOPPED_REASON[StopReason.DE_AUTHORIZED] is ReasonEnumType.DE_AUTHORIZED
    assert tx.STOPPED_REASON[StopReason.POWER_LOSS] is ReasonEnumType.POWER_LOSS
    assert tx.STOP_TRIGGER[StopReason.DE_AUTHORIZED] is TriggerReasonEnumType.DEAUTHORIZED
