"""Corruption test: damage at random offsets in each journal file between two runs.

A journal is recorded once (transactions done, stopped and queued, started offline and
still running, messages of no transaction, settings), in two shapes: closed (everything
in ``journal.db``) and killed (recent commits still in ``journal.db-wal``, with its
``-shm``). Each case copies one shape, damages one of its files at a random offset (a
flipped bit, a few random bytes, 4 KiB of random bytes or of zeros, a truncation), then
starts the journal as the daemon does (``Journal.open``: the file judge, quick_check,
migrations, salvage of a moved-aside set) and drains the queue as the courier does
(a damaged start or stop is rebuilt from its ledger row or given up). It proves:

- **starts**: opening never fails on damaged files;
- **nothing damaged is delivered**: every message sent is one that was recorded, byte for
  byte (a rebuilt start or stop carries the recorded facts);
- **nothing twice**: no message is sent twice, and a second start sends nothing more;
- **nothing lost silently**: when a recorded message is not sent, the damage was
  reported (files moved aside, records quarantined, salvage left something out).

``--corruption-cases=N`` sets the number of cases of the slow test (1,000 by default,
``make`` target: none, run it with ``pytest -m slow tests/test_corruption.py``); the
normal suite runs a sample. ``CORRUPTION_SEED`` repeats a run; every failure names the
case's seed and what was damaged where.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

from ocppd.journal import Journal, JournalUnavailable, Kind, OpenOutcome, TxWords

WORDS = TxWords("ocpp1.6", start="StartTransaction", event="MeterValues", stop="StopTransaction")
SAMPLE_CASES = 150  # in the normal suite: about 5 s
T = "2026-11-21T10:{:02d}:00Z"
FILES = ("journal.db", "journal.db-wal", "journal.db-shm")


def canonical(action: str, payload: dict[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "transactionId"}
    return action + json.dumps(body, sort_keys=True)


async def record(state: Path, kill_copy: Path | None) -> tuple[list[str], list[str]]:
    """Record the scenario; returns the queued messages (canonical) in send order, and
    those already delivered and answered."""
    history: list[str] = []
    j = await Journal.open(state, inline=True)
    try:
        await j.set_setting("MeterValueSampleInterval", "60")
        minute = 0

        async def start(connector: int, tag: str) -> int:
            nonlocal minute
            minute += 1
            payload = {
                "connectorId": connector,
                "idTag": tag,
                "meterStart": 1000 * connector + minute,
                "timestamp": T.format(minute),
            }
            return await j.start_transaction(
                connector_id=connector,
                id_tag=tag,
                meter_start_wh=payload["meterStart"],
                timestamp=payload["timestamp"],
                reservation_id=None,
                payload=payload,
                words=WORDS,
            )

        async def samples(local_id: int, connector: int, n: int) -> None:
            nonlocal minute
            for _ in range(n):
                minute += 1
                value = {"timestamp": T.format(minute), "sampledValue": [{"value": str(minute)}]}
                payload = {"connectorId": connector, "meterValue": [value], "pad": "x" * 300}
                await j.add_meter_values(
                    local_id, connector_id=connector, payload=payload, droppable=True, words=WORDS
                )

        async def stop(local_id: int, tag: str) -> None:
            nonlocal minute
            minute += 1
            payload = {
                "meterStop": 5000 + minute,
                "timestamp": T.format(minute),
                "reason": "Local",
                "idTag": tag,
            }
            await j.stop_transaction(
                local_id,
                meter_stop_wh=payload["meterStop"],
                timestamp=payload["timestamp"],
                reason="Local",
                id_tag=tag,
                payload=payload,
                words=WORDS,
            )

        # one transaction delivered and done: history, never sent again
        done = await start(1, "TAGDONE1")
        await samples(done, 1, 3)
        await stop(done, "TAGDONE1")
        while (m := await j.next_message()) is not None:
            answer = {"transactionId": 100 + m.seq} if m.kind is Kind.TX_START else {}
            await j.acknowledge(m.seq, transaction_id=answer.get("transactionId"))
            history.append(canonical(m.action, m.payload))
        # answered start, queued samples and stop
        two = await start(1, "TAGTWO02")
        head = await j.next_message()
        assert head is not None
        await j.acknowledge(head.seq, transaction_id=202)
        history.append(canonical(head.action, head.payload))
        await samples(two, 1, 6)
        await stop(two, "TAGTWO02")
        for n in range(3):
            event = {"type": f"Event{n}", "techInfo": "y" * 200}
            await j.add_message("SecurityEventNotification", event, words=WORDS)
        three = await start(2, "TAGOFF03")  # offline, stopped
        await samples(three, 2, 12)
        await stop(three, "TAGOFF03")
        four = await start(1, "TAGRUN04")  # offline, still running
        await samples(four, 1, 8)
        queued = [canonical(m.action, m.payload) for m in await j.pending_messages()]
        if kill_copy is not None:  # what a SIGKILL leaves: the WAL not folded in
            copy_set(state, kill_copy)
    finally:
        await j.aclose()
    return queued, history


def copy_set(state: Path, to: Path) -> None:
    to.mkdir()
    for name in FILES:
        if (state / name).exists():
            shutil.copy2(state / name, to / name)


@dataclass
class Template:
    closed: Path
    killed: Path
    queued: list[str]
    history: list[str]  # delivered and answered before the damage


@pytest.fixture(scope="module")
def template() -> Iterator[Template]:
    root = Path(tempfile.mkdtemp(prefix="ocppd-corruption-", dir=_fast_dir()))
    try:
        queued, history = trio.run(record, root / "closed", root / "killed")
        yield Template(root / "closed", root / "killed", queued, history)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _fast_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@dataclass
class Case:
    seed: int
    shape: str = ""
    file: str = ""
    damage: str = ""
    problems: list[str] = field(default_factory=list)
    reported: bool = False
    restarted: bool = False  # SQLite found corruption while running: the daemon restarted
    resent: int = 0  # answered before the damage, sent again: the damage took the answer
    delivered: int = 0
    expected: int = 0

    def __str__(self) -> str:
        return (
            f"case seed {self.seed}: {self.shape} journal, {self.file}: {self.damage}; "
            f"{self.delivered}/{self.expected} delivered, reported={self.reported}: "
            + "; ".join(self.problems)
        )


def damage(rng: random.Random, path: Path) -> str:
    data = bytearray(path.read_bytes())
    size = len(data)
    kind = rng.choice(("bit", "bytes", "random-4k", "zero-4k", "truncate"))
    offset = rng.randrange(size)
    if kind == "bit":
        bit = rng.randrange(8)
        data[offset] ^= 1 << bit
        what = f"bit {bit} flipped at offset {offset}"
    elif kind == "bytes":
        n = rng.randint(1, 16)
        data[offset : offset + n] = rng.randbytes(min(n, size - offset))
        what = f"{n} random bytes at offset {offset}"
    elif kind in ("random-4k", "zero-4k"):
        n = min(4096, size - offset)
        fill = rng.randbytes(n) if kind == "random-4k" else bytes(n)
        data[offset : offset + n] = fill
        what = f"{n} {'random' if kind == 'random-4k' else 'zero'} bytes at offset {offset}"
    else:
        del data[offset:]
        what = f"truncated to {offset} of {size} bytes"
    path.write_bytes(bytes(data))
    return what


async def drain(j: Journal, sent: list[str]) -> int:
    """Send everything as the courier would, into ``sent`` (canonical); returns how many
    damaged starts and stops were given up."""
    given_up = 0
    while (m := await j.next_message()) is not None:
        action, payload = m.action, m.payload
        if m.rebuild:
            tx = None if m.local_id is None else await j.transaction(m.local_id)
            if tx is not None and tx.intact and m.kind is Kind.TX_START:
                action = WORDS.start
                payload = {
                    "connectorId": tx.connector_id,
                    "idTag": tx.id_tag,
                    "meterStart": tx.meter_start_wh,
                    "timestamp": tx.started_at,
                }
            elif tx is not None and tx.intact and m.kind is Kind.TX_STOP and tx.stop_reason:
                action = WORDS.stop
                payload = {
                    "meterStop": tx.meter_stop_wh,
                    "timestamp": tx.stopped_at,
                    "reason": tx.stop_reason,
                }
                if tx.stop_id_tag:
                    payload["idTag"] = tx.stop_id_tag
            else:
                await j.give_up(m.seq, "damaged, nothing to rebuild it from", fallback_id=-1)
                given_up += 1
                continue
        if m.kind is Kind.TX_START:
            await j.acknowledge(m.seq, transaction_id=9000 + len(sent))
        else:
            await j.acknowledge(m.seq)
        # counted once its answer is committed: a message whose answer could not be (the
        # journal failed under it) is sent again, as the same message, which the crash
        # oracle allows too (L2)
        sent.append(canonical(action, payload))
    return given_up


async def run_case(seed: int, template: Template, workdir: Path) -> Case:
    rng = random.Random(seed)
    case = Case(seed, expected=len(template.queued))
    case.shape = rng.choice(("closed", "killed"))
    source = template.closed if case.shape == "closed" else template.killed
    state = workdir / f"case-{seed}"
    shutil.copytree(source, state)
    candidates = [n for n in FILES if (state / n).exists() and (state / n).stat().st_size]
    case.file = rng.choice(candidates)
    case.damage = damage(rng, state / case.file)
    sent: list[str] = []
    for life in range(2):  # a second life when SQLite found corruption while running
        try:
            j = await Journal.open(state, inline=True)
        except Exception as exc:  # the daemon must start on any damage
            case.problems.append(f"does not start: {exc!r}")
            return case
        try:
            given_up = await drain(j, sent)
            stats = await j.queue_stats()
            case.reported = case.reported or (
                j.report.outcome is OpenOutcome.QUARANTINED
                or stats.quarantined > 0
                or bool(j.damage)
                or given_up > 0
            )
            break
        except JournalUnavailable as exc:
            if life or "corrupt" not in str(exc):
                case.problems.append(f"draining failed: {exc!r}")
                return case
            case.restarted = True  # "restart ocppd to move it aside", as the owner is told
        except Exception as exc:
            case.problems.append(f"draining failed: {exc!r}")
            return case
        finally:
            await j.aclose()
    case.delivered = len(sent)
    recorded = set(template.queued)
    resent = [s for s in sent if s in template.history]
    case.resent = len(resent)
    if resent and not case.reported:
        case.problems.append(f"sent {len(resent)} answered message(s) again without a report")
    wrong = [s for s in sent if s not in recorded and s not in template.history]
    if wrong:
        case.problems.append(f"sent {len(wrong)} message(s) never recorded: {wrong[0][:120]}")
    if len(sent) != len(set(sent)):
        case.problems.append("a message was sent twice")
    missing = recorded - set(sent)
    if missing and not case.reported:
        case.problems.append(f"{len(missing)} message(s) lost without a report")
    try:
        async with await Journal.open(state, inline=True) as again:
            if again.report.outcome is not OpenOutcome.OPENED:
                case.problems.append(f"second start: {again.report}")
            if await again.next_message() is not None:
                case.problems.append("the second start sends again")
    except Exception as exc:
        case.problems.append(f"second start fails: {exc!r}")
    shutil.rmtree(state, ignore_errors=True)
    return case


async def run_cases(n: int, template: Template, master: int) -> list[Case]:
    rng = random.Random(master)
    cases = []
    workdir = Path(tempfile.mkdtemp(prefix="ocppd-corruption-cases-", dir=_fast_dir()))
    try:
        for _ in range(n):
            cases.append(await run_case(rng.randrange(2**32), template, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return cases


def summary(cases: list[Case], seconds: float) -> str:
    reported = sum(1 for c in cases if c.reported)
    intact = sum(1 for c in cases if c.delivered >= c.expected and not c.resent)
    restarted = sum(1 for c in cases if c.restarted)
    resent = sum(1 for c in cases if c.resent)
    failed = [c for c in cases if c.problems]
    return (
        f"{len(cases)} cases in {seconds:.1f} s: {intact} delivered exactly what was queued, "
        f"{reported} reported damage, {restarted} needed a restart (corruption found while "
        f"running), {resent} sent answered messages again (the damage took the answers; "
        f"reported), {len(failed)} failed"
    )


def _master() -> int:
    text = os.environ.get("CORRUPTION_SEED")
    return int(text) if text else random.SystemRandom().randrange(2**32)


def _check(cases: list[Case], master: int, took: float, show: Any) -> None:
    show(f"corruption test, master seed {master} (CORRUPTION_SEED={master}): ")
    show(f"  {summary(cases, took)}")
    failed = [c for c in cases if c.problems]
    for c in failed[:20]:
        show(f"  {c}")
    assert not failed, f"{len(failed)} case(s) failed; master seed {master}; first: {failed[0]}"


def test_corruption_sample(template: Template, capsys: pytest.CaptureFixture[str]) -> None:
    master = _master()
    began = time.monotonic()
    cases = trio.run(run_cases, SAMPLE_CASES, template, master)

    def show(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    _check(cases, master, time.monotonic() - began, show)


@pytest.mark.slow
def test_corruption_full(
    template: Template, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    n = int(request.config.getoption("corruption_cases"))
    master = _master()
    began = time.monotonic()
    cases = trio.run(run_cases, n, template, master)

    def show(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    _check(cases, master, time.monotonic() - began, show)
