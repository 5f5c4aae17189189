"""Transaction messages: journaled before their first send, delivered in order, exactly as made.

:class:`Recorder` is the model's TransactionLog: it turns a start, a sample or a stop
into the OCPP 1.6 payload and commits it to the journal's outbox in the same unit
as the ledger row. :class:`Courier` drains the outbox over the session, one message
at a time in journal order, only after BootNotification was Accepted:

- the transactionId of a StopTransaction or MeterValues is filled in at send time
  from the ledger (a Stop never carries a placeholder: it waits behind its Start);
- a clock placeholder (time unknown when the event happened) is resolved, then the
  message id and the final payload are sealed in the journal before the first
  send, so a resend after a timeout or a lost link is byte-identical;
- a CALLERROR (or a timeout while the link stays up) counts an attempt; after
  ``TransactionMessageAttempts`` the message becomes a dead letter, and a given-up
  StartTransaction makes the rest of its transaction use transactionId -1;
- a lost link leaves the message where it is, for the next connection.

The journal is version-neutral: its rows have a kind (tx-start, tx-event, tx-stop,
other) and the protocol they were recorded in; `V16_WORDS` tells it the 1.6 actions,
and the courier reads the 1.6 answers for it (the transactionId and the verdict of a
StartTransaction.conf).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import trio

from ocppd.clock import Clock, resolve_payload
from ocppd.features.core.words import STOP_REASON
from ocppd.journal.records import (
    Kind,
    OutboxMessage,
    QueueStats,
    TransactionId,
    TxRecord,
    TxWords,
)
from ocppd.logs import fields
from ocppd.model.auth import Authorizer, AuthStatus, IdTagInfo, parse_time
from ocppd.model.charger import Charger
from ocppd.model.metering import Sample
from ocppd.model.status import Status
from ocppd.model.token import DEFAULT_ORIGIN, Origin
from ocppd.model.transaction import StartCause, StopReason, StorageUnavailable, TxChange
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.v16.dialect import V16
from ocppd.session import CallRejected, CallTimeout, Session, SessionClosed

log = logging.getLogger(__name__)

START, STOP, METER_VALUES = "StartTransaction", "StopTransaction", "MeterValues"
V16_WORDS = TxWords(V16.subprotocol, start=START, event=METER_VALUES, stop=STOP)
"""What the journal stores with each 1.6 transaction message."""
GIVEN_UP_ID = -1  # transactionId once an unanswered StartTransaction was given up [ERR16 §3.18]
WAKE = float("inf")  # pause until something new is journaled
TIME_UNKNOWN_RETRY_S = 10.0


class Outbox(Protocol):
    """The part of the journal the courier and recorder use."""

    healthy: bool
    problem: str | None

    async def wait_healthy(self) -> None: ...
    async def wait_unhealthy(self) -> None: ...
    async def start_transaction(
        self,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: str,
        reservation_id: int | None,
        payload: dict[str, Any],
        words: TxWords,
        transaction_id: TransactionId | None = None,
    ) -> int: ...
    async def record_meter(self, local_id: int, *, energy_wh: float, timestamp: str) -> None: ...
    async def add_meter_values(
        self,
        local_id: int | None,
        *,
        connector_id: int,
        payload: dict[str, Any],
        droppable: bool,
        words: TxWords,
        driver: str | None = None,
    ) -> int: ...
    async def stop_transaction(
        self,
        local_id: int,
        *,
        meter_stop_wh: int,
        timestamp: str,
        reason: str,
        id_tag: str | None,
        payload: dict[str, Any],
        words: TxWords,
    ) -> int: ...
    async def next_message(self, protocol: str | None = None) -> OutboxMessage | None: ...
    async def queue_stats(self) -> QueueStats: ...
    async def transaction(self, local_id: int) -> TxRecord | None: ...
    async def seal(
        self, seq: int, message_id: str, payload: dict[str, Any], *, number: int | None = None
    ) -> None: ...
    async def acknowledge(
        self,
        seq: int,
        *,
        transaction_id: TransactionId | None = None,
        start_status: str | None = None,
        protocol: str | None = None,
    ) -> OutboxMessage | None: ...
    async def record_failure(self, seq: int, error: str) -> int: ...
    async def give_up(
        self, seq: int, reason: str, *, fallback_id: TransactionId | None = None
    ) -> None: ...


def meter_value(sample: Sample) -> dict[str, Any]:
    """A MeterValue payload (the timestamp may still be a clock placeholder)."""
    values = []
    for v in sample.values:
        item: dict[str, Any] = {
            "value": v.value,
            "context": v.context.value,
            "measurand": v.measurand,
        }
        if v.phase:
            item["phase"] = v.phase
        if v.location:
            item["location"] = v.location
        if v.unit:
            item["unit"] = v.unit
        values.append(item)
    return {"timestamp": sample.timestamp, "sampledValue": values}


class AsModelError:
    """``with``: the journal's "cannot write now" leaves as the model's StorageUnavailable
    (the model knows no journal); anything else passes unchanged."""

    def __init__(self, unavailable: type[Exception]) -> None:
        self.unavailable = unavailable

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if isinstance(exc, self.unavailable):
            raise StorageUnavailable(getattr(exc, "reason", None) or str(exc)) from exc


class Recorder:
    """The model's TransactionLog, on the journal."""

    def __init__(
        self,
        journal: Outbox,
        send_untracked: Callable[[str, dict[str, Any]], None],
        unavailable: type[Exception],
    ) -> None:
        self.journal = journal
        self._send_untracked = send_untracked
        self._as_model_error = AsModelError(unavailable)

    @property
    def healthy(self) -> bool:
        return bool(self.journal.healthy)

    @property
    def problem(self) -> str | None:
        return self.journal.problem

    async def wait_healthy(self) -> None:
        await self.journal.wait_healthy()

    async def wait_unhealthy(self) -> None:
        await self.journal.wait_unhealthy()

    async def start(
        self,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: str,
        reservation_id: int | None,
        cause: StartCause = StartCause.TAG,
        remote_start_id: int | None = None,
        origin: Origin = DEFAULT_ORIGIN,  # 1.6 has no words for it: its idTag is the identifier
        plugged: bool = True,  # always, in 1.6 (follows_points)
        begin: Sample | None = None,  # StartTransaction has meterStart alone
    ) -> int:
        # StartTransaction tells neither what came last nor the remote start's number
        del cause, remote_start_id, origin, plugged, begin
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": meter_start_wh,
            "timestamp": timestamp,
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        with self._as_model_error:
            return await self.journal.start_transaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start_wh=meter_start_wh,
                timestamp=timestamp,
                reservation_id=reservation_id,
                payload=payload,
                words=V16_WORDS,
            )

    def known_id(self, local_id: int) -> int | str | None:
        return None  # StartTransaction.conf brings it

    @property
    def follows_points(self) -> bool:
        """1.6 has no TxStartPoint/TxStopPoint: a StartTransaction is sent when a driver is
        authorised and the EV plugged in, a StopTransaction when either ends, whatever the
        2.0.1 variables (kept in the same key store) say."""
        return False

    async def noted(
        self,
        local_id: int,
        *,
        change: TxChange,
        timestamp: str,
        id_tag: str | None = None,
        origin: Origin | None = None,
        reason: StopReason | None = None,
        remote_start_id: int | None = None,
    ) -> None:
        """Never reached: a 1.6 transaction follows 1.6's rule (:attr:`follows_points`)."""
        log.error("a 1.6 transaction has no %s event (transaction %d)", change, local_id)

    async def changed(self, local_id: int, *, status: Status, timestamp: str) -> None:
        """1.6 tells a status in StatusNotification only (``status_report.py``)."""

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        with self._as_model_error:
            await self.journal.record_meter(local_id, energy_wh=energy_wh, timestamp=timestamp)

    async def meter_values(
        self, local_id: int | None, *, connector_id: int, samples: list[Sample], droppable: bool
    ) -> None:
        payload = {"connectorId": connector_id, "meterValue": [meter_value(s) for s in samples]}
        if local_id is None:  # not transaction-related: sent now or never (1.6 §3.7)
            self._send_untracked(METER_VALUES, payload)
            return
        with self._as_model_error:
            await self.journal.add_meter_values(
                local_id,
                connector_id=connector_id,
                payload=payload,
                droppable=droppable,
                words=V16_WORDS,
            )

    async def stop(
        self,
        local_id: int,
        *,
        meter_stop_wh: int,
        timestamp: str,
        reason: StopReason,
        id_tag: str | None,
        transaction_data: list[Sample],
    ) -> None:
        payload: dict[str, Any] = {
            "meterStop": meter_stop_wh,
            "timestamp": timestamp,
            "reason": STOP_REASON[reason].value,
        }
        if id_tag:
            payload["idTag"] = id_tag
        if transaction_data:
            payload["transactionData"] = [meter_value(s) for s in transaction_data]
        with self._as_model_error:
            await self.journal.stop_transaction(
                local_id,
                meter_stop_wh=meter_stop_wh,
                timestamp=timestamp,
                reason=STOP_REASON[reason].value,  # the row keeps the word it was sent with
                id_tag=id_tag,
                payload=payload,
                words=V16_WORDS,
            )


