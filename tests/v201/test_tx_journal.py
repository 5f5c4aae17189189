"""2.0.1 transactions on the real journal: what the recorder queues, how the carrier numbers
it when it is sealed (seqNo from 0 without a gap, durable), and the version each transaction
stays in. Every payload is checked against the official TransactionEventRequest schema of
the ``ocpp`` package (not ocppd's generated validators).

The courier's loop is played here by :func:`drain` (next row, complete, seal with its
number, acknowledge), so each step can be looked at; the end-to-end tests run the daemon
against the 2.0.1 central system.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import pytest

from ocppd.features.core.transactions import Recorder
from ocppd.features.tx_versions import TxLogs
from ocppd.features.v201.transactions import V201, Recorder201, V201Carrier
from ocppd.journal import Journal
from ocppd.journal.errors import JournalUnavailable
from ocppd.journal.records import Kind, OutboxMessage, TransactionId
from ocppd.model.auth import AuthStatus, IdTagInfo
from ocppd.model.metering import Context, Sample, SampledValue
from ocppd.model.status import Status
from ocppd.model.token import Origin, TokenKind
from ocppd.model.transaction import StartCause, StopReason

SCHEMAS = Path(ocpp.__file__).parent / "v201" / "schemas"


def schema_errors(action: str, payload: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / f"{action}Request.json").read_text())
    validator = jsonschema.Draft6Validator(schema)
    return [e.message for e in validator.iter_errors(payload)]


class Told:
    """The model's side of the courier (ModelDelivery's shape), keeping what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def started(self, local_id: int, transaction_id: TransactionId, info: IdTagInfo) -> None:
        self.calls.append(("started", local_id, transaction_id, info.status))

    async def start_given_up(self, local_id: int, keep: TransactionId | None = None) -> None:
        self.calls.append(("given up", local_id, keep))

    async def stopped(self, local_id: int) -> None:
        self.calls.append(("stopped", local_id))

    async def remember(self, id_tag: str, info: IdTagInfo) -> None:
        self.calls.append(("remember", id_tag, info.status))

    async def start_answered(self, id_tag: str, info: IdTagInfo) -> None:
        self.calls.append(("answered", id_tag, info.status))


class Online:
    def __init__(self) -> None:
        self.online = True

    def __call__(self) -> bool:
        return self.online


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    j = await Journal.open(tmp_path / "state", inline=True)
    try:
        yield j
    finally:
        await j.aclose()


def untracked(action: str, payload: dict[str, Any]) -> None:
    raise AssertionError(f"{action} sent untracked in a transaction test")


