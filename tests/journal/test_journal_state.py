"""Settings, the authorization cache (OCPP 1.6 section 3.5.1) and the charging profiles."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocppd.journal import CacheEntry, Journal


async def test_settings_persist_and_none_deletes(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.set_setting("MeterValueSampleInterval", "60")
        await journal.set_setting("connector.1.availability", "Inoperative")
        await journal.set_setting("MeterValueSampleInterval", "30")
    async with await Journal.open(state_dir) as journal:
        assert await journal.settings() == {
            "MeterValueSampleInterval": "30",
            "connector.1.availability": "Inoperative",
        }
        await journal.set_setting("connector.1.availability", None)
        await journal.set_setting("NeverSet", None)
        assert await journal.settings() == {"MeterValueSampleInterval": "30"}


async def test_cache_ids_compare_case_insensitively(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.cache_store(
            "04a2b3c4", "Accepted", "2027-01-01T00:00:00Z", "PARENT", "2026-11-21T10:00:00Z"
        )
    async with await Journal.open(state_dir) as journal:  # survives a restart
        entry = await journal.cache_lookup("04A2B3C4")
        assert entry == CacheEntry(
            "04A2B3C4", "Accepted", "2027-01-01T00:00:00Z", "PARENT", "2026-11-21T10:00:00Z"
        )
        await journal.cache_store("04A2b3C4", "Blocked", None, None, "2026-11-21T11:00:00Z")
        assert await journal.cache_lookup("04a2b3c4") == CacheEntry(
            "04A2B3C4", "Blocked", None, None, "2026-11-21T11:00:00Z"
        )
        assert await journal.cache_lookup("unknown") is None


async def test_full_cache_evicts_not_accepted_first_then_the_oldest(state_dir: Path) -> None:
    async with await Journal.open(state_dir, cache_max_entries=3) as journal:
        await journal.cache_store("OLD-OK", "Accepted", None, None, "2026-11-21T08:00:00Z")
        await journal.cache_store("BLOCKED", "Blocked", None, None, "2026-11-21T09:00:00Z")
        await journal.cache_store("NEW-OK", "Accepted", None, None, "2026-11-21T10:00:00Z")
        await journal.cache_store("NEWEST-OK", "Accepted", None, None, "2026-11-21T11:00:00Z")
        assert await journal.cache_lookup("BLOCKED") is None  # not valid: first to go
        assert await journal.cache_lookup("OLD-OK") is not None
        await journal.cache_store("LATEST-OK", "Accepted", None, None, "2026-11-21T12:00:00Z")
        assert await journal.cache_lookup("OLD-OK") is None  # then the oldest valid one
        for tag in ("NEW-OK", "NEWEST-OK", "LATEST-OK"):
            assert await journal.cache_lookup(tag) is not None


async def test_a_used_entry_is_evicted_last_lru(state_dir: Path) -> None:
    """2.0.1 AuthCacheCtrlr.Policy LRU: an entry used since (cache_touch) outlives one stored
    after it; the size counts the values kept."""
    async with await Journal.open(state_dir, cache_max_entries=2) as journal:
        assert await journal.cache_size() == (0, 0)
        await journal.cache_store("A", "Accepted", None, None, "2026-11-21T08:00:00Z")
        await journal.cache_store("B", "Accepted", None, None, "2026-11-21T09:00:00Z")
        await journal.cache_touch("a", "2026-11-21T10:00:00Z")
        await journal.cache_touch("nobody", "2026-11-21T10:00:00Z")  # no entry: nothing
        await journal.cache_store("C", "Accepted", None, None, "2026-11-21T11:00:00Z")
        assert await journal.cache_lookup("B") is None
        assert await journal.cache_lookup("A") is not None
        assert await journal.cache_size() == (2, 2 * len("AAccepted2026-11-21T10:00:00Z"))


async def test_clear_cache_empties_it_and_keeps_settings(journal: Journal) -> None:
    await journal.set_setting("AuthorizationCacheEnabled", "true")
    await journal.cache_store("A", "Accepted", None, None, "2026-11-21T10:00:00Z")
    await journal.cache_clear()
    assert await journal.cache_lookup("A") is None
    assert await journal.settings() == {"AuthorizationCacheEnabled": "true"}


async def test_charging_profiles_are_replaced_as_a_set_and_kept(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        assert await journal.charging_profiles() == []
        await journal.replace_charging_profiles([(2, '{"id": 2}'), (1, '{"id": 1}')])
        await journal.replace_charging_profiles([(1, '{"id": 1}'), (3, '{"id": 3}')])
    async with await Journal.open(state_dir) as journal:
        assert await journal.charging_profiles() == ['{"id": 1}', '{"id": 3}']


async def test_a_damaged_charging_profile_is_left_out_and_logged(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.replace_charging_profiles([(1, '{"limit": 16}'), (2, '{"limit": 10}')])
    conn = sqlite3.connect(state_dir / "journal.db")
    with conn:
        conn.execute("UPDATE charging_profiles SET record = '{\"limit\": 99}' WHERE id = 2")
    conn.close()
    async with await Journal.open(state_dir) as journal:
        assert await journal.charging_profiles() == ['{"limit": 16}']
    assert "charging profile 2 is damaged" in caplog.text
