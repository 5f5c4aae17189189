"""The outbox: seal, failures, dead letters, stats, and the size cap with thinning."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from words16 import WORDS, acknowledge

from ocppd.journal import DEFAULT_MAX_BYTES, AlreadySealed, Journal, UnknownMessage

T0 = "2026-11-21T10:00:00Z"


async def start(journal: Journal, connector_id: int = 1) -> int:
    return await journal.start_transaction(
        connector_id=connector_id,
        id_tag="TAG",
        meter_start_wh=0,
        timestamp=T0,
        reservation_id=None,
        payload={"connectorId": connector_id, "idTag": "TAG", "meterStart": 0, "timestamp": T0},
        words=WORDS,
    )


def sample_payload(connector_id: int, n: int, pad: int = 400) -> dict[str, Any]:
    return {"connectorId": connector_id, "n": n, "pad": "x" * pad}


async def test_seal_survives_a_reopen_with_the_same_id_and_payload(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        await start(journal)
        msg = await journal.next_message()
        assert msg is not None
        final = msg.payload | {"final": True}
        await journal.seal(msg.seq, "b3d0c9e2-1", final)
    async with await Journal.open(state_dir) as journal:
        again = await journal.next_message()
    assert again is not None and (again.seq, again.message_id, again.payload) == (
        msg.seq,
        "b3d0c9e2-1",
        final,
    )


async def test_sealing_again_must_repeat_exactly_what_was_sealed(journal: Journal) -> None:
    await start(journal)
    msg = await journal.next_message()
    assert msg is not None
    await journal.seal(msg.seq, "id-1", msg.payload)
    await journal.seal(msg.seq, "id-1", msg.payload)  # harmless repeat
    with pytest.raises(AlreadySealed):
        await journal.seal(msg.seq, "id-2", msg.payload)
    with pytest.raises(AlreadySealed):
        await journal.seal(msg.seq, "id-1", msg.payload | {"changed": 1})
    with pytest.raises(UnknownMessage):
        await journal.seal(999, "id-9", {})


async def test_failures_count_attempts_and_give_up_keeps_a_dead_letter(journal: Journal) -> None:
    seq = await journal.add_meter_values(
        None, connector_id=0, payload={"v": 1}, droppable=False, words=WORDS
    )
    await journal.seal(seq, "m-1", {"v": 1})
    assert await journal.record_failure(seq, "FormationViolation") == 1
    assert await journal.record_failure(seq, "FormationViolation: bad") == 2
    await journal.give_up(seq, "TransactionMessageAttempts (2) reached")
    assert await journal.next_message() is None
    [dead] = await journal.dead_letters()
    assert (dead.seq, dead.action, dead.payload, dead.message_id, dead.attempts) == (
        seq,
        "MeterValues",
        {"v": 1},
        "m-1",
        2,
    )
    assert dead.last_error == "FormationViolation: bad"
    assert dead.reason == "TransactionMessageAttempts (2) reached"
    stats = await journal.queue_stats()
    assert (stats.pending, stats.dead, stats.bytes) == (0, 1, 0)
    with pytest.raises(UnknownMessage):
        await journal.record_failure(seq, "x")
    with pytest.raises(UnknownMessage):
        await journal.give_up(seq, "x")


async def test_acknowledging_twice_is_harmless(
    journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    seq = await journal.add_meter_values(
        None, connector_id=0, payload={"v": 1}, droppable=False, words=WORDS
    )
    await journal.acknowledge(seq)
    await journal.acknowledge(seq)
    assert "no longer queued" in caplog.text
    assert await journal.next_message() is None


async def test_start_conf_without_transaction_id_is_refused_and_the_start_kept(
    journal: Journal,
) -> None:
    await start(journal)
    msg = await journal.next_message()
    assert msg is not None
    with pytest.raises(ValueError, match="transactionId"):
        await acknowledge(journal, msg.seq, {"idTagInfo": {"status": "Accepted"}})
    assert (await journal.next_message()) == msg


async def test_queue_stats_count_the_payload_bytes(journal: Journal) -> None:
    payloads = [{"n": 1}, {"n": "ü" * 10}]
    for p in payloads:
        await journal.add_meter_values(None, connector_id=0, payload=p, droppable=True, words=WORDS)
    stats = await journal.queue_stats()
    # compact JSON, UTF-8: {"n":1} is 7 bytes; {"n":"üüü..."} is 8 + 20
    assert (stats.pending, stats.bytes, stats.dropped, stats.max_bytes) == (
        2,
        7 + 28,
        0,
        DEFAULT_MAX_BYTES,
    )


async def test_over_the_cap_every_second_oldest_droppable_sample_is_dropped(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    first_thinning: list[int] = []
    async with await Journal.open(state_dir, max_bytes=20_000) as journal:
        local_id = await start(journal)
        await journal.add_meter_values(
            local_id,
            connector_id=1,
            payload={"context": "Transaction.Begin"},
            droppable=False,
            words=WORDS,
        )
        for n in range(60):
            await journal.add_meter_values(
                local_id, connector_id=1, payload=sample_payload(1, n), droppable=True, words=WORDS
            )
            if not first_thinning and (await journal.queue_stats()).dropped:
                first_thinning = [
                    m.payload["n"] for m in await journal.pending_messages() if m.droppable
                ]
        await journal.stop_transaction(
            local_id,
            meter_stop_wh=60,
            timestamp=T0,
            reason="Local",
            id_tag=None,
            payload={"m": 60},
            words=WORDS,
        )
        pending = await journal.pending_messages()
        stats = await journal.queue_stats()

    # the first time the cap is reached, the oldest samples go 1st, 3rd, 5th ...
    assert first_thinning[:6] == [1, 3, 5, 7, 9, 10]
    # later passes thin the survivors again, oldest first: resolution falls with age
    actions = [m.action for m in pending]
    assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
    assert pending[1].payload == {"context": "Transaction.Begin"}
    kept = [m.payload["n"] for m in pending if m.droppable]
    assert stats.dropped == 60 - len(kept) > 5
    assert stats.bytes <= 20_000
    assert kept[-5:] == [55, 56, 57, 58, 59]  # the newest samples are untouched
    # resolution degrades evenly, oldest first: gaps never grow towards the present
    gaps = [b - a for a, b in itertools.pairwise(kept)]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 1
    assert "dropped" in caplog.text and "intermediate MeterValues" in caplog.text


async def test_thinning_keeps_every_connectors_series(state_dir: Path) -> None:
    async with await Journal.open(state_dir, max_bytes=15_000) as journal:
        tx1, tx2 = await start(journal, 1), await start(journal, 2)
        for n in range(40):  # interleaved: a global "every second row" would wipe connector 1
            for connector, local_id in ((1, tx1), (2, tx2)):
                await journal.add_meter_values(
                    local_id,
                    connector_id=connector,
                    payload=sample_payload(connector, n),
                    droppable=True,
                    words=WORDS,
                )
        pending = await journal.pending_messages()
        assert (await journal.queue_stats()).dropped > 0
    series = {
        c: [m.payload["n"] for m in pending if m.droppable and m.connector_id == c] for c in (1, 2)
    }
    for ns in series.values():
        assert ns[0] < 4 and ns[-1] >= 38  # the whole period is still covered
    assert abs(len(series[1]) - len(series[2])) <= 1  # at the same resolution


async def test_start_stop_and_undroppable_values_are_accepted_over_the_cap(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # losing a Stop is worse than exceeding a cap
    caplog.set_level(logging.WARNING)
    async with await Journal.open(state_dir, max_bytes=2_000) as journal:
        for connector in range(1, 6):
            local_id = await start(journal, connector)
            await journal.add_meter_values(
                local_id,
                connector_id=connector,
                payload=sample_payload(connector, 0),
                droppable=False,
                words=WORDS,
            )
            await journal.stop_transaction(
                local_id,
                meter_stop_wh=1,
                timestamp=T0,
                reason="Local",
                id_tag=None,
                payload={"pad": "y" * 300},
                words=WORDS,
            )
        stats = await journal.queue_stats()
    assert stats.pending == 15 and stats.dropped == 0 and stats.bytes > 2_000
    assert "over its cap" in caplog.text


async def test_the_head_and_sealed_messages_are_never_thinned(state_dir: Path) -> None:
    async with await Journal.open(state_dir, max_bytes=5_000) as journal:
        first = await journal.add_meter_values(
            None, connector_id=0, payload=sample_payload(0, 0), droppable=True, words=WORDS
        )
        await journal.seal(first, "on-the-wire", sample_payload(0, 0))
        for n in range(1, 30):
            await journal.add_meter_values(
                None, connector_id=0, payload=sample_payload(0, n), droppable=True, words=WORDS
            )
        head = await journal.next_message()
        assert (await journal.queue_stats()).dropped > 0
    assert head is not None and (head.seq, head.message_id) == (first, "on-the-wire")


def test_default_cap_holds_seven_days_of_minute_samples_for_two_connectors() -> None:
    # A generous periodic sample: energy, power, 3 x current, 3 x voltage, SoC, temperature.
    values = [
        {
            "value": "123456.7",
            "context": "Sample.Periodic",
            "format": "Raw",
            "measurand": "Current.Import",
            "phase": "L1-N",
            "location": "Outlet",
            "unit": "A",
        }
    ] * 10
    payload: dict[str, Any] = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-21T10:00:00.000Z", "sampledValue": values}],
    }
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    seven_days_two_connectors = 7 * 24 * 60 * 2
    assert seven_days_two_connectors * size < DEFAULT_MAX_BYTES
    assert DEFAULT_MAX_BYTES // (2 * 24 * 60 * size) >= 60  # about two months, in fact


async def test_other_must_deliver_messages_queue_in_the_same_order(journal: Journal) -> None:
    # critical security events use the same outbox (DESIGN decision 5, notes (d) 3)
    local_id = await start(journal)
    seq = await journal.add_message(
        "SecurityEventNotification", {"type": "StartupOfTheDevice", "timestamp": T0}, words=WORDS
    )
    head = await journal.next_message()
    assert head is not None and head.local_id == local_id
    await acknowledge(journal, head.seq, {"transactionId": 5, "idTagInfo": {"status": "Accepted"}})
    event = await journal.next_message()
    assert event is not None and (event.seq, event.action, event.transaction_id) == (
        seq,
        "SecurityEventNotification",
        None,
    )
    with pytest.raises(ValueError, match="own journal method"):
        await journal.add_message("StopTransaction", {}, words=WORDS)
