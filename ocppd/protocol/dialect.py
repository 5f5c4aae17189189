"""A dialect: one OCPP version as the RPC layer and the link need to know it.

OCPP-J frames (CALL, CALLRESULT, CALLERROR) are the same in every version; what
differs is the set of actions, the payloads and their schemas, the spelling of
the CALLERROR codes, and the websocket subprotocol that names the version in the
opening handshake [J16 §3.1.2]. A :class:`Dialect` carries exactly that, as data
and plain functions, so :class:`ocppd.protocol.rpc.Rpc` and the connection take
the version as an argument instead of importing it. OCPP 1.6 is
:data:`ocppd.protocol.v16.dialect.V16`; a second version is a second instance
(``protocol/v201/dialect.py``), offered beside it in the link target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ocppd.protocol.errors import OcppError, Violation

Decoder = Callable[[str, dict[str, Any]], Any]
"""``decode(action, payload)``: the typed message, or `OcppError` for an invalid payload."""


@dataclass(frozen=True, eq=False, repr=False)  # one object per version: compared by identity
class Dialect:
    """One OCPP version: its actions, their typed messages and codecs, its error codes.

    ``requests``/``responses`` map each action to the type of its request and
    response; ``decode_request``/``decode_response`` validate a payload and build
    that type (or raise `OcppError` with the violation found); ``to_payload`` and
    ``action_of`` go back from a typed message to its JSON payload and its
    action. ``error_codes`` spells every `Violation` as this version's CALLERROR
    code; it must cover all of them (checked when the dialect is made).
    """

    name: str  # for people: "OCPP 1.6"
    subprotocol: str  # the Sec-WebSocket-Protocol value: "ocpp1.6"
    actions: frozenset[str]
    requests: Mapping[str, type]
    responses: Mapping[str, type]
    decode_request: Decoder
    decode_response: Decoder
    to_payload: Callable[[Any], dict[str, Any]]
    action_of: Callable[[Any], str]
    error_codes: Mapping[Violation, str]

    def __post_init__(self) -> None:
        missing = [v.name for v in Violation if v not in self.error_codes]
        if missing:
            raise ValueError(f"{self.name}: no CALLERROR code for {', '.join(missing)}")
        untyped = sorted(
            a for a in self.actions if a not in self.requests or a not in self.responses
        )
        if untyped:
            raise ValueError(f"{self.name}: no request or response type for {', '.join(untyped)}")

    def code_of(self, error: OcppError) -> str:
        """The CALLERROR code this version answers `error` with."""
        return self.error_codes[error.violation]

    def __repr__(self) -> str:
        return f"<Dialect {self.name} ({self.subprotocol}): {len(self.actions)} actions>"


__all__ = ["Decoder", "Dialect"]
