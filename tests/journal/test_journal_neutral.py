"""The journal speaks no OCPP version (migration 0003): kinds, protocols, ids of any type.

Rows have a kind (tx-start, tx-event, tx-stop, other) the journal acts on, and the
protocol and action they were recorded in, which it keeps as data; a transaction id
keeps the type it was given. A journal written by main before 0003 migrates and
drains exactly as that daemon would have sent it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import trio
from words16 import WORDS, acknowledge

from ocppd.journal import Journal, Kind, OpenOutcome, TxWords
from ocppd.journal.schema import Migration, bundled_migrations, migrate, user_version

T0 = "2026-11-21T10:00:00Z"
BUNDLED = bundled_migrations()
LATEST = len(BUNDLED)
# a 2.0.1-like protocol: one action for the whole life of a transaction
EVENTS = TxWords(
    "ocpp2.0.1", start="TransactionEvent", event="TransactionEvent", stop="TransactionEvent"
)


async def start(journal: Journal, words: TxWords = WORDS, **extra: Any) -> int:
    return await journal.start_transaction(
        connector_id=1,
        id_tag="TAG",
        meter_start_wh=0,
        timestamp=T0,
        reservation_id=None,
        payload={"connectorId": 1},
        words=words,
        **extra,
    )


async def stop(journal: Journal, local_id: int, words: TxWords = WORDS) -> int:
    return await journal.stop_transaction(
        local_id,
        meter_stop_wh=10,
        timestamp=T0,
        reason="Local",
        id_tag=None,
        payload={"meterStop": 10},
        words=words,
    )


async def test_rows_carry_their_kind_protocol_and_action(journal: Journal) -> None:
    local_id = await start(journal)
    await journal.add_meter_values(
        local_id, connector_id=1, payload={}, droppable=True, words=WORDS
    )
    await journal.add_meter_values(None, connector_id=1, payload={}, droppable=False, words=WORDS)
    await stop(journal, local_id)
    await journal.add_message("SecurityEventNotification", {}, words=WORDS)
    rows = [(m.kind, m.protocol, m.action) for m in await journal.pending_messages()]
    assert rows == [
        (Kind.TX_START, "ocpp1.6", "StartTransaction"),
        (Kind.TX_EVENT, "ocpp1.6", "MeterValues"),
        (Kind.OTHER, "ocpp1.6", "MeterValues"),  # belongs to no transaction
        (Kind.TX_STOP, "ocpp1.6", "StopTransaction"),
        (Kind.OTHER, "ocpp1.6", "SecurityEventNotification"),
    ]


async def test_one_action_for_start_event_and_stop_is_told_apart_by_kind(journal: Journal) -> None:
    local_id = await start(journal, EVENTS, transaction_id="f81d4fae-7dec")
    await journal.add_meter_values(
        local_id, connector_id=1, payload={"seq": 1}, droppable=True, words=EVENTS
    )
    first = await stop(journal, local_id, EVENTS)
    assert await stop(journal, local_id, EVENTS) == first  # still one stop per transaction
    pending = await journal.pending_messages()
    assert [(m.kind, m.action) for m in pending] == [
        (Kind.TX_START, "TransactionEvent"),
        (Kind.TX_EVENT, "TransactionEvent"),
        (Kind.TX_STOP, "TransactionEvent"),
    ]
    assert {m.transaction_id for m in pending} == {"f81d4fae-7dec"}  # known from the start
    with pytest.raises(ValueError, match="own journal method"):
        await journal.add_message("TransactionEvent", {}, words=EVENTS)


async def test_transaction_ids_keep_the_type_they_were_given(state_dir: Path) -> None:
    async with await Journal.open(state_dir) as journal:
        numeric_text = await start(journal, EVENTS, transaction_id="123")  # a string, all digits
        await stop(journal, numeric_text, EVENTS)
        assigned = await start(journal)
        await stop(journal, assigned)
    async with await Journal.open(state_dir) as journal:
        head = await journal.next_message()
        assert head is not None
        await journal.acknowledge(head.seq, start_status="Accepted")  # its id came at the start
        await journal.acknowledge((await journal.next_message()).seq)  # type: ignore[union-attr]
        start16 = await journal.next_message()
        assert start16 is not None and start16.transaction_id is None
        await acknowledge(
            journal, start16.seq, {"transactionId": 123, "idTagInfo": {"status": "Accepted"}}
        )
        text, number = await journal.transactions()
    assert (text.transaction_id, text.start_status, text.state) == ("123", "Accepted", "done")
    assert (number.transaction_id, number.start_status) == (123, "Accepted")
    assert type(number.transaction_id) is int and type(text.transaction_id) is str


async def test_a_given_up_start_takes_the_fallback_only_while_it_has_no_id(
    journal: Journal,
) -> None:
    unanswered = await start(journal)
    head = await journal.next_message()
    assert head is not None
    await journal.give_up(head.seq, "attempts", fallback_id=-1)
    await stop(journal, unanswered)
    named = await start(journal, EVENTS, transaction_id="cp-2")
    head = await journal.next_message()
    assert head is not None and head.kind is Kind.TX_STOP
    await journal.acknowledge(head.seq)
    head = await journal.next_message()
    assert head is not None and head.local_id == named
    await journal.give_up(head.seq, "attempts", fallback_id=-1)
    ids = {tx.local_id: tx.transaction_id for tx in await journal.transactions()}
    assert ids == {unanswered: -1, named: "cp-2"}
    dead = await journal.dead_letters()
    assert [(d.kind, d.protocol, d.action) for d in dead] == [
        (Kind.TX_START, "ocpp1.6", "StartTransaction"),
        (Kind.TX_START, "ocpp2.0.1", "TransactionEvent"),
    ]


# --- 0003 on top of whatever came before ------------------------------------------------------

EARLIER = Migration(
    2,
    "columns_added_before_0003",
    """
    ALTER TABLE outbox ADD COLUMN crc INTEGER;
    ALTER TABLE transactions ADD COLUMN crc INTEGER;
    ALTER TABLE transactions ADD COLUMN origin TEXT;
    ALTER TABLE dead_letters ADD COLUMN note TEXT;
    CREATE UNIQUE INDEX transactions_origin ON transactions (origin) WHERE origin IS NOT NULL;
    """,
)
SEED = """
INSERT INTO transactions (connector_id, id_tag, meter_start_wh, started_at, start_seq,
                          transaction_id, crc, origin)
    VALUES (1, 'A', 100, '2026-11-21T10:00:00Z', 1, 4711, 11, 'x:1'),
           (2, 'B', 200, '2026-11-21T10:00:00Z', 2, NULL, 22, NULL);