def id_tag_info(raw: dict[str, Any] | None) -> IdTagInfo | None:
    if not raw:
        return None
    return IdTagInfo(
        AuthStatus(raw["status"]), parse_time(raw.get("expiryDate")), raw.get("parentIdTag")
    )


class Delivery(Protocol):
    """Who wants to know what the central system answered to a transaction message."""

    async def started(
        self, local_id: int, transaction_id: TransactionId, info: IdTagInfo
    ) -> None: ...

    async def start_given_up(self, local_id: int, keep: TransactionId | None = None) -> None:
        """The start was given up: the transaction goes on under ``keep`` (its own id, made
        by the charge point), else under 1.6's -1."""
        ...

    async def stopped(self, local_id: int) -> None: ...
    async def remember(self, id_tag: str, info: IdTagInfo) -> None: ...
    async def start_answered(self, id_tag: str, info: IdTagInfo) -> None: ...


class ModelDelivery:
    """The model told what the central system answered to its transaction messages."""

    def __init__(self, charger: Charger, authorizer: Authorizer) -> None:
        self.charger = charger
        self.authorizer = authorizer

    def __repr__(self) -> str:
        return f"<ModelDelivery {self.charger!r}>"

    async def started(self, local_id: int, transaction_id: TransactionId, info: IdTagInfo) -> None:
        await self.charger.confirm_start(local_id, transaction_id, info)

    async def stopped(self, local_id: int) -> None:
        self.charger.confirm_stop(local_id)

    async def start_given_up(self, local_id: int, keep: TransactionId | None = None) -> None:
        self.charger.give_up_start(local_id, GIVEN_UP_ID if keep is None else keep)

    async def remember(self, id_tag: str, info: IdTagInfo) -> None:
        await self.authorizer.remember(id_tag, info)

    async def start_answered(self, id_tag: str, info: IdTagInfo) -> None:
        """The verdict of a StartTransaction.conf on its tag: compared with the local list
        (a conflict is reported on connector 0, 1.6 §3.5.3), then cached."""
        await self.authorizer.start_answered(id_tag, info)