async def drain(
    journal: Journal, carrier: V201Carrier, answer: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Send the whole queue as the courier does; returns the payloads in send order."""
    sent = []
    while (message := await journal.next_message()) is not None:
        sent.append(await send_one(journal, carrier, message, answer or {}))
    return sent


async def send_one(
    journal: Journal, carrier: V201Carrier, message: OutboxMessage, answer: dict[str, Any]
) -> dict[str, Any]:
    assert message.protocol == V201
    payload = message.payload
    if message.message_id is None:
        completed = carrier.complete(message)
        assert completed is not None
        payload, number = completed
        await journal.seal(message.seq, f"m{message.seq}", payload, number=number)
    assert not schema_errors(message.action, payload), schema_errors(message.action, payload)
    if message.kind is Kind.TX_START:
        transaction_id, status = carrier.acknowledgement(message, answer)
        await journal.acknowledge(message.seq, transaction_id=transaction_id, start_status=status)
    else:
        await journal.acknowledge(message.seq)
    await carrier.delivered(message, payload, answer)
    return payload


def sample(context: Context, wh: int, at: str = "2026-12-02T10:05:00Z") -> Sample:
    return Sample(
        at,
        (
            SampledValue(str(wh), "Energy.Active.Import.Register", "Wh", context),
            SampledValue("7400.5", "Power.Active.Import", "W", context),
            SampledValue("21.5", "Temperature", "Celsius", context, location="Body"),
        ),
    )


async def a_session(recorder: Recorder201, *, samples: int = 1) -> tuple[int, str]:
    """One transaction's life; returns its local id and the transactionId made for it."""
    local_id = await recorder.start(
        connector_id=2,
        id_tag="04A2B3C4",
        meter_start_wh=1000,
        timestamp="2026-12-02T10:00:00Z",
        reservation_id=5,
        cause=StartCause.CABLE,
        remote_start_id=None,
    )
    transaction_id = recorder.known_id(local_id)
    assert isinstance(transaction_id, str)
    await recorder.changed(local_id, status=Status.CHARGING, timestamp="2026-12-02T10:00:01Z")
    await recorder.changed(local_id, status=Status.CHARGING, timestamp="2026-12-02T10:00:02Z")
    for n in range(samples):
        await recorder.meter_values(
            local_id, connector_id=2, samples=[sample(Context.PERIODIC, 1100 + n)], droppable=True
        )
    await recorder.stop(
        local_id,
        meter_stop_wh=2500,
        timestamp="2026-12-02T11:00:00Z",
        reason=StopReason.LOCAL,
        id_tag="04A2B3C4",
        transaction_data=[sample(Context.BEGIN, 1000), sample(Context.END, 2500)],
    )
    return local_id, transaction_id


async def test_a_transaction_is_started_updated_and_ended_with_seq_no_from_0(
    journal: Journal,
) -> None:
    """TC_E_01_CS-like (start with the cable last), E02 (charging state), J02 (periodic
    values), E06 (stopped by the driver's tag): one transactionId, seqNo 0..4."""
    online = Online()
    recorder = Recorder201(journal, untracked, JournalUnavailable, online)
    told = Told()
    local_id, transaction_id = await a_session(recorder)
    assert 1 <= len(transaction_id) <= 36
    sent = await drain(journal, V201Carrier(told), {"idTokenInfo": {"status": "Accepted"}})

    assert [p["eventType"] for p in sent] == ["Started", "Updated", "Updated", "Ended"]
    assert [p["seqNo"] for p in sent] == [0, 1, 2, 3]
    assert {p["transactionInfo"]["transactionId"] for p in sent} == {transaction_id}
    first, state, values, last = sent
    assert first["triggerReason"] == "CablePluggedIn"
    assert first["evse"] == {"id": 2, "connectorId": 1}
    assert first["idToken"] == {"idToken": "04A2B3C4", "type": "ISO14443"}
    assert first["reservationId"] == 5
    assert first["transactionInfo"]["chargingState"] == "EVConnected"
    assert first["meterValue"][0]["sampledValue"][0] == {
        "value": 1000,
        "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"},
    }
    assert state["triggerReason"] == "ChargingStateChanged"
    assert state["transactionInfo"] == {
        "transactionId": transaction_id,
        "chargingState": "Charging",
    }
    assert values["triggerReason"] == "MeterValuePeriodic"
    measured = values["meterValue"][0]["sampledValue"]
    assert [v["measurand"] for v in measured] == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
    ]
    assert measured[1]["value"] == 7400.5  # a number in 2.0.1; Temperature has no 2.0.1 measurand
    assert last["triggerReason"] == "StopAuthorized"
    assert last["transactionInfo"]["stoppedReason"] == "Local"
    assert last["transactionInfo"]["chargingState"] == "EVConnected"  # no longer Charging
    assert [mv["sampledValue"][0]["context"] for mv in last["meterValue"]] == [
        "Transaction.Begin",
        "Transaction.End",
    ]
    assert not any("offline" in p for p in sent)
    assert told.calls == [
        ("started", local_id, transaction_id, AuthStatus.ACCEPTED),
        ("answered", "04A2B3C4", AuthStatus.ACCEPTED),
        ("stopped", local_id),
        ("remember", "04A2B3C4", AuthStatus.ACCEPTED),
    ]
    record = await journal.transaction(local_id)
    assert record is not None and record.state == "done" and record.protocol == V201
    assert record.transaction_id == transaction_id and record.numbered == 4


