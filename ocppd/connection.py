"""The connection supervisor: keeps a session with the central system, whatever the network does.

Loop: dial (:func:`ocppd.transport.link.open_link`), run a :class:`Session` in the
OCPP version the central system agreed to (one of ``dialects``, offered as the
target's websocket subprotocols) and the conversation the features want
(registration, heartbeat, the outbox ...), and when
anything ends it (the peer closes, a ping gets no pong, a TLS or HTTP refusal, a
timeout) close, log the reason, wait a back-off with full jitter, and dial again.
There is no state in which it stops trying. The back-off (``transport/backoff.py``)
starts again from its first window only after a link that stayed up for
``reconnect_max_s``; :meth:`Connection.hang_up` (new credentials, new settings)
re-dials at once, as it is not a failure.

What others may know of the link is a :class:`LinkState`, built before the
connection and given to it: the features read it (the session open now, whether
the conversation reached its steady state) through a narrow view and never see the
connection itself, so they can be built first and the connection last.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import trio

from ocppd.cadence import Cadence
from ocppd.protocol.dialect import Dialect
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall, Rpc
from ocppd.session import CallFailure, Handler, Session, SessionClosed
from ocppd.transport.backoff import Backoff
from ocppd.transport.link import Link, LinkError, LinkFailure, LinkTarget, open_link

log = logging.getLogger(__name__)

Conversation = Callable[[Session], Awaitable[None]]
Ending = tuple[str, LinkFailure | None]  # why a link ended, and the kind when the link failed


class ConnectionState(StrEnum):
    """Where the supervisor is; the values are what ``ocppctl status`` prints."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class LinkState:
    """What is known about the link to the central system: where the supervisor is, since
    when, the session open now (None between links) and whether the conversation on it
    reached its steady state (``healthy``: registered). The connection writes it; the
    conversation marks it healthy; anyone may wait for a change."""

    def __init__(self) -> None:
        self.state = ConnectionState.DISCONNECTED
        self.since: datetime | None = None
        self.session: Session | None = None
        self.healthy = False
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<LinkState {self.state} healthy={self.healthy} session={self.session!r}>"

    def moved(self, state: ConnectionState, since: datetime | None) -> None:
        self.state = state
        self.since = since
        self._announce()

    def mark_healthy(self) -> None:
        """The conversation reached its steady state (registered): whoever waits for a change
        hears of it (the charge point is now online)."""
        self.healthy = True
        self._announce()

    def _announce(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        await self._changed.wait()


@dataclass(frozen=True, slots=True)
class LinkEnded:
    """One attempt's end, for whoever watches them (the security profile's trial, the
    security events): the target dialled (None: none could be made), why it ended, the
    failure kind (None: not a link failure), whether the conversation had reached its
    steady state, and whether we hung up on purpose."""

    target: LinkTarget | None
    reason: str
    kind: LinkFailure | None
    healthy: bool
    hung_up: bool


async def _nobody_watches(_ended: LinkEnded) -> None:
    return None


class ConversationEnded(Exception):
    """The conversation asked for a new connection (e.g. new credentials); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Connection:
    """Keeps one link to the central system; ``dialects`` are the OCPP versions it can
    speak, keyed by subprotocol (the target offers them); each session speaks the one
    agreed. ``supported(dialect)`` names the actions ``handler`` answers in that dialect."""

    def __init__(
        self,
        *,
        target: Callable[[], LinkTarget],
        dialects: Mapping[str, Dialect],
        ids: MessageIds,
        supported: Callable[[Dialect], Collection[str]],
        handler: Handler,
        conversation: Conversation,
        backoff: Backoff,
        call_timeout: float | Callable[[], float],
        secret_keys: frozenset[str],
        ping_interval: Callable[[], int] = lambda: 0,
        settings_changed: Callable[[], Awaitable[None]] = trio.sleep_forever,
        answering: Callable[[IncomingCall | None], bool] = lambda _call: True,
        now: Callable[[], datetime | None] = lambda: None,
        link_state: LinkState | None = None,
        on_ended: Callable[[LinkEnded], Awaitable[None]] = _nobody_watches,
        on_invalid: Callable[[str, str], None] = lambda _kind, _reason: None,
    ) -> None:
        self._target = target
        self._on_invalid = on_invalid  # each session's frames that are not valid OCPP
        self._on_ended = on_ended
        self._dialled: LinkTarget | None = None
        self._dialects = dict(dialects)
        self._ids = ids
        self._supported = supported
        self._handler = handler
        self._conversation = conversation
        self.backoff = backoff
        # a number, or asked at each link (a 2.0.1 network profile's messageTimeout)
        self._call_timeout = call_timeout
        self._secret_keys = secret_keys
        self._ping_interval = ping_interval
        self._settings_changed = settings_changed
        self._answering = answering
        self._now = now
        self.link_state = link_state if link_state is not None else LinkState()
        self.last_error: str | None = None
        self.last_error_kind: LinkFailure | None = None  # None: not a link failure
        self.url = ""
        self.dialect: Dialect | None = None  # the OCPP version of the open link
        self.connects = 0
        self._connected_at: float | None = None
        self._hang_up: str | None = None  # why the current link is being closed on purpose
        self._hung_up = trio.Event()  # set: close the open link after what is being sent
        self._attempt = trio.CancelScope()  # the current dialling or back-off wait

    def __repr__(self) -> str:
        spoken = f" {self.dialect.subprotocol}" if self.dialect else ""
        return (
            f"<Connection {self.state}{spoken} {self.url} last_error={self.last_error!r} "
            f"{self.backoff}>"
        )

    @property
    def security_profile(self) -> int | None:
        """The security profile of the link being dialled or open (None before the first)."""
        return self._dialled.security_profile if self._dialled is not None else None

    @property
    def state(self) -> ConnectionState:
        return self.link_state.state

    @property
    def since(self) -> datetime | None:
        return self.link_state.since

    @property
    def session(self) -> Session | None:
        return self.link_state.session

    @property
    def healthy(self) -> bool:
        """The conversation on the open link reached its steady state (registered). Marking
        it does not reset the back-off: only a link that lasts does."""
        return self.link_state.healthy

    def _set(self, state: ConnectionState) -> None:
        self.link_state.moved(state, self._now())

    async def wait_changed(self) -> None:
        await self.link_state.wait_changed()

    def hang_up(self, why: str) -> None:
        """Dial again at once, e.g. with new credentials or settings (not a failure, so no
        back-off). An open link is closed normally after what is being sent; an attempt in
        progress or a back-off wait is abandoned."""
        if self._hang_up is not None:
            return
        log.info("reconnecting: %s", why)
        self._hang_up = why
        if self.session is not None:
            self._hung_up.set()
        else:
            self._attempt.cancel()

    async def run(self) -> None:
        """Dial, converse, back off, forever (until cancelled)."""
        while True:
            self._connected_at = None
            self._hang_up = None
            self._hung_up = trio.Event()
            ending: Ending = ("hung up", None)
            with trio.CancelScope() as self._attempt:
                ending = await self._one_connection()
            healthy = self.link_state.healthy
            self.link_state.healthy = False
            up = self._connected_at
            if up is not None:
                self.backoff.stayed_up(trio.current_time() - up)
            if self._hang_up is not None:
                ending = (f"hung up: {self._hang_up}", None)
            self.last_error, self.last_error_kind = ending
            self._set(ConnectionState.DISCONNECTED)
            await self._tell(LinkEnded(self._dialled, *ending, healthy, self._hang_up is not None))
            if self._hang_up is not None:
                continue
            delay = self.backoff.next_delay()
            log.warning(
                "central system connection lost or refused: %s; next try in %.1f s",
                ending[0],
                delay,
            )
            with trio.CancelScope() as self._attempt:
                await trio.sleep(delay)

    async def _tell(self, ended: LinkEnded) -> None:
        """Tell the watcher; a bug there is logged and the connection goes on."""
        try:
            await self._on_ended(ended)
        except Exception:
            log.exception("watching the link's end failed")

    async def _one_connection(self) -> Ending:
        """One link, from dialling to its end; returns why it ended."""
        self._dialled = None
        try:
            target = self._target()
        except LinkError as exc:
            return exc.reason, exc.kind
        unknown = [name for name in target.subprotocols if name not in self._dialects]
        if unknown:  # a wiring mistake: a version offered that nobody here speaks
            return f"no dialect for subprotocol {', '.join(unknown)}", LinkFailure.CONFIG
        self.url = target.shown_url
        self._dialled = target
        self._set(ConnectionState.CONNECTING)
        log.info("connecting to %s (security profile %d)", self.url, target.security_profile)
        ended: list[Ending] = []
        try:
            async with open_link(target) as link:
                self.connects += 1
                self._connected_at = trio.current_time()
                self._set(ConnectionState.CONNECTED)
                log.info("connected to %s (%s)", self.url, link.subprotocol)
                await self._converse(link, ended)
        except* LinkError as group:  # could not connect, or the close went wrong
            ended.append(_ending(group))
        except* Exception as group:  # a bug: the charger must keep trying, and say what broke
            log.error(
                "the conversation with the central system failed",
                exc_info=(type(group), group, group.__traceback__),
            )
            ended.append((f"internal error ({type(group.exceptions[0]).__name__})", None))
        return _first(ended) if ended else ("conversation ended", None)

    async def _converse(self, link: Link, ended: list[Ending]) -> None:
        """The session, the pinger and the conversation on one link, until one of them ends."""
        dialect = self._dialects[link.subprotocol]  # open_link agreed to one we offered
        rpc = Rpc(self._ids, dialect, self._supported(dialect))
        session = Session(
            link,
            rpc,
            self._handler,
            call_timeout=self._call_timeout()
            if callable(self._call_timeout)
            else self._call_timeout,
            answering=self._answering,
            secret_keys=self._secret_keys,
            on_invalid=self._on_invalid,
        )
        self.link_state.session = session
        self.dialect = dialect
        try:
            async with trio.open_nursery() as nursery:

                def end(reason: str, kind: LinkFailure | None) -> None:
                    ended.append((reason, kind))
                    nursery.cancel_scope.cancel()

                async def run_session(
                    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
                ) -> None:
                    await _until_it_fails(end, lambda: session.run(task_status=task_status))

                async def converse() -> None:
                    await self._conversation(session)
                    end("conversation ended", None)

                async def hang_up() -> None:
                    await self._hung_up.wait()
                    # Closing from here, not by cancelling the session: the answer that led to
                    # the hang-up (ChangeConfiguration Accepted) is still on its way out, and
                    # the session's reader sees the close and ends the link.
                    await link.aclose(1000, self._hang_up)

                await nursery.start(run_session)
                nursery.start_soon(_until_it_fails, end, lambda: self._pinger(link))
                nursery.start_soon(_until_it_fails, end, converse)
                nursery.start_soon(hang_up)
        finally:
            self.link_state.session = None
            self.dialect = None

    async def _pinger(self, link: Link) -> None:
        """WebSocket pings: a half-open link shows as a missing pong, and we re-dial."""
        cadence = Cadence(self._ping_interval, self._settings_changed)
        while True:
            interval = await cadence.wait()
            await link.ping(timeout=interval)


async def _until_it_fails(
    end: Callable[[str, LinkFailure | None], None], task: Callable[[], Awaitable[None]]
) -> None:
    """Run ``task``; when the link or a call on it fails, end the connection with the reason.

    The failure must not cross the nursery as an exception: during a stop it would meet
    the cancellation in one exception group that nothing above could take apart.
    """
    try:
        await task()
    except* (LinkError, ConversationEnded, CallFailure) as group:
        end(*_ending(group))


def _ending(exc: BaseException) -> Ending:
    return _reason(exc) or "link lost", _kind(exc)


def _first(endings: list[Ending]) -> Ending:
    """The reason a link ended: the first one that names a link failure, else the first."""
    return next((e for e in endings if e[1] is not None), endings[0])


def _kind(exc: BaseException) -> LinkFailure | None:
    if isinstance(exc, LinkError):
        return exc.kind
    if isinstance(exc, BaseExceptionGroup):
        return next((k for e in exc.exceptions if (k := _kind(e)) is not None), None)
    return None


def _reason(exc: BaseException) -> str | None:
    """Why a connection ended, for the log and ``ocppctl status``; None for a bug.

    The link breaking shows up in several tasks at once (the reader sees the close,
    a waiting call sees the session close): the link's own reason wins.
    """
    if isinstance(exc, LinkError | ConversationEnded):
        return exc.reason
    if isinstance(exc, SessionClosed):
        return exc.reason
    if isinstance(exc, CallFailure):
        return str(exc)
    if isinstance(exc, BaseExceptionGroup):
        reasons = [_reason(e) for e in exc.exceptions]
        if any(r is None for r in reasons):
            return None
        links = [
            _reason(e) for e in exc.exceptions if isinstance(e, LinkError | BaseExceptionGroup)
        ]
        return (links or reasons)[0]
    return None
