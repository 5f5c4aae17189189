"""A repeating deadline whose interval is a configuration key that may change at any time.

Heartbeats and WebSocket pings wait for "my interval has passed, or my key changed".
The keys announce only that *some* key changed; starting the wait over on every
change would restart the deadline whenever the central system writes an unrelated
key, and one that writes keys more often than the interval would starve the
heartbeat. A :class:`Cadence` keeps its deadline and moves it only when its own
interval changed (to the last tick plus the new interval: a shorter interval that has
already passed ticks at once).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import trio


class Cadence:
    """Ticks every ``interval()`` seconds (never while it is 0 or less); ``changed`` waits for
    the next change of the keys ``interval`` reads. Create it inside trio: the first tick is
    one interval from then."""

    def __init__(self, interval: Callable[[], int], changed: Callable[[], Awaitable[None]]) -> None:
        self._interval = interval
        self._changed = changed
        self._last = trio.current_time()
        self.interval = interval()
        self.ticks = 0

    def __repr__(self) -> str:
        return f"<Cadence every {self.interval} s, next at {self.due:g}, ticks={self.ticks}>"

    @property
    def due(self) -> float:
        """When the next tick is due (trio clock); infinite while the interval is off."""
        return self._last + self.interval if self.interval > 0 else math.inf

    async def wait(self) -> int:
        """Sleep until the next tick; returns the interval in force."""
        while True:
            with trio.move_on_at(self.due):
                await self._changed()
                self.interval = self._interval()  # unchanged: the deadline stands
                continue
            self._last = trio.current_time()
            self.ticks += 1
            return self.interval
