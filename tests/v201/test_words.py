"""The model's words and OCPP 2.0.1's (ocppd/features/v201/words.py): every table is total
and says only words of the 2.0.1 schemas."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import pytest

from ocppd.features.core.speech import BootReason
from ocppd.features.v201 import words
from ocppd.model.outcomes import AvailabilityResult, ReserveResult, UnlockResult
from ocppd.model.status import Status
from ocppd.protocol.v201 import enums as v201

TABLES = [
    ("CONNECTOR_STATUS", Status, v201.ConnectorStatusEnumType, True),
    ("BOOT_REASON", BootReason, v201.BootReasonEnumType, False),
    ("AVAILABILITY", AvailabilityResult, v201.ChangeAvailabilityStatusEnumType, True),
    ("UNLOCK", UnlockResult, v201.UnlockStatusEnumType, False),
    ("RESERVATION", ReserveResult, v201.ReserveNowStatusEnumType, True),
]


@pytest.mark.parametrize(("name", "model", "wire", "onto"), TABLES, ids=[t[0] for t in TABLES])
def test_every_model_word_has_a_201_word(
    name: str, model: type[Enum], wire: type[Enum], onto: bool
) -> None:
    table: Mapping[Enum, Enum] = getattr(words, name)
    assert set(table) == set(model)
    assert all(isinstance(w, wire) for w in table.values())
    if onto:  # every 2.0.1 word is said for some model word
        assert set(table.values()) == set(wire)


def test_in_use_is_occupied_whatever_the_session_does() -> None:
    occupied = {s for s, w in words.CONNECTOR_STATUS.items() if w.value == "Occupied"}
    assert occupied == {
        Status.PREPARING,
        Status.CHARGING,
        Status.SUSPENDED_EV,
        Status.SUSPENDED_EVSE,
        Status.FINISHING,
    }


def test_the_unlock_words_the_model_cannot_say_are_the_handlers() -> None:
    said = set(words.UNLOCK.values())
    assert set(v201.UnlockStatusEnumType) - said == {
        v201.UnlockStatusEnumType.ONGOING_AUTHORIZED_TRANSACTION,
        v201.UnlockStatusEnumType.UNKNOWN_CONNECTOR,
    }
