"""A damaged record is noticed, set aside, reported, and never blocks or loses a transaction.

Issue 18, case 1: one flipped byte inside a queued StartTransaction's payload passes
``PRAGMA quick_check``; before record checksums the outbox failed to decode it on every
attempt and the queue stuck behind it for ever, with the journal called healthy.
"""

from __future__ import annotations

import logging
import random
import shutil
from pathlib import Path

import pytest
import trio
from journal_damage import flip_live, quick_check
from words16 import WORDS, acknowledge

from ocppd.journal import Journal, Kind, OpenOutcome, TxWords
from tests.harness import charger
from tests.netutil import Proxy

T0 = "2026-11-21T10:00:00Z"
T1 = "2026-11-21T10:05:00Z"


async def start(journal: Journal, tag: str, connector_id: int = 1) -> int:
    payload = {"connectorId": connector_id, "idTag": tag, "meterStart": 100, "timestamp": T0}
    return await journal.start_transaction(
        connector_id=connector_id,
        id_tag=tag,
        meter_start_wh=100,
        timestamp=T0,
        reservation_id=None,
        payload=payload,
        words=WORDS,
    )


async def sample(journal: Journal, local_id: int, wh: int) -> int:
    payload = {"connectorId": 1, "meterValue": [{"timestamp": T0, "sampledValue": [str(wh)]}]}
    return await journal.add_meter_values(
        local_id, connector_id=1, payload=payload, droppable=True, words=WORDS
    )


async def stop(journal: Journal, local_id: int, tag: str) -> int:
    return await journal.stop_transaction(
        local_id,
        meter_stop_wh=900,
        timestamp=T1,
        reason="Local",
        id_tag=tag,
        payload={"meterStop": 900, "timestamp": T1, "reason": "Local", "idTag": tag},
        words=WORDS,
    )


async def test_a_flipped_byte_in_a_queued_start_is_set_aside_and_rebuilt_from_the_ledger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    async with await Journal.open(state) as journal:
        a = await start(journal, "TAGDAMAGE1")
        await sample(journal, a, 500)
        await stop(journal, a, "TAGDAMAGE1")
        b = await start(journal, "TAGBEHIND2", connector_id=2)
    db = state / "journal.db"
    # ':' -> ';' in the Start's payload: no longer JSON
    flip_live(db, b'"idTag":"TAGDAMAGE1","meterStart"', table="outbox", at=7)
    assert quick_check(db) == ["ok"]  # SQLite cannot see it
    caplog.set_level(logging.INFO)
    async with await Journal.open(state) as journal:
        head = await journal.next_message()
        assert head is not None
        assert (head.kind, head.local_id, head.rebuild) == (Kind.TX_START, a, True)
        assert head.payload == {}
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "connector 1" in errors[0].getMessage()
        assert "rebuilt from the ledger" in errors[0].getMessage()
        assert (await journal.queue_stats()).quarantined == 1
        assert journal.damage_summary() == "journal damaged: 1 record(s) set aside"
        tx = await journal.transaction(a)
        assert tx is not None and tx.intact and tx.id_tag == "TAGDAMAGE1"
        # sealed with the payload made again from the ledger, it is a good row again
        await journal.seal(head.seq, "m1", {"connectorId": 1, "idTag": tx.id_tag})
        nxt = await acknowledge(journal, head.seq, {"transactionId": 7, "idTagInfo": {}})
        assert nxt is not None and nxt.kind is Kind.TX_EVENT and nxt.transaction_id == 7
        nxt = await acknowledge(journal, nxt.seq, {})
        assert nxt is not None and nxt.kind is Kind.TX_STOP
        nxt = await acknowledge(journal, nxt.seq, {})
        assert nxt is not None and nxt.local_id == b  # the queue went on behind it
    assert sum(1 for r in caplog.records if r.levelno == logging.ERROR) == 1  # reported once


async def test_a_damaged_sample_leaves_the_queue_and_is_kept_in_the_quarantine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    async with await Journal.open(state) as journal:
        a = await start(journal, "TAGSAMPLE1")
        await sample(journal, a, 4242)
        await sample(journal, a, 4343)
    # a digit: still JSON, a wrong value
    flip_live(state / "journal.db", b'"4242"', table="outbox", at=2, mask=0x04)
    async with await Journal.open(state) as journal:
        head = await journal.next_message()
        assert head is not None and head.kind is Kind.TX_START
        nxt = await acknowledge(journal, head.seq, {"transactionId": 9, "idTagInfo": {}})
        assert nxt is None  # the next row is damaged: next_message deals with it
        nxt = await journal.next_message()
        assert nxt is not None and "4343" in str(nxt.payload)
        assert (await journal.queue_stats()).quarantined == 1
    assert "seq 2 (transaction 9, connector 1) is damaged" in caplog.text
    assert "removed from the queue" in caplog.text