async def test_events_that_happen_offline_say_so(journal: Journal) -> None:
    """E12 (TC_E_13_CS-like): queued while offline, delivered later in order, offline true."""
    online = Online()
    online.online = False
    recorder = Recorder201(journal, untracked, JournalUnavailable, online)
    await a_session(recorder, samples=2)
    sent = await drain(journal, V201Carrier(Told()))
    assert [p["seqNo"] for p in sent] == list(range(5))
    assert all(p["offline"] is True for p in sent)


async def test_a_token_the_central_system_refuses_is_told_to_the_model(journal: Journal) -> None:
    recorder = Recorder201(journal, untracked, JournalUnavailable, Online())
    told = Told()
    local_id = await recorder.start(
        connector_id=1,
        id_tag="BAD",
        meter_start_wh=0,
        timestamp="2026-12-02T10:00:00Z",
        reservation_id=None,
    )
    message = await journal.next_message()
    assert message is not None
    await send_one(journal, V201Carrier(told), message, {"idTokenInfo": {"status": "NoCredit"}})
    assert told.calls[0] == (
        "started",
        local_id,
        recorder.known_id(local_id),
        AuthStatus.NO_CREDIT,
    )
    record = await journal.transaction(local_id)
    assert record is not None and record.start_status == AuthStatus.NO_CREDIT.value


async def test_thinned_samples_leave_no_gap_in_seq_no(tmp_path: Path) -> None:
    """Numbers are given when a row is sealed: samples thinned under the size cap take
    none, so what is delivered is numbered without a gap."""
    journal = await Journal.open(tmp_path / "state", inline=True, max_bytes=6000)
    try:
        recorder = Recorder201(journal, untracked, JournalUnavailable, Online())
        await a_session(recorder, samples=40)
        stats = await journal.queue_stats()
        assert stats.dropped > 0
        sent = await drain(journal, V201Carrier(Told()))
        assert len(sent) == 3 + 40 - stats.dropped  # Started, one state change, 40, Ended
        assert [p["seqNo"] for p in sent] == list(range(len(sent)))
        assert sent[0]["eventType"] == "Started" and sent[-1]["eventType"] == "Ended"
    finally:
        await journal.aclose()


async def test_a_number_is_given_once_and_survives_a_restart(tmp_path: Path) -> None:
    """A row sealed with its number and not answered is resent after a restart with the
    same number and bytes; the next row gets the next number."""
    state = tmp_path / "state"
    journal = await Journal.open(state, inline=True)
    recorder = Recorder201(journal, untracked, JournalUnavailable, Online())
    carrier = V201Carrier(Told())
    await a_session(recorder)
    head = await journal.next_message()
    assert head is not None and head.next_number == 0
    completed = carrier.complete(head)
    assert completed is not None
    payload, number = completed
    await journal.seal(head.seq, "sealed-1", payload, number=number)
    with pytest.raises(ValueError, match="not its next"):
        following = await journal.pending_messages(limit=2)
        await journal.seal(following[1].seq, "sealed-2", following[1].payload, number=0)
    await journal.aclose()

    journal = await Journal.open(state, inline=True)
    try:
        again = await journal.next_message()
        assert again is not None and again.message_id == "sealed-1" and again.payload == payload
        assert again.next_number == 1
        sent = await drain(journal, carrier)
        assert [p["seqNo"] for p in sent] == [0, 1, 2, 3]
        assert sent[0] == payload
    finally:
        await journal.aclose()


