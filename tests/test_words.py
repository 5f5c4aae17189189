"""The model's words and OCPP 1.6's (ocppd/features/core/words.py): every table is total,
one-to-one where the wire is read back, and spelled as the 1.6 schemas spell it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import pytest

from ocppd.features.core import words
from ocppd.model.outcomes import AvailabilityResult, ReserveResult, ResetKind, UnlockResult
from ocppd.model.status import ErrorCode, Status
from ocppd.model.transaction import StopReason
from ocppd.protocol.v16 import enums as v16

# (table, the model enum, the 1.6 enum): each model word has a 1.6 word, and each 1.6 word
# is said for some model word
TO_THE_WIRE = [
    ("STATUS", Status, v16.ChargePointStatus),
    ("ERROR_CODE", ErrorCode, v16.ChargePointErrorCode),
    ("STOP_REASON", StopReason, v16.Reason),
    ("AVAILABILITY", AvailabilityResult, v16.AvailabilityStatus),
    ("UNLOCK", UnlockResult, v16.UnlockStatus),
    ("RESERVATION", ReserveResult, v16.ReservationStatus),
]


@pytest.mark.parametrize(("name", "model", "wire"), TO_THE_WIRE, ids=[t[0] for t in TO_THE_WIRE])
def test_every_model_word_has_a_16_word(name: str, model: type[Enum], wire: type[Enum]) -> None:
    table: Mapping[Enum, Enum] = getattr(words, name)
    assert set(table) == set(model)
    assert all(isinstance(w, wire) for w in table.values())
    assert set(table.values()) == set(wire)


@pytest.mark.parametrize(
    ("name", "inverse"), [("ERROR_CODE", "ERROR_CODE_OF"), ("STOP_REASON", "STOP_REASON_OF")]
)
def test_words_read_back_from_the_wire_round_trip(name: str, inverse: str) -> None:
    table: Mapping[Enum, Enum] = {
        word: wire for word, wire in getattr(words, name).items() if word not in words.NEVER_IN_16
    }
    back: Mapping[Enum, Enum] = getattr(words, inverse)
    assert {back[wire] for wire in table.values()} == set(table)
    assert all(back[table[word]] is word for word in table)


def test_every_reset_type_is_a_kind_of_restart() -> None:
    assert set(words.RESET_KIND) == set(v16.ResetType)
    assert set(words.RESET_KIND.values()) == set(ResetKind)
    assert words.RESET_KIND[v16.ResetType.HARD] is ResetKind.HARD


def test_the_model_words_are_not_the_wire_words() -> None:
    """The model speaks its own language: a value chosen for the 1.6 wire would leak out
    through logs and ``str()`` and tie the model to one version."""
    for name, _, _ in TO_THE_WIRE:
        table: Mapping[Enum, Enum] = getattr(words, name)
        assert [w for w, wire in table.items() if w.value == wire.value] == []


def test_journaled_stop_reasons_decode() -> None:
    """Every reason a journal written by earlier versions of ocppd keeps in its stop rows
    (the 1.6 word it was sent with) reads back as the model's reason."""
    kept = ["Local", "EVDisconnected", "Reboot", "PowerLoss", "Remote", "DeAuthorized"]
    decoded = [words.STOP_REASON_OF[v16.Reason(word)] for word in kept]
    assert decoded == [
        StopReason.LOCAL,
        StopReason.EV_DISCONNECTED,
        StopReason.REBOOT,
        StopReason.POWER_LOSS,
        StopReason.REMOTE,
        StopReason.DE_AUTHORIZED,
    ]
