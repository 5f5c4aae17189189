"""Rough journal figures: durable appends per second, and the time to drain a backlog.

    .venv/bin/python tests/journal/bench_journal.py [--dir DIR] [--appends N] [--drain N]

DIR should be on the storage you care about (default: a temporary directory on /var/tmp,
i.e. the real disk, not a tmpfs). Every append is its own ``BEGIN IMMEDIATE ... COMMIT``
with ``synchronous=FULL``, so the figure is bounded by the device's fsync latency.
The drain runs next_message / seal / acknowledge per message, as the courier does
with an instant central system. Not a test: the benchmark proper lives in ``bench/``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import trio
from words16 import WORDS, acknowledge

from ocppd.journal import Journal


def sample(n: int) -> dict[str, Any]:
    """A realistic periodic sample: energy, power, current and voltage per phase."""
    values = [
        {"value": f"{n * 10.5:.1f}", "context": "Sample.Periodic", "measurand": m, "unit": u}
        for m, u in (
            ("Energy.Active.Import.Register", "Wh"),
            ("Power.Active.Import", "W"),
            ("Current.Import", "A"),
            ("Voltage", "V"),
        )
    ]
    return {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-21T10:00:00Z", "sampledValue": values}],
    }


async def bench(directory: Path, appends: int, drain: int) -> None:
    async with await Journal.open(directory, max_bytes=2**31) as journal:
        local_id = await journal.start_transaction(
            connector_id=1,
            id_tag="BENCH",
            meter_start_wh=0,
            timestamp="2026-11-21T10:00:00Z",
            reservation_id=None,
            payload={"connectorId": 1},
            words=WORDS,
        )
        t0 = time.perf_counter()
        for n in range(appends):
            await journal.add_meter_values(
                local_id, connector_id=1, payload=sample(n), droppable=True, words=WORDS
            )
        elapsed = time.perf_counter() - t0
        rate = appends / elapsed
        print(f"add_meter_values: {appends} durable appends in {elapsed:.2f} s = {rate:.0f}/s")

        for n in range(max(drain - appends - 1, 0)):
            await journal.add_meter_values(
                local_id, connector_id=1, payload=sample(n), droppable=True, words=WORDS
            )
        queued = (await journal.queue_stats()).pending
        t0 = time.perf_counter()
        sent = 0
        while (msg := await journal.next_message()) is not None:
            await journal.seal(msg.seq, f"id-{msg.seq}", msg.payload)
            response = {"transactionId": 1} if msg.action == "StartTransaction" else {}
            await acknowledge(journal, msg.seq, response)
            sent += 1
        elapsed = time.perf_counter() - t0
        print(
            f"drain: {sent} of {queued} queued messages through next_message/seal/acknowledge "
            f"in {elapsed:.2f} s = {sent / elapsed:.0f} messages/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--drain", type=int, default=10_000)
    args = parser.parse_args()
    if args.dir is not None:
        trio.run(bench, args.dir, args.appends, args.drain)
        return
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="ocppd-journal-bench-") as tmp:
        trio.run(bench, Path(tmp), args.appends, args.drain)


if __name__ == "__main__":
    main()
