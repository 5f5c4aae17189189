"""What every generated OCPP 1.6 message type is: a frozen, slotted dataclass, made cheaply.

``@dataclass(frozen=True, slots=True)`` compiles six methods per class with
``exec`` at import time and then rebuilds the class for its slots: for the 91
message and nested types that was 60-90 ms of start-up on the target class of
machine, as much as importing trio. So the generator writes each class's
``__slots__``, ``__match_args__`` and ``__init__`` out in full, the behaviour
that is the same for every class (frozen, repr, eq, hash, copy/pickle) lives
once in `Message`, and the `message` decorator registers the fields with
`dataclasses` (``init=False, repr=False, eq=False``: no code generated), so
``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` work as
on any dataclass. Assigning to a field raises `FrozenInstanceError`, and the
``dataclass_transform(frozen_default=True)`` marker lets type checkers flag
it too.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, TypeVar, dataclass_transform

_T = TypeVar("_T")


class Message:
    """Base of every generated message and nested type; its fields are ``__match_args__``."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__match_args__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self.__match_args__))

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        """copy, deepcopy and pickle rebuild through ``__init__``, as fields cannot be set."""
        return type(self), tuple(getattr(self, name) for name in self.__match_args__)


@dataclass_transform(frozen_default=True)
def message(cls: type[_T]) -> type[_T]:
    """Register `cls`'s annotated fields with `dataclasses`, generating no methods."""
    return dataclass(init=False, repr=False, eq=False, match_args=False)(cls)
