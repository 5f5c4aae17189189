"""The connection supervisor: keeps a session with the central system, whatever the network does.

Loop: dial (:func:`ocppd.transport.link.open_link`), run a :class:`Session` and the
conversation the features want (registration, heartbeat, the outbox ...), and when
anything ends it (the peer closes, a ping gets no pong, a TLS or HTTP refusal, a
timeout) close, log the reason, wait a back-off with full jitter, and dial again.
There is no state in which it stops trying. The back-off resets once a session
has been registered (or has stayed up for ``reconnect_max_s``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import trio

from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import Rpc
from ocppd.session import CallFailure, Handler, Session, SessionClosed
from ocppd.transport.backoff import Backoff
from ocppd.transport.link import LinkError, LinkTarget, open_link

log = logging.getLogger(__name__)

Conversation = Callable[[Session], Awaitable[None]]


class ConversationEnded(Exception):
    """The conversation asked for a new connection (e.g. new credentials); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Connection:
    def __init__(
        self,
        *,
        target: Callable[[], LinkTarget],
        ids: MessageIds,
        supported: Callable[[], frozenset[str]],
        handler: Handler,
        conversation: Conversation,
        backoff: Backoff,
        call_timeout: float,
        ping_interval: Callable[[], int] = lambda: 0,
        settings_changed: Callable[[], Awaitable[None]] = trio.sleep_forever,
        answering: Callable[[], bool] = lambda: True,
        now: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        self._target = target
        self._ids = ids
        self._supported = supported
        self._handler = handler
        self._conversation = conversation
        self.backoff = backoff
        self._call_timeout = call_timeout
        self._ping_interval = ping_interval
        self._settings_changed = settings_changed
        self._answering = answering
        self._now = now
        self.state = "disconnected"
        self.since: datetime | None = None
        self.last_error: str | None = None
        self.url = ""
        self.session: Session | None = None
        self.connects = 0
        self.healthy = False  # the conversation reached a steady state (registered)
        self._changed = trio.Event()
        self._connected_at: float | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.state} {self.url} last_error={self.last_error!r}>"

    def _set(self, state: str) -> None:
        self.state = state
        self.since = self._now()
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        await self._changed.wait()

    def mark_healthy(self) -> None:
        """The features call this once registered: the back-off starts from the floor again,
        and whoever waits for a change hears of it (the charge point is now online)."""
        self.healthy = True
        self.backoff.reset()
        self._changed.set()
        self._changed = trio.Event()

    async def run(self) -> None:
        """Dial, converse, back off, forever (until cancelled)."""
        while True:
            self._connected_at = None
            reason = await self._one_connection()
            self.session = None
            self.healthy = False
            up = self._connected_at
            if up is not None and trio.current_time() - up >= self.backoff.maximum:
                self.backoff.reset()  # it was a good connection that broke, not a refusal
            self.last_error = reason
            self._set("disconnected")
            delay = self.backoff.next_delay()
            log.warning(
                "central system connection lost or refused: %s; next try in %.1f s", reason, delay
            )
            await trio.sleep(delay)

    async def _one_connection(self) -> str:
        try:
            target = self._target()
        except LinkError as exc:
            return exc.reason
        self.url = target.url
        self._set("connecting")
        log.info("connecting to %s (security profile %d)", target.url, target.security_profile)
        ended: list[str] = []
        try:
            async with open_link(target) as link:
                self.connects += 1
                self._connected_at = trio.current_time()
                self._set("connected")
                log.info("connected to %s", target.url)
                rpc = Rpc(self._ids, self._supported())
                session = Session(
                    link,
                    rpc,
                    self._handler,
                    call_timeout=self._call_timeout,
                    answering=self._answering,
                )
                self.session = session
                try:
                    async with trio.open_nursery() as nursery:

                        def end(reason: str) -> None:
                            ended.append(reason)
                            nursery.cancel_scope.cancel()

                        async def run_session(
                            task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
                        ) -> None:
                            await _until_it_fails(end, lambda: session.run(task_status=task_status))

                        async def converse() -> None:
                            await self._conversation(session)
                            end("conversation ended")

                        await nursery.start(run_session)
                        nursery.start_soon(_until_it_fails, end, lambda: self._pinger(link))
                        nursery.start_soon(_until_it_fails, end, converse)
                finally:
                    self.session = None
                    await link.aclose()
        except* LinkError as group:  # could not connect, or the close went wrong
            ended.append(_reason(group) or "link lost")
        except* Exception as group:  # a bug: the charger must keep trying, and say what broke
            log.error(
                "the conversation with the central system failed",
                exc_info=(type(group), group, group.__traceback__),
            )
            ended.append(f"internal error ({type(group.exceptions[0]).__name__})")
        return ended[0] if ended else "conversation ended"

    async def _pinger(self, link: Any) -> None:
        """WebSocket pings: a half-open link shows as a missing pong, and we re-dial."""
        while True:
            interval = self._ping_interval()
            if interval <= 0:
                await self._settings_changed()
                continue
            with trio.move_on_after(interval):
                await self._settings_changed()
                continue  # the interval may have changed: start over with the new one
            await link.ping(timeout=interval)


async def _until_it_fails(end: Callable[[str], None], task: Callable[[], Awaitable[None]]) -> None:
    """Run ``task``; when the link or a call on it fails, end the connection with the reason.

    The failure must not cross the nursery as an exception: during a stop it would meet
    the cancellation in one exception group that nothing above could take apart.
    """
    try:
        await task()
    except* (LinkError, ConversationEnded, CallFailure) as group:
        end(_reason(group) or "link lost")


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
