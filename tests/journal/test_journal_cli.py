"""``ocppd journal check`` and ``ocppd journal salvage``, run as the owner runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trio
from journal_damage import flip_live
from test_journal_damage import history, snapshot

from ocppd.journal import Journal, OpenOutcome
from tests.harness import config_text


def ocppd(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "ocppd.toml"
    if not cfg.exists():
        cfg.write_text(
            config_text(
                url="ws://127.0.0.1:9/ocpp", state_dir=tmp_path / "state", socket=tmp_path / "s"
            )
        )
    return subprocess.run(
        [sys.executable, "-m", "ocppd", "journal", *args, "-c", str(cfg)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def files(state: Path) -> dict[str, bytes]:
    """The database and its WAL (SQLite may make a -shm, an index it rebuilds)."""
    return {
        n: (state / n).read_bytes()
        for n in ("journal.db", "journal.db-wal")
        if (state / n).exists()
    }


async def test_check_says_ok_for_a_healthy_journal_and_names_each_damage(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "state") as journal:
        await history(journal, samples=3)
    ok = await trio.to_thread.run_sync(ocppd, tmp_path, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok (files, integrity_check, record checksums)" in ok.stdout
    flip_live(tmp_path / "state" / "journal.db", b'"idTag":"TAGRUNNING"', table="outbox", at=4)
    before = files(tmp_path / "state")
    bad = await trio.to_thread.run_sync(ocppd, tmp_path, "check")
    assert bad.returncode == 1
    assert "queued message(s) failing their checksum: seq [" in bad.stdout
    assert files(tmp_path / "state") == before  # check never writes


async def test_check_finds_a_damaged_wal_without_touching_it(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "live") as journal:
        await history(journal, samples=5)
        snapshot(tmp_path / "live", tmp_path / "state")
    wal = tmp_path / "state" / "journal.db-wal"
    data = bytearray(wal.read_bytes())
    data[40:48] = b"\xff" * 8  # the first frame's header
    wal.write_bytes(bytes(data))
    before = files(tmp_path / "state")
    bad = await trio.to_thread.run_sync(ocppd, tmp_path, "check")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "journal.db-wal is damaged at frame 0" in bad.stdout
    assert files(tmp_path / "state") == before


async def test_salvage_brings_a_moved_aside_journal_back_once(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "live") as journal:
        await history(journal, samples=5)
        want = [(m.action, m.payload) for m in await journal.pending_messages()]
        snapshot(tmp_path / "live", tmp_path / "old")
    (tmp_path / "old" / "journal.db").rename(tmp_path / "old" / "journal.db.corrupt-x")
    (tmp_path / "old" / "journal.db-wal").rename(tmp_path / "old" / "journal.db.corrupt-x-wal")
    async with await Journal.open(tmp_path / "state") as journal:
        assert journal.report.outcome is OpenOutcome.CREATED
    source = str(tmp_path / "old" / "journal.db.corrupt-x")
    first = await trio.to_thread.run_sync(ocppd, tmp_path, "salvage", source)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 transaction(s), 8 queued message(s)" in first.stdout
    again = await trio.to_thread.run_sync(ocppd, tmp_path, "salvage", source)
    assert again.returncode == 0 and "0 transaction(s), 0 queued message(s)" in again.stdout
    assert "2 already salvaged before" in again.stdout
    async with await Journal.open(tmp_path / "state") as journal:
        assert [(m.action, m.payload) for m in await journal.pending_messages()] == want
        missing = await trio.to_thread.run_sync(ocppd, tmp_path, "salvage", "/nonexistent")
        assert missing.returncode == 66
        held = await trio.to_thread.run_sync(ocppd, tmp_path, "salvage", source)
        assert held.returncode == 75 and "in use by another" in held.stdout
