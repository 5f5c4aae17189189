"""Unique message ids that stay unique across restarts without storing anything.

OCPP-J requires a CALL's unique id to be unique across all connections of the
same charge point identity, at most 36 characters [J16 §4.1.4, ERRJ §3.1].
A fresh random prefix per `MessageIds` instance (48 bits from `os.urandom`)
plus a counter gives that without a persistent counter: two runs of the
daemon collide only if their prefixes do.
"""

from __future__ import annotations

import os

from ocppd.protocol.frames import MAX_UNIQUE_ID_LENGTH

_PREFIX_BYTES = 6


class MessageIds:
    """Issues ids like ``"3f9a1c0b7d2e-17"``: random prefix, dash, counter from 1."""

    __slots__ = ("_count", "_prefix")

    def __init__(self, prefix: str | None = None) -> None:
        """Start a new sequence; `prefix` is for tests, normally it is random."""
        if prefix is None:
            prefix = os.urandom(_PREFIX_BYTES).hex()
        if not prefix or len(prefix) > MAX_UNIQUE_ID_LENGTH - 12:
            raise ValueError(f"prefix must be 1..{MAX_UNIQUE_ID_LENGTH - 12} characters")
        self._prefix = prefix
        self._count = 0

    @property
    def prefix(self) -> str:
        """The part shared by every id of this instance."""
        return self._prefix

    def next(self) -> str:
        """A new id, never returned before by this instance."""
        self._count += 1
        unique_id = f"{self._prefix}-{self._count}"
        if len(unique_id) > MAX_UNIQUE_ID_LENGTH:
            # 10**11 ids per run is out of reach; fail loudly rather than break the spec
            raise OverflowError("message id counter exhausted")
        return unique_id

    def __repr__(self) -> str:
        return f"MessageIds(prefix={self._prefix!r}, issued={self._count})"
