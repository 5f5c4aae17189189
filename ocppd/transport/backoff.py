"""Reconnect back-off: exponential growth, full jitter above a floor, reset only by a lasting link.

The policy, with ``minimum`` = ``reconnect_min_s`` and ``maximum`` = ``reconnect_max_s``:

- The n-th wait after consecutive failures (n = 0, 1, 2, ...) is drawn uniformly
  from ``[minimum, min(maximum, minimum * 2**(n + 1))]``: with the defaults the first
  wait is 1-2 s, then 1-4 s, 1-8 s, ... and from the sixth on 1-60 s (30 s on
  average). This is AWS's "full jitter" (uniform between zero and the capped
  exponential ceiling) with the floor raised from zero to ``minimum``: the jitter
  spreads a fleet that lost its central system at the same instant over the whole
  window, already on the first try, while the floor keeps a charger from ever
  re-dialling in a tight loop. When ``maximum`` equals ``minimum`` there is no room
  for jitter and every wait is exactly ``minimum``.
- Only a link that stayed up for at least ``maximum`` seconds counts as healthy and
  starts the next series from the first window again. An accepted BootNotification
  does not: a central system that accepts the charger and then drops the link at
  once would otherwise get a new connection every ``minimum`` seconds, for ever.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        if not 0 < minimum <= maximum:
            raise ValueError(f"back-off needs 0 < minimum <= maximum, got {minimum}, {maximum}")
        self.minimum = minimum
        self.maximum = maximum
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The longest wait the next attempt may get."""
        return min(self.maximum, self.minimum * 2 ** min(self.failures + 1, 63))

    def next_delay(self) -> float:
        """The wait before the next attempt; counts one more failure."""
        delay = self._rng.uniform(self.minimum, self.ceiling())
        self.failures += 1
        return delay

    def stayed_up(self, seconds: float) -> None:
        """A link ended after ``seconds``: one that lasted ``maximum`` was healthy (reset)."""
        if seconds >= self.maximum:
            self.reset()

    def reset(self) -> None:
        self.failures = 0

    def __repr__(self) -> str:
        return f"<Backoff failures={self.failures} ceiling={self.ceiling():g}s>"
