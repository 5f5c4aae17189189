"""Storage faults: disk full, read-only, I/O errors. Refused whole, reported, recovered.

Mechanisms (see conftest.py): a size-limited tmpfs filled with a ballast file (ENOSPC),
a loop-mounted ext4 that the kernel remounts read-only after a filesystem error,
``RLIMIT_FSIZE`` in a subprocess (EFBIG, works unprivileged), and the journal's
``connection_factory`` seam for a fault at an exact statement.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from journal_fs import Ext4Image, Mounted
from journal_worker import worker_command
from words16 import WORDS

from ocppd.journal import Journal, JournalOpenError, JournalUnavailable

T0 = "2026-11-21T10:00:00Z"
BIG = {"connectorId": 1, "pad": "x" * 2000}


async def start(journal: Journal, connector_id: int = 1, **extra: Any) -> int:
    return await journal.start_transaction(
        connector_id=connector_id,
        id_tag="TAG",
        meter_start_wh=0,
        timestamp=T0,
        reservation_id=None,
        payload={"connectorId": connector_id, **extra},
        words=WORDS,
    )


async def stop(journal: Journal, local_id: int) -> int:
    return await journal.stop_transaction(
        local_id,
        meter_stop_wh=10,
        timestamp=T0,
        reason="Local",
        id_tag=None,
        payload={"meterStop": 10},
        words=WORDS,
    )


def probes(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.getMessage().startswith("journal probe"))


async def test_disk_full_refuses_whole_units_and_recovers_when_space_returns(
    tiny_tmpfs: Mounted, mock_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    mock_clock.autojump_threshold = 0.02  # virtual time, but let real I/O threads finish first
    caplog.set_level(logging.DEBUG, logger="ocppd.journal")
    state_dir = tiny_tmpfs.path / "state"
    async with await Journal.open(state_dir) as journal:
        local_id = await start(journal)
        ballast = tiny_tmpfs.fill(leave_bytes=64 * 1024)
        with pytest.raises(JournalUnavailable) as caught:
            for _ in range(200):
                await journal.add_meter_values(
                    local_id, connector_id=1, payload=BIG, droppable=False, words=WORDS
                )
        assert "full" in caught.value.reason
        assert not journal.healthy and journal.problem == caught.value.reason
        before = (await journal.transactions(), await journal.queue_stats())

        # a whole unit (ledger row + outbox row) is refused, and reads still work
        with pytest.raises(JournalUnavailable):
            await start(journal, connector_id=2, pad="y" * 200_000)
        with pytest.raises(JournalUnavailable):
            await journal.stop_transaction(
                local_id,
                meter_stop_wh=1,
                timestamp=T0,
                reason="Local",
                id_tag=None,
                payload={"pad": "z" * 200_000},
                words=WORDS,
            )
        assert (await journal.transactions(), await journal.queue_stats()) == before

        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            await trio.sleep(200)  # still full: the probe backs off 1, 2, 4 ... 60 s
            assert not journal.healthy
            assert probes(caplog) == 8  # at 1, 3, 7, 15, 31, 63, 123, 183 s
            remove(ballast)  # someone cleaned up the disk
            with trio.fail_after(120):
                await journal.wait_healthy()
            assert journal.healthy and journal.problem is None
            seq = await stop(journal, local_id)  # the stop the charging logic kept retrying
            nursery.cancel_scope.cancel()
        stops = [m.seq for m in await journal.pending_messages() if m.action == "StopTransaction"]
        assert stops == [seq]
    assert "journal unavailable" in caplog.text and "works again" in caplog.text


async def test_filesystem_remounted_read_only_refuses_writes_and_keeps_what_was_committed(
    ext4_image: Ext4Image, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.autojump_threshold = 0.02
    state_dir = ext4_image.path / "state"
    journal = await Journal.open(state_dir)
    local_id = await start(journal)
    await journal.add_meter_values(
        local_id, connector_id=1, payload={"n": 1}, droppable=True, words=WORDS
    )

    ext4_image.trigger_error()  # the kernel remounts it read-only, as with a failing SD card
    with pytest.raises(JournalUnavailable, match="read-only"):
        await stop(journal, local_id)
    assert not journal.healthy and "read-only" in (journal.problem or "")
    tx = await journal.transaction(local_id)  # reads still work
    assert tx is not None and tx.state == "running"
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await trio.sleep(300)
        assert not journal.healthy  # only a reboot (fsck, remount) can fix this
        nursery.cancel_scope.cancel()
    await journal.aclose()  # no exception: the checkpoint failure is logged

    ext4_image.reboot()
    async with await Journal.open(state_dir) as journal:
        [tx] = await journal.open_transactions()
        assert tx.local_id == local_id
        assert [m.action for m in await journal.pending_messages()] == [
            "StartTransaction",
            "MeterValues",
        ]
        await stop(journal, local_id)
        assert [m.action for m in await journal.pending_messages()][-1] == "StopTransaction"


async def test_opening_on_a_read_only_filesystem_is_a_clear_error(tiny_tmpfs: Mounted) -> None:
    async with await Journal.open(tiny_tmpfs.path / "state") as journal:
        await start(journal)
    tiny_tmpfs.remount("ro")
    with pytest.raises(JournalOpenError, match=r"not writable.*Read-only file system"):
        await Journal.open(tiny_tmpfs.path / "state")
    with pytest.raises(JournalOpenError, match="not writable"):
        await Journal.open(tiny_tmpfs.path / "never-created")
    tiny_tmpfs.remount("rw")
    async with await Journal.open(tiny_tmpfs.path / "state") as journal:
        assert len(await journal.open_transactions()) == 1


async def test_file_size_limit_is_a_storage_fault_that_clears_by_itself(state_dir: Path) -> None:
    # RLIMIT_FSIZE needs no privileges: writes past it fail with EFBIG
    result = await trio.run_process(
        worker_command("fsize", str(state_dir)), capture_stdout=True, check=True
    )
    seen = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert seen["unavailable"] and seen["healthy_after_fault"] is False
    assert seen["problem"] == seen["unavailable"]
    assert seen["stop_while_full"] == "unavailable"
    assert seen["state_after_failed_stop"] == "running"  # no half-written stop
    assert seen["pending_unchanged"] is True
    assert seen["healthy_after_recovery"] is True
    assert isinstance(seen["stop_after_recovery"], int)


def failing_connection(pattern: str) -> type[sqlite3.Connection]:
    """A connection class whose ``execute`` fails like a disk would, once armed."""

    class Failing(sqlite3.Connection):
        armed = False

        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            if Failing.armed and pattern in sql:
                exc = sqlite3.OperationalError("disk I/O error")
                exc.sqlite_errorcode = 10 | (3 << 8)  # SQLITE_IOERR_WRITE
                exc.sqlite_errorname = "SQLITE_IOERR_WRITE"
                raise exc
            return super().execute(sql, parameters)

    return Failing


@pytest.mark.parametrize(
    "pattern", ["INSERT INTO outbox", "UPDATE transactions SET start_seq", "COMMIT"]
)
async def test_a_fault_inside_start_leaves_neither_ledger_row_nor_outbox_row(
    state_dir: Path, pattern: str
) -> None:
    factory = failing_connection(pattern)
    async with await Journal.open(state_dir, connection_factory=factory) as journal:
        factory.armed = True  # type: ignore[attr-defined]
        with pytest.raises(JournalUnavailable, match="disk I/O error"):
            await start(journal)
        assert not journal.healthy
        factory.armed = False  # type: ignore[attr-defined]
        assert await journal.transactions() == []
        assert await journal.next_message() is None
        local_id = await start(journal)  # a successful write proves the storage works
        assert journal.healthy
        assert [tx.local_id for tx in await journal.transactions()] == [local_id]


async def test_a_fault_inside_stop_leaves_the_transaction_running_without_a_stop_row(
    state_dir: Path,
) -> None:
    factory = failing_connection("UPDATE transactions SET state")
    async with await Journal.open(state_dir, connection_factory=factory) as journal:
        local_id = await start(journal)
        factory.armed = True  # type: ignore[attr-defined]
        with pytest.raises(JournalUnavailable):
            await stop(journal, local_id)
        factory.armed = False  # type: ignore[attr-defined]
        assert [tx.local_id for tx in await journal.open_transactions()] == [local_id]
        assert [m.action for m in await journal.pending_messages()] == ["StartTransaction"]
        seq = await stop(journal, local_id)
        assert [m.seq for m in await journal.pending_messages()][-1] == seq


async def test_wait_healthy_returns_at_once_when_healthy(journal: Journal) -> None:
    with trio.fail_after(1):
        await journal.wait_healthy()
    assert journal.healthy and journal.problem is None


async def test_a_kill_while_the_disk_is_full_loses_nothing_committed(tiny_tmpfs: Mounted) -> None:
    state_dir = tiny_tmpfs.path / "state"
    proc = await trio.lowlevel.open_process(
        worker_command("seal", str(state_dir)), stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    with trio.fail_after(30):
        out = b""
        while b"sealed" not in out:
            out += await proc.stdout.receive_some(4096)
    ballast = tiny_tmpfs.fill(leave_bytes=0)
    proc.kill()
    await proc.wait()
    # the restarted daemon says why it cannot open (systemd restarts it with back-off)
    with pytest.raises(JournalOpenError, match="No space left on device"):
        await Journal.open(state_dir)
    remove(ballast)
    async with await Journal.open(state_dir) as journal:
        msg = await journal.next_message()
        assert msg is not None and msg.message_id == "5f1d2c3b-0001"
        assert len(await journal.open_transactions()) == 1


def remove(path: Path) -> None:
    path.unlink()


async def test_a_stop_refused_by_read_only_storage_is_written_first_when_the_storage_returns(
    ext4_image: Ext4Image, mock_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18, case 4: a session stopped by its tag while the storage had gone read-only
    was delivered after the restart as PowerLoss with the restart's time. The stop is kept
    in memory and written first, with the driver's reason and time, when the storage is
    back (here: fsck and a new mount while ocppd runs, as an installer would)."""
    mock_clock.autojump_threshold = 0.02
    state_dir = ext4_image.path / "state"
    journal = await Journal.open(state_dir, inline=True)  # no thread: virtual time sees all
    local_id = await start(journal)
    ext4_image.trigger_error()
    driver_stop = "2026-11-21T10:07:00Z"
    with pytest.raises(JournalUnavailable, match="read-only"):
        await journal.stop_transaction(
            local_id,
            meter_stop_wh=10,
            timestamp=driver_stop,
            reason="Local",
            id_tag="TAG",
            payload={"meterStop": 10, "reason": "Local"},
            words=WORDS,
        )
    assert "kept in memory until the storage takes writes again" in caplog.text
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        await trio.sleep(10)
        assert not journal.healthy
        device = ext4_image.replug()  # the old mount stays read-only; the path is a new one
        try:
            with trio.fail_after(300):
                await journal.wait_healthy()
            nursery.cancel_scope.cancel()
        except BaseException:
            await journal.aclose()
            ext4_image.unplug(device)
            raise
    tx = await journal.transaction(local_id)
    assert tx is not None
    assert (tx.state, tx.stop_reason, tx.stopped_at) == ("stopped", "Local", driver_stop)
    assert [m.action for m in await journal.pending_messages()] == [
        "StartTransaction",
        "StopTransaction",
    ]
    assert "is written now" in caplog.text
    await journal.aclose()
    try:
        async with await Journal.open(state_dir, inline=True) as journal:  # on the card
            assert await journal.open_transactions() == []
    finally:
        ext4_image.unplug(device)


