"""How a real driver reports its health: faults raised once and cleared once, retries that back off.

Every driver watches a device that can vanish (a USB reader), go silent (a meter on
RS-485) or disagree with its command (a welded contactor). :class:`FaultLatch` turns
"the device is bad / good again" observations, which arrive on every poll, into one
:class:`~hal.base.FaultRaised` and one :class:`~hal.base.FaultCleared` per episode.
:class:`Backoff` spaces the retries: exponential, capped, with jitter so that chargers
which lost the same bus do not retry in lock-step.
"""

from __future__ import annotations

import random

from hal.base import EventSink, Fault, FaultCleared, FaultKind, FaultRaised


class FaultLatch:
    """The faults one device currently has, reported on change only.

    ``attach(sink)`` is called from the device's ``run``; faults raised before that
    (for example by a command) are reported when the sink arrives.
    """

    def __init__(self) -> None:
        self._active: dict[FaultKind, Fault] = {}
        self._sink: EventSink | None = None

    def attach(self, sink: EventSink) -> None:
        self._sink = sink
        for fault in self._active.values():
            sink.report(FaultRaised(fault))

    def detach(self, sink: EventSink) -> None:
        if self._sink is sink:
            self._sink = None

    def raise_fault(self, fault: Fault) -> None:
        """Report ``fault`` unless exactly this fault is already active."""
        if self._active.get(fault.kind) == fault:
            return
        self._active[fault.kind] = fault
        if self._sink is not None:
            self._sink.report(FaultRaised(fault))

    def clear_fault(self, kind: FaultKind) -> None:
        """Report that ``kind`` is over, if it was active."""
        if self._active.pop(kind, None) is not None and self._sink is not None:
            self._sink.report(FaultCleared(kind))

    def active(self, kind: FaultKind | None = None) -> bool:
        return bool(self._active) if kind is None else kind in self._active

    def get(self, kind: FaultKind) -> Fault | None:
        return self._active.get(kind)

    def __repr__(self) -> str:
        return f"<FaultLatch {sorted(self._active) or 'ok'}>"


class Backoff:
    """Delays between retries: ``first_s`` doubling up to ``max_s``, each scaled by a jitter
    factor drawn from [1 - jitter, 1]. ``reset()`` after a success."""

    def __init__(
        self,
        first_s: float = 1.0,
        max_s: float = 60.0,
        *,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < first_s <= max_s:
            raise ValueError(f"need 0 < first_s <= max_s, got {first_s}, {max_s}")
        self.first_s = first_s
        self.max_s = max_s
        self.jitter = jitter
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next retry; each call counts one more failed attempt."""
        base = min(self.max_s, self.first_s * 2.0 ** min(self.attempts, 30))
        self.attempts += 1
        return base * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempts = 0

    def __repr__(self) -> str:
        return f"<Backoff attempts={self.attempts} first={self.first_s}s max={self.max_s}s>"
