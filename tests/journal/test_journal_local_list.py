"""The local authorization list in the journal: whole updates or none, version 0 when empty,
lookups by key, list tags kept out of the cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocppd.journal import Journal, ListEntry, ListSummary, ListUpdate


def tags(*names: str, status: str | None = "Accepted") -> list[ListEntry]:
    return [ListEntry(name, status) for name in names]


async def test_a_refused_update_changes_nothing_and_survives_a_restart(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        assert await journal.list_summary() == ListSummary(0, 0)
        applied = await journal.list_update(
            full=True, version=4, entries=tags("a", "B", "c"), max_entries=4
        )
        assert applied is ListUpdate.APPLIED
        # found too long only after the rows changed: rolled back whole
        grow = [*tags("d", "e"), *tags("a", status=None)]
        too_long = await journal.list_update(full=False, version=5, entries=grow, max_entries=3)
        assert too_long is ListUpdate.TOO_LONG
    async with await Journal.open(state_dir) as journal:
        assert await journal.list_summary() == ListSummary(4, 3, 3 * len("AAccepted"))
        assert (await journal.list_lookup("A")) is not None
        assert (await journal.list_lookup("d")) is None
        assert (await journal.list_lookup("b")).id_tag == "B"  # type: ignore[union-attr]


async def test_refusals_checked_before_any_row_changes(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.list_update(full=True, version=2, entries=tags("a"), max_entries=10)
        cases = [
            (False, 2, tags("b"), ListUpdate.VERSION_NOT_NEWER),
            (False, 3, [*tags("b"), *tags("B", status=None)], ListUpdate.DUPLICATE),
            (True, 3, [*tags("b"), *tags("c", status=None)], ListUpdate.INCOMPLETE),
            (True, 3, tags(*"bcdefghijkl"), ListUpdate.TOO_LONG),
        ]
        for full, version, entries, outcome in cases:
            got = await journal.list_update(
                full=full, version=version, entries=entries, max_entries=10
            )
            assert got is outcome
        assert await journal.list_summary() == ListSummary(2, 1, len("AAccepted"))


async def test_an_emptied_list_has_version_zero(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.list_update(full=True, version=7, entries=tags("a", "b"), max_entries=10)
        gone = tags("a", "b", status=None)
        assert await journal.list_update(full=False, version=8, entries=gone, max_entries=10) == (
            ListUpdate.APPLIED
        )
        assert await journal.list_summary() == ListSummary(0, 0)
        # so the next differential update is newer than 0, whatever came before
        assert await journal.list_update(
            full=False, version=1, entries=tags("c"), max_entries=10
        ) == (ListUpdate.APPLIED)


async def test_an_entry_keeps_its_token_kind_and_connectors(state_dir: Path) -> None:
    """What a 2.0.1 entry says beyond 1.6's idTagInfo (migration 0012); a 1.6 entry names
    neither. Storage counts every value kept."""
    async with await Journal.open(state_dir) as journal:
        entries = [
            ListEntry("CARD0001", "Accepted", None, "FLEET", "card", "1,2"),
            ListEntry("OLD00001", "Blocked"),
        ]
        await journal.list_update(full=True, version=3, entries=entries, max_entries=10)
    async with await Journal.open(state_dir) as journal:
        found = await journal.list_lookup("card0001")
        assert found is not None
        assert (found.token_kind, found.connectors, found.parent_id_tag) == ("card", "1,2", "FLEET")
        old = await journal.list_lookup("OLD00001")
        assert old is not None and (old.token_kind, old.connectors) == (None, None)
        size = len("CARD0001AcceptedFLEETcard1,2") + len("OLD00001Blocked")
        assert await journal.list_summary() == ListSummary(3, 2, size)


async def test_list_tags_are_kept_out_of_the_cache(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await journal.list_update(full=True, version=1, entries=tags("LISTED"), max_entries=10)
        now = "2026-11-21T10:00:00Z"
        await journal.cache_store("listed", "Blocked", None, None, now, unless_listed=True)
        await journal.cache_store("other", "Blocked", None, None, now, unless_listed=True)
        assert await journal.cache_lookup("LISTED") is None
        assert await journal.cache_lookup("OTHER") is not None


async def test_a_lookup_is_a_search_by_key_not_a_scan(state_dir: Path) -> None:
    """Thousands of tags are never read to find one: SQLite searches the primary key."""
    async with await Journal.open(state_dir) as journal:
        path = journal.path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id_tag, status, expiry, parent_id_tag FROM local_list "
            "WHERE id_tag = ?",
            ("X",),
        ).fetchall()
        detail = " ".join(str(row[-1]) for row in plan)
        assert "SEARCH local_list USING PRIMARY KEY" in detail, detail
    finally:
        conn.close()
