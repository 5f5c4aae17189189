"""A process that uses the journal the way the daemon does, for kill and fault tests.

Run as ``python journal_worker.py MODE STATE_DIR [SEED]``. Every line it prints is
written *after* the journal call it reports returned, so the parent knows what was
committed when it sent SIGKILL (a kill can only lose the line, never add one):

- ``cycle``: charging sessions on two connectors (start, meter checkpoints,
  MeterValues, stop) interleaved with a courier (next_message, seal, acknowledge,
  now and then a failure or a given-up Start), after the crash recovery the daemon
  does (running transactions stopped with PowerLoss). Runs until killed.
- ``seal``: starts one transaction, seals its StartTransaction, then waits to be killed.
- ``fsize``: disk-full through ``RLIMIT_FSIZE`` (EFBIG, no privileges needed); prints
  one JSON line with what it observed and exits.
"""

from __future__ import annotations

import json
import random
import resource
import sys
from pathlib import Path
from typing import Any

import trio
from words16 import WORDS, acknowledge

from ocppd.journal import Journal, JournalUnavailable, OutboxMessage


def worker_command(*args: str) -> list[str]:
    """The command line that runs this file with the current interpreter (for the tests)."""
    return [sys.executable, __file__, *args]


def emit(*fields: object) -> None:
    print(*fields, flush=True)