class OutboxSignal:
    """ "Something new is in the outbox": the model rings it (through its uplink's ``wake``), the
    courier waits for it. Built before both, so neither needs the other to exist."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def __repr__(self) -> str:
        return f"<OutboxSignal rung={self._event.is_set()}>"

    def ring(self) -> None:
        self._event.set()

    def rearm(self) -> None:
        """Forget a ring already heard: the next :meth:`wait` waits for a new one."""
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class Carrier(Protocol):
    """How the courier sends the rows of one OCPP version and reads its answers: the rest of
    the courier (order, sealing, resends, attempts, passing over rows of another version) is the
    same for every version."""

    words: TxWords

    def complete(self, message: OutboxMessage) -> tuple[dict[str, Any], int | None] | None:
        """The payload of an unsealed row as it will be sent, and the number of its
        transaction it carries (None: it carries none); None while it must wait for the
        answer to its transaction's start."""
        ...

    def acknowledgement(
        self, message: OutboxMessage, answer: dict[str, Any]
    ) -> tuple[TransactionId | None, str | None]:
        """For the answer to a tx-start: the id it brings and its verdict on the tag."""
        ...

    async def delivered(
        self, message: OutboxMessage, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        """Tell the model what the central system answered."""
        ...

    async def given_up(self, message: OutboxMessage) -> None:
        """A row of a transaction was given up (dead letter, or damaged beyond rebuilding)."""
        ...

    def rebuilt(self, message: OutboxMessage, tx: TxRecord) -> tuple[str, dict[str, Any]] | None:
        """A damaged tx-start or tx-stop made again from its intact ledger row: (action,
        payload), or None when it cannot be."""
        ...

    @property
    def fallback_id(self) -> TransactionId | None:
        """The id a transaction takes once its start was given up unanswered."""
        ...


class V16Carrier:
    """OCPP 1.6: the transactionId of a StopTransaction or MeterValues is filled in at send
    time from the ledger; StartTransaction.conf brings the id and the verdict on the tag."""

    words = V16_WORDS
    fallback_id: TransactionId | None = GIVEN_UP_ID

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    def __repr__(self) -> str:
        return "<V16Carrier>"

    def complete(self, message: OutboxMessage) -> tuple[dict[str, Any], int | None] | None:
        payload = message.payload
        if message.local_id is not None and message.kind in (Kind.TX_STOP, Kind.TX_EVENT):
            if message.transaction_id is None:
                return None
            payload = {**payload, "transactionId": message.transaction_id}
        return payload, None

    def acknowledgement(
        self, message: OutboxMessage, answer: dict[str, Any]
    ) -> tuple[TransactionId | None, str | None]:
        return answer["transactionId"], answer["idTagInfo"]["status"]

    async def delivered(
        self, message: OutboxMessage, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        info = id_tag_info(answer.get("idTagInfo"))
        if message.kind is Kind.TX_START and message.local_id is not None:
            assert info is not None
            await self.delivery.started(message.local_id, answer["transactionId"], info)
            await self.delivery.start_answered(payload["idTag"], info)
        elif message.kind is Kind.TX_STOP:
            if message.local_id is not None:
                await self.delivery.stopped(message.local_id)
            if info is not None and payload.get("idTag"):
                await self.delivery.remember(payload["idTag"], info)

    async def given_up(self, message: OutboxMessage) -> None:
        if message.kind is Kind.TX_START and message.local_id is not None:
            await self.delivery.start_given_up(message.local_id)
        elif message.kind is Kind.TX_STOP and message.local_id is not None:
            await self.delivery.stopped(message.local_id)

    def rebuilt(self, message: OutboxMessage, tx: TxRecord) -> tuple[str, dict[str, Any]] | None:
        if message.kind is Kind.TX_START:
            payload: dict[str, Any] = {
                "connectorId": tx.connector_id,
                "idTag": tx.id_tag,
                "meterStart": tx.meter_start_wh,
                "timestamp": tx.started_at,
            }
            if tx.reservation_id is not None:
                payload["reservationId"] = tx.reservation_id
            return START, payload
        if message.kind is Kind.TX_STOP and tx.stop_reason:
            payload = {
                "meterStop": tx.meter_stop_wh,
                "timestamp": tx.stopped_at,
                "reason": tx.stop_reason,
            }
            if tx.stop_id_tag:
                payload["idTag"] = tx.stop_id_tag
            return STOP, payload
        return None


class Courier:
    """Drains the outbox over a session, in journal order, the rows of the session's OCPP
    version only (``carriers``: one per version this charge point speaks)."""

    def __init__(
        self,
        journal: Outbox,
        clock: Clock,
        ids: MessageIds,
        attempts: Callable[[], int],
        retry_interval: Callable[[], int],
        delivery: Delivery,
        unavailable: type[Exception],
        token: str,
        signal: OutboxSignal | None = None,
        carriers: Mapping[str, Carrier] | None = None,
    ) -> None:
        self.journal = journal
        self.carriers: Mapping[str, Carrier] = (
            carriers if carriers is not None else {V16.subprotocol: V16Carrier(delivery)}
        )
        # every row names its version (a NOT NULL column) and goes out over a link of it only
        self.speaking: str | None = None  # the version of the session being served
        self.clock = clock
        self.ids = ids
        self._attempts = attempts
        self._retry_interval = retry_interval
        self.delivery = delivery
        self._unavailable = unavailable
        self.token = token
        self.signal = signal if signal is not None else OutboxSignal()
        self._following: OutboxMessage | None = None  # the head the last acknowledge returned
        self.delivered = 0
        self.progress = trio.Event()  # set (and replaced) whenever a message leaves the queue

    def __repr__(self) -> str:
        return f"<Courier {self.speaking} delivered={self.delivered}>"

    def wake(self) -> None:
        self.signal.ring()

    def _left_queue(self) -> None:
        self.progress.set()
        self.progress = trio.Event()

    async def run(self, session: Session) -> None:
        """Deliver until the session ends (SessionClosed propagates to end the conversation).

        Only the rows of the session's version go, in journal order; a row of another
        version stays queued for a link of its version and holds nothing behind it. That
        keeps every transaction's order: a transaction is recorded in one version and all its
        messages stay in it (see :mod:`ocppd.features.tx_versions`), so rows of different
        versions never belong to one transaction."""
        self._following = None
        spoken = session.rpc.dialect.subprotocol
        await self._tell_waiting(spoken)
        if spoken not in self.carriers:  # nothing of this version can be carried
            await trio.sleep_forever()
        carrier = self.carriers[spoken]
        self.speaking = spoken
        try:
            while True:
                self.signal.rearm()
                message, self._following = self._following, None
                if message is None:
                    try:
                        message = await self.journal.next_message(spoken)
                    except self._unavailable:
                        await self.journal.wait_healthy()
                        continue
                if message is None:
                    await self.signal.wait()
                    continue
                pause = await self._deliver(session, message, carrier)
                if pause == WAKE:
                    await self.signal.wait()
                elif pause > 0:
                    await trio.sleep(pause)
        finally:
            self.speaking = None

    async def _tell_waiting(self, spoken: str) -> None:
        """Say once per connection what stays queued for a link of another version."""
        try:
            stats = await self.journal.queue_stats()
        except self._unavailable:
            return
        for protocol, count, _ in stats.by_protocol:
            if protocol != spoken:
                log.warning(
                    "outbox: %d messages wait for an %s link (this one speaks %s)",
                    count,
                    protocol,
                    spoken,
                )

    async def _deliver(self, session: Session, message: OutboxMessage, carrier: Carrier) -> float:
        """Try once. Returns how long to pause before the next message (WAKE: until woken)."""
        rebuilt = False
        if message.rebuild:  # the stored row was damaged: the ledger says what it was
            repaired = await self._rebuild(message, carrier)
            if repaired is None:
                return 0.0
            message, rebuilt = repaired, True
        payload: dict[str, Any] = message.payload
        message_id: str | None = message.message_id
        if message_id is None:
            completed = carrier.complete(message)
            if completed is None:
                log.error(
                    "outbox: %s %d waits for the answer to its transaction's start",
                    message.action,
                    message.seq,
                )
                return WAKE
            payload, number = completed
            resolved = resolve_payload(self.clock, payload)
            if resolved is None:
                log.info("outbox: %s waits until the time is known", message.action)
                return TIME_UNKNOWN_RETRY_S
            assert isinstance(resolved, dict)
            if resolved == payload and not rebuilt and number is None:
                # Nothing needed resolving: a resend rebuilds the same bytes from the stored
                # payload and the ledger (a transactionId never changes once known), so there
                # is no seal commit. The id is the queue number under this journal's token:
                # the same on every resend, unique across journals (a quarantined one
                # restarts its numbers).
                message_id = f"{self.token}-q{message.seq}"
            else:
                # sealed: the id, the resolved times and the number (2.0.1 seqNo) are fixed
                # before the first send, in one commit
                payload, message_id = resolved, self.ids.next()
                await self.journal.seal(message.seq, message_id, payload, number=number)
        context = fields(action=message.action, message_id=message_id)
        try:
            response = await session.call_payload(message.action, payload, unique_id=message_id)
        except SessionClosed:
            raise
        except (CallRejected, CallTimeout) as exc:
            if isinstance(exc, CallTimeout) and session.closed:
                raise SessionClosed(str(exc)) from None
            return await self._failed(message, str(exc), context, carrier)
        answer = session.rpc.dialect.to_payload(response)
        if message.kind is Kind.TX_START:  # the id (1.6) and the verdict on the tag
            transaction_id, start_status = carrier.acknowledgement(message, answer)
            self._following = await self.journal.acknowledge(
                message.seq,
                transaction_id=transaction_id,
                start_status=start_status,
                protocol=self.speaking,
            )
        else:
            self._following = await self.journal.acknowledge(message.seq, protocol=self.speaking)
        self.delivered += 1
        self._left_queue()
        await carrier.delivered(message, payload, answer)
        return 0.0

    async def _rebuild(self, message: OutboxMessage, carrier: Carrier) -> OutboxMessage | None:
        """A damaged tx-start or tx-stop, made again from its ledger row (so the central
        system can still bill the transaction); given up when that row is not intact either
        (1.6: the rest of the transaction then goes with transactionId -1)."""
        tx = None if message.local_id is None else await self.journal.transaction(message.local_id)
        made = carrier.rebuilt(message, tx) if tx is not None and tx.intact else None
        if made is None:
            reason = "damaged in the journal, and its ledger row cannot rebuild it"
            log.error(
                "outbox: %s %d (local transaction %s) %s: given up",
                carrier.words.start if message.kind is Kind.TX_START else carrier.words.stop,
                message.seq,
                message.local_id,
                reason,
            )
            await self.journal.give_up(message.seq, reason, fallback_id=carrier.fallback_id)
            self._left_queue()
            await carrier.given_up(message)
            return None
        action, payload = made
        log.warning(
            "outbox: %s %d was damaged in the journal; rebuilt from the ledger "
            "(local transaction %d, connector %d)%s",
            action,
            message.seq,
            tx.local_id if tx else 0,
            tx.connector_id if tx else 0,
            "; its meter values are lost" if message.kind is Kind.TX_STOP else "",
        )
        return dataclasses.replace(message, action=action, payload=payload, rebuild=False)

    async def _failed(
        self, message: OutboxMessage, error: str, context: dict[str, Any], carrier: Carrier
    ) -> float:
        attempts = await self.journal.record_failure(message.seq, error)
        limit = self._attempts()
        if attempts >= limit:
            log.error(
                "outbox: giving up %s after %d attempts (%s); kept as a dead letter",
                message.action,
                attempts,
                error,
                extra=context,
            )
            await self.journal.give_up(message.seq, error, fallback_id=carrier.fallback_id)
            self._left_queue()
            await carrier.given_up(message)
            return 0.0
        delay = self._retry_interval() * attempts
        log.warning(
            "outbox: %s failed (%s); attempt %d of %d, next in %d s",
            message.action,
            error,
            attempts,
            limit,
            delay,
            extra=context,
        )
        return float(delay)
