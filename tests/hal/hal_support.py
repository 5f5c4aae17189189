"""Test support for the hal driver tests: an event sink that records, and event matchers.

A plain module (not conftest) so test modules can import it by a name no other test
directory uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from hal.base import DeviceEvent, FaultCleared, FaultKind, FaultRaised


class RecordingSink:
    """An EventSink that keeps every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self._changed = trio.Event()

    def report(self, event: DeviceEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(
        self, match: Callable[[DeviceEvent], bool], *, start: int = 0
    ) -> DeviceEvent:
        """The first event from index ``start`` that ``match``es, waiting if needed."""
        while True:
            for event in self.events[start:]:
                if match(event):
                    return event
            await self._changed.wait()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def faults(self) -> list[tuple[str, FaultKind]]:
        """("raised" | "cleared", kind) in order."""
        out: list[tuple[str, FaultKind]] = []
        for e in self.events:
            if isinstance(e, FaultRaised):
                out.append(("raised", e.fault.kind))
            elif isinstance(e, FaultCleared):
                out.append(("cleared", e.kind))
        return out

    def __repr__(self) -> str:
        return f"<RecordingSink {self.events}>"


def raised(kind: FaultKind) -> Callable[[DeviceEvent], bool]:
    return lambda e: isinstance(e, FaultRaised) and e.fault.kind is kind


def cleared(kind: FaultKind) -> Callable[[DeviceEvent], bool]:
    return lambda e: isinstance(e, FaultCleared) and e.kind is kind
