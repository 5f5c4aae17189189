"""What the features may know of the link to the central system: a narrow view.

The connection (``ocppd.connection``) keeps the link and writes a ``LinkState``; the
features read it through :class:`LinkView` and never see the connection, so the
daemon builds them first and the connection last, with no back-pointer to patch in.
"""

from __future__ import annotations

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