INSERT INTO outbox (action, local_id, connector_id, payload, size, crc)
    VALUES ('MeterValues', 1, 1, '{"n":1}', 7, 101),
           ('StartTransaction', 2, 2, '{"n":2}', 7, 102),
           ('StopTransaction', 1, 1, '{"n":3}', 7, 103),
           ('MeterValues', NULL, 0, '{"n":4}', 7, 104),
           ('SecurityEventNotification', NULL, NULL, '{"n":5}', 7, 105);
INSERT INTO dead_letters (seq, action, local_id, connector_id, payload, attempts, reason,
                          queued_at, note)
    VALUES (9, 'StartTransaction', 1, 1, '{}', 3, 'gave up', '2026-11-21T10:00:00Z', 'kept');
"""


def test_0003_applies_on_top_of_columns_an_earlier_migration_added(tmp_path: Path) -> None:
    """What 0003 does not name (issue 18's 0002 adds checksum columns, say) stays as it was."""
    neutral = BUNDLED[2]
    assert neutral.version == 3
    conn = sqlite3.connect(tmp_path / "journal.db", isolation_level=None)
    try:
        migrate(conn, [BUNDLED[0], EARLIER])
        conn.executescript(f"BEGIN; {SEED} COMMIT;")
        migrate(conn, [BUNDLED[0], EARLIER, dataclasses.replace(neutral)])
        assert user_version(conn) == 3
        assert conn.execute(
            "SELECT local_id, transaction_id, typeof(transaction_id), crc, origin "
            "FROM transactions ORDER BY local_id"
        ).fetchall() == [(1, 4711, "integer", 11, "x:1"), (2, None, "null", 22, None)]
        assert conn.execute(
            "SELECT seq, kind, protocol, action, crc FROM outbox ORDER BY seq"
        ).fetchall() == [
            (1, "tx-event", "ocpp1.6", "MeterValues", 101),
            (2, "tx-start", "ocpp1.6", "StartTransaction", 102),
            (3, "tx-stop", "ocpp1.6", "StopTransaction", 103),
            (4, "other", "ocpp1.6", "MeterValues", 104),
            (5, "other", "ocpp1.6", "SecurityEventNotification", 105),
        ]
        assert conn.execute("SELECT kind, protocol, note FROM dead_letters").fetchall() == [
            ("tx-start", "ocpp1.6", "kept")
        ]
        # a second start of a transaction is still refused, now by kind
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO outbox (kind, action, local_id, payload, size) "
                "VALUES ('tx-start', 'TransactionEvent', 2, '{}', 2)"
            )
        conn.execute("UPDATE transactions SET transaction_id = '0042' WHERE local_id = 2")
        assert conn.execute(
            "SELECT transaction_id, typeof(transaction_id) FROM transactions WHERE local_id = 2"
        ).fetchone() == ("0042", "text")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


# --- a journal made by main before 0003 ---------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
V16_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")


