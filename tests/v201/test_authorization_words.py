"""OCPP 2.0.1 authorization in the model's words (ocppd/features/v201/authorization.py):
the token types and verdicts are total maps, and an idTokenInfo as a central system sends
it (validated by the dialect) becomes the model's IdTagInfo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocppd.features.v201 import authorization as a
from ocppd.model.auth import AuthStatus
from ocppd.model.token import DEFAULT_ORIGIN, TokenKind
from ocppd.protocol.v201.dialect import V201
from ocppd.protocol.v201.enums import AuthorizationStatusEnumType, IdTokenEnumType


def test_every_kind_of_token_has_its_2_0_1_type_and_back() -> None:
    assert set(a.TOKEN_TYPE) == set(TokenKind)
    assert set(a.TOKEN_KIND) == set(IdTokenEnumType)
    for kind in TokenKind:
        assert a.TOKEN_KIND[a.TOKEN_TYPE[kind]] is kind


def test_a_reader_card_is_iso14443_by_default() -> None:
    assert a.TOKEN_TYPE[DEFAULT_ORIGIN.kind] is IdTokenEnumType.ISO14443


def test_every_2_0_1_verdict_is_a_model_verdict_and_only_accepted_starts() -> None:
    assert set(a.VERDICT) == set(AuthorizationStatusEnumType)
    starts = [w for w, v in a.VERDICT.items() if v is AuthStatus.ACCEPTED]
    assert starts == [AuthorizationStatusEnumType.ACCEPTED]
    assert a.VERDICT[AuthorizationStatusEnumType.UNKNOWN] is AuthStatus.INVALID


@pytest.mark.parametrize(
    ("word", "verdict"),
    [
        ("ConcurrentTx", AuthStatus.CONCURRENT_TX),
        ("NoCredit", AuthStatus.NO_CREDIT),
        ("NotAllowedTypeEVSE", AuthStatus.NOT_HERE),
        ("NotAtThisLocation", AuthStatus.NOT_HERE),
        ("NotAtThisTime", AuthStatus.NOT_NOW),
        ("Blocked", AuthStatus.BLOCKED),
    ],
)
def test_an_answer_from_the_wire_becomes_the_model_verdict(word: str, verdict: AuthStatus) -> None:
    response = V201.decode_response("Authorize", {"idTokenInfo": {"status": word}})
    info = a.token_info(response.id_token_info)
    assert info.status is verdict
    assert info.expiry is None and info.parent_id_tag is None and info.connectors is None


def test_expiry_group_and_evses_of_an_answer_are_kept() -> None:
    response = V201.decode_response(
        "Authorize",
        {
            "idTokenInfo": {
                "status": "Accepted",
                "cacheExpiryDateTime": "2026-12-24T18:00:00Z",
                "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
                "evseId": [2],
            }
        },
    )
    info = a.token_info(response.id_token_info)
    assert info.expiry == datetime(2026, 12, 24, 18, tzinfo=UTC)
    assert info.parent_id_tag == "FLEET-7"
    assert info.connectors == (2,)
    assert info.allows(2) and not info.allows(1)


def test_the_request_carries_the_token_and_its_type() -> None:
    payload = V201.to_payload(a.id_token("04A2B3C4D5E6F7", TokenKind.CARD))
    assert payload == {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}
    request = V201.decode_request(
        "RequestStartTransaction",
        {
            "remoteStartId": 42,
            "idToken": {
                "idToken": "DE-ABC-C12345678-X",
                "type": "eMAID",
                "additionalInfo": [{"additionalIdToken": "0815", "type": "PIN"}],
            },
        },
    )
    origin = a.origin_of(request.id_token)
    assert origin.kind is TokenKind.CONTRACT
    assert origin.extra == (("0815", "PIN"),)


def test_the_cache_variables_map_onto_the_16_keys() -> None:
    assert a.SAME_AS_V16[("AuthCacheCtrlr", "Enabled")] == "AuthorizationCacheEnabled"
    assert a.SAME_AS_V16[("AuthCtrlr", "OfflineTxForUnknownIdEnabled")] == (
        "AllowOfflineTxForUnknownId"
    )
    declared = {spec.name for spec in a.keys(None)}  # type: ignore[arg-type]
    assert set(a.V201_ONLY.values()) == declared
    assert not declared & set(a.SAME_AS_V16.values())
