"""An independent OCPP 2.0.1 central system (CSMS) for tests, on the ``ocpp`` package.

The 2.0.1 twin of :mod:`ocppd.testing.csms`, with the same machinery (real sockets,
trio's clock, ``overrides``, ``call()``, the frame log): the ``ocpp`` package validates
every frame the charging station sends against the official 2.0.1 JSON schemas, and
anything it rejects is recorded in :attr:`CentralSystem201.violations`, which tests
assert empty. It also records as violations what the station must not send (B02.FR.09,
B03.FR.07): a CALL other than BootNotification while its registration is Pending
(unless this CSMS asked for that message) or Rejected.

While Pending "the CSMS may send messages to retrieve information from the Charging Station
or change its configuration" (B02.FR.01), and the station sends nothing of its own unless
the CSMS instructs it to (B02.FR.02). What the CSMS asked for is therefore allowed: a
message it requested with TriggerMessage, and the NotifyReports that carry a report it asked
for with GetBaseReport or GetReport (B07.FR.03, B08.FR.03: the report *is* those messages,
matched by its requestId). A NotifyReport of a report nobody asked for is still flagged.

Knobs beyond the 1.6 central system's: ``tags`` (idToken -> AuthorizationStatus) answer
Authorize and TransactionEvent's ``idTokenInfo``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from ocpp.routing import on
from ocpp.v201 import ChargePoint as _OcppChargePoint
from ocpp.v201 import call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    DataTransferStatusEnumType,
    GenericStatusEnumType,
    RegistrationStatusEnumType,
)

from ocppd.testing.csms import CentralSystem, StationBase, Violation

SUBPROTOCOL = "ocpp2.0.1"
ALWAYS_ALLOWED = frozenset({"BootNotification"})
REPORT_REQUESTS = frozenset({"GetBaseReport", "GetReport"})  # answered by NotifyReports


class Station201(StationBase, _OcppChargePoint):
    """One connected 2.0.1 charging station, seen from the CSMS."""

    csms: CentralSystem201

    def __init__(self, cp_id: str, ws: Any, csms: CentralSystem201) -> None:
        super().__init__(cp_id, ws, csms)
        # the last BootNotification status answered to this charger, on any connection (a
        # reconnect without a restart does not boot again)
        self.registration: str | None = csms.registrations.get(cp_id)
        self.triggered: set[str] = set()  # messages asked for with TriggerMessage, Accepted
        self.reports: set[int] = set()  # requestIds of the reports asked for, Accepted
        self._actions: dict[str, str] = {}  # the station's CALLs: unique id -> action

    def __repr__(self) -> str:
        return f"<Station201 {self.id} {self.registration} received={len(self.inbox)}>"

    # --- what the station may send, by its registration (B02.FR.09, B03.FR.07) ---

    async def _route(self, text: str | bytes) -> None:
        try:
            msg = json.loads(text)
            is_call = msg[0] == 2
            unique_id, action = (str(msg[1]), str(msg[2])) if is_call else ("", "")
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):
            is_call = False  # the package reports it
        if is_call:
            self._actions[unique_id] = action
            self._judge(action, str(text))
        await super()._route(text)

    def _judge(self, action: str, text: str) -> None:
        if action in ALWAYS_ALLOWED or self.registration == "Accepted":
            return
        if self.registration is None:
            what = f"{action} before any BootNotification was answered (B01)"
        elif self.registration == "Rejected":
            what = f"{action} while Rejected (B03.FR.07)"
        elif action in self.triggered or self._asked_report(action, text):
            return
        else:
            what = f"{action} while Pending and not triggered (B02.FR.09)"
        self.csms.violations.append(Violation(self.id, what, text))

    def _asked_report(self, action: str, text: str) -> bool:
        """A NotifyReport of a report this CSMS asked for (B02.FR.01, B07.FR.03, B08.FR.03)."""
        if action != "NotifyReport":
            return False
        try:
            return json.loads(text)[3]["requestId"] in self.reports
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):
            return False

    async def send(self, text: str) -> None:
        try:
            msg = json.loads(text)
            if msg[0] == 3 and self._actions.get(msg[1]) == "BootNotification":
                self.registration = self.csms.registrations[self.id] = msg[2]["status"]
                if self.registration == "Accepted":
                    self.triggered.clear()
                    self.reports.clear()
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):
            pass  # garbage on purpose: the base class sends it as it is
        await super().send(text)

    async def call_raw(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        validate: bool = True,
    ) -> Any:
        if action in REPORT_REQUESTS and isinstance(payload.get("requestId"), int):
            return await self._asking_report(action, payload, timeout, validate)
        if action != "TriggerMessage" or not isinstance(payload.get("requestedMessage"), str):
            return await super().call_raw(action, payload, timeout=timeout, validate=validate)
        # allowed before the answer is read: the station sends the message right after
        # its answer, possibly before this task sees that answer
        wanted, known = payload["requestedMessage"], payload["requestedMessage"] in self.triggered
        self.triggered.add(wanted)
        try:
            answer = await super().call_raw(action, payload, timeout=timeout, validate=validate)
        except BaseException:
            if not known:
                self.triggered.discard(wanted)
            raise
        if getattr(answer, "status", None) != "Accepted" and not known:
            self.triggered.discard(wanted)
        return answer

    async def _asking_report(
        self, action: str, payload: dict[str, Any], timeout: float | None, validate: bool
    ) -> Any:
        """A GetBaseReport or GetReport: its NotifyReports are allowed from before its answer
        is read (the station sends them right after it) unless it is not Accepted."""
        request_id, known = payload["requestId"], payload["requestId"] in self.reports
        self.reports.add(request_id)
        try:
            answer = await super().call_raw(action, payload, timeout=timeout, validate=validate)
        except BaseException:
            if not known:
                self.reports.discard(request_id)
            raise
        if getattr(answer, "status", None) != "Accepted" and not known:
            self.reports.discard(request_id)
        return answer

    # --- default CSMS behaviour (overridable per action) ---

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return call_result.BootNotification(
            current_time=self.csms.now_text(),
            interval=self.csms.heartbeat_interval,
            status=RegistrationStatusEnumType(self.csms.boot_status),
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=self.csms.now_text())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return call_result.Authorize(id_token_info=self.csms.id_token_info(id_token))

    @on(Action.transaction_event)
    def on_transaction_event(self, id_token: dict[str, Any] | None = None, **_: Any) -> Any:
        info = self.csms.id_token_info(id_token) if id_token else None
        return call_result.TransactionEvent(id_token_info=info)

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any) -> Any:
        return call_result.NotifyEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> Any:
        return call_result.NotifyReport()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, **_: Any) -> Any:
        return call_result.ReportChargingProfiles()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> Any:
        return call_result.SignCertificate(status=GenericStatusEnumType.accepted)

    @on(Action.reservation_status_update)
    def on_reservation_status_update(self, **_: Any) -> Any:
        return call_result.ReservationStatusUpdate()

    @on(Action.notify_display_messages)
    def on_notify_display_messages(self, **_: Any) -> Any:
        return call_result.NotifyDisplayMessages()

    @on(Action.notify_customer_information)
    def on_notify_customer_information(self, **_: Any) -> Any:
        return call_result.NotifyCustomerInformation()


@dataclass
class CentralSystem201(CentralSystem):
    """A 2.0.1 CSMS listening on loopback: ``await nursery.start(csms.serve)``. It accepts
    only the ``ocpp2.0.1`` subprotocol (a charger that does not offer it is refused, as a
    2.0.1-only CSMS does). Knobs as :class:`ocppd.testing.csms.CentralSystem`."""

    subprotocol: ClassVar[str] = SUBPROTOCOL
    station_class: ClassVar[type[StationBase]] = Station201

    def __post_init__(self) -> None:
        super().__post_init__()
        self.registrations: dict[str, str] = {}  # charge point id -> its registration status

    def __repr__(self) -> str:
        return f"<CentralSystem201 {self.url} stations={sorted(self.stations)}>"

    def id_token_info(self, id_token: dict[str, Any]) -> dict[str, Any]:
        token = str(id_token.get("id_token", id_token.get("idToken", "")))
        status = self.tags.get(token.upper(), self.tags.get(token, self.default_tag_status))
        return {"status": AuthorizationStatusEnumType(status).value}
