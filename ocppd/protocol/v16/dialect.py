"""OCPP 1.6 (JSON, security white paper included) as a :class:`~ocppd.protocol.dialect.Dialect`."""

from __future__ import annotations

from ocppd.protocol.dialect import Dialect
from ocppd.protocol.v16 import codec
from ocppd.protocol.v16.errors import VIOLATION_CODES

V16 = Dialect(
    name="OCPP 1.6",
    subprotocol="ocpp1.6",  # [J16 §3.1.2 Table 1]
    actions=codec.ACTIONS,
    requests=codec.REQUESTS,
    responses=codec.RESPONSES,
    decode_request=codec.decode_request,
    decode_response=codec.decode_response,
    to_payload=codec.to_payload,
    action_of=codec.action_of,
    error_codes=VIOLATION_CODES,
)
"""The one OCPP 1.6 dialect."""

__all__ = ["V16"]
