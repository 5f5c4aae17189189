"""An independent central system for tests and the demo, built on the ``ocpp`` PyPI package.

The ``ocpp`` package (mobilityhouse) validates every payload against the official
OCPP 1.6 JSON schemas and routes CALLs to ``@on`` handlers; it was written by other
people against the same spec, which is the point. It is asyncio-flavoured, but its
routing and validation are plain coroutines once threaded validation is off, so
this module drives them from trio (real sockets, trio's clock: virtual in tests).
Our own CALLs to the charge point (RemoteStart, Reset, ...) use a small trio
``call()`` with the package's message classes and validation.

Every frame the charge point sends is validated strictly; anything the package
rejects is recorded in :attr:`CentralSystem.violations`, which tests assert empty.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

import ocpp.charge_point
import ocpp.exceptions
import ocpp.messages
import trio
from ocpp.messages import Call, CallError, CallResult, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint as _OcppChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    GenericStatus,
    RegistrationStatus,
)
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    serve_websocket,
    wrap_server_stream,
)
from wsproto.utilities import LocalProtocolError

ocpp.messages.ASYNC_VALIDATION = False  # validate inline: no asyncio executor under trio

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"


@dataclass(frozen=True)
class Frame:
    """One frame on the wire, as the central system saw it."""

    t: float  # trio clock
    direction: str  # "in" (from the charge point) or "out"
    message_type: int
    unique_id: str
    action: str | None
    payload: Any


@dataclass(frozen=True)
class Received:
    """A CALL from the charge point."""

    t: float
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Violation:
    station: str
    what: str
    frame: str


class NoAnswer:
    """Returned by an override: swallow the CALL (the charge point must time out)."""


@dataclass(frozen=True)
class Delay:
    """Returned by an override: answer ``answer`` (a payload or an ErrorAnswer) after ``seconds``,
    without holding up anything else on the connection."""

    seconds: float
    answer: Any


@dataclass(frozen=True)
class ErrorAnswer:
    """Returned by an override: answer with a CALLERROR."""

    code: str = "InternalError"
    description: str = "refused by test"


Override = Callable[["Station", dict[str, Any]], Any]


class CallFailed(Exception):
    """The charge point answered our CALL with a CALLERROR."""

    def __init__(self, error: CallError) -> None:
        super().__init__(f"{error.error_code}: {error.error_description}")
        self.code = error.error_code
        self.description = error.error_description
        self.details = error.error_details


class StationBase(ocpp.charge_point.ChargePoint):
    """One connected charge point, seen from the central system, in any OCPP version: the
    version's ``ChargePoint`` of the ``ocpp`` package comes second in a subclass's bases
    and brings its schemas and message classes; the subclass brings the ``@on`` answers."""

    def __init__(self, cp_id: str, ws: WebSocketConnection, csms: CentralSystem) -> None:
        super().__init__(cp_id, self, response_timeout=csms.response_timeout)
        self.ws = ws
        self.csms = csms
        self.inbox: list[Received] = []
        self._pending: dict[str, trio.MemorySendChannel[Any]] = {}
        self._changed = trio.Event()
        self._call_lock = trio.Lock()  # type: ignore[assignment]
        self._closed = False
        self._nursery: trio.Nursery = None  # type: ignore[assignment]  # set by serve()
        self._incoming_ids: set[str] = set()  # CALLs from the charge point
        self._deliberate_errors: set[str] = set()  # CALLERRORs a test asked for

    def __repr__(self) -> str:
        return f"<Station {self.id} received={len(self.inbox)} closed={self._closed}>"

    # --- the connection adapter the ocpp package writes to ---

    async def send(self, text: str) -> None:
        self.csms._record(self.id, "out", text)
        try:
            msg = json.loads(text)
            answered_with_error = msg[0] == 4 and msg[1] in self._incoming_ids
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):  # garbage on purpose
            answered_with_error = False
        if answered_with_error and not self._error_expected(msg[1]):
            self.csms.violations.append(Violation(self.id, f"{msg[2]}: {msg[3]}", text))
        try:
            await self.ws.send_message(text)
        except (ConnectionClosed, LocalProtocolError):  # 0.9 raises the latter mid-close
            pass

    async def recv(self) -> str:  # pragma: no cover - the package's start() is not used
        raise NotImplementedError

    def _error_expected(self, unique_id: str) -> bool:
        return unique_id in self._deliberate_errors

    # --- reading ---

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                while True:
                    text = await self.ws.get_message()
                    self.csms._record(self.id, "in", text)
                    await self._route(text)
        except* ConnectionClosed:
            pass
        finally:
            self._closed = True
            for channel in self._pending.values():
                channel.close()
            self._notify()

    async def _route(self, text: str | bytes) -> None:
        try:
            msg = unpack(text)
        except ocpp.exceptions.OCPPError as exc:
            self.csms.violations.append(Violation(self.id, f"unparsable frame: {exc}", str(text)))
            return
        if isinstance(msg, CallResult | CallError):
            channel = self._pending.pop(msg.unique_id, None)
            if channel is None:
                self.csms.violations.append(Violation(self.id, "answer to no call", str(text)))
            else:
                channel.send_nowait(msg)
            return
        assert isinstance(msg, Call)
        self._incoming_ids.add(msg.unique_id)
        self.inbox.append(Received(trio.current_time(), msg.unique_id, msg.action, msg.payload))
        self._notify()
        override = self.csms.overrides.get(msg.action)
        if override is not None:
            await self._answer_override(msg, override)
        else:
            await self.route_message(text)

    async def _answer_override(self, msg: Call, override: Override) -> None:
        try:
            ocpp.messages._validate_payload(msg, self._ocpp_version)
        except ocpp.exceptions.OCPPError as exc:
            self.csms.violations.append(Violation(self.id, f"{msg.action}: {exc}", str(msg)))
            await self.send(msg.create_call_error(exc).to_json())
            return
        answer = override(self, msg.payload)
        if isinstance(answer, Awaitable):
            answer = await answer
        if isinstance(answer, Delay):
            self._nursery.start_soon(self._answer_later, msg, answer)
            return
        await self._answer(msg, answer)

    async def _answer_later(self, msg: Call, delay: Delay) -> None:
        await trio.sleep(delay.seconds)
        await self._answer(msg, delay.answer)

    async def _answer(self, msg: Call, answer: Any) -> None:
        if isinstance(answer, NoAnswer):
            return
        if isinstance(answer, ErrorAnswer):
            self._deliberate_errors.add(msg.unique_id)
            text = json.dumps([4, msg.unique_id, answer.code, answer.description, {}])
            await self.send(text)
            return
        await self.send(msg.create_call_result(answer).to_json())

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()
        self.csms._notify()

    # --- what tests ask ---

    def calls(self, action: str | None = None) -> list[Received]:
        return [r for r in self.inbox if action is None or r.action == action]

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda p: True,
        *,
        count: int = 1,
    ) -> Received:
        """Wait for ``count`` CALLs of ``action`` matching ``predicate``; return the last."""
        while True:
            hits = [r for r in self.calls(action) if predicate(r.payload)]
            if len(hits) >= count:
                return hits[count - 1]
            if self._closed:
                raise ConnectionError(f"{self.id} disconnected while waiting for {action}")
            await self._changed.wait()

    async def call(self, request: Any, *, timeout: float | None = None) -> Any:
        """Send a CALL to the charge point (one at a time); return the typed response."""
        action = type(request).__name__
        payload = ocpp.charge_point.remove_nones(
            ocpp.charge_point.snake_to_camel_case(ocpp.charge_point.serialize_as_dict(request))
        )
        return await self.call_raw(action, payload, timeout=timeout)

    async def call_raw(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        validate: bool = True,
    ) -> Any:
        msg = Call(unique_id=str(next(self.csms.ids)), action=action, payload=payload)
        if validate:
            ocpp.messages._validate_payload(msg, self._ocpp_version)
        send, receive = trio.open_memory_channel[Any](1)
        async with self._call_lock:
            self._pending[msg.unique_id] = send
            await self.send(msg.to_json())
            with trio.fail_after(timeout or self.csms.response_timeout):
                try:
                    answer = await receive.receive()
                except trio.EndOfChannel:
                    raise ConnectionError(f"{self.id} disconnected during {action}") from None
        if isinstance(answer, CallError):
            raise CallFailed(answer)
        answer.action = action
        try:
            ocpp.messages._validate_payload(answer, self._ocpp_version)
        except ocpp.exceptions.OCPPError as exc:
            self.csms.violations.append(
                Violation(self.id, f"{action} response: {exc}", json.dumps(answer.payload))
            )
            raise
        cls = getattr(self._call_result, action)
        return cls(**ocpp.charge_point.camel_to_snake_case(answer.payload))

    async def send_text(self, text: str) -> None:
        """Put any text on the wire (for malformed-frame tests)."""
        await self.send(text)

    async def close(self, code: int = 1000) -> None:
        await self.ws.aclose(code)


class Station(StationBase, _OcppChargePoint):
    """One connected OCPP 1.6 charge point, seen from the central system."""

    # --- default central system behaviour (overridable per action) ---

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return call_result.BootNotification(
            current_time=self.csms.now_text(),
            interval=self.csms.heartbeat_interval,
            status=RegistrationStatus(self.csms.boot_status),
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=self.csms.now_text())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> Any:
        return call_result.Authorize(id_tag_info=self.csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    def on_start(self, id_tag: str, **_: Any) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info=self.csms.id_tag_info(id_tag),
        )

    @on(Action.stop_transaction)
    def on_stop(self, id_tag: str | None = None, **_: Any) -> Any:
        info = self.csms.id_tag_info(id_tag) if id_tag else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **_: Any) -> Any:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> Any:
        return call_result.SignCertificate(status=GenericStatus.accepted)

    @on(Action.log_status_notification)
    def on_log_status(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status(self, **_: Any) -> Any:
        return call_result.SignedFirmwareStatusNotification()


@dataclass
class CentralSystem:
    """A central system listening on loopback. Start it with ``await nursery.start(csms.serve)``.

    Knobs: ``boot_status``, ``heartbeat_interval``, ``tags`` (idTag -> status, others get
    ``default_tag_status``), ``overrides`` (action -> function(station, payload) returning a
    response payload dict, :class:`NoAnswer` or :class:`ErrorAnswer`), ``passwords``
    (charge point id -> basic-auth password; empty = no auth), ``ssl_context``,
    ``accept_subprotocol``. ``now`` gives the time it reports (defaults to the real UTC
    time; tests pass a function of trio's clock).
    """

    boot_status: str = "Accepted"
    heartbeat_interval: int = 300
    tags: dict[str, str] = field(default_factory=dict)
    default_tag_status: str = "Accepted"
    overrides: dict[str, Override] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = None
    accept_subprotocol: bool = True
    response_timeout: float = 30.0
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    path: str = "/ocpp"
    on_frame: Callable[[str, Frame], None] | None = None  # every frame, as it passes

    subprotocol: ClassVar[str] = SUBPROTOCOL  # the one version this central system speaks
    station_class: ClassVar[type[StationBase]] = Station

    def __post_init__(self) -> None:
        self.url = ""
        self.port = 0
        self.stations: dict[str, Any] = {}  # a station_class each
        self.connections: list[str] = []  # charge point id per accepted connection, in order
        self.rejections: list[str] = []  # why handshakes were refused
        self.offers: list[tuple[str, ...]] = []  # the subprotocols of every handshake, in order
        self.peer_certificates: list[bytes | None] = []  # the client's (DER), per TLS connection
        self.frames: list[tuple[str, Frame]] = []
        self.violations: list[Violation] = []
        self.ids = itertools.count(1)
        self.transaction_ids = itertools.count(1)
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<CentralSystem {self.url} stations={sorted(self.stations)}>"

    def now_text(self) -> str:
        return self.now().astimezone(UTC).isoformat().replace("+00:00", "Z")

    def id_tag_info(self, id_tag: str) -> dict[str, Any]:
        status = self.tags.get(id_tag.upper(), self.tags.get(id_tag, self.default_tag_status))
        return {"status": AuthorizationStatus(status).value}

    def _record(self, cp_id: str, direction: str, text: str | bytes) -> None:
        try:
            msg = json.loads(text)
            kind, uid = int(msg[0]), str(msg[1])
            action = msg[2] if kind == 2 else None
            payload = msg[3] if kind == 2 else msg[2] if kind == 3 else msg[2:]
        except (ValueError, IndexError, TypeError, KeyError, RecursionError):
            kind, uid, action, payload = 0, "", None, text
        frame = Frame(trio.current_time(), direction, kind, uid, action, payload)
        self.frames.append((cp_id, frame))
        if self.on_frame is not None:
            self.on_frame(cp_id, frame)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        task_status: trio.TaskStatus[CentralSystem] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as nursery:
            if self.ssl_context is None:
                server = await nursery.start(
                    lambda task_status: serve_websocket(
                        self._handle, host, port, None, task_status=task_status
                    )
                )
                self.port = server.port
            else:  # TLS handshaken here, so the client's certificate can be kept
                listeners = await trio.open_ssl_over_tcp_listeners(
                    port, self.ssl_context, host=host, https_compatible=True
                )
                tcp = cast(trio.SocketListener, listeners[0].transport_listener)
                self.port = tcp.socket.getsockname()[1]
                nursery.start_soon(trio.serve_listeners, self._handle_tls, listeners)
            scheme = "wss" if self.ssl_context else "ws"
            self.url = f"{scheme}://127.0.0.1:{self.port}{self.path}"
            task_status.started(self)

    async def _handle_tls(self, stream: trio.SSLStream[Any]) -> None:
        """One TLS connection: the handshake (a refused one is a rejection), the client's
        certificate kept in :attr:`peer_certificates`, then the websocket as ever."""
        try:
            with trio.fail_after(10):
                await stream.do_handshake()
        except (trio.BrokenResourceError, trio.TooSlowError) as exc:
            self.rejections.append(f"TLS handshake failed: {exc.__cause__ or exc}")
            await trio.aclose_forcefully(stream)
            return
        self.peer_certificates.append(stream.getpeercert(binary_form=True))
        try:
            async with trio.open_nursery() as nursery:
                with trio.move_on_after(10) as scope:
                    request = await wrap_server_stream(nursery, stream)
                if scope.cancelled_caught:
                    nursery.cancel_scope.cancel()
                else:
                    try:
                        await self._handle(request)
                    finally:
                        nursery.cancel_scope.cancel()
        except (trio.BrokenResourceError, ConnectionClosed):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async def _handle(self, request: WebSocketRequest) -> None:
        path = request.path
        prefix = self.path.rstrip("/") + "/"
        if not path.startswith(prefix) or "/" in path[len(prefix) :]:
            self.rejections.append(f"bad path {path}")
            await request.reject(404)
            return
        cp_id = path[len(prefix) :]
        if self.passwords:
            expected = self.passwords.get(cp_id)
            given = dict(request.headers).get(b"authorization", b"")
            token = base64.b64encode(f"{cp_id}:{expected}".encode()).decode()
            if expected is None or given != f"Basic {token}".encode():
                self.rejections.append(f"{cp_id}: bad credentials")
                await request.reject(401)
                return
        self.offers.append(tuple(request.proposed_subprotocols))
        if self.subprotocol not in request.proposed_subprotocols:
            self.rejections.append(f"{cp_id}: no {self.subprotocol} subprotocol offered")
            await request.reject(400)
            return
        ws = await request.accept(subprotocol=self.subprotocol if self.accept_subprotocol else None)
        station = self.station_class(cp_id, ws, self)
        self.stations[cp_id] = station
        self.connections.append(cp_id)
        self._notify()
        await station.serve()

    async def wait_station(self, cp_id: str, *, connection: int = 1) -> Any:
        """Wait for the ``connection``-th connection of ``cp_id``."""
        while self.connections.count(cp_id) < connection:
            await self._changed.wait()
        return self.stations[cp_id]

    def all_calls(self, cp_id: str | None = None) -> list[Received]:
        """Every CALL received over every connection, in order."""
        out = []
        for who, frame in self.frames:
            if frame.direction == "in" and frame.message_type == 2 and cp_id in (None, who):
                out.append(Received(frame.t, frame.unique_id, frame.action or "", frame.payload))
        return out