async def test_a_damaged_ledger_row_is_reported_once_and_its_damaged_start_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    async with await Journal.open(state) as journal:
        a = await start(journal, "TAGLEDGER1")
    db = state / "journal.db"
    # the tag is in the ledger row and in the payload: damage both
    flip_live(db, b"TAGLEDGER1", table="ledger", at=3)
    flip_live(db, b"TAGLEDGER1", table="outbox", at=3)
    async with await Journal.open(state) as journal:
        [tx] = await journal.transactions()
        assert tx.local_id == a and not tx.intact
        head = await journal.next_message()
        assert head is not None and head.rebuild  # the courier gives it up: nothing to rebuild
        assert (await journal.queue_stats()).quarantined == 2  # the ledger row and the start
    async with await Journal.open(state) as journal:  # reported once, not at every start
        assert (await journal.queue_stats()).quarantined == 2
        assert journal.damage_summary() is None


async def test_the_daemon_delivers_a_billable_transaction_whose_start_was_damaged(
    nursery, start_csms, autojump_clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: offline, a transaction is started, sampled and stopped; one byte
    of its queued StartTransaction flips on the card. The queue used to stick for ever."""
    state = tmp_path / "state"
    state.mkdir()
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    keys = {"AllowOfflineTxForUnknownId": True, "MeterValueSampleInterval": 60}
    async with charger(nursery, csms, url=proxy.url, state_dir=state, keys=keys) as cp:
        await cp.sim("plug", 1)
        await cp.swipe("TAGDAMAGE1")
        await trio.sleep(130)
        await cp.swipe("TAGDAMAGE1")
        queued = [(m.action, m.payload) for m in await cp.journal.pending_messages()]
    [(_, original)] = [(a, p) for a, p in queued if a == "StartTransaction"]
    flip_live(state / "journal.db", b'"idTag":"TAGDAMAGE1","meterStart"', table="outbox", at=7)
    caplog.set_level(logging.INFO)
    async with charger(nursery, csms, state_dir=state, keys=keys) as cp:
        station = await cp.registered()
        with trio.fail_after(300):
            stop = await station.wait_for("StopTransaction")
        [start_call] = station.calls("StartTransaction")
        assert start_call.payload == original  # made again from the ledger, the same facts
        assert stop.payload["reason"] == "Local" and stop.payload["idTag"] == "TAGDAMAGE1"
        assert stop.payload["transactionId"] not in (None, -1)  # billable
        assert len(station.calls("MeterValues")) == 2
        report = await station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 0 and p["errorCode"] != "NoError"
        )
        assert report.payload["errorCode"] == "OtherError"
        assert report.payload["info"] == "journal damaged: 1 record(s) set aside"
        status = await cp.status()
        assert status["journal"]["quarantined"] == 1
        assert status["journal"]["healthy"] is False
        assert "set aside" in status["journal"]["problem"]
    assert "rebuilt from the ledger" in caplog.text
    assert "JSONDecodeError" not in caplog.text


# --- damage to the files: judged at start, moved aside together, salvaged -------------------


def snapshot(state: Path, to: Path) -> None:
    """The files as a SIGKILL leaves them: the WAL not folded into the database."""
    to.mkdir()
    for name in ("journal.db", "journal.db-wal"):
        shutil.copy2(state / name, to / name)


async def history(journal: Journal, samples: int = 300) -> tuple[int, int]:
    """A stopped transaction with many samples, then one still running (started offline)."""
    a = await start(journal, "TAGHISTORY")
    for i in range(samples):
        await sample(journal, a, 1000 + i)
    await stop(journal, a, "TAGHISTORY")
    b = await start(journal, "TAGRUNNING", connector_id=2)
    return a, b


async def test_garbage_in_the_middle_of_the_wal_is_noticed_and_later_commits_salvaged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18, case 2: 4 KiB of random bytes in the middle of journal.db-wal. SQLite stops
    reading at the damage and opened the journal as healthy, without the running
    transaction committed after it."""
    async with await Journal.open(tmp_path / "live") as journal:
        _, b = await history(journal, samples=150)
        snapshot(tmp_path / "live", tmp_path / "state")
    wal = tmp_path / "state" / "journal.db-wal"
    data = bytearray(wal.read_bytes())
    assert len(data) < 32 + 1000 * (24 + 4096)  # no auto-checkpoint yet: every frame is live
    middle = len(data) // 2
    data[middle : middle + 4096] = random.Random(18).randbytes(4096)
    wal.write_bytes(bytes(data))
    async with await Journal.open(tmp_path / "state") as journal:
        report = journal.report
        assert report.outcome is OpenOutcome.QUARANTINED
        assert report.reason is not None and "journal.db-wal is damaged at frame" in report.reason
        assert journal.damage_summary() == "journal damaged: files moved aside"
        running = await journal.open_transactions()
        assert [(tx.connector_id, tx.id_tag) for tx in running] == [(2, "TAGRUNNING")]
        starts = [m for m in await journal.pending_messages() if m.kind is Kind.TX_START]
        assert [m.payload.get("idTag") for m in starts][-1] == "TAGRUNNING"
    moved = report.moved_to
    assert moved is not None and moved.name.startswith("journal.db.corrupt-")
    assert read_bytes(Path(f"{moved}-wal")) == bytes(data)  # moved with it, never changed
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert b  # the running one was salvaged under a new local id


async def test_an_empty_main_file_beside_its_wal_is_moved_aside_and_the_wal_salvaged(
    tmp_path: Path,
) -> None:
    """Issue 18, case 3: journal.db truncated to 0 bytes while its -wal holds the whole
    history (a queued Start among it). ocppd logged "created" and started afresh."""
    async with await Journal.open(tmp_path / "live") as journal:
        await history(journal, samples=5)
        before = [(m.action, m.payload) for m in await journal.pending_messages()]
        snapshot(tmp_path / "live", tmp_path / "state")
    (tmp_path / "state" / "journal.db").write_bytes(b"")
    async with await Journal.open(tmp_path / "state") as journal:
        report = journal.report
        assert report.outcome is OpenOutcome.QUARANTINED
        assert report.reason is not None and "journal.db is empty beside a journal.db-wal" in (
            report.reason
        )
        assert [(m.action, m.payload) for m in await journal.pending_messages()] == before
        [running] = await journal.open_transactions()
        assert running.id_tag == "TAGRUNNING"
    # salvage again by hand: nothing is queued twice (the ledger identities decide)
    assert report.moved_to is not None
    async with await Journal.open(tmp_path / "state") as journal:
        again = await journal.salvage(report.moved_to)
        assert (again.transactions, again.messages, again.skipped) == (0, 0, 2)
        assert len(await journal.pending_messages()) == len(before)


async def test_a_wal_from_another_database_is_noticed(tmp_path: Path) -> None:
    async with await Journal.open(tmp_path / "live") as journal:
        await history(journal, samples=5)
        snapshot(tmp_path / "live", tmp_path / "state")
    wal = tmp_path / "state" / "journal.db-wal"
    data = bytearray(wal.read_bytes())
    data[16:24] = b"\x12\x34\x56\x78\x9a\xbc\xde\xf0"  # other salts: its checksum fails too
    wal.write_bytes(bytes(data))
    async with await Journal.open(tmp_path / "state") as journal:
        assert journal.report.outcome is OpenOutcome.QUARANTINED
        assert "WAL header fails its checksum" in (journal.report.reason or "")


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


async def test_a_damaged_row_of_another_version_is_set_aside_by_a_courier_passing_over_it(
    tmp_path: Path,
) -> None:
    """A courier reads the rows of its own version only, but a damaged row on its way is
    set aside whatever its version (its version may be the damaged bytes)."""
    state = tmp_path / "state"
    later = TxWords("ocpp2.0.1", "TransactionEvent", "TransactionEvent", "TransactionEvent")
    async with await Journal.open(state) as journal:
        a = await start(journal, "TAGSAMPLE1")
        await sample(journal, a, 4242)
        event = await journal.add_message("SecurityEventNotification", {"n": 1}, words=later)
    flip_live(state / "journal.db", b'"4242"', table="outbox", at=2, mask=0x04)
    async with await Journal.open(state) as journal:
        head = await journal.next_message("ocpp2.0.1")
        assert head is not None and head.seq == event
        assert (await journal.queue_stats()).quarantined == 1
        pending = await journal.pending_messages()
        assert [(m.kind, m.protocol) for m in pending] == [
            (Kind.TX_START, "ocpp1.6"),
            (Kind.OTHER, "ocpp2.0.1"),
        ]
