"""Which OCPP version a message recorded now belongs to (issue 17, design decision 5).

A message the charger queues (a transaction's, a security event) is journaled in one
version and delivered in that version only (``Courier.held_for``). The version *current*
when it is recorded is the version of the open link; between links, the last version a
central system agreed to (kept in the journal, so it survives a restart); before any
link ever opened, the first of ``ocpp.versions``, the one the charger prefers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ocppd.features.link import LinkView

log = logging.getLogger(__name__)

AGREED_SETTING = "ocpp.agreed"  # the journal setting: the version last agreed on a link

Store = Callable[[str, str | None], Awaitable[None]]
"""Keeps a journal setting."""


class Versions:
    """The current OCPP version (see the module). ``offered`` is ``ocpp.versions``, preferred
    first; ``agreed`` the journal's :data:`AGREED_SETTING` at start (None: never connected)."""

    def __init__(self, link: LinkView, offered: tuple[str, ...], agreed: str | None) -> None:
        if not offered:
            raise ValueError("no OCPP version offered")
        self._link = link
        self.offered = offered
        # a version the config no longer offers is not spoken again: the preferred one is
        self.agreed = agreed if agreed in offered else None

    def __repr__(self) -> str:
        return f"<Versions current={self.current()} agreed={self.agreed} offered={self.offered}>"

    def spoken(self) -> str | None:
        """The version of the open link, None between links."""
        session = self._link.session
        if session is None or session.closed:
            return None
        return session.rpc.dialect.subprotocol

    def current(self) -> str:
        return self.spoken() or self.agreed or self.offered[0]

    async def remember(self, store: Store) -> None:
        """Runs for the daemon's life: each link's version, once agreed, is kept as the last
        agreed (in the journal, through ``store``) before anything else waits for it."""
        while True:
            spoken = self.spoken()
            if spoken is not None and spoken != self.agreed:
                await store(AGREED_SETTING, spoken)
                log.info("OCPP version agreed: %s (was %s)", spoken, self.agreed or "none")
                self.agreed = spoken
            await self._link.wait_changed()
