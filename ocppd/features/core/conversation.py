"""What ties the Core pieces together: the model's uplink, and the program of each session.

The pieces are modules of their own, each with a public "send now" verb
(Remote Trigger and OCPP 2.0.1 call them): registration (``registration.py``,
BootNotification), heartbeat (``heartbeat.py``) and status reporting
(``status_report.py``); the outbox courier is in ``transactions.py``. This module
holds only what joins them:

- :class:`Uplink`, what the model needs from the central system (``online``,
  ``authorize``, ``wake``, ``status_changed``), made of the link view, the
  registration, the outbox signal and the status feed, so it exists before the model;
- :class:`Untracked`, messages that are not transaction-related (sent if online, else
  dropped);
- :class:`Conversation`, what each connection runs: register (on a process's first
  connection, or until Accepted), mark the link healthy, then keep the heartbeats,
  status reports, the outbox and the untracked messages going until the link ends.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio

from ocppd.features.core.heartbeat import Heartbeat
from ocppd.features.core.registration import Registration
from ocppd.features.core.status_report import StatusFeed, StatusReporter
from ocppd.features.core.transactions import Courier, OutboxSignal
from ocppd.features.link import LinkView
from ocppd.model.auth import AuthStatus, IdTagInfo, NoVerdict, Offline
from ocppd.model.token import TokenKind
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from ocppd.session import CallFailure, CallRejected, Session

log = logging.getLogger(__name__)


# How one OCPP version asks the central system about a tag on an open session: the
# request in its words, the answer in the model's (IdTagInfo). It raises the session's
# CallFailure kinds as they come; the Uplink turns them into Offline or NoVerdict.
AskAuthorize = Callable[[Session, str, TokenKind], Awaitable[IdTagInfo]]


async def authorize_v16(session: Session, id_tag: str, kind: TokenKind) -> IdTagInfo:
    """1.6 Authorize.req (§4.2): the idTag alone; 1.6 has no word for the token's kind."""
    response = await session.call(m.AuthorizeRequest(id_tag=id_tag))
    info = response.id_tag_info
    return IdTagInfo(AuthStatus(info.status.value), info.expiry_date, info.parent_id_tag)


class Uplink:
    """The model's uplink (``ocppd.model.auth.Uplink``): online once registered on a link that
    is up, Authorize in the version of the open link, "the outbox has something new", "a
    status changed".

    ``authorizers`` holds one Authorize per OCPP version, by the dialect's subprotocol; 1.6's
    is always there, another version's joins from ``app.py``.
    """

    def __init__(
        self,
        *,
        link: LinkView,
        registration: Registration,
        outbox: OutboxSignal,
        statuses: StatusFeed,
        authorizers: Mapping[str, AskAuthorize] | None = None,
    ) -> None:
        self.link = link
        self.registration = registration
        self.outbox = outbox
        self.statuses = statuses
        self.authorizers: dict[str, AskAuthorize] = {
            V16.subprotocol: authorize_v16,
            **(authorizers or {}),
        }

    def __repr__(self) -> str:
        return f"<Uplink online={self.online} {self.registration!r}>"

    @property
    def online(self) -> bool:
        session = self.link.session
        return (
            session is not None
            and not session.closed
            and self.registration.accepted
            and self.link.healthy
        )

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        """Authorize in the version of the open link. No answer (not registered, a timeout,
        the link lost) is Offline: the offline rules decide. An answer without a verdict (a
        CALLERROR, a CALLRESULT that breaks the schema) is NoVerdict: the central system is
        there, so the tag is not authorised (1.6 §3.5; never the offline rules while
        online)."""
        session = self.link.session
        if session is None or not self.online:
            raise Offline("not connected and registered")
        version = session.rpc.dialect.subprotocol
        ask = self.authorizers.get(version)
        if ask is None:  # a wiring bug: every version offered has its Authorize
            raise NoVerdict(f"no Authorize in {version}")
        try:
            return await ask(session, id_tag, kind)
        except CallRejected as exc:  # InvalidAnswer too
            raise NoVerdict(str(exc)) from exc
        except CallFailure as exc:
            raise Offline(str(exc)) from exc

    def wake(self) -> None:
        self.outbox.ring()

    def status_changed(self) -> None:
        """The model tells of every change in the step that made it (the reporter captures it
        at once, see ``status_report.py``)."""
        self.statuses.changed()


class Untracked:
    """Messages that are not transaction-related: sent soon when online, else dropped. They
    are payloads of one version (``protocol``, a subprotocol): over a link in another they
    are dropped too, as over no link."""

    def __init__(self, uplink: Uplink, protocol: str = "ocpp1.6") -> None:
        self.uplink = uplink
        self.protocol = protocol
        self._queue: list[tuple[str, dict[str, Any]]] = []
        self._queued = trio.Event()

    def __repr__(self) -> str:
        return f"<Untracked queued={len(self._queue)}>"

    def send(self, action: str, payload: dict[str, Any], protocol: str | None = None) -> None:
        """Queue ``action`` for the open link; ``protocol``: its version when not this
        sender's default (a 2.0.1 recorder's MeterValues)."""
        protocol = protocol or self.protocol
        if not self.uplink.online:
            log.debug("offline: %s not sent (not transaction-related)", action)
            return
        session = self.uplink.link.session
        if session is not None and session.rpc.dialect.subprotocol != protocol:
            log.debug("%s not sent: it is %s, the link is not", action, protocol)
            return
        self._queue.append((action, payload))
        self._queued.set()

    async def run(self, session: Session) -> None:
        while True:
            await self._queued.wait()
            self._queued = trio.Event()
            batch, self._queue = self._queue, []
            for action, payload in batch:
                try:
                    await session.call_payload(action, payload)
                except CallFailure as exc:
                    if session.closed:
                        raise
                    log.warning("%s not delivered: %s", action, exc)


class Conversation:
    """The program each connection runs (``Connection(conversation=...)``), in either OCPP
    version: its pieces speak the version of the session they are given."""

    def __init__(
        self,
        *,
        link: LinkView,
        registration: Registration,
        heartbeat: Heartbeat,
        statuses: StatusReporter,
        courier: Courier,
        untracked: Untracked,
    ) -> None:
        self.link = link
        self.registration = registration
        self.heartbeat = heartbeat
        self.statuses = statuses
        self.courier = courier
        self.untracked = untracked

    def __repr__(self) -> str:
        return f"<Conversation {self.registration!r}>"

    async def __call__(self, session: Session) -> None:
        """Register unless this process already did, report every connector's current
        status (on every connection), then keep everything going."""
        if not self.registration.accepted:
            await self.registration.register(session)
        self.link.mark_healthy()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.heartbeat.run, session)
            nursery.start_soon(self.statuses.run, session)
            nursery.start_soon(self.courier.run, session)
            nursery.start_soon(self.untracked.run, session)
