"""Opening: created / opened, quarantine of corrupt files, refusals with a clear reason."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import pytest
import trio
from words16 import WORDS

from ocppd.journal import Journal, JournalOpenError, OpenOutcome
from ocppd.journal.schema import bundled_migrations

LATEST = len(bundled_migrations())


async def fill(journal: Journal, n: int = 200) -> None:
    for i in range(n):
        await journal.add_meter_values(
            None, connector_id=0, payload={"n": i, "pad": "p" * 200}, droppable=False, words=WORDS
        )


async def test_first_open_creates_then_reopen_opens(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.CREATED
        assert journal.report.path == state_dir / "journal.db"
        assert (journal.report.schema_from, journal.report.schema_to) == (0, LATEST)
        assert "healthy" in repr(journal) and "created" in repr(journal)
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.OPENED
        assert str(journal.report) == f"journal {state_dir / 'journal.db'} opened (schema {LATEST})"


async def test_database_is_in_wal_mode_and_closing_truncates_the_wal(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await fill(journal, 20)
        assert (state_dir / "journal.db-wal").stat().st_size > 0
    wal = state_dir / "journal.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with contextlib.closing(sqlite3.connect(state_dir / "journal.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


GARBAGE = b"this is not a database, it is what a torn SD card write left\n" * 100


def write_garbage(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "journal.db").write_bytes(GARBAGE)
    (state_dir / "journal.db-wal").write_bytes(b"old wal")
    (state_dir / "journal.db-shm").write_bytes(b"old shm")


def read(path: Path | str) -> bytes:
    return Path(path).read_bytes()


async def test_garbage_file_is_moved_aside_and_a_fresh_journal_starts(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_garbage(state_dir)

    async with await Journal.open(state_dir) as journal:
        report = journal.report
        assert report.outcome is OpenOutcome.QUARANTINED
        assert report.moved_to is not None and report.reason
        assert "not a database" in report.reason
        await journal.set_setting("works", "yes")  # the fresh journal is usable

    assert report.moved_to.name.startswith("journal.db.corrupt-")
    assert read(report.moved_to) == GARBAGE  # moved, never deleted
    assert read(f"{report.moved_to}-wal") == b"old wal"
    assert read(f"{report.moved_to}-shm") == b"old shm"
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "corrupt" in r.message]
    assert "moved to" in str(report)


async def test_database_with_a_broken_page_fails_quick_check_and_is_quarantined(
    state_dir: Path,
) -> None:
    async with await Journal.open(state_dir) as journal:
        await fill(journal)
    break_page(state_dir / "journal.db", 5)
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.QUARANTINED
        assert journal.report.reason is not None and "malformed" in journal.report.reason
        # salvage brought back what could still be read, in its order, once
        numbers = [m.payload["n"] for m in await journal.pending_messages()]
        assert numbers == sorted(set(numbers)) and set(numbers) <= set(range(200))
        assert "salvage of" in str(journal.report)
    async with await Journal.open(state_dir) as journal:  # the fresh one is fine
        assert journal.report.outcome is OpenOutcome.OPENED


def break_page(db: Path, page: int) -> None:
    """Overwrite one page, leaving page 1 (the header) intact: quick_check must notice."""
    with db.open("r+b") as f:
        f.seek(4096 * page)
        f.write(b"\xde\xad\xbe\xef" * 1024)


async def test_state_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(JournalOpenError, match="not writable"):
        await Journal.open(blocker / "state")


async def test_a_second_opener_is_refused_while_the_first_holds_the_journal(
    state_dir: Path,
) -> None:
    async with await Journal.open(state_dir):
        with pytest.raises(JournalOpenError, match="in use by another"):
            await Journal.open(state_dir)
    async with await Journal.open(state_dir) as journal:  # released on close
        assert journal.report.outcome is OpenOutcome.OPENED


async def test_closing_twice_is_fine_and_use_after_close_is_an_error(state_dir: Path) -> None:
    journal = await Journal.open(state_dir)
    await journal.aclose()
    await journal.aclose()
    assert "closed" in repr(journal)
    with pytest.raises(trio.ClosedResourceError):
        await journal.settings()
    with pytest.raises(trio.ClosedResourceError):
        await journal.set_setting("a", "b")


async def test_bad_limits_are_refused(state_dir: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        await Journal.open(state_dir, max_bytes=0)
