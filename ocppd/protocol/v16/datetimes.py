"""OCPP's date-time strings: RFC 3339 in, ISO 8601 UTC with a ``Z`` out.

OCPP 1.6 exchanges every time in UTC [16e2 §2.1 and the schemas'
``format: date-time``]. We send the shortest unambiguous form,
``2026-11-21T10:00:00Z``, with milliseconds only when there are some, and
accept what real peers send: any number of fractional digits, any UTC offset,
lower-case ``t``/``z``. A time without an offset is taken as UTC, because
that is what the spec says all times are; date-only strings, week dates and
other ISO 8601 forms that ``datetime.fromisoformat`` would also accept are
refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)?",
    re.ASCII,
)


def format_datetime(moment: datetime) -> str:
    """``2026-11-21T10:00:00Z``, or ``2026-11-21T10:00:00.250Z`` when milliseconds are non-zero.

    Sub-millisecond digits are dropped (truncated). A naive datetime is
    refused: guessing its zone is how off-by-hours timestamps are made.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {moment!r}: OCPP times need a time zone")
    if offset:
        moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond >= 1000 else "seconds"
    # an aware UTC isoformat() ends in "+00:00"
    return moment.isoformat(timespec=spec)[:-6] + "Z"


def parse_datetime(text: str) -> datetime:
    """An aware UTC datetime from an RFC 3339 date-time; ValueError when it is not one."""
    if _RFC3339.fullmatch(text) is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    if text[10] != "T" or text[-1] == "z":
        text = text.upper()
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.utcoffset():
        return parsed.astimezone(UTC)
    return parsed if parsed.tzinfo is UTC else parsed.replace(tzinfo=UTC)
