"""One connected conversation with the central system.

A :class:`Session` owns two tasks while its link is up: the reader, which always
drains the socket (so pings are answered and crossing CALLs are seen while our own
CALL waits), and the dispatcher, which answers the central system's CALLs one at a
time in arrival order. :meth:`Session.call` sends one CALL of ours at a time (a fair
lock; OCPP-J allows one in flight) and waits for its answer under a cancel scope.

Frames are logged at DEBUG with the values of secret configuration keys redacted
(``secret_keys``: the keys declared ``secret``, matched in any spelling); the text is
built only when a record is emitted. The session ends when the link does: every
waiting caller gets :class:`SessionClosed`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from ocppd.logs import fields
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.frames import CallError
from ocppd.protocol.rpc import Answered, Failed, Ignored, IncomingCall, PendingCall, Reply, Rpc
from ocppd.transport.link import Link, LinkError

log = logging.getLogger(__name__)
frames_log = logging.getLogger("ocppd.frames")

INCOMING_BACKLOG = 16


class CallFailure(Exception):
    """Our CALL got no usable answer."""


class CallTimeout(CallFailure):
    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"{action}: no answer within {timeout:g} s")
        self.action = action


class CallRejected(CallFailure):
    """The central system answered with a CALLERROR (or an answer that failed validation)."""

    def __init__(self, action: str, error: CallError) -> None:
        super().__init__(f"{action}: {error.code}: {error.description}")
        self.action = action
        self.error = error


class InvalidAnswer(CallRejected):
    """The central system answered with a CALLRESULT that breaks the schema (``error`` is made
    here, see :class:`ocppd.protocol.rpc.Failed`)."""


class SessionClosed(CallFailure):
    def __init__(self, reason: str) -> None:
        super().__init__(f"link closed: {reason}")
        self.reason = reason


Starter = Callable[[Callable[[], Awaitable[None]]], None]


@dataclass(frozen=True)
class Then:
    """A handler's answer plus work to start once the answer is on the wire (the central
    system sees RemoteStartTransaction.conf before the StartTransaction.req it leads to).

    ``owner`` starts the work where it belongs: what an Accepted answer promised (a remote
    start or stop, a reset) must survive the link, so its owner is a nursery of the daemon
    with its own error policy (1.6 errata 3.32: Accepted means "will attempt"). Without an
    owner the work lives as long as this session: work that means nothing without this link.
    """

    response: Any
    after: Callable[[], Awaitable[None]]
    owner: Starter | None = None


Handler = Callable[[IncomingCall], Awaitable[Any]]


def redact(text: str, secret_keys: frozenset[str]) -> str:
    """A frame for the log: the values of secret configuration keys (and of the 2.0.1
    variables that are secrets, BasicAuthPassword) replaced by ``***``.

    Key names match case-insensitively (1.6 types them CiString50), also when the
    central system spells them with JSON escapes. A frame that names a secret key in
    any other way (inside a longer text, say) is withheld whole.
    """
    pattern = _secret_pattern(secret_keys)
    if pattern is None or (pattern.search(text) is None and "\\u" not in text):
        return text
    try:
        frame = json.loads(text)
        hidden = _hide_secrets(frame, pattern)
        if hidden is None:
            return _WITHHELD
        return json.dumps(frame) if hidden else text
    except (ValueError, RecursionError):  # not JSON, or too deep to look at
        return text if pattern.search(text) is None else _WITHHELD


_WITHHELD = "[frame withheld: it names a secret configuration key]"


@functools.lru_cache(maxsize=8)
def _secret_pattern(secret_keys: frozenset[str]) -> re.Pattern[str] | None:
    if not secret_keys:
        return None
    names = "|".join(re.escape(name) for name in sorted(secret_keys))
    return re.compile(f"(?:{names})", re.IGNORECASE)


def _hide_secrets(frame: Any, pattern: re.Pattern[str]) -> bool | None:
    """Replace, in place, the value of every ``{"key": <secret>, "value": ...}`` (and of every
    member named like a secret key). True when something was hidden; None when a secret name
    turns up where no value can be told apart (then nothing may be shown)."""
    hidden = False
    stack = [frame]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            key = node.get("key")
            if isinstance(key, str) and pattern.fullmatch(key) and "value" in node:
                node["value"] = "***"
                hidden = True
            if _secret_variable(node, pattern):
                hidden = True
            for name in list(node):
                if pattern.fullmatch(name):
                    node[name] = "***"
                    hidden = True
                elif pattern.search(name):
                    return None
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and pattern.search(node) and not pattern.fullmatch(node):
            return None
    return hidden


def _secret_variable(node: dict[str, Any], pattern: re.Pattern[str]) -> bool:
    """2.0.1 names a variable as ``{"variable": {"name": ...}, "attributeValue": ...}`` (Set- and
    GetVariables) or with ``"variableAttribute": [{"value": ...}]`` (NotifyReport): hide the
    values of a secret one. True when something was hidden."""
    variable = node.get("variable")
    name = variable.get("name") if isinstance(variable, dict) else None
    if not isinstance(name, str) or not pattern.fullmatch(name):
        return False
    hidden = False
    if "attributeValue" in node:
        node["attributeValue"] = "***"
        hidden = True
    attributes = node.get("variableAttribute")
    for attribute in attributes if isinstance(attributes, list) else ():
        if isinstance(attribute, dict) and "value" in attribute:
            attribute["value"] = "***"
            hidden = True
    return hidden


class _Shown:
    """A frame as the log shows it, redacted only if the record is emitted (DEBUG is rare)."""

    __slots__ = ("secret_keys", "text")

    def __init__(self, text: str, secret_keys: frozenset[str]) -> None:
        self.text = text
        self.secret_keys = secret_keys

    def __str__(self) -> str:
        return redact(self.text, self.secret_keys)


class Session:
    def __init__(
        self,
        link: Link,
        rpc: Rpc,
        handler: Handler,
        *,
        call_timeout: float,
        secret_keys: frozenset[str],
        answering: Callable[[IncomingCall | None], bool] = lambda _call: True,
        on_invalid: Callable[[str, str], None] = lambda _kind, _reason: None,
    ) -> None:
        self.link = link
        self._on_invalid = on_invalid  # (kind, reason) of a frame that is not valid OCPP
        self._secret_keys = secret_keys  # names of the keys whose values the log never shows
        self.rpc = rpc
        self._handler = handler
        self.call_timeout = call_timeout
        # False while Rejected: the central system's CALLs get no answer at all (the CALL, or
        # None for a frame refused before it was decoded); a version may except some calls
        self._answering = answering
        self._lock = trio.Lock()
        self._answer: Answered | Failed | None = None
        self._answered = trio.Event()
        self._closed: str | None = None
        self._incoming_send, self._incoming = trio.open_memory_channel[IncomingCall](
            INCOMING_BACKLOG
        )
        self._nursery: trio.Nursery | None = None
        self.sent_calls = 0
        self.last_sent = 0.0

    def __repr__(self) -> str:
        pending = self.rpc.outstanding
        return (
            f"<Session {self.link.target.url} closed={self._closed!r} "
            f"waiting_for={pending.action if pending else None}>"
        )

    @property
    def closed(self) -> bool:
        return self._closed is not None

    # --- lifetime ---

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until the link breaks (raises LinkError) or the caller cancels."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._read)
                nursery.start_soon(self._dispatch)
                task_status.started()
        except BaseException as exc:
            self._close(getattr(exc, "reason", None) or type(exc).__name__)
            raise
        finally:
            self._close("session ended")

    def _close(self, reason: str) -> None:
        if self._closed is None:
            self._closed = reason
            self._answered.set()

    def start_soon(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` for as long as this session lives."""
        if self._nursery is None:
            raise RuntimeError("session is not running")
        self._nursery.start_soon(fn)

    # --- our CALLs ---

    async def call(self, request: Any, *, timeout: float | None = None) -> Any:
        """Send a typed request; return the typed response (CallFailure subclasses otherwise)."""
        async with self._lock:
            text, pending = self.rpc.call(request)
            return await self._exchange(text, pending, timeout)

    async def call_payload(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        unique_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a stored payload (the durable outbox), optionally under its original id."""
        async with self._lock:
            text, pending = self.rpc.call_payload(action, payload, unique_id=unique_id)
            return await self._exchange(text, pending, timeout)

    async def _exchange(self, text: str, pending: PendingCall, timeout: float | None) -> Any:
        try:
            return await self._send_and_wait(text, pending, timeout)
        finally:
            # Cancelled while waiting (the session is being torn down): the next caller on this
            # session must get SessionClosed, not find our call still outstanding (RpcBusy).
            if self.rpc.outstanding is pending:
                self.rpc.abandon()

    async def _send_and_wait(self, text: str, pending: PendingCall, timeout: float | None) -> Any:
        if self._closed is not None:
            self.rpc.abandon()
            raise SessionClosed(self._closed)
        limit = timeout if timeout is not None else self.call_timeout
        self._answer = None
        self._answered = trio.Event()
        frames_log.debug(
            "-> %s",
            self._shown(text),
            extra=fields(action=pending.action, message_id=pending.unique_id),
        )
        try:
            await self.link.send(text)
        except LinkError as exc:
            self.rpc.abandon()
            self._close(exc.reason)
            raise SessionClosed(exc.reason) from None
        self.sent_calls += 1
        self.last_sent = trio.current_time()
        with trio.move_on_after(limit):
            await self._answered.wait()
        answer = self._answer
        if answer is None:
            self.rpc.abandon()
            if self._closed is not None:
                raise SessionClosed(self._closed)
            raise CallTimeout(pending.action, limit)
        if isinstance(answer, Failed):
            if answer.invalid_result:
                raise InvalidAnswer(pending.action, answer.error)
            raise CallRejected(pending.action, answer.error)
        return answer.response

    # --- the reader ---

    async def _read(self) -> None:
        while True:
            text = await self.link.receive()
            event = self.rpc.receive(text)
            if isinstance(event, Answered | Failed):
                if isinstance(event, Failed) and event.invalid_result:
                    self._on_invalid("RESULT", f"{event.call.action}: {event.error.description}")
                frames_log.debug(
                    "<- %s",
                    self._shown(text),
                    extra=fields(action=event.call.action, message_id=event.call.unique_id),
                )
                self._answer = event
                self._answered.set()
            elif isinstance(event, IncomingCall):
                frames_log.debug(
                    "<- %s",
                    self._shown(text),
                    extra=fields(action=event.action, message_id=event.unique_id),
                )
                if not self._answering(event):
                    log.info(
                        "not answering %s %s: registration was rejected",
                        event.action,
                        event.unique_id,
                    )
                    continue
                try:
                    self._incoming_send.send_nowait(event)
                except trio.WouldBlock:
                    busy = OcppError(Violation.BUSY, "too many calls at once")
                    await self._send(self.rpc.reply_error(event.unique_id, busy))
            elif isinstance(event, Reply):
                self._log_refusal(event, text)
                if event.violation is not Violation.UNSUPPORTED_ACTION:  # valid, just not ours
                    kind = event.violation.name if event.violation else "SCHEMA"
                    self._on_invalid(kind, event.reason)
                if self._answering(None):
                    await self._send(event.text)
            elif isinstance(event, Ignored):
                log.warning("ignored a frame from the central system: %s", event.reason)
                if event.invalid:
                    self._on_invalid("FRAME", event.reason)

    def _log_refusal(self, reply: Reply, text: str) -> None:
        """Say what a CALL answered with a CALLERROR was: an action we do not handle is the
        central system asking for a feature we lack (INFO); an unknown action or a broken
        frame is its mistake (WARNING)."""
        context = fields(action=reply.action)
        if reply.violation is Violation.NESTED_TOO_DEEPLY:  # never decoded: show none of it
            frames_log.debug("<- [%d characters nested too deeply]", len(text))
        else:
            frames_log.debug("<- %s", self._shown(text), extra=context)
        if reply.violation is Violation.UNSUPPORTED_ACTION:
            log.info(
                "unsupported action %s from the central system (answered %s)",
                reply.action,
                self.rpc.dialect.error_codes[reply.violation],
                extra=context,
            )
        elif reply.violation is Violation.UNKNOWN_ACTION:
            log.warning(
                "unknown action %r from the central system (answered %s)",
                reply.action,
                self.rpc.dialect.error_codes[reply.violation],
                extra=context,
            )
        else:
            log.warning("malformed call from the central system: %s", reply.reason, extra=context)

    async def _send(self, text: str) -> None:
        frames_log.debug("-> %s", self._shown(text))
        await self.link.send(text)

    def _shown(self, text: str) -> _Shown:
        return _Shown(text, self._secret_keys)

    # --- answering the central system ---

    async def _dispatch(self) -> None:
        async for call in self._incoming:
            reply, then = await self._handle(call)
            await self._send(reply)  # a link lost here raises: nothing was promised
            if then is not None:  # handed over without a checkpoint: nothing can cancel it
                (then.owner or self.start_soon)(then.after)

    async def _handle(self, call: IncomingCall) -> tuple[str, Then | None]:
        context = fields(action=call.action, message_id=call.unique_id)
        try:
            result = await self._handler(call)
        except OcppError as exc:
            code = self.rpc.dialect.code_of(exc)
            log.info("%s answered %s: %s", call.action, code, exc.description, extra=context)
            return self.rpc.reply_error(call.unique_id, exc), None
        except Exception:  # a bug in a handler is an InternalError for this call only
            log.exception("handling %s failed", call.action, extra=context)
            error = OcppError(
                Violation.HANDLER_FAILED, f"{call.action} failed inside the charge point"
            )
            return self.rpc.reply_error(call.unique_id, error), None
        if isinstance(result, Then):
            return self.rpc.reply(call.unique_id, result.response), result
        return self.rpc.reply(call.unique_id, result), None
