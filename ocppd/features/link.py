"""What the features may know of the link to the central system: a narrow view.

The connection (``ocppd.connection``) keeps the link and writes a ``LinkState``; the
features read it through :class:`LinkView` and never see the connection, so the
daemon builds them first and the connection last, with no back-pointer to patch in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from ocppd.session import Session, SessionClosed


class LinkView(Protocol):
    """The session open now (None between links), and whether the conversation on it reached
    its steady state (``healthy``: registered; the connection resets it when the link ends)."""

    @property
    def session(self) -> Session | None: ...

    @property
    def healthy(self) -> bool: ...

    async def wait_changed(self) -> None:
        """Return at the next change (a link opened or ended, the conversation registered)."""
        ...

    def mark_healthy(self) -> None:
        """The conversation is registered on this link: whoever waits for a change hears of it."""
        ...


def open_session(link: LinkView) -> Session:
    """The session to send on now; SessionClosed (a CallFailure) when there is none."""
    session = link.session
    if session is None or session.closed:
        raise SessionClosed("not connected")
    return session


PROTOCOL_SETTING = "link.protocol"  # journal setting: the version the last link agreed to


class Versions:
    """Which OCPP version a message made now is recorded in (it is delivered in that
    version only): the open link's, else the last one a link agreed to (kept in the
    journal by :meth:`follow`, so it survives restarts), else the first one offered."""

    def __init__(
        self,
        link: LinkView,
        offered: Callable[[], Sequence[str]],
        agreed: str | None,
        keep: Callable[[str], Awaitable[None]],
    ) -> None:
        self.link = link
        self.offered = offered  # the versions offered now (the config's, as last loaded)
        self.agreed = agreed
        self._keep = keep

    def __repr__(self) -> str:
        return f"<Versions current={self.current} offered={tuple(self.offered())}>"

    @property
    def current(self) -> str:
        session = self.link.session
        if session is not None and not session.closed:
            return session.rpc.dialect.subprotocol
        offered, agreed = self.offered(), self.agreed
        return agreed if agreed is not None and agreed in offered else offered[0]

    def known(self) -> str | None:
        """:attr:`current` once a link ever agreed a version (or one is open now); None on a
        first boot before the first link, when :attr:`current` is only a guess."""
        session = self.link.session
        if self.agreed is None and (session is None or session.closed):
            return None
        return self.current

    async def wait_known(self) -> None:
        """Return once :meth:`known` names a version."""
        while self.known() is None:
            await self.link.wait_changed()

    async def follow(self) -> None:
        """Keep the version of each link as it opens (a task for the daemon's lifetime)."""
        while True:
            session = self.link.session
            if session is not None:
                spoken = session.rpc.dialect.subprotocol
                if spoken != self.agreed:
                    self.agreed = spoken
                    await self._keep(spoken)
            await self.link.wait_changed()