async def test_a_stop_held_in_memory_when_ocppd_ends_is_logged_as_lost_with_the_storage(
    ext4_image: Ext4Image, mock_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    mock_clock.autojump_threshold = 0.02
    state_dir = ext4_image.path / "state"
    journal = await Journal.open(state_dir, inline=True)  # no thread: virtual time sees all
    local_id = await start(journal)
    ext4_image.trigger_error()
    with pytest.raises(JournalUnavailable):
        await stop(journal, local_id)
    await journal.aclose()
    assert f"the stop of transaction {local_id} (Local at {T0}) is lost with the storage" in (
        caplog.text
    )
    ext4_image.reboot()
    async with await Journal.open(state_dir) as journal:
        [tx] = await journal.open_transactions()  # the next start stops it as PowerLoss
        assert tx.local_id == local_id


async def test_the_daemon_delivers_a_stop_made_on_read_only_storage_as_the_driver_made_it(
    nursery, start_csms, autojump_clock, ext4_image: Ext4Image
) -> None:
    """Issue 18, case 4, end to end: Local at the moment of the tag, not PowerLoss later."""
    from tests.harness import charger, wall

    csms = await start_csms()
    state_dir = ext4_image.path / "state"
    state_dir.mkdir()
    device = None
    try:
        async with charger(nursery, csms, state_dir=state_dir) as cp:
            station = await cp.registered()
            await cp.sim("plug", 1)
            await cp.swipe("TAGRO001")
            await station.wait_for("StartTransaction")
            await trio.sleep(30)
            ext4_image.trigger_error()
            await trio.sleep(5)
            stopped_at = wall()
            await cp.swipe("TAGRO001")  # the driver leaves; the card refuses the write
            assert not cp.world(1).contactor_closed
            await station.wait_for(
                "StatusNotification",
                lambda p: p["connectorId"] == 0 and p["errorCode"] == "OtherError",
            )
            await trio.sleep(60)
            assert not station.calls("StopTransaction")
            device = ext4_image.replug()
            with trio.fail_after(300):
                stop = await station.wait_for("StopTransaction")
            assert stop.payload["reason"] == "Local"
            sent = datetime.fromisoformat(stop.payload["timestamp"]).timestamp()
            assert abs(sent - stopped_at) < 1.5, "the driver's time, not the storage's return"
    finally:
        if device is not None:
            ext4_image.unplug(device)
