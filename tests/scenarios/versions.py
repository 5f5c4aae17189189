"""How each OCPP version's central system sees a scenario: one small adapter per version.

A scenario is written once, in the charger's words (plug, tag, stop, go offline, come
back, reset, set inoperative). The adapter says how the central system of its version
asks for things (RemoteStartTransaction or RequestStartTransaction, Reset Soft or
Immediate, ChangeAvailability by connectorId or by evse) and reads back what it saw as
version-free facts: the :class:`Session` (energy, start and stop times, reason, tag) and
the connector states. Reading a version's messages also checks its own rules of "nothing
lost, once, in order" (1.6: one StartTransaction, MeterValues and one StopTransaction
per transactionId; 2.0.1: seqNo 0..n-1 in arrival order, Started first, Ended last), so
every scenario checks them.

Each reason and state word a scenario expects is named here once per version, from the
spec (1.6 §7.41 Reason, 2.0.1 ReasonEnumType, G01/§4.9 connector states), not from
ocppd's own tables.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import trio
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from ocppd.testing.csms import CentralSystem, NoAnswer, Received
from ocppd.testing.csms201 import CentralSystem201
from tests import harness
from tests.harness import CP_ID, Charger, csms_now, make_csms
from tests.v201.harness import charger201, make_csms201
from tests.v201.harness import registered as registered201

REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class Session:
    """One transaction as the central system saw it, in no version's words."""

    id: str  # the transactionId the central system knows it by
    connector: int  # 1.6 connectorId, 2.0.1 evse.id (one connector per EVSE here)
    tag: str | None
    stop_tag: str | None
    meter_start_wh: float
    meter_stop_wh: float | None
    started: datetime
    stopped: datetime | None
    reason: str | None  # the version's own word (see Version.reason)
    reservation: int | None  # the reservation the session used
    samples: tuple[tuple[datetime, float], ...]  # periodic register samples, in order
    aligned: tuple[tuple[datetime, float], ...]  # clock-aligned register samples, in order
    offline: tuple[bool, ...] | None  # 2.0.1: each event's offline flag; 1.6 has none

    @property
    def energy_wh(self) -> float:
        assert self.meter_stop_wh is not None, f"{self.id} has not ended"
        return self.meter_stop_wh - self.meter_start_wh

    @property
    def duration_s(self) -> float:
        assert self.stopped is not None, f"{self.id} has not ended"
        return (self.stopped - self.started).total_seconds()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wh(sampled: dict[str, Any]) -> float:
    """A sampled value in Wh (1.6 says ``unit``, 2.0.1 ``unitOfMeasure``)."""
    unit = sampled.get("unit") or sampled.get("unitOfMeasure", {}).get("unit", "Wh")
    multiplier = 10.0 ** sampled.get("unitOfMeasure", {}).get("multiplier", 0)
    return float(sampled["value"]) * multiplier * (1000.0 if unit == "kWh" else 1.0)


def registers(meter_values: list[dict[str, Any]], context: str) -> list[tuple[datetime, float]]:
    """(time, Wh) of every energy register value of ``context``, in order."""
    return [
        (when(mv["timestamp"]), wh(sv))
        for mv in meter_values
        for sv in mv["sampledValue"]
        if sv.get("measurand", REGISTER) == REGISTER
        and sv.get("context", "Sample.Periodic") == context
    ]


def first_copies(csms: CentralSystem, action: str) -> list[Received]:
    """The CALLs of ``action`` over every connection, each message once (a resend keeps
    its message id and payload: checked), in arrival order."""
    seen: dict[str, Received] = {}
    for c in csms.all_calls(CP_ID):
        if c.action != action:
            continue
        first = seen.setdefault(c.unique_id, c)
        assert first.payload == c.payload, f"message {c.unique_id} resent with another payload"
    return list(seen.values())


