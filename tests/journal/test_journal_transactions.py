"""The ledger and the transaction messages: order, identity, idempotence.

Each test names the behaviour; the libocpp / MicroOcpp bug it guards is in the name
or the first comment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from words16 import WORDS, acknowledge

from ocppd.journal import ConnectorBusy, Journal, UnknownTransaction

T0 = "2026-11-21T10:00:00Z"


async def start(journal: Journal, connector_id: int = 1, meter: int = 1000) -> int:
    return await journal.start_transaction(
        connector_id=connector_id,
        id_tag="04a2b3c4",
        meter_start_wh=meter,
        timestamp=T0,
        reservation_id=None,
        payload={"connectorId": connector_id, "idTag": "04a2b3c4", "meterStart": meter},
        words=WORDS,
    )


async def stop(journal: Journal, local_id: int, meter: int = 2000, reason: str = "Local") -> int:
    return await journal.stop_transaction(
        local_id,
        meter_stop_wh=meter,
        timestamp="2026-11-21T11:00:00Z",
        reason=reason,
        id_tag=None,
        payload={"meterStop": meter, "timestamp": "2026-11-21T11:00:00Z", "reason": reason},
        words=WORDS,
    )


async def sample(journal: Journal, local_id: int | None, n: int, *, droppable: bool = True) -> int:
    return await journal.add_meter_values(
        local_id,
        connector_id=1,
        payload={"connectorId": 1, "n": n},
        droppable=droppable,
        words=WORDS,
    )


async def drain(journal: Journal) -> list[tuple[str, int | None, dict[str, Any]]]:
    """Send everything like the courier (answers with transactionId 100 + local id)."""
    sent = []
    while (msg := await journal.next_message()) is not None:
        sent.append((msg.action, msg.transaction_id, msg.payload))
        response: dict[str, Any] = {}
        if msg.action == "StartTransaction":
            response = {
                "transactionId": 100 + (msg.local_id or 0),
                "idTagInfo": {"status": "Accepted"},
            }
        await acknowledge(journal, msg.seq, response)
    return sent


async def test_start_commits_ledger_row_and_start_message_together(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        local_id = await start(journal)
    async with await Journal.open(state_dir) as journal:
        tx = await journal.transaction(local_id)
        msg = await journal.next_message()
    assert tx is not None
    assert (tx.state, tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.started_at) == (
        "running",
        1,
        "04a2b3c4",
        1000,
        T0,
    )
    assert tx.transaction_id is None
    assert msg is not None
    assert (msg.action, msg.local_id, msg.payload["meterStart"]) == (
        "StartTransaction",
        local_id,
        1000,
    )


async def test_start_meter_values_stop_come_out_in_journal_order(journal: Journal) -> None:
    first = await start(journal, connector_id=1)
    other = await start(journal, connector_id=2)
    await sample(journal, first, 1)
    await sample(journal, other, 2)
    await stop(journal, first)
    second = await start(journal, connector_id=1, meter=2000)
    await sample(journal, second, 3)
    await stop(journal, other)
    await stop(journal, second, meter=3000)

    sent = await drain(journal)
    assert [(action, tx_id) for action, tx_id, _ in sent] == [
        ("StartTransaction", None),
        ("StartTransaction", None),
        ("MeterValues", 100 + first),
        ("MeterValues", 100 + other),
        ("StopTransaction", 100 + first),
        ("StartTransaction", None),
        ("MeterValues", 100 + second),
        ("StopTransaction", 100 + other),
        ("StopTransaction", 100 + second),
    ]


async def test_stop_waits_with_no_transaction_id_while_its_start_is_unanswered(
    journal: Journal,
) -> None:
    local_id = await start(journal)
    await sample(journal, local_id, 1)
    await stop(journal, local_id)
    start_msg, meter_msg, stop_msg = await journal.pending_messages()
    assert meter_msg.transaction_id is None and stop_msg.transaction_id is None
    await acknowledge(
        journal, start_msg.seq, {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}
    )
    head = await journal.next_message()
    assert head is not None and (head.seq, head.transaction_id) == (meter_msg.seq, 42)


async def test_offline_start_stopped_online_gets_the_assigned_id_not_minus_one(
    journal: Journal,
) -> None:
    # libocpp #495: StopTransaction sent with -1 when started offline and stopped online
    local_id = await start(journal)  # offline: nothing answered
    await stop(journal, local_id)  # still queued behind the Start
    sent = await drain(journal)  # the link is back
    assert [(a, t) for a, t, _ in sent] == [
        ("StartTransaction", None),
        ("StopTransaction", 100 + local_id),
    ]
    tx = await journal.transaction(local_id)
    assert tx is not None and (tx.transaction_id, tx.start_status, tx.state) == (
        100 + local_id,
        "Accepted",
        "done",
    )


async def test_given_up_start_sends_the_rest_of_its_transaction_with_minus_one(
    journal: Journal,
) -> None:
    # OCPP 1.6 errata 3.18
    local_id = await start(journal)
    await sample(journal, local_id, 1)
    await stop(journal, local_id)
    head = await journal.next_message()
    assert head is not None
    for _ in range(3):
        await journal.record_failure(head.seq, "InternalError")
    await journal.give_up(head.seq, "TransactionMessageAttempts reached", fallback_id=-1)
    sent = await drain(journal)
    assert [(a, t) for a, t, _ in sent] == [("MeterValues", -1), ("StopTransaction", -1)]
    tx = await journal.transaction(local_id)
    assert tx is not None and (tx.transaction_id, tx.state) == (-1, "done")


async def test_resend_after_callerror_reuses_the_sealed_id_so_the_conf_still_matches(
    journal: Journal,
) -> None:
    # libocpp #688: StartTransaction.conf not matched after a retry changed the message id
    local_id = await start(journal)
    msg = await journal.next_message()
    assert msg is not None
    await journal.seal(msg.seq, "id-1", msg.payload)
    assert await journal.record_failure(msg.seq, "GenericError") == 1
    again = await journal.next_message()
    assert again is not None
    assert (again.seq, again.message_id, again.payload, again.attempts) == (
        msg.seq,
        "id-1",
        msg.payload,
        1,
    )
    await acknowledge(journal, again.seq, {"transactionId": 7, "idTagInfo": {"status": "Blocked"}})
    tx = await journal.transaction(local_id)
    assert tx is not None and (tx.transaction_id, tx.start_status) == (7, "Blocked")


async def test_second_stop_returns_the_first_seq_and_changes_nothing(state_dir: Path) -> None:
    # libocpp #239 / #907: StopTransaction sent twice after a reboot
    async with await Journal.open(state_dir) as journal:
        local_id = await start(journal)
        seq = await stop(journal, local_id, meter=2000, reason="Local")
        assert await stop(journal, local_id, meter=2500, reason="PowerLoss") == seq
    async with await Journal.open(state_dir) as journal:  # "after the reboot"
        assert await journal.open_transactions() == []
        assert await stop(journal, local_id, meter=2600, reason="PowerLoss") == seq
        stops = [m for m in await journal.pending_messages() if m.action == "StopTransaction"]
        tx = await journal.transaction(local_id)
    assert [m.seq for m in stops] == [seq]
    assert stops[0].payload["reason"] == "Local"
    assert tx is not None and (tx.meter_stop_wh, tx.stop_reason) == (2000, "Local")


async def test_stop_after_its_conf_is_still_idempotent(journal: Journal) -> None:
    local_id = await start(journal)
    seq = await stop(journal, local_id)
    await drain(journal)
    assert await stop(journal, local_id, reason="PowerLoss") == seq
    assert await journal.next_message() is None


async def test_a_connector_runs_one_transaction_at_a_time(journal: Journal) -> None:
    local_id = await start(journal, connector_id=1)
    with pytest.raises(ConnectorBusy) as caught:
        await start(journal, connector_id=1)
    assert caught.value.running_local_id == local_id
    await start(journal, connector_id=2)  # another connector is fine
    await stop(journal, local_id)
    await start(journal, connector_id=1)


async def test_unknown_local_id_is_refused(journal: Journal) -> None:
    with pytest.raises(UnknownTransaction):
        await stop(journal, 99)
    with pytest.raises(UnknownTransaction):
        await journal.record_meter(99, energy_wh=1.0, timestamp=T0)
    with pytest.raises(UnknownTransaction):
        await sample(journal, 99, 1)
    assert await journal.next_message() is None


async def test_meter_checkpoint_is_kept_for_power_loss_recovery(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        local_id = await start(journal)
        await journal.record_meter(local_id, energy_wh=1234.5, timestamp="2026-11-21T10:30:00Z")
        await journal.record_meter(local_id, energy_wh=1300.0, timestamp="2026-11-21T10:31:00Z")
        before = (await journal.queue_stats()).pending
    async with await Journal.open(state_dir) as journal:
        [tx] = await journal.open_transactions()
        assert (tx.local_id, tx.meter_last_wh, tx.meter_last_at) == (
            local_id,
            1300.0,
            "2026-11-21T10:31:00Z",
        )
        assert (await journal.queue_stats()).pending == before  # no outbox row
        await stop(journal, local_id, meter=1300, reason="PowerLoss")
        await journal.record_meter(local_id, energy_wh=9999.0, timestamp="2026-11-21T12:00:00Z")
        tx2 = await journal.transaction(local_id)
    assert tx2 is not None and tx2.meter_last_wh == 1300.0  # a late reading changes nothing


async def test_ledger_lists_all_transactions_and_the_running_ones(journal: Journal) -> None:
    a = await start(journal, connector_id=1)
    b = await start(journal, connector_id=2)
    await stop(journal, a)
    assert [tx.local_id for tx in await journal.open_transactions()] == [b]
    assert [tx.local_id for tx in await journal.transactions()] == [a, b]
    assert [tx.local_id for tx in await journal.transactions(since_local_id=a)] == [b]
    assert (await journal.transaction(a)) is not None
    assert await journal.transaction(12345) is None


async def test_meter_values_without_a_transaction_carry_no_transaction_id(journal: Journal) -> None:
    # connector 0 / clock-aligned main-meter values (ERR16 3.16)
    seq = await journal.add_meter_values(
        None,
        connector_id=0,
        payload={"connectorId": 0, "meterValue": []},
        droppable=True,
        words=WORDS,
    )
    msg = await journal.next_message()
    assert msg is not None and (msg.seq, msg.local_id, msg.transaction_id) == (seq, None, None)
