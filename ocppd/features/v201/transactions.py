"""OCPP 2.0.1 transactions (E01-E12) and their meter values (J02), journaled before the
first send, delivered in order, once.

One transaction is one TransactionEvent Started, any number of Updated and one Ended,
all recorded in 2.0.1 and delivered over 2.0.1 only (design decision 5: a transaction
stays in the version it started in; the journal's neutral kinds tx-start, tx-event and
tx-stop carry them, ``V201_WORDS``).

- :class:`Recorder201` is the model's ``TransactionLog`` in 2.0.1: the charge point makes
  the transactionId (a random string, made before the first write, kept in the ledger) and
  journals Started (triggerReason from what came last, the idToken, the EVSE, the meter at
  Transaction.Begin, reservationId, remoteStartId), Updated for each change of the charging
  state (ChargingStateChanged) and each sample (MeterValuePeriodic, MeterValueClock,
  Trigger), and Ended (stoppedReason and its triggerReason, the TxEndedMeasurands samples
  the model kept, always ending with the register at Transaction.End). An event that
  happens while the charge point is not online carries ``offline: true`` (E12).
- :class:`V201Carrier` is how the courier sends those rows: ``seqNo`` is given when a row is
  sealed for its first send (the ledger counts it in the same commit), not when it is
  queued, so the numbers the central system receives start at 0 and have no gap even when
  samples were thinned under the size cap or a damaged row was set aside before it was
  sent. It reads TransactionEventResponse: the idTokenInfo verdict on the token goes to the
  model as 1.6's StartTransaction.conf verdict does (a token not Accepted is de-authorised
  by the same policy: TxCtrlr.StopTxOnInvalidId / MaxEnergyOnInvalidId). totalCost,
  chargingPriority and updatedPersonalMessage are not used (no cost display, no local
  priority scheduling): they are read and ignored.

What 2.0.1 numbers and 1.6 does not: a message given up after MessageAttempts (a dead
letter) keeps the number it was sent with, so the central system, which refused it,
sees the next one after a gap it caused itself (E.. "the CSMS uses seqNo to detect
missing messages": this one it had). A row damaged on the card after it was sealed
(it may have been sent) is the other gap; it is reported as every damaged row is.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ocppd.features.core.transactions import AsModelError, Delivery, Outbox
from ocppd.features.profile import Handler, Profile, Services, Site, Task, Trigger
from ocppd.features.v201.authorization import TOKEN_TYPE, VERDICT
from ocppd.features.v201.words import V201_WORDS
from ocppd.journal.records import Kind, OutboxMessage, TransactionId, TxRecord
from ocppd.model.auth import AuthStatus, IdTagInfo, parse_time
from ocppd.model.keys import KeySpec, KeyType
from ocppd.model.metering import ENERGY_REGISTER, Context, Sample
from ocppd.model.status import Status
from ocppd.model.token import DEFAULT_ORIGIN, Origin, TokenKind
from ocppd.model.transaction import StartCause, StopReason, StorageUnavailable, TxChange
from ocppd.protocol.v201.enums import (
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    MeasurandEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    TriggerReasonEnumType,
)

log = logging.getLogger(__name__)

V201 = V201_WORDS.protocol
TRANSACTION_EVENT, METER_VALUES = V201_WORDS.start, "MeterValues"

DEFAULT_TYPE = TOKEN_TYPE[DEFAULT_ORIGIN.kind].value
"""The idToken type where nothing else is known (a card, ISO 14443)."""

EVSE_CONNECTOR = 1  # design decision 6: each 1.6 connector N is EVSE N with connector 1


# --- the model's words in 2.0.1: one table each, total (tests/v201/test_tx_words.py) ---

STOPPED_REASON: Mapping[StopReason, ReasonEnumType] = MappingProxyType(
    {
        StopReason.EMERGENCY_STOP: ReasonEnumType.EMERGENCY_STOP,
        StopReason.EV_DISCONNECTED: ReasonEnumType.EV_DISCONNECTED,
        StopReason.HARD_RESET: ReasonEnumType.IMMEDIATE_RESET,
        StopReason.LOCAL: ReasonEnumType.LOCAL,
        StopReason.OTHER: ReasonEnumType.OTHER,
        StopReason.POWER_LOSS: ReasonEnumType.POWER_LOSS,
        StopReason.REBOOT: ReasonEnumType.REBOOT,
        StopReason.REMOTE: ReasonEnumType.REMOTE,
        # a reset that ends a transaction is ResetRequest Immediate (OnIdle waits for it)
        StopReason.SOFT_RESET: ReasonEnumType.IMMEDIATE_RESET,
        # 2.0.1 has no reason of its own (UnlockConnector refuses while a transaction
        # runs, F05.FR.02); the triggerReason UnlockCommand says it
        StopReason.UNLOCK_COMMAND: ReasonEnumType.OTHER,
        StopReason.DE_AUTHORIZED: ReasonEnumType.DE_AUTHORIZED,
        StopReason.TIMEOUT: ReasonEnumType.TIMEOUT,
        StopReason.EV_STOPPED: ReasonEnumType.STOPPED_BY_EV,
    }
)
"""TransactionType.stoppedReason of Ended."""

STOP_TRIGGER: Mapping[StopReason, TriggerReasonEnumType] = MappingProxyType(
    {
        StopReason.EMERGENCY_STOP: TriggerReasonEnumType.ABNORMAL_CONDITION,
        StopReason.EV_DISCONNECTED: TriggerReasonEnumType.EV_COMMUNICATION_LOST,
        StopReason.HARD_RESET: TriggerReasonEnumType.RESET_COMMAND,
        StopReason.LOCAL: TriggerReasonEnumType.STOP_AUTHORIZED,
        StopReason.OTHER: TriggerReasonEnumType.ABNORMAL_CONDITION,
        StopReason.POWER_LOSS: TriggerReasonEnumType.ABNORMAL_CONDITION,
        StopReason.REBOOT: TriggerReasonEnumType.ABNORMAL_CONDITION,
        StopReason.REMOTE: TriggerReasonEnumType.REMOTE_STOP,
        StopReason.SOFT_RESET: TriggerReasonEnumType.RESET_COMMAND,
        StopReason.UNLOCK_COMMAND: TriggerReasonEnumType.UNLOCK_COMMAND,
        StopReason.DE_AUTHORIZED: TriggerReasonEnumType.DEAUTHORIZED,
        # the cable (start point Authorized) or the driver (EVConnected) did not come
        StopReason.TIMEOUT: TriggerReasonEnumType.EV_CONNECT_TIMEOUT,
        StopReason.EV_STOPPED: TriggerReasonEnumType.CHARGING_STATE_CHANGED,
    }
)
"""TransactionEventRequest.triggerReason of Ended: what ended it."""

START_TRIGGER: Mapping[StartCause, TriggerReasonEnumType] = MappingProxyType(
    {
        StartCause.TAG: TriggerReasonEnumType.AUTHORIZED,
        StartCause.CABLE: TriggerReasonEnumType.CABLE_PLUGGED_IN,
        StartCause.REMOTE: TriggerReasonEnumType.REMOTE_START,
        StartCause.ENERGY: TriggerReasonEnumType.CHARGING_STATE_CHANGED,
    }
)
"""TransactionEventRequest.triggerReason of Started: what came last (E01-E03)."""

CHARGING_STATE: Mapping[Status, ChargingStateEnumType] = MappingProxyType(
    {
        Status.AVAILABLE: ChargingStateEnumType.IDLE,
        Status.PREPARING: ChargingStateEnumType.EV_CONNECTED,
        Status.CHARGING: ChargingStateEnumType.CHARGING,
        Status.SUSPENDED_EVSE: ChargingStateEnumType.SUSPENDED_EVSE,
        Status.SUSPENDED_EV: ChargingStateEnumType.SUSPENDED_EV,
        Status.FINISHING: ChargingStateEnumType.EV_CONNECTED,
        Status.RESERVED: ChargingStateEnumType.IDLE,
        # out of service or faulted during a transaction: the charger gives no energy
        Status.UNAVAILABLE: ChargingStateEnumType.SUSPENDED_EVSE,
        Status.FAULTED: ChargingStateEnumType.SUSPENDED_EVSE,
    }
)
"""TransactionType.chargingState for the status the connector reports."""

SAMPLE_TRIGGER: Mapping[Context, TriggerReasonEnumType] = MappingProxyType(
    {
        Context.PERIODIC: TriggerReasonEnumType.METER_VALUE_PERIODIC,
        Context.CLOCK: TriggerReasonEnumType.METER_VALUE_CLOCK,
        Context.TRIGGER: TriggerReasonEnumType.TRIGGER,
        Context.BEGIN: TriggerReasonEnumType.METER_VALUE_PERIODIC,
        Context.END: TriggerReasonEnumType.METER_VALUE_PERIODIC,
        Context.INTERRUPTION_BEGIN: TriggerReasonEnumType.ABNORMAL_CONDITION,
        Context.INTERRUPTION_END: TriggerReasonEnumType.ABNORMAL_CONDITION,
    }
)
"""TransactionEventRequest.triggerReason of an Updated carrying samples of this context."""

READING_CONTEXT: Mapping[Context, ReadingContextEnumType] = MappingProxyType(
    {context: ReadingContextEnumType(context.value) for context in Context}
)
"""SampledValueType.context (the model took 1.6's words, which 2.0.1 kept)."""

AUTH_STATUS: Mapping[AuthorizationStatusEnumType, AuthStatus] = VERDICT
"""IdTokenInfoType.status, as the model's verdict on a token."""

_MEASURANDS = frozenset(m.value for m in MeasurandEnumType)
_REASONS = {r.value: r for r in ReasonEnumType}
_STOP_TRIGGER_BY_WORD: dict[str, TriggerReasonEnumType] = {}
for _reason in StopReason:  # a word two reasons share takes the first's trigger (Other)
    _STOP_TRIGGER_BY_WORD.setdefault(STOPPED_REASON[_reason].value, STOP_TRIGGER[_reason])


def new_transaction_id() -> str:
    """A transactionId the charge point makes: 128 random bits in hex (32 of the 36
    characters allowed), unique across restarts and journals without a counter to keep."""
    return secrets.token_hex(16)


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def meter_value(sample: Sample) -> dict[str, Any] | None:
    """A MeterValueType (the timestamp may still be a clock placeholder); None when no value
    of the sample has a 2.0.1 measurand (the model's Temperature has none)."""
    values = []
    for v in sample.values:
        if v.measurand not in _MEASURANDS:
            continue
        item: dict[str, Any] = {
            "value": _number(v.value),
            "context": READING_CONTEXT[v.context].value,
            "measurand": v.measurand,
        }
        if v.phase:
            item["phase"] = v.phase
        if v.location:
            item["location"] = v.location
        if v.unit:
            item["unitOfMeasure"] = {"unit": v.unit}
        values.append(item)
    if not values:
        return None
    return {"timestamp": sample.timestamp, "sampledValue": values}


PHASE_IN_USE_A = 1.0
"""A phase carries the charge when the EV draws at least this current on it (the EVSE
offers at least 6 A: an idle phase reads near 0)."""


def phases_used(samples: list[Sample]) -> int | None:
    """numberOfPhasesUsed as the meter measures it: the phases whose Current.Import is at
    least PHASE_IN_USE_A; None when the samples measure no current per phase, or none flows
    (the schema's "if known": the EVSE's SupplyPhases are the phases wired, not those the EV
    uses, so they are not said here)."""
    currents = [
        v
        for s in samples
        for v in s.values
        if v.measurand == "Current.Import" and v.phase and v.phase[:2] in ("L1", "L2", "L3")
    ]
    used = {v.phase[:2] for v in currents if v.phase and float(v.value) >= PHASE_IN_USE_A}
    return len(used) or None


def meter_values(samples: list[Sample]) -> list[dict[str, Any]]:
    return [mv for mv in (meter_value(s) for s in samples) if mv is not None]


def register_value(energy_wh: int, timestamp: str, context: Context) -> dict[str, Any]:
    """The energy register alone: what Started and Ended always carry (2.0.1 has no
    meterStart / meterStop; the register at Transaction.Begin and .End says them)."""
    return {
        "timestamp": timestamp,
        "sampledValue": [
            {
                "value": energy_wh,
                "context": READING_CONTEXT[context].value,
                "measurand": ENERGY_REGISTER,
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def id_token(id_tag: str, origin: Origin | None = None) -> dict[str, Any] | None:
    """IdTokenType of a tag; ``origin``: how it came (its kind and further identifiers), when
    the model knows (an authorisation's origin; None: a card). None: no driver yet (a
    transaction begun at the cable: its idToken comes in the Updated that authorises it);
    where nobody is asked, the identifier is empty with type NoAuthorization."""
    if not id_tag and (origin is None or origin.kind is not TokenKind.NONE):
        return None
    word = TOKEN_TYPE[origin.kind].value if origin is not None else DEFAULT_TYPE
    token: dict[str, Any] = {"idToken": id_tag, "type": word}
    extra = [
        {"additionalIdToken": str(value)[:36], "type": str(kind_of)[:50]}
        for value, kind_of in (origin.extra if origin is not None else ())
    ]
    if extra:
        token["additionalInfo"] = extra
    return token


def evse(connector_id: int) -> dict[str, Any]:
    return {"id": connector_id, "connectorId": EVSE_CONNECTOR}


def started(
    *,
    transaction_id: str,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: str,
    trigger: TriggerReasonEnumType,
    reservation_id: int | None = None,
    remote_start_id: int | None = None,
    offline: bool = False,
    origin: Origin | None = None,
    plugged: bool = True,
    begin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """TransactionEvent Started, without its seqNo (given when it is sealed). ``plugged``
    False: it began before the cable (Idle). ``begin``: the TxStartedMeasurands values
    (a MeterValueType); the register at Transaction.Begin is always there, once."""
    state = ChargingStateEnumType.EV_CONNECTED if plugged else ChargingStateEnumType.IDLE
    info: dict[str, Any] = {"transactionId": transaction_id, "chargingState": state.value}
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    payload: dict[str, Any] = {
        "eventType": "Started",
        "timestamp": timestamp,
        "triggerReason": trigger.value,
        "transactionInfo": info,
    }
    if offline:
        payload["offline"] = True
    payload["evse"] = evse(connector_id)
    token = id_token(id_tag, origin)
    if token is not None:
        payload["idToken"] = token
    if reservation_id is not None:
        payload["reservationId"] = reservation_id
    register = register_value(meter_start_wh, timestamp, Context.BEGIN)
    if begin is not None:
        others = [v for v in begin["sampledValue"] if v["measurand"] != ENERGY_REGISTER]
        register["sampledValue"].extend(others)
    payload["meterValue"] = [register]
    return payload


def ended(
    *,
    transaction_id: str,
    timestamp: str,
    reason: ReasonEnumType,
    trigger: TriggerReasonEnumType,
    meter_stop_wh: int | None,
    id_tag: str | None,
    samples: list[dict[str, Any]],
    offline: bool = False,
    charging_state: ChargingStateEnumType | None = None,
) -> dict[str, Any]:
    """TransactionEvent Ended, without its seqNo. ``samples``: the TxEndedMeasurands values
    kept during the transaction; the register at Transaction.End closes them unless one of
    them is at Transaction.End already. ``charging_state``: the state it ends in, when that
    is a change."""
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state.value
    info["stoppedReason"] = reason.value
    payload: dict[str, Any] = {
        "eventType": "Ended",
        "timestamp": timestamp,
        "triggerReason": trigger.value,
        "transactionInfo": info,
    }
    if offline:
        payload["offline"] = True
    token = id_token(id_tag) if id_tag else None
    if token is not None:
        payload["idToken"] = token
    values = list(samples)
    end = READING_CONTEXT[Context.END].value
    has_end = any(v.get("context") == end for mv in values for v in mv["sampledValue"])
    if meter_stop_wh is not None and not has_end:
        values.append(register_value(meter_stop_wh, timestamp, Context.END))
    if values:
        payload["meterValue"] = values
    return payload


def updated(
    *,
    transaction_id: str,
    timestamp: str,
    trigger: TriggerReasonEnumType,
    charging_state: ChargingStateEnumType | None = None,
    samples: list[dict[str, Any]] | None = None,
    offline: bool = False,
    token: dict[str, Any] | None = None,
    phases: int | None = None,
    remote_start_id: int | None = None,
) -> dict[str, Any]:
    """TransactionEvent Updated, without its seqNo; ``token``: the idToken it names;
    ``remote_start_id``: the remote start that authorised it (F01)."""
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state.value
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    payload: dict[str, Any] = {
        "eventType": "Updated",
        "timestamp": timestamp,
        "triggerReason": trigger.value,
        "transactionInfo": info,
    }
    if offline:
        payload["offline"] = True
    if token is not None:
        payload["idToken"] = token
    if phases is not None:
        payload["numberOfPhasesUsed"] = phases
    if samples:
        payload["meterValue"] = samples
    return payload


@dataclass(slots=True)
class _Running:
    """What the recorder remembers of a transaction it journals events for."""

    transaction_id: str
    connector_id: int
    charging_state: ChargingStateEnumType | None
    phases: int | None = None  # numberOfPhasesUsed as last told


class Recorder201:
    """The model's TransactionLog in OCPP 2.0.1, on the journal."""

    def __init__(
        self,
        journal: Outbox,
        send_untracked: Callable[[str, dict[str, Any]], None],
        unavailable: type[Exception],
        online: Callable[[], bool],
        make_id: Callable[[], str] = new_transaction_id,
    ) -> None:
        self.journal = journal
        self._send_untracked = send_untracked
        self._as_model_error = AsModelError(unavailable)
        self._online = online
        self._make_id = make_id
        self._running: dict[int, _Running] = {}

    def __repr__(self) -> str:
        return f"<Recorder201 running={len(self._running)}>"

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

    def _offline(self) -> bool:
        """E12: an event that happens while the charge point cannot reach the central
        system says so (its timestamp is when it happened, its delivery comes later)."""
        return not self._online()

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
        origin: Origin | None = None,
        plugged: bool = True,
        begin: Sample | None = None,
    ) -> int:
        """``origin``: how the driver's token came (its kind, further identifiers), when the
        authorisation knows; ``id_tag`` empty: no driver yet; ``plugged`` False: the cable
        comes later."""
        transaction_id = self._make_id()  # before the first write: the ledger keeps it
        payload = started(
            transaction_id=transaction_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start_wh,
            timestamp=timestamp,
            trigger=START_TRIGGER[cause],
            reservation_id=reservation_id,
            remote_start_id=remote_start_id,
            offline=self._offline(),
            origin=origin,
            plugged=plugged,
            begin=None if begin is None else meter_value(begin),
        )
        with self._as_model_error:
            local_id = await self.journal.start_transaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start_wh=meter_start_wh,
                timestamp=timestamp,
                reservation_id=reservation_id,
                payload=payload,
                words=V201_WORDS,
                transaction_id=transaction_id,
            )
        state = ChargingStateEnumType.EV_CONNECTED if plugged else ChargingStateEnumType.IDLE
        self._running[local_id] = _Running(transaction_id, connector_id, state)
        return local_id

    follows_points = True  # TxCtrlr.TxStartPoint / TxStopPoint (E01, E06)

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
        """Updated for what happened to the transaction: a driver authorised it (Authorized,
        with the idToken), the cable came (CablePluggedIn, EVConnected) or went while it goes
        on (EVCommunicationLost, Idle: E10), the driver's authorisation ended while it waits
        for the cable (the trigger of the reason: StopAuthorized, RemoteStop, Deauthorized)."""
        running = await self._find(local_id)
        if running is None:
            return
        token = None
        state: ChargingStateEnumType | None = None
        if change is TxChange.AUTHORIZED:
            trigger = (
                TriggerReasonEnumType.AUTHORIZED
                if remote_start_id is None
                else TriggerReasonEnumType.REMOTE_START
            )
            token = id_token(id_tag or "", origin)
        elif change is TxChange.CABLE_PLUGGED:
            trigger, state = (
                TriggerReasonEnumType.CABLE_PLUGGED_IN,
                ChargingStateEnumType.EV_CONNECTED,
            )
        elif change is TxChange.CABLE_UNPLUGGED:
            trigger, state = TriggerReasonEnumType.EV_COMMUNICATION_LOST, ChargingStateEnumType.IDLE
        else:
            trigger = STOP_TRIGGER[reason or StopReason.LOCAL]
            state = ChargingStateEnumType.EV_CONNECTED
            token = id_token(id_tag) if id_tag else None
        if state is running.charging_state:
            state = None
        payload = updated(
            transaction_id=running.transaction_id,
            timestamp=timestamp,
            trigger=trigger,
            charging_state=state,
            offline=self._offline(),
            token=token,
            remote_start_id=remote_start_id,
        )
        with self._as_model_error:
            await self.journal.add_meter_values(
                local_id,
                connector_id=running.connector_id,
                payload=payload,
                droppable=False,
                words=V201_WORDS,
                driver=id_tag if change is TxChange.AUTHORIZED else None,
            )
        if state is not None:
            running.charging_state = state

    def known_id(self, local_id: int) -> int | str | None:
        running = self._running.get(local_id)
        return None if running is None else running.transaction_id

    async def _find(self, local_id: int) -> _Running | None:
        """The transaction as the recorder knows it, or from the ledger (one started before
        a restart: its stop comes from power-loss recovery)."""
        running = self._running.get(local_id)
        if running is not None:
            return running
        with self._as_model_error:
            tx = await self.journal.transaction(local_id)
        if tx is None or not isinstance(tx.transaction_id, str):
            log.error("transaction %d is not a 2.0.1 transaction of this journal", local_id)
            return None
        running = _Running(tx.transaction_id, tx.connector_id, None)
        self._running[local_id] = running
        return running

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        with self._as_model_error:
            await self.journal.record_meter(local_id, energy_wh=energy_wh, timestamp=timestamp)

    async def changed(self, local_id: int, *, status: Status, timestamp: str) -> None:
        """Updated with ChargingStateChanged when the charging state changed (E.. "SHALL
        only be sent when it changed"); a status change that keeps the state is no event."""
        running = await self._find(local_id)
        state = CHARGING_STATE[status]
        if running is None or running.charging_state is state:
            return
        payload = updated(
            transaction_id=running.transaction_id,
            timestamp=timestamp,
            trigger=TriggerReasonEnumType.CHARGING_STATE_CHANGED,
            charging_state=state,
            offline=self._offline(),
        )
        with self._as_model_error:
            await self.journal.add_meter_values(
                local_id,
                connector_id=running.connector_id,
                payload=payload,
                droppable=False,
                words=V201_WORDS,
            )
        running.charging_state = state

    async def meter_values(
        self, local_id: int | None, *, connector_id: int, samples: list[Sample], droppable: bool
    ) -> None:
        values = meter_values(samples)
        if not values:
            return
        if local_id is None:  # not transaction-related: MeterValues, sent now or never
            self._send_untracked(METER_VALUES, {"evseId": connector_id, "meterValue": values})
            return
        running = await self._find(local_id)
        if running is None:
            return
        phases = phases_used(samples)
        payload = updated(
            transaction_id=running.transaction_id,
            timestamp=samples[0].timestamp,
            trigger=SAMPLE_TRIGGER[samples[0].values[0].context],
            samples=values,
            offline=self._offline(),
            phases=phases if phases != running.phases else None,  # when it changed
        )
        with self._as_model_error:
            await self.journal.add_meter_values(
                local_id,
                connector_id=connector_id,
                payload=payload,
                droppable=droppable and "numberOfPhasesUsed" not in payload,
                words=V201_WORDS,
            )
        if phases is not None:
            running.phases = phases

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
        running = await self._find(local_id)
        if running is None:
            return
        # The energy has stopped: the EV is still connected, or gone (TC_E_37_CS: an EV
        # side disconnect ends Idle). A state not known (a transaction found running after
        # a restart) is not told.
        known = running.charging_state
        final = {
            StopReason.EV_DISCONNECTED: ChargingStateEnumType.IDLE,
            StopReason.EV_STOPPED: ChargingStateEnumType.SUSPENDED_EV,
            StopReason.TIMEOUT: known,  # nothing came: the state stays as it was
        }.get(reason, ChargingStateEnumType.EV_CONNECTED)
        payload = ended(
            charging_state=final if known is not None and known is not final else None,
            transaction_id=running.transaction_id,
            timestamp=timestamp,
            reason=STOPPED_REASON[reason],
            trigger=STOP_TRIGGER[reason],
            meter_stop_wh=meter_stop_wh,
            id_tag=id_tag,
            samples=meter_values(transaction_data),
            offline=self._offline(),
        )
        with self._as_model_error:
            await self.journal.stop_transaction(
                local_id,
                meter_stop_wh=meter_stop_wh,
                timestamp=timestamp,
                reason=STOPPED_REASON[reason].value,  # the row keeps the word it was sent with
                id_tag=id_tag,
                payload=payload,
                words=V201_WORDS,
            )
        self._running.pop(local_id, None)


def transaction_event(services: Services, evse_id: int | None) -> Task | None:
    """TriggerMessage TransactionEvent (F06): an Updated with triggerReason Trigger and the
    sampled measurands read now (context Trigger) for the 2.0.1 transaction on the EVSE
    asked for, or on every EVSE (no evse). Journaled and numbered like every event of its
    transaction, so it keeps their order. Nothing to send (no 2.0.1 transaction there, an
    EVSE the station does not have): Rejected."""
    charger = services.charger
    ids = list(charger.connectors) if evse_id is None else [evse_id]
    running = [
        cid
        for cid in ids
        if cid in charger.connectors
        and isinstance(getattr(charger.connectors[cid].tx, "transaction_id", None), str)
    ]
    if not running:
        return None

    async def send() -> None:
        for cid in running:
            connector = charger.connectors[cid]
            tx = connector.tx
            sample, _ = await connector.sample_now()
            if tx is None or connector.tx is not tx or sample is None:
                log.warning("triggered TransactionEvent of EVSE %d: nothing to send", cid)
                continue
            try:
                await charger.txlog.meter_values(
                    tx.local_id, connector_id=cid, samples=[sample], droppable=False
                )
            except StorageUnavailable as exc:
                log.warning("triggered TransactionEvent of EVSE %d not journaled: %s", cid, exc)
                continue
            services.wake_outbox()

    return send


TRIGGERS: Mapping[str, Trigger] = MappingProxyType({TRANSACTION_EVENT: transaction_event})
"""The messages of this block a TriggerMessage may ask for."""


AUTH_ENABLED = "AuthCtrlr.Enabled"


def _keys(_site: Site) -> Iterable[KeySpec]:
    """Its other variables are 1.6 keys or the device model's (variables.py)."""
    return (
        # C..: false lets anyone charge: the EV plugged in begins the transaction, whose
        # idToken is empty with type NoAuthorization. A 2.0.1 variable: a 1.6 transaction
        # still needs a tag (1.6 has no such key).
        KeySpec(
            AUTH_ENABLED,
            KeyType.BOOL,
            True,
            listed=False,
            doc="2.0.1 AuthCtrlr.Enabled: false lets anyone charge without a token",
        ),
    )


def _no_handlers(_services: Services) -> Mapping[str, Handler]:
    return {}  # TransactionEvent is the station's message; the CSMS calls none here


profile = Profile(
    "Transactions", keys=_keys, handlers=_no_handlers, triggers=TRIGGERS, advertised=False
)
"""E and J02: the model's TransactionLog in 2.0.1 is wired by app.py (``TxLogs``); the block
offers TriggerMessage TransactionEvent."""


def id_token_info(raw: dict[str, Any] | None) -> IdTagInfo | None:
    """IdTokenInfoType (as a payload) in the model's words, as the authorization block says
    them (``authorization.token_info``): the group's token is the parent tag, evseId the
    connectors it may charge at."""
    if not raw:
        return None
    status = AUTH_STATUS[AuthorizationStatusEnumType(raw["status"])]
    group = raw.get("groupIdToken") or {}
    evses = raw.get("evseId")
    return IdTagInfo(
        status,
        parse_time(raw.get("cacheExpiryDateTime")),
        group.get("idToken"),
        tuple(evses) if evses else None,
    )


def _with_seq_no(payload: dict[str, Any], number: int) -> dict[str, Any]:
    """``payload`` with ``seqNo`` after ``triggerReason`` (where the schema lists it)."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key != "seqNo":
            out[key] = value
        if key == "triggerReason":
            out["seqNo"] = number
    out.setdefault("seqNo", number)
    return out


class V201Carrier:
    """How the courier sends 2.0.1 rows and reads TransactionEventResponse."""

    words = V201_WORDS
    fallback_id: TransactionId | None = None  # the charge point named it: it keeps its id

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    def __repr__(self) -> str:
        return "<V201Carrier>"

    def complete(self, message: OutboxMessage) -> tuple[dict[str, Any], int | None] | None:
        if message.kind is Kind.OTHER or message.local_id is None:
            return message.payload, None
        number = message.next_number
        if number is None:  # its ledger row is gone: not numbered, sent as it is
            log.error("outbox: TransactionEvent %d has no transaction to number it", message.seq)
            return message.payload, None
        return _with_seq_no(message.payload, number), number

    def acknowledgement(
        self, message: OutboxMessage, answer: dict[str, Any]
    ) -> tuple[TransactionId | None, str | None]:
        info = answer.get("idTokenInfo")
        return None, None if not info else AUTH_STATUS[
            AuthorizationStatusEnumType(info["status"])
        ].value

    async def delivered(
        self, message: OutboxMessage, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        # totalCost, chargingPriority and updatedPersonalMessage: not used (see the module)
        info = id_token_info(answer.get("idTokenInfo"))
        token = (payload.get("idToken") or {}).get("idToken")
        if message.kind is Kind.TX_START and message.local_id is not None:
            transaction_id = message.transaction_id or payload["transactionInfo"]["transactionId"]
            verdict = info if info is not None else IdTagInfo(AuthStatus.ACCEPTED)
            await self.delivery.started(message.local_id, transaction_id, verdict)
            if info is not None and token:
                await self.delivery.start_answered(token, info)
        elif message.kind is Kind.TX_STOP:
            if message.local_id is not None:
                await self.delivery.stopped(message.local_id)
            if info is not None and token:
                await self.delivery.remember(token, info)
        elif info is not None and token:
            await self.delivery.remember(token, info)

    async def given_up(self, message: OutboxMessage) -> None:
        if message.kind is Kind.TX_START and message.local_id is not None:
            await self.delivery.start_given_up(message.local_id, keep=message.transaction_id)
        elif message.kind is Kind.TX_STOP and message.local_id is not None:
            await self.delivery.stopped(message.local_id)

    def rebuilt(self, message: OutboxMessage, tx: TxRecord) -> tuple[str, dict[str, Any]] | None:
        """Started or Ended again from the ledger row (what it kept: the token, the EVSE,
        the register at both ends, the reason); what the row alone knew (triggerReason,
        offline, the samples) is lost: Started says Authorized, Ended the trigger of its
        reason."""
        if not isinstance(tx.transaction_id, str):
            return None
        if message.kind is Kind.TX_START:
            return TRANSACTION_EVENT, started(
                transaction_id=tx.transaction_id,
                connector_id=tx.connector_id,
                id_tag=tx.id_tag,
                meter_start_wh=tx.meter_start_wh,
                timestamp=tx.started_at,
                trigger=TriggerReasonEnumType.AUTHORIZED,
                reservation_id=tx.reservation_id,
            )
        if message.kind is Kind.TX_STOP and tx.stop_reason and tx.stopped_at:
            reason = _REASONS.get(tx.stop_reason, ReasonEnumType.OTHER)
            return TRANSACTION_EVENT, ended(
                transaction_id=tx.transaction_id,
                timestamp=tx.stopped_at,
                reason=reason,
                trigger=_STOP_TRIGGER_BY_WORD.get(
                    reason.value, TriggerReasonEnumType.ABNORMAL_CONDITION
                ),
                meter_stop_wh=tx.meter_stop_wh,
                id_tag=tx.stop_id_tag,
                samples=[],
            )
        return None


__all__ = [
    "AUTH_STATUS",
    "CHARGING_STATE",
    "START_TRIGGER",
    "STOPPED_REASON",
    "STOP_TRIGGER",
    "V201_WORDS",
    "Recorder201",
    "V201Carrier",
]