class Version:
    """What a scenario needs to know of one OCPP version (the base names the words)."""

    name: str
    reasons: dict[str, str]  # the scenario's word -> this version's stop reason
    resets_on_idle: bool  # a Reset that waits for the transactions to end
    purposes: dict[str, str]  # the scenario's word -> chargingProfilePurpose

    def __repr__(self) -> str:
        return self.name

    async def start_csms(self, nursery: trio.Nursery, **kwargs: Any) -> CentralSystem:
        raise NotImplementedError

    def charger(
        self, nursery: trio.Nursery, csms: CentralSystem, **options: Any
    ) -> AbstractAsyncContextManager[Charger]:
        raise NotImplementedError

    async def registered(self, cp: Charger, connection: int = 1) -> Any:
        raise NotImplementedError

    def reason(self, word: str) -> str:
        return self.reasons[word]

    def boot_reason(self, boot: dict[str, Any]) -> str | None:
        """The reason a BootNotification gives (None: the version has no such field)."""
        raise NotImplementedError

    def sessions(self, csms: CentralSystem) -> list[Session]:
        raise NotImplementedError

    def session(self, csms: CentralSystem) -> Session:
        """The one session the central system saw."""
        sessions = self.sessions(csms)
        assert len(sessions) == 1, sessions
        return sessions[0]

    def states(self, station: Any, connector: int) -> list[str]:
        """The connector's reported states as Available / Occupied / Reserved / Unavailable
        / Faulted, a repeat of the same state left out."""
        out: list[str] = []
        for state in self.reports(station, connector):
            if not out or out[-1] != state:
                out.append(state)
        return out

    def reports(self, station: Any, connector: int) -> list[str]:
        """Every state reported for ``connector``, in the words of :meth:`states`, repeats
        included."""
        raise NotImplementedError

    async def wait_state(self, station: Any, connector: int, state: str, count: int = 1) -> None:
        """Wait for the ``count``-th report of ``state`` for ``connector``."""
        with trio.fail_after(600):
            while True:
                if self.reports(station, connector).count(state) >= count:
                    return
                await station.wait_for(
                    "StatusNotification", count=len(station.calls("StatusNotification")) + 1
                )

    def ends(self, csms: CentralSystem) -> list[Received]:
        """Every copy of every message that ended a transaction, in arrival order."""
        raise NotImplementedError

    def hold_ends(self, csms: CentralSystem) -> None:
        """From now on the central system does not answer the end of a transaction (an
        answer lost on the way); :meth:`release_ends` undoes it."""
        raise NotImplementedError

    def release_ends(self, csms: CentralSystem) -> None:
        raise NotImplementedError

    async def remote_start(self, station: Any, tag: str, connector: int) -> str:
        raise NotImplementedError

    async def remote_stop(self, station: Any, session_id: str) -> str:
        raise NotImplementedError

    async def reset(self, station: Any, *, on_idle: bool = False) -> str:
        raise NotImplementedError

    async def change_availability(self, station: Any, connector: int, operative: bool) -> str:
        """``connector`` 0 is the whole station."""
        raise NotImplementedError

    async def reserve(
        self, station: Any, reservation: int, connector: int, tag: str, minutes: float
    ) -> str:
        """ReserveNow of ``connector`` (0: any) for ``tag``, expiring in ``minutes``."""
        raise NotImplementedError

    async def cancel_reservation(self, station: Any, reservation: int) -> str:
        raise NotImplementedError

    async def limit(
        self,
        station: Any,
        profile: int,
        connector: int,
        amps: float,
        *,
        purpose: str = "default",
        session: str | None = None,
    ) -> str:
        """SetChargingProfile: a constant ``amps`` from now on (Absolute); ``purpose``
        "default" (for every session), "session" (the running ``session`` only) or
        "station" (the whole station's maximum); connector 0 is the station."""
        raise NotImplementedError

    async def clear_limit(self, station: Any, profile: int) -> str:
        """ClearChargingProfile by the profile's id."""
        raise NotImplementedError

    async def trigger(self, station: Any, message: str, connector: int | None) -> str:
        """TriggerMessage for ``message`` (StatusNotification, Heartbeat, MeterValues: the
        names are the same in both versions) of ``connector`` (None: not named)."""
        raise NotImplementedError

    def readings(self, station: Any, context: str) -> list[tuple[int, float]]:
        """(connector, Wh) of every register value of ``context`` in MeterValues, in order."""
        raise NotImplementedError