@pytest.mark.parametrize(("made_by", "schema"), [("b9cc467", 1), ("c84ccf3", 3)])
async def test_a_journal_written_by_main_migrates_and_drains_unchanged(
    nursery, start_csms, autojump_clock, tmp_path: Path, made_by: str, schema: int
) -> None:
    """main at b9cc467 (schema 1) and at c84ccf3 (schema 3) made these journals: A stopped
    offline, B's Start given up (-1), C started offline (fixtures/make_main_journal_*.py).
    After the upgrade every row is sealed (migration 0004) and the queue goes out exactly as
    that daemon would have sent it, same ids and bytes."""
    from tests.harness import CP_ID, charger

    fixture = FIXTURES / f"journal-main-{made_by}"
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(fixture.with_suffix(".db"), state / "journal.db")
    old = json.loads(fixture.with_suffix(".json").read_text())
    kinds = {"StartTransaction": Kind.TX_START, "StopTransaction": Kind.TX_STOP}
    async with await Journal.open(state) as journal:
        assert journal.report.outcome is OpenOutcome.MIGRATED
        assert (journal.report.schema_from, journal.report.schema_to) == (schema, LATEST)
        pending = await journal.pending_messages()
        assert len(pending) == (await journal.queue_stats()).pending  # none failed its check
        assert all(tx.intact for tx in await journal.transactions())
        assert [(m.action, m.protocol) for m in pending] == [
            (s["action"], "ocpp1.6") for s in old["send"]
        ]
        assert [m.kind for m in pending] == [kinds.get(m.action, Kind.TX_EVENT) for m in pending]
        ledger = [dataclasses.asdict(tx) for tx in await journal.transactions()]
        assert [{k: tx[k] for k in was} for tx, was in zip(ledger, old["ledger"], strict=True)] == (
            old["ledger"]
        )
        assert [type(tx["transaction_id"]) for tx in ledger] == [int, int, type(None)]
        [dead] = await journal.dead_letters()
        assert {
            k: v for k, v in dataclasses.asdict(dead).items() if k in old["dead_letters"][0]
        } == (old["dead_letters"][0])
        assert (dead.kind, dead.protocol) == (Kind.TX_START, "ocpp1.6")
    csms = await start_csms()
    async with charger(nursery, csms, state_dir=state, connectors=2) as cp:
        await cp.registered()
        with trio.fail_after(600):
            while len([c for c in csms.all_calls(CP_ID) if c.action == "StopTransaction"]) < 3:
                await trio.sleep(1)
    sent = [c for c in csms.all_calls(CP_ID) if c.action in V16_ACTIONS]
    assert len(sent) == len(old["send"]) + 2
    assigned = set()  # the id C's Start was answered with, seen in its samples
    for call, want in zip(sent, old["send"], strict=False):
        payload = dict(want["payload"])
        if want["waits_for_start"]:  # its transactionId comes from the Start's answer now
            payload["transactionId"] = call.payload["transactionId"]
            assert call.payload["transactionId"] not in (None, -1)
            assigned.add(call.payload["transactionId"])
        assert (call.action, call.unique_id, call.payload) == (want["action"], want["id"], payload)
    # then the recovery of the two transactions that were running, as before the upgrade
    recovered = sent[len(old["send"]) :]
    assert [(c.action, c.payload["reason"]) for c in recovered] == [
        ("StopTransaction", "PowerLoss"),
        ("StopTransaction", "PowerLoss"),
    ]
    assert len(assigned) == 1
    assert {c.payload["transactionId"] for c in recovered} == {-1, *assigned}


async def test_the_next_message_of_one_protocol_passes_over_the_others(journal: Journal) -> None:
    """What a courier of one version reads: its rows in journal order, the rows of other
    versions left queued; the counts per version are what ``ocppctl status`` shows."""
    first = await journal.add_message("SecurityEventNotification", {"n": 1}, words=EVENTS)
    old = await journal.add_message("SecurityEventNotification", {"n": 2}, words=WORDS)
    later = await journal.add_message("SecurityEventNotification", {"n": 3}, words=EVENTS)
    older = await journal.add_message("SecurityEventNotification", {"n": 4}, words=WORDS)
    stats = await journal.queue_stats()
    assert stats.by_protocol == (("ocpp2.0.1", 2, first), ("ocpp1.6", 2, old))
    head = await journal.next_message("ocpp1.6")
    assert head is not None and head.seq == old
    following = await journal.acknowledge(head.seq, protocol="ocpp1.6")
    assert following is not None and following.seq == older
    assert await journal.acknowledge(older, protocol="ocpp1.6") is None
    assert await journal.next_message("ocpp1.6") is None
    head = await journal.next_message()
    assert head is not None and head.seq == first
    assert [m.seq for m in await journal.pending_messages()] == [first, later]
    assert (await journal.queue_stats()).by_protocol == (("ocpp2.0.1", 2, first),)