def stamp(n: int) -> str:
    return f"2026-11-21T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def meter_payload(connector_id: int, wh: float, context: str) -> dict[str, Any]:
    return {
        "connectorId": connector_id,
        "meterValue": [
            {
                "timestamp": stamp(int(wh)),
                "sampledValue": [
                    {
                        "value": f"{wh:.0f}",
                        "context": context,
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    }


async def cycle(state_dir: Path, seed: int) -> None:
    rng = random.Random(seed)
    journal = await Journal.open(state_dir)
    emit("open", journal.report.outcome.value)
    clock = seed * 1000
    for tx in await journal.open_transactions():  # what the daemon does after a power cut
        wh = int(tx.meter_last_wh if tx.meter_last_wh is not None else tx.meter_start_wh)
        seq = await journal.stop_transaction(
            tx.local_id,
            meter_stop_wh=wh,
            timestamp=stamp(clock),
            reason="PowerLoss",
            id_tag=None,
            payload={"meterStop": wh, "timestamp": stamp(clock), "reason": "PowerLoss"},
            words=WORDS,
        )
        emit("stopped", tx.local_id, seq)
    meters = {1: 0.0, 2: 0.0}
    for tx in await journal.transactions():
        meters[tx.connector_id] = max(meters[tx.connector_id], tx.meter_stop_wh or 0.0)
    while True:
        clock += 1
        await charging_step(journal, rng, meters, clock)
        if rng.random() < 0.6:
            await courier_step(journal, rng)


async def charging_step(
    journal: Journal, rng: random.Random, meters: dict[int, float], clock: int
) -> None:
    connector = rng.choice([1, 2])
    running = {tx.connector_id: tx for tx in await journal.open_transactions()}
    tx = running.get(connector)
    if tx is None:
        start_wh = int(meters[connector])
        local_id = await journal.start_transaction(
            connector_id=connector,
            id_tag=f"TAG{connector}",
            meter_start_wh=start_wh,
            timestamp=stamp(clock),
            reservation_id=None,
            payload={"connectorId": connector, "idTag": f"TAG{connector}", "meterStart": start_wh},
            words=WORDS,
        )
        emit("started", local_id, connector, start_wh)
        seq = await journal.add_meter_values(
            local_id,
            connector_id=connector,
            payload=meter_payload(connector, start_wh, "Transaction.Begin"),
            droppable=False,
            words=WORDS,
        )
        emit("meter", local_id, seq)
        return
    roll = rng.random()
    if roll < 0.7:
        meters[connector] += rng.randint(1, 50)
        await journal.record_meter(tx.local_id, energy_wh=meters[connector], timestamp=stamp(clock))
        seq = await journal.add_meter_values(
            tx.local_id,
            connector_id=connector,
            payload=meter_payload(connector, meters[connector], "Sample.Periodic"),
            droppable=True,
            words=WORDS,
        )
        emit("meter", tx.local_id, seq)
    else:
        wh = int(meters[connector])
        payload = {"meterStop": wh, "timestamp": stamp(clock), "reason": "Local"}
        seq = await journal.stop_transaction(
            tx.local_id,
            meter_stop_wh=wh,
            timestamp=stamp(clock),
            reason="Local",
            id_tag=None,
            payload=payload,
            words=WORDS,
        )
        emit("stopped", tx.local_id, seq)
        if rng.random() < 0.3:  # a duplicate stop, as after a reboot (libocpp #239/#907)
            again = await journal.stop_transaction(
                tx.local_id,
                meter_stop_wh=wh + 1,
                timestamp=stamp(clock + 1),
                reason="PowerLoss",
                id_tag=None,
                payload=payload | {"reason": "PowerLoss"},
                words=WORDS,
            )
            emit("stopped", tx.local_id, again)


async def courier_step(journal: Journal, rng: random.Random) -> None:
    msg = await journal.next_message()
    if msg is None:
        return
    if msg.action != "StartTransaction" and msg.local_id is not None and msg.transaction_id is None:
        emit("violation", msg.seq, msg.action, "transaction_id None behind the head")
        return
    if msg.message_id is None:
        message_id = f"m{msg.seq}"
        await journal.seal(msg.seq, message_id, final_payload(msg))
        emit("sealed", msg.seq, message_id)
    roll = rng.random()
    if roll < 0.1:
        attempts = await journal.record_failure(msg.seq, "GenericError")
        emit("failed", msg.seq, attempts)
    elif roll < 0.13 and msg.action == "StartTransaction":
        await journal.give_up(msg.seq, "CALLERROR 3 times", fallback_id=-1)
        emit("gaveup", msg.seq, msg.action, msg.local_id)
    else:
        response: dict[str, Any] = {}
        if msg.action == "StartTransaction":
            response = {
                "transactionId": 1000 + (msg.local_id or 0),
                "idTagInfo": {"status": "Accepted"},
            }
        await acknowledge(journal, msg.seq, response)
        emit("acked", msg.seq, msg.action, msg.local_id)


def final_payload(msg: OutboxMessage) -> dict[str, Any]:
    if msg.action == "StartTransaction" or msg.transaction_id is None:
        return msg.payload
    return msg.payload | {"transactionId": msg.transaction_id}


async def seal(state_dir: Path) -> None:
    journal = await Journal.open(state_dir)
    local_id = await journal.start_transaction(
        connector_id=1,
        id_tag="04A2B3C4",
        meter_start_wh=1200,
        timestamp="2026-11-21T10:00:00Z",
        reservation_id=None,
        payload={"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 1200},
        words=WORDS,
    )
    emit("started", local_id)
    msg = await journal.next_message()
    assert msg is not None
    final = msg.payload | {"timestamp": "2026-11-21T10:00:00Z"}
    await journal.seal(msg.seq, "5f1d2c3b-0001", final)
    emit("sealed", msg.seq, "5f1d2c3b-0001", json.dumps(final))
    await trio.sleep_forever()


def largest_file(directory: Path) -> int:
    return max(p.stat().st_size for p in directory.iterdir() if p.is_file())


async def fsize(state_dir: Path) -> None:
    """Disk full by RLIMIT_FSIZE: writes past the limit fail with EFBIG (Python ignores SIGXFSZ)."""
    seen: dict[str, Any] = {}
    journal = await Journal.open(state_dir)
    local_id = await journal.start_transaction(
        connector_id=1,
        id_tag="TAG",
        meter_start_wh=0,
        timestamp=stamp(0),
        reservation_id=None,
        payload={"connectorId": 1},
        words=WORDS,
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest_file(state_dir) + 64 * 1024, hard))
    big = {"connectorId": 1, "data": "x" * 3000}
    writes = 0
    try:
        while writes < 10_000:
            await journal.add_meter_values(
                local_id, connector_id=1, payload=big, droppable=False, words=WORDS
            )
            writes += 1
    except JournalUnavailable as exc:
        seen["unavailable"] = exc.reason
    seen["writes_before_fault"] = writes
    seen["healthy_after_fault"] = journal.healthy
    seen["problem"] = journal.problem
    stats_before = await journal.queue_stats()
    try:
        await journal.stop_transaction(
            local_id,
            meter_stop_wh=10,
            timestamp=stamp(9),
            reason="Local",
            id_tag=None,
            payload={"meterStop": 10, "filler": "y" * 70_000},
            words=WORDS,
        )
        seen["stop_while_full"] = "committed"
    except JournalUnavailable:
        seen["stop_while_full"] = "unavailable"
    tx = await journal.transaction(local_id)
    seen["state_after_failed_stop"] = tx.state if tx else None
    seen["pending_unchanged"] = (await journal.queue_stats()).pending == stats_before.pending
    async with trio.open_nursery() as nursery:
        await nursery.start(journal.run)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is back
        with trio.fail_after(30):
            await journal.wait_healthy()
        seen["healthy_after_recovery"] = journal.healthy
        seq = await journal.stop_transaction(
            local_id,
            meter_stop_wh=10,
            timestamp=stamp(9),
            reason="Local",
            id_tag=None,
            payload={"meterStop": 10},
            words=WORDS,
        )
        seen["stop_after_recovery"] = seq
        nursery.cancel_scope.cancel()
    await journal.aclose()
    emit(json.dumps(seen))


def main() -> None:
    mode, state_dir = sys.argv[1], Path(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if mode == "cycle":
        trio.run(cycle, state_dir, seed)
    elif mode == "seal":
        trio.run(seal, state_dir)
    elif mode == "fsize":
        trio.run(fsize, state_dir)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
