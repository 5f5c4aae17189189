"""What a driver factory gets besides its options: who it is, shared resources, the sim world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class SharedResources:
    """Objects several devices share, created once per key (e.g. one RS-485 bus per port).

    ``get(key, create)`` returns the object for ``key``, creating it with ``create()``
    the first time. ``aclose_all()`` closes every object that has an ``aclose``.
    """

    _objects: dict[object, Any] = field(default_factory=dict)

    def get(self, key: object, create: Callable[[], T]) -> T:
        if key not in self._objects:
            self._objects[key] = create()
        return self._objects[key]  # type: ignore[no-any-return]

    def values(self) -> list[Any]:
        return list(self._objects.values())


@dataclass
class DeviceContext:
    """Handed to every driver factory.

    ``connector_id`` is None for charger-wide devices (the RFID reader).
    ``state_dir`` is where a driver may keep small files across restarts (the sim
    meter's register). ``shared`` holds per-charger shared resources; ``sim`` the
    simulated world of this connector (always present, used only by sim drivers).
    """

    name: str
    connector_id: int | None
    state_dir: Path
    shared: SharedResources
    sim: Any = None
    max_current_a: float = 32.0
    phases: int = 3