async def test_each_transaction_stays_in_the_version_it_started_in(tmp_path: Path) -> None:
    """Decision 5: a 1.6 transaction started before the link changed version ends in 1.6,
    a 2.0.1 one in 2.0.1, also when the stop comes after a restart (power-loss recovery
    reads the version from the ledger)."""
    state = tmp_path / "state"
    journal = await Journal.open(state, inline=True)
    now = ["ocpp1.6"]

    async def protocol_of(local_id: int) -> str | None:
        tx = await journal.transaction(local_id)
        return None if tx is None else tx.protocol

    def logs() -> TxLogs:
        return TxLogs(
            {
                "ocpp1.6": Recorder(journal, untracked, JournalUnavailable),
                V201: Recorder201(journal, untracked, JournalUnavailable, Online()),
            },
            lambda: now[0],
            protocol_of,
            JournalUnavailable,
        )

    txlog = logs()
    old = await txlog.start(
        connector_id=1, id_tag="A", meter_start_wh=0, timestamp="t1", reservation_id=None
    )
    now[0] = V201
    new = await txlog.start(
        connector_id=2, id_tag="B", meter_start_wh=0, timestamp="t2", reservation_id=None
    )
    assert txlog.known_id(old) is None and isinstance(txlog.known_id(new), str)
    await txlog.stop(
        old,
        meter_stop_wh=10,
        timestamp="t3",
        reason=StopReason.REMOTE,
        id_tag=None,
        transaction_data=[],
    )
    restarted = logs()  # a new process: nothing in memory
    await restarted.stop(
        new,
        meter_stop_wh=20,
        timestamp="t4",
        reason=StopReason.POWER_LOSS,
        id_tag=None,
        transaction_data=[],
    )
    rows = [(m.protocol, m.action, m.kind) for m in await journal.pending_messages()]
    assert rows == [
        ("ocpp1.6", "StartTransaction", Kind.TX_START),
        (V201, "TransactionEvent", Kind.TX_START),
        ("ocpp1.6", "StopTransaction", Kind.TX_STOP),
        (V201, "TransactionEvent", Kind.TX_STOP),
    ]
    ended = (await journal.pending_messages())[3].payload
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert "chargingState" not in ended["transactionInfo"]  # not known after a restart
    assert ended["triggerReason"] == "AbnormalCondition"
    assert ended["meterValue"][0]["sampledValue"][0]["value"] == 20
    await journal.aclose()


async def test_a_damaged_start_or_stop_is_rebuilt_from_the_ledger(journal: Journal) -> None:
    recorder = Recorder201(journal, untracked, JournalUnavailable, Online())
    local_id, _ = await a_session(recorder, samples=0)
    record = await journal.transaction(local_id)
    assert record is not None
    carrier = V201Carrier(Told())
    rows = await journal.pending_messages()
    for message in (rows[0], rows[-1]):
        made = carrier.rebuilt(message, record)
        assert made is not None
        action, payload = made
        payload = {**payload, "seqNo": 0}
        assert action == "TransactionEvent" and not schema_errors(action, payload)
        assert payload["transactionInfo"]["transactionId"] == record.transaction_id
    _, ended = carrier.rebuilt(rows[-1], record) or ("", {})
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["meterValue"][0]["sampledValue"][0]["value"] == 2500


async def test_the_token_s_kind_is_its_2_0_1_type(journal: Journal) -> None:
    """A start whose authorisation says how the token came (the model's origin: its kind
    and further identifiers) tells it in idToken; without one, a card (ISO14443)."""

    recorder = Recorder201(journal, untracked, JournalUnavailable, Online())
    await recorder.start(
        connector_id=1,
        id_tag="1234",
        meter_start_wh=0,
        timestamp="2026-12-02T10:00:00Z",
        reservation_id=None,
        origin=Origin(TokenKind.KEY_CODE, (("DE*ABC*C1234", "eMAID"),)),
    )
    message = await journal.next_message()
    assert message is not None
    token = message.payload["idToken"]
    assert token == {
        "idToken": "1234",
        "type": "KeyCode",
        "additionalInfo": [{"additionalIdToken": "DE*ABC*C1234", "type": "eMAID"}],
    }
    assert not schema_errors("TransactionEvent", {**message.payload, "seqNo": 0})
