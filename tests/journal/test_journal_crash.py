"""Power loss, as far as a process can feel it: SIGKILL at random points, then reopen.

A kill tests application crashes (SQLite is durable across those with any
``synchronous``); power-cut realism (dm-log-writes, relay-switched supply) is out of
scope here. The oracle after every restart is the "nothing lost" list: no ledger
row lost once ``start_transaction`` returned, one Stop per stopped transaction,
outbox order intact, sealed messages unchanged, ``quick_check`` ok.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import trio
from journal_worker import worker_command
from words16 import WORDS, acknowledge

from ocppd.journal import Journal, OpenOutcome, OutboxMessage

ITERATIONS = int(os.environ.get("JOURNAL_CRASH_ITERATIONS", "25"))


async def run_until_killed(cmd: list[str], *, ready: str, kill_after: float) -> list[list[str]]:
    """Start ``cmd``, wait for a line starting with ``ready``, SIGKILL it ``kill_after`` later.

    Returns the complete lines it printed (a line cut by the kill is not returned).
    """
    proc = await trio.lowlevel.open_process(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    buffer = bytearray()
    try:
        with trio.fail_after(30):
            while not any(line.startswith(ready.encode()) for line in buffer.split(b"\n")[:-1]):
                chunk = await proc.stdout.receive_some(65536)
                assert chunk, f"worker exited before {ready!r}: {bytes(buffer)[-500:]!r}"
                buffer += chunk
        with trio.move_on_after(kill_after):
            while chunk := await proc.stdout.receive_some(65536):
                buffer += chunk
    finally:
        proc.send_signal(signal.SIGKILL)
        with trio.fail_after(10):
            await proc.wait()
            while chunk := await proc.stdout.receive_some(65536):
                buffer += chunk
    complete = bytes(buffer).rsplit(b"\n", 1)[0].decode()
    return [line.split() for line in complete.splitlines()]


@dataclass
class Witness:
    """Everything the workers reported as returned, over all runs."""

    started: dict[int, tuple[int, int]] = field(default_factory=dict)  # local id -> (conn, meter)
    stops: dict[int, set[int]] = field(default_factory=dict)  # local id -> stop seqs returned
    sealed: dict[int, str] = field(default_factory=dict)
    acked: list[tuple[int, str, int]] = field(default_factory=list)
    violations: list[list[str]] = field(default_factory=list)

    def take(self, lines: list[list[str]]) -> None:
        for line in lines:
            match line:
                case ["started", local_id, connector, meter]:
                    self.started[int(local_id)] = (int(connector), int(meter))
                case ["stopped", local_id, seq]:
                    self.stops.setdefault(int(local_id), set()).add(int(seq))
                case ["sealed", seq, message_id]:
                    self.sealed[int(seq)] = message_id
                case ["acked", seq, action, local_id]:
                    self.acked.append((int(seq), action, int(local_id)))
                case ["violation", *_]:
                    self.violations.append(line)


async def check_oracle(state_dir: Path, seen: Witness) -> None:
    async with await Journal.open(state_dir) as journal:
        assert journal.report.outcome is OpenOutcome.OPENED  # quick_check passed, no quarantine
        ledger = {tx.local_id: tx for tx in await journal.transactions()}
        pending = await journal.pending_messages()
    assert not seen.violations

    # no ledger row lost once start_transaction returned; its fields as written
    for local_id, (connector, meter) in seen.started.items():
        tx = ledger[local_id]
        assert (tx.connector_id, tx.meter_start_wh) == (connector, meter)
    # a stop that returned is in the ledger, and every stop call got the same seq
    for local_id, seqs in seen.stops.items():
        assert ledger[local_id].state in ("stopped", "done")
        assert len(seqs) == 1, f"transaction {local_id} got stop seqs {seqs}"

    by_tx: dict[int, list[OutboxMessage]] = {}
    for msg in pending:
        if msg.local_id is not None:
            by_tx.setdefault(msg.local_id, []).append(msg)
    for local_id, tx in ledger.items():
        rows = by_tx.get(local_id, [])
        counts = Counter(m.action for m in rows)
        assert counts["StartTransaction"] <= 1 and counts["StopTransaction"] <= 1
        # one Stop row per stopped transaction, none before the stop, none left after its conf
        assert counts["StopTransaction"] == (1 if tx.state == "stopped" else 0), (tx, rows)
        # the Start is queued exactly while no answer (and no give-up) set the id
        assert (counts["StartTransaction"] == 1) == (tx.transaction_id is None), (tx, rows)
        if tx.state == "done":
            assert rows == []
        # per transaction: Start < MeterValues < Stop
        order = [m.action for m in rows]
        assert order == sorted(
            order, key=["StartTransaction", "MeterValues", "StopTransaction"].index
        )

    # per connector, a transaction's rows all come before the next transaction's
    last_local_by_connector: dict[int, int] = {}
    for msg in pending:
        if msg.local_id is None:
            continue
        connector = ledger[msg.local_id].connector_id
        assert msg.local_id >= last_local_by_connector.get(connector, 0)
        last_local_by_connector[connector] = msg.local_id

    # sealed messages come back with the same id; acknowledged ones never come back
    pending_seqs = {m.seq: m for m in pending}
    for seq, message_id in seen.sealed.items():
        if seq in pending_seqs:
            assert pending_seqs[seq].message_id == message_id
    acked_seqs = [seq for seq, _, _ in seen.acked]
    assert acked_seqs == sorted(set(acked_seqs)), "acknowledged out of order or twice"
    assert not set(acked_seqs) & set(pending_seqs)

    with sqlite3.connect(f"file:{state_dir / 'journal.db'}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]


async def test_ledger_and_outbox_survive_sigkill_at_random_points(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    rng = random.Random(20261121)
    seen = Witness()
    for iteration in range(ITERATIONS):
        lines = await run_until_killed(
            worker_command("cycle", str(state_dir), str(iteration + 1)),
            ready="open",
            kill_after=rng.uniform(0.0, 0.4),
        )
        seen.take(lines)
        await check_oracle(state_dir, seen)
    print(
        f"{ITERATIONS} kills: {len(seen.started)} started, {len(seen.stops)} stopped, "
        f"{len(seen.acked)} acknowledged"
    )
    assert len(seen.started) > ITERATIONS, "the workers did too little to test anything"
    assert seen.acked, "the courier never acknowledged anything"

    # finally drain like a courier that found the network again: nothing is lost
    async with await Journal.open(state_dir) as journal:
        for tx in await journal.open_transactions():
            await journal.stop_transaction(
                tx.local_id,
                meter_stop_wh=tx.meter_start_wh,
                timestamp="2026-11-22T00:00:00Z",
                reason="PowerLoss",
                id_tag=None,
                payload={"meterStop": tx.meter_start_wh},
                words=WORDS,
            )
        while (msg := await journal.next_message()) is not None:
            assert msg.action == "StartTransaction" or msg.transaction_id is not None
            response = {"transactionId": msg.seq} if msg.action == "StartTransaction" else {}
            await acknowledge(journal, msg.seq, response)
        ledger = await journal.transactions()
        dead = {d.local_id for d in await journal.dead_letters(limit=10_000)}
    assert {tx.local_id for tx in ledger} >= set(seen.started)
    assert all(tx.state == "done" for tx in ledger)
    assert all(tx.transaction_id is not None for tx in ledger)
    assert {tx.local_id for tx in ledger if tx.transaction_id == -1} == dead


async def test_sealed_message_survives_a_kill_with_the_same_id_and_payload(
    state_dir: Path,
) -> None:
    # also MicroOcpp #454: a Start journaled while offline survives the reset
    lines = await run_until_killed(
        worker_command("seal", str(state_dir)), ready="sealed", kill_after=0
    )
    sealed = next(line for line in lines if line[0] == "sealed")
    seq, message_id, payload = int(sealed[1]), sealed[2], json.loads(" ".join(sealed[3:]))

    async with await Journal.open(state_dir) as journal:
        msg = await journal.next_message()
        assert msg is not None
        assert (msg.seq, msg.action, msg.message_id, msg.payload) == (
            seq,
            "StartTransaction",
            message_id,
            payload,
        )
        [tx] = await journal.open_transactions()
        assert tx.transaction_id is None
