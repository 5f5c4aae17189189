"""OCPP 2.0.1 (JSON) as a :class:`~ocppd.protocol.dialect.Dialect`."""

from __future__ import annotations

from ocppd.protocol.dialect import Dialect
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201.errors import VIOLATION_CODES

V201 = Dialect(
    name="OCPP 2.0.1",
    subprotocol="ocpp2.0.1",  # [OCPP-J 2.0.1 §3.1.2]
    actions=codec.ACTIONS,
    requests=codec.REQUESTS,
    responses=codec.RESPONSES,
    decode_request=codec.decode_request,
    decode_response=codec.decode_response,
    to_payload=codec.to_payload,
    action_of=codec.action_of,
    error_codes=VIOLATION_CODES,
)
"""The one OCPP 2.0.1 dialect."""

__all__ = ["V201"]
