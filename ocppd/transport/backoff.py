"""Reconnect back-off: exponential growth with full jitter between a floor and a cap.

The n-th wait (n = 0, 1, ...) is uniform in ``[minimum, min(maximum, minimum * 2**n)]``:
a fleet that lost its central system at the same instant does not come back in
lock-step, and a charger that keeps failing settles at one try per ``maximum``
seconds on average-or-less.
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
        """The largest wait the next attempt may get."""
        return min(self.maximum, self.minimum * 2 ** min(self.failures, 63))

    def next_delay(self) -> float:
        """The wait before the next attempt; counts one more failure."""
        delay = self._rng.uniform(self.minimum, self.ceiling())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0

    def __repr__(self) -> str:
        return f"<Backoff failures={self.failures} ceiling={self.ceiling():g}s>"