def _expiry(minutes: float) -> str:
    return (csms_now() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _now_text() -> str:
    """Now, to the second: an Absolute profile's startSchedule (Absolute, not Relative: a
    2.0.1 ChargingStationMaxProfile may not be Relative, K01.FR.38)."""
    return csms_now().strftime("%Y-%m-%dT%H:%M:%SZ")


# --- OCPP 1.6 ---------------------------------------------------------------------------------

_OCCUPIED_16 = {"Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing"}


class Ocpp16(Version):
    name = "ocpp1.6"
    # 1.6 §7.41 Reason
    reasons = {
        "local": "Local",
        "ev_disconnected": "EVDisconnected",
        "remote": "Remote",
        "power_loss": "PowerLoss",
        "reset": "SoftReset",  # the Reset this adapter sends is Soft
        "reboot": "Reboot",
        "deauthorized": "DeAuthorized",
    }
    resets_on_idle = False  # 1.6 Reset is Soft or Hard, both at once (§5.13)
    # 1.6 §7.13 ChargingProfilePurposeType
    purposes = {
        "default": "TxDefaultProfile",
        "session": "TxProfile",
        "station": "ChargePointMaxProfile",
    }

    def boot_reason(self, boot: dict[str, Any]) -> str | None:
        return None  # 1.6's BootNotification says no reason

    async def start_csms(self, nursery: trio.Nursery, **kwargs: Any) -> CentralSystem:
        csms = make_csms(**kwargs)
        await nursery.start(csms.serve)
        return csms

    def charger(
        self, nursery: trio.Nursery, csms: CentralSystem, **options: Any
    ) -> AbstractAsyncContextManager[Charger]:
        return harness.charger(nursery, csms, **options)

    async def registered(self, cp: Charger, connection: int = 1) -> Any:
        return await cp.registered(connection)

    def sessions(self, csms: CentralSystem) -> list[Session]:
        answers = {
            frame.unique_id: frame.payload
            for who, frame in csms.frames
            if who == CP_ID and frame.direction == "out" and frame.message_type == 3
        }
        starts = {}
        for c in first_copies(csms, "StartTransaction"):
            answer = answers.get(c.unique_id)
            assert answer is not None, f"StartTransaction {c.payload} never answered"
            tx_id = str(answer["transactionId"])
            assert tx_id not in starts, f"two StartTransactions got transactionId {tx_id}"
            starts[tx_id] = c.payload
        stops: dict[str, dict[str, Any]] = {}
        stopped_at: dict[str, float] = {}
        for c in first_copies(csms, "StopTransaction"):
            tx_id = str(c.payload["transactionId"])
            assert tx_id in starts, f"StopTransaction of no started transaction: {c.payload}"
            assert tx_id not in stops, f"two StopTransactions for {tx_id}"
            stops[tx_id], stopped_at[tx_id] = c.payload, c.t
        samples: dict[str, list[tuple[datetime, float]]] = {tx: [] for tx in starts}
        aligned: dict[str, list[tuple[datetime, float]]] = {tx: [] for tx in starts}
        for c in first_copies(csms, "MeterValues"):
            if c.payload.get("transactionId") is None:
                continue
            tx_id = str(c.payload["transactionId"])
            assert tx_id in starts, f"MeterValues of no started transaction: {c.payload}"
            assert c.t <= stopped_at.get(tx_id, c.t), f"MeterValues after the stop: {c}"
            samples[tx_id] += registers(c.payload["meterValue"], "Sample.Periodic")
            aligned[tx_id] += registers(c.payload["meterValue"], "Sample.Clock")
        out = []
        for tx_id, start in starts.items():
            stop = stops.get(tx_id)
            out.append(
                Session(
                    id=tx_id,
                    connector=start["connectorId"],
                    tag=start["idTag"],
                    stop_tag=stop.get("idTag") if stop else None,
                    meter_start_wh=float(start["meterStart"]),
                    meter_stop_wh=float(stop["meterStop"]) if stop else None,
                    started=when(start["timestamp"]),
                    stopped=when(stop["timestamp"]) if stop else None,
                    reason=stop.get("reason", "Local") if stop else None,  # Local: §7.41
                    reservation=start.get("reservationId"),
                    samples=tuple(samples[tx_id]),
                    aligned=tuple(aligned[tx_id]),
                    offline=None,
                )
            )
        return out

    def reports(self, station: Any, connector: int) -> list[str]:
        return [
            "Occupied" if p["status"] in _OCCUPIED_16 else p["status"]
            for p in (c.payload for c in station.calls("StatusNotification"))
            if p["connectorId"] == connector
        ]

    def ends(self, csms: CentralSystem) -> list[Received]:
        return [c for c in csms.all_calls(CP_ID) if c.action == "StopTransaction"]

    def hold_ends(self, csms: CentralSystem) -> None:
        csms.overrides["StopTransaction"] = lambda station, payload: NoAnswer()

    def release_ends(self, csms: CentralSystem) -> None:
        del csms.overrides["StopTransaction"]

    async def remote_start(self, station: Any, tag: str, connector: int) -> str:
        request = call16.RemoteStartTransaction(id_tag=tag, connector_id=connector)
        return str((await station.call(request)).status)

    async def remote_stop(self, station: Any, session_id: str) -> str:
        request = call16.RemoteStopTransaction(transaction_id=int(session_id))
        return str((await station.call(request)).status)

    async def reset(self, station: Any, *, on_idle: bool = False) -> str:
        assert not on_idle, "1.6 has no Reset that waits"
        return str((await station.call(call16.Reset(type="Soft"))).status)

    async def change_availability(self, station: Any, connector: int, operative: bool) -> str:
        kind = "Operative" if operative else "Inoperative"
        request = call16.ChangeAvailability(connector_id=connector, type=kind)
        return str((await station.call(request)).status)

    async def reserve(
        self, station: Any, reservation: int, connector: int, tag: str, minutes: float
    ) -> str:
        request = call16.ReserveNow(
            connector_id=connector,
            expiry_date=_expiry(minutes),
            id_tag=tag,
            reservation_id=reservation,
        )
        return str((await station.call(request)).status)

    async def cancel_reservation(self, station: Any, reservation: int) -> str:
        request = call16.CancelReservation(reservation_id=reservation)
        return str((await station.call(request)).status)

    async def limit(
        self,
        station: Any,
        profile: int,
        connector: int,
        amps: float,
        *,
        purpose: str = "default",
        session: str | None = None,
    ) -> str:
        wire: dict[str, Any] = {
            "chargingProfileId": profile,
            "stackLevel": 0,
            "chargingProfilePurpose": self.purposes[purpose],
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": _now_text(),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
            },
        }
        if session is not None:
            wire["transactionId"] = int(session)
        payload = {"connectorId": connector, "csChargingProfiles": wire}
        return str((await station.call_raw("SetChargingProfile", payload)).status)

    async def clear_limit(self, station: Any, profile: int) -> str:
        return str((await station.call_raw("ClearChargingProfile", {"id": profile})).status)

    async def trigger(self, station: Any, message: str, connector: int | None) -> str:
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector is not None:
            payload["connectorId"] = connector
        return str((await station.call_raw("TriggerMessage", payload)).status)

    def readings(self, station: Any, context: str) -> list[tuple[int, float]]:
        return [
            (c.payload["connectorId"], wh)
            for c in station.calls("MeterValues")
            for _, wh in registers(c.payload["meterValue"], context)
        ]


