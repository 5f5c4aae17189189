"""The sans-IO state of one OCPP-J conversation: our one CALL in flight and theirs.

`Rpc` turns text from the websocket into events and typed messages into text
for it; it never does I/O and never looks at a clock. The session shell owns
the socket, the timeout of our CALL (it calls `Rpc.abandon` when it expires)
and the handlers of incoming CALLs. The OCPP version is an argument: a
:class:`~ocppd.protocol.dialect.Dialect` gives the actions, the codecs and the
spelling of CALLERROR codes; the frames are the same in every version.

At most one CALL of ours is outstanding [J16 §4.1.1]; `call` raises `RpcBusy`
while one is. CALLs from the central system are independent of it, so calls
that cross on the wire are answered normally. An incoming CALL whose unique
id is still being handled is answered with a CALLERROR [J16 §4.2.3]; `reply`
and `reply_error` end the handling.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ocppd.protocol.dialect import Dialect
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import (
    MAX_UNIQUE_ID_LENGTH,
    BadFrame,
    Call,
    CallError,
    CallResult,
    encode_frame,
    parse_frame,
)
from ocppd.protocol.ids import MessageIds

Decoded = Any
"""A typed request or response of the dialect spoken (``dialect.requests[action]`` ...).
Typed Any so that callers can use the concrete type without a cast."""


class RpcBusy(Exception):
    """A CALL was started while another of ours is still outstanding."""


@dataclass(frozen=True, slots=True)
class PendingCall:
    """A CALL we sent and have no answer for yet; ``payload`` is exactly what was sent."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """The central system asks us something; ``request`` is validated and typed.

    Answer it with `Rpc.reply` or `Rpc.reply_error`.
    """

    unique_id: str
    action: str
    request: Decoded


@dataclass(frozen=True, slots=True)
class Reply:
    """A CALLERROR the shell must send as is: the incoming CALL cannot be handled.

    ``violation`` says what was wrong (None: the payload broke its action's schema),
    ``action`` names the action when the frame could be read that far; the shell
    logs an unsupported action differently from a malformed frame.
    """

    text: str
    reason: str
    violation: Violation | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """Our outstanding call got a valid CALLRESULT; ``response`` is typed."""

    call: PendingCall
    response: Decoded


@dataclass(frozen=True, slots=True)
class Failed:
    """Our outstanding call got a CALLERROR, or a CALLRESULT whose payload is invalid.

    In the second case ``invalid_result`` is True and ``error`` is made here: the
    violation's code, the problem in its description and ``{"path": ...}`` in its details.
    """

    call: PendingCall
    error: CallError
    invalid_result: bool = False


@dataclass(frozen=True, slots=True)
class Ignored:
    """Text that asks nothing of us: log ``reason`` and carry on. ``invalid``: the text was
    no OCPP frame at all (False: a well-formed answer to a call we no longer wait for)."""

    reason: str
    invalid: bool = True


RpcEvent = IncomingCall | Reply | Answered | Failed | Ignored


class Rpc:
    """One conversation with the central system in one `dialect`, as pure state.

    `supported` names the actions we handle when the central system calls us;
    other actions of the dialect are answered NotSupported, unknown names
    NotImplemented, both without looking at the payload.
    """

    def __init__(self, ids: MessageIds, dialect: Dialect, supported: Collection[str]) -> None:
        unknown = sorted(set(supported) - dialect.actions)
        if unknown:
            raise ValueError(f"not {dialect.name} actions: {', '.join(unknown)}")
        self._ids = ids
        self.dialect = dialect
        self._supported = frozenset(supported)
        self._outstanding: PendingCall | None = None
        self._handling: dict[str, str] = {}  # unique id -> action of incoming CALLs

    @property
    def outstanding(self) -> PendingCall | None:
        """Our CALL that awaits its answer, if any."""
        return self._outstanding

    @property
    def handling(self) -> frozenset[str]:
        """Unique ids of incoming CALLs that have not been replied to yet."""
        return frozenset(self._handling)

    def call(self, request: Any, *, unique_id: str | None = None) -> tuple[str, PendingCall]:
        """Start our CALL for a typed request; returns the text to send and the pending call.

        Raises `RpcBusy` while another call is outstanding and TypeError for a
        response or a non-message.
        """
        dialect = self.dialect
        action = dialect.action_of(request)
        if type(request) is not dialect.requests[action]:
            raise TypeError(f"{type(request).__name__} is a response, not a request")
        return self.call_payload(action, dialect.to_payload(request), unique_id=unique_id)

    def call_payload(
        self, action: str, payload: dict[str, Any], *, unique_id: str | None = None
    ) -> tuple[str, PendingCall]:
        """Start our CALL with a payload as stored, e.g. by the durable outbox.

        A resent message passes its original `unique_id`, so the central system
        can recognise the retry [ERRJ §3.7]. The payload is sent as given.
        """
        if self._outstanding is not None:
            raise RpcBusy(
                f"{action}: call {self._outstanding.unique_id} "
                f"({self._outstanding.action}) is still outstanding"
            )
        if action not in self.dialect.actions:
            raise ValueError(f"{action!r} is not an {self.dialect.name} action")
        if unique_id is None:
            unique_id = self._ids.next()
        elif not unique_id or len(unique_id) > MAX_UNIQUE_ID_LENGTH:
            raise ValueError(f"unique id must be 1..{MAX_UNIQUE_ID_LENGTH} characters")
        text = encode_frame(Call(unique_id, action, payload))
        pending = PendingCall(unique_id, action, payload)
        self._outstanding = pending
        return text, pending

    def abandon(self) -> PendingCall | None:
        """Give up on our outstanding call (timeout, link lost); a late answer is ignored."""
        pending, self._outstanding = self._outstanding, None
        return pending

    def receive(self, text: str | bytes) -> RpcEvent:
        """Digest one websocket message from the central system."""
        try:
            frame = parse_frame(text)
        except BadFrame as exc:
            if exc.unique_id is not None and exc.violation is not None:
                return self._refuse(exc.unique_id, exc.violation, exc.reason)
            return Ignored(exc.reason)
        if isinstance(frame, Call):
            return self._receive_call(frame)
        pending = self._outstanding
        if pending is None or frame.unique_id != pending.unique_id:
            kind = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
            return Ignored(
                f"{kind} for {frame.unique_id!r}, which is not our outstanding call", invalid=False
            )
        self._outstanding = None
        if isinstance(frame, CallError):
            return Failed(pending, frame)
        try:
            response = self.dialect.decode_response(pending.action, frame.payload)
        except OcppError as exc:
            error = CallError(
                pending.unique_id,
                self.dialect.code_of(exc),
                f"invalid response: {exc.description}",
                exc.details,
            )
            return Failed(pending, error, invalid_result=True)
        return Answered(pending, response)

    def _receive_call(self, call: Call) -> RpcEvent:
        unique_id, action = call.unique_id, call.action
        if unique_id in self._handling:
            return self._refuse(
                unique_id,
                Violation.DUPLICATE_UNIQUE_ID,
                f"{self._handling[unique_id]} {unique_id!r} is still being handled",
            )
        if action not in self.dialect.actions:
            return self._refuse(
                unique_id,
                Violation.UNKNOWN_ACTION,
                f"{action!r} is not an {self.dialect.name} action",
                action,
            )
        if action not in self._supported:
            return self._refuse(
                unique_id, Violation.UNSUPPORTED_ACTION, f"{action} is not supported", action
            )
        try:
            request = self.dialect.decode_request(action, call.payload)
        except OcppError as exc:
            reason = f"invalid {action} request: {exc.description}"
            return Reply(self._error_text(unique_id, exc), reason, None, action)
        self._handling[unique_id] = action
        return IncomingCall(unique_id, action, request)

    def _refuse(
        self, unique_id: str, violation: Violation, reason: str, action: str | None = None
    ) -> Reply:
        error = OcppError(violation, reason)
        return Reply(self._error_text(unique_id, error), reason, violation, action)

    def reply(self, unique_id: str, response: Any) -> str:
        """The CALLRESULT text answering the incoming CALL `unique_id` with a typed response.

        Raises KeyError when no such call awaits a reply, TypeError when
        `response` is not the response type of its action.
        """
        action = self._awaiting(unique_id)
        expected = self.dialect.responses[action]
        if type(response) is not expected:
            raise TypeError(
                f"{action} is answered with {expected.__name__}, not {type(response).__name__}"
            )
        text = encode_frame(CallResult(unique_id, self.dialect.to_payload(response)))
        del self._handling[unique_id]
        return text

    def reply_error(self, unique_id: str, error: OcppError) -> str:
        """The CALLERROR text answering the incoming CALL `unique_id`."""
        self._awaiting(unique_id)
        text = self._error_text(unique_id, error)
        del self._handling[unique_id]
        return text

    def _error_text(self, unique_id: str, error: OcppError) -> str:
        code = self.dialect.code_of(error)
        return encode_frame(CallError(unique_id, code, error.description, error.details))

    def _awaiting(self, unique_id: str) -> str:
        try:
            return self._handling[unique_id]
        except KeyError:
            raise KeyError(f"no incoming call {unique_id!r} awaits a reply") from None

    def __repr__(self) -> str:
        pending = self._outstanding
        ours = f"{pending.action} {pending.unique_id}" if pending else "none"
        theirs = ", ".join(f"{action} {uid}" for uid, action in self._handling.items())
        return (
            f"<Rpc {self.dialect.subprotocol} outstanding={ours} handling=[{theirs}] "
            f"supported={len(self._supported)} ids={self._ids!r}>"
        )
