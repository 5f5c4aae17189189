"""OCPP date-times: what we send and what we accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ocppd.protocol.v16.codec import format_datetime, parse_datetime

CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 21, 10, 0, tzinfo=UTC), "2026-11-21T10:00:00Z"),
        (datetime(2026, 11, 21, 10, 0, 0, 250000, tzinfo=UTC), "2026-11-21T10:00:00.250Z"),
        (datetime(2026, 11, 21, 10, 0, 0, 1999, tzinfo=UTC), "2026-11-21T10:00:00.001Z"),
        (datetime(2026, 11, 21, 10, 0, 0, 999, tzinfo=UTC), "2026-11-21T10:00:00Z"),
        (datetime(2026, 11, 21, 11, 0, tzinfo=CET), "2026-11-21T10:00:00Z"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=CET), "2025-12-31T23:30:00Z"),
        (datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(0))), "2026-11-21T10:00:00Z"),
    ],
)
def test_format_is_utc_with_z_and_milliseconds_only_when_non_zero(moment, text):
    assert format_datetime(moment) == text


def test_format_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 11, 21, 10, 0))


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T10:00:00Z",
        "2026-11-21T10:00:00+00:00",
        "2026-11-21T11:00:00+01:00",
        "2026-11-21T05:30:00-04:30",
        "2026-11-21t10:00:00z",
        "2026-11-21T10:00:00",
    ],
)
def test_parse_accepts_any_offset_and_returns_aware_utc(text):
    parsed = parse_datetime(text)
    assert parsed == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_parse_keeps_fractions_to_the_microsecond():
    assert parse_datetime("2026-11-21T10:00:00.5Z").microsecond == 500000
    assert parse_datetime("2026-11-21T10:00:00.123456789Z").microsecond == 123456
    assert parse_datetime("2026-11-21T10:00:00.250Z") == datetime(
        2026, 11, 21, 10, 0, 0, 250000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-11-21",
        "2026-11-21 10:00:00Z",
        "2026-11-21T10:00Z",
        "2026-W47-6T10:00:00Z",
        "20261121T100000Z",
        "2026-11-21T10:00:00.Z",
        "2026-11-21T10:00:00+0100",
        "2026-11-21T24:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-11-21T10:00:00Z ",
    ],
)
def test_parse_refuses_what_is_not_an_rfc_3339_date_time(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_format_and_parse_round_trip():
    moment = datetime(2026, 11, 21, 10, 0, 0, 250000, tzinfo=UTC)
    assert parse_datetime(format_datetime(moment)) == moment