# --- OCPP 2.0.1 -------------------------------------------------------------------------------


class Ocpp201(Version):
    name = "ocpp2.0.1"
    # 2.0.1 ReasonEnumType (TransactionType.stoppedReason)
    reasons = {
        "local": "Local",
        "ev_disconnected": "EVDisconnected",
        "remote": "Remote",
        "power_loss": "PowerLoss",
        "reset": "ImmediateReset",  # B12.FR.02: what a Reset Immediate ends a transaction with
        "reboot": "Reboot",
        "deauthorized": "DeAuthorized",
    }
    resets_on_idle = True  # B12.FR.01: OnIdle
    # 2.0.1 ChargingProfilePurposeEnumType
    purposes = {
        "default": "TxDefaultProfile",
        "session": "TxProfile",
        "station": "ChargingStationMaxProfile",
    }

    def boot_reason(self, boot: dict[str, Any]) -> str | None:
        return str(boot["reason"])

    async def start_csms(self, nursery: trio.Nursery, **kwargs: Any) -> CentralSystem:
        csms = make_csms201(**kwargs)
        await nursery.start(csms.serve)
        return csms

    def charger(
        self, nursery: trio.Nursery, csms: CentralSystem, **options: Any
    ) -> AbstractAsyncContextManager[Charger]:
        return charger201(nursery, csms, **options)

    async def registered(self, cp: Charger, connection: int = 1) -> Any:
        return await registered201(cp, connection)

    def sessions(self, csms: CentralSystem) -> list[Session]:
        assert isinstance(csms, CentralSystem201)
        events: dict[str, list[dict[str, Any]]] = {}
        for c in first_copies(csms, "TransactionEvent"):
            events.setdefault(c.payload["transactionInfo"]["transactionId"], []).append(c.payload)
        out = []
        for tx_id, sent in events.items():
            numbers = [p["seqNo"] for p in sent]
            assert numbers == list(range(len(sent))), f"{tx_id}: seqNo arrived as {numbers}"
            kinds = [p["eventType"] for p in sent]
            assert kinds[0] == "Started" and kinds.count("Started") == 1, f"{tx_id}: {kinds}"
            assert kinds.count("Ended") <= 1 and "Ended" not in kinds[:-1], f"{tx_id}: {kinds}"
            started = sent[0]
            ended = sent[-1] if kinds[-1] == "Ended" else None
            stamps = [p["timestamp"] for p in sent]
            assert stamps == sorted(stamps), f"{tx_id}: timestamps {stamps}"
            begin = registers(started.get("meterValue", []), "Transaction.Begin")
            assert len(begin) == 1, f"{tx_id}: Started has {begin} as its Transaction.Begin"
            end = registers(ended.get("meterValue", []), "Transaction.End") if ended else []
            assert ended is None or len(end) == 1, f"{tx_id}: Ended has {end} as Transaction.End"
            samples = [
                value
                for p in sent
                if p["triggerReason"] == "MeterValuePeriodic"
                for value in registers(p.get("meterValue", []), "Sample.Periodic")
            ]
            aligned = [
                value
                for p in sent
                if p["triggerReason"] == "MeterValueClock"
                for value in registers(p.get("meterValue", []), "Sample.Clock")
            ]
            out.append(
                Session(
                    id=tx_id,
                    connector=started["evse"]["id"],
                    tag=started.get("idToken", {}).get("idToken"),
                    stop_tag=ended.get("idToken", {}).get("idToken") if ended else None,
                    meter_start_wh=begin[0][1],
                    meter_stop_wh=end[0][1] if ended else None,
                    started=when(started["timestamp"]),
                    stopped=when(ended["timestamp"]) if ended else None,
                    # stoppedReason may be left out only when it is Local (TransactionType)
                    reason=ended["transactionInfo"].get("stoppedReason", "Local")
                    if ended
                    else None,
                    reservation=started.get("reservationId"),
                    samples=tuple(samples),
                    aligned=tuple(aligned),
                    offline=tuple(bool(p.get("offline", False)) for p in sent),
                )
            )
        return out

    def reports(self, station: Any, connector: int) -> list[str]:
        assert connector != 0, "2.0.1 reports no state of the station as a whole"
        return [
            p["connectorStatus"]
            for p in (c.payload for c in station.calls("StatusNotification"))
            if p["evseId"] == connector
        ]

    def ends(self, csms: CentralSystem) -> list[Received]:
        return [
            c
            for c in csms.all_calls(CP_ID)
            if c.action == "TransactionEvent" and c.payload["eventType"] == "Ended"
        ]

    def hold_ends(self, csms: CentralSystem) -> None:
        assert isinstance(csms, CentralSystem201)
        verdict = csms.id_token_info

        def answer(station: Any, payload: dict[str, Any]) -> Any:
            if payload["eventType"] == "Ended":
                return NoAnswer()
            token = payload.get("idToken")
            return {"idTokenInfo": verdict(token)} if token else {}

        csms.overrides["TransactionEvent"] = answer

    def release_ends(self, csms: CentralSystem) -> None:
        del csms.overrides["TransactionEvent"]

    async def remote_start(self, station: Any, tag: str, connector: int) -> str:
        request = call201.RequestStartTransaction(
            id_token={"id_token": tag, "type": "ISO14443"},
            remote_start_id=next(_remote_start_ids),
            evse_id=connector,
        )
        return str((await station.call(request)).status)

    async def remote_stop(self, station: Any, session_id: str) -> str:
        request = call201.RequestStopTransaction(transaction_id=session_id)
        return str((await station.call(request)).status)

    async def reset(self, station: Any, *, on_idle: bool = False) -> str:
        request = call201.Reset(type="OnIdle" if on_idle else "Immediate")
        return str((await station.call(request)).status)

    async def change_availability(self, station: Any, connector: int, operative: bool) -> str:
        request = call201.ChangeAvailability(
            operational_status="Operative" if operative else "Inoperative",
            evse=None if connector == 0 else {"id": connector},
        )
        return str((await station.call(request)).status)

    async def reserve(
        self, station: Any, reservation: int, connector: int, tag: str, minutes: float
    ) -> str:
        request = call201.ReserveNow(
            id=reservation,
            expiry_date_time=_expiry(minutes),
            id_token={"id_token": tag, "type": "ISO14443"},
            evse_id=None if connector == 0 else connector,
        )
        return str((await station.call(request)).status)

    async def cancel_reservation(self, station: Any, reservation: int) -> str:
        request = call201.CancelReservation(reservation_id=reservation)
        return str((await station.call(request)).status)

    async def limit(
        self,
        station: Any,
        profile: int,
        connector: int,
        amps: float,
        *,
        purpose: str = "default",
        session: str | None = None,
    ) -> str:
        wire: dict[str, Any] = {
            "id": profile,
            "stackLevel": 0,
            "chargingProfilePurpose": self.purposes[purpose],
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": _now_text(),
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
                }
            ],
        }
        if session is not None:
            wire["transactionId"] = session
        payload = {"evseId": connector, "chargingProfile": wire}
        return str((await station.call_raw("SetChargingProfile", payload)).status)

    async def clear_limit(self, station: Any, profile: int) -> str:
        payload = {"chargingProfileId": profile}
        return str((await station.call_raw("ClearChargingProfile", payload)).status)

    async def trigger(self, station: Any, message: str, connector: int | None) -> str:
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector is not None:  # one connector per EVSE: its connectorId is 1
            payload["evse"] = {"id": connector, "connectorId": 1}
        return str((await station.call_raw("TriggerMessage", payload)).status)

    def readings(self, station: Any, context: str) -> list[tuple[int, float]]:
        return [
            (c.payload["evseId"], wh)
            for c in station.calls("MeterValues")
            for _, wh in registers(c.payload["meterValue"], context)
        ]


_remote_start_ids = itertools.count(1)

VERSIONS: dict[str, Version] = {v.name: v for v in (Ocpp16(), Ocpp201())}
