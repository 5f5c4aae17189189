"""Heartbeat (1.6 §4.6; 2.0.1 G02), in the version the session speaks: tells the central
system we are alive, and takes its time.

:meth:`Heartbeat.send_heartbeat` is the public "send now" verb (a triggered Heartbeat,
1.6 §5.17); :meth:`Heartbeat.run` sends one every HeartbeatInterval on one session.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ocppd.cadence import Cadence
from ocppd.clock import Clock
from ocppd.features.core.speech import V16_ONLY, Speech, speech_of
from ocppd.features.link import LinkView, open_session
from ocppd.model.keys import Keys
from ocppd.session import CallFailure, Session

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self, *, keys: Keys, clock: Clock, link: LinkView, speeches: Mapping[str, Speech] = V16_ONLY
    ) -> None:
        self.keys = keys
        self.speeches = speeches
        self.clock = clock
        self.link = link
        self.sent = 0  # answered heartbeats

    def __repr__(self) -> str:
        return f"<Heartbeat every {self.keys.get_int('HeartbeatInterval')} s, sent={self.sent}>"

    async def send_heartbeat(self, session: Session | None = None) -> None:
        """Send a Heartbeat now (on ``session``, else on the open link) and take the central
        system's time from its answer. Raises CallFailure when there is no answer."""
        session = session if session is not None else open_session(self.link)
        response = await session.call(speech_of(self.speeches, session).heartbeat())
        self.sent += 1
        self.clock.set_reference(response.current_time)

    async def run(self, session: Session) -> None:
        """A Heartbeat every HeartbeatInterval (none while it is 0). A change of that key moves
        the deadline; a change of any other key leaves it where it is."""
        cadence = Cadence(lambda: self.keys.get_int("HeartbeatInterval"), self.keys.wait_changed)
        while True:
            await cadence.wait()
            try:
                await self.send_heartbeat(session)
            except CallFailure as exc:
                if session.closed:
                    raise
                log.warning("heartbeat failed: %s", exc)
