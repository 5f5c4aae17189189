"""B05-B08: SetVariables, GetVariables, GetBaseReport and GetReport over the device model.

The device model (``variables.py``) is a view over the one key store: a SetVariables of a
variable that is a 1.6 key goes the way a 1.6 ChangeConfiguration goes (checked, persisted
in the journal, then applied, so the model's policies follow), and answers per item
(B05.FR.01). The reports are sent after the GetBaseReport/GetReport answer, on the same
link, as NotifyReports numbered from seqNo 0 with ``tbc`` on all but the last (B07.FR.04-06);
a report means nothing without the link that asked, so it ends with it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.features.smart_charging import offered, runtime_of
from ocppd.features.v201 import variables
from ocppd.features.v201.smart_charging import rate_unit_words
from ocppd.features.v201.variables import (
    DEVICE_DATA,
    DeviceModel,
    Facts,
    SetDecision,
    split,
    too_many,
)
from ocppd.journal import Journal, JournalUnavailable
from ocppd.model.keys import KeySpec
from ocppd.model.status import Status
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    AttributeEnumType,
    GenericDeviceModelStatusEnumType,
    SetVariableStatusEnumType,
)
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

ACCEPTED = GenericDeviceModelStatusEnumType.ACCEPTED


def facts(services: Services) -> Facts:
    """The charger as the read-only variables see it, read at each question."""
    charger = services.charger
    info = services.registration.info
    settings = services.settings

    def status(evse: int) -> Status:
        if evse == 0:
            return charger.current().status
        return charger.connectors[evse].reported.status

    sizes = services.part("journal sizes", lambda: StoredSizes(services.journal))

    def plugged(evse: int) -> bool:
        if evse == 0:
            return any(c.reported.plugged for c in charger.connectors.values())
        return charger.connectors[evse].reported.plugged

    def certificates() -> int:
        store = services.certificates
        return 0 if store is None else store.count()

    def charging_profiles() -> int:
        return len(runtime_of(services).store) if offered(services) else 0

    return Facts(
        evses={cid: c.phases for cid, c in charger.connectors.items()},
        status=status,
        plugged=plugged,
        vendor=info.vendor,
        model=info.model,
        identity=settings.ocpp.charge_point_id if settings is not None else info.model,
        now=services.clock.now,
        serial_number=info.serial_number or info.charge_box_serial_number,
        firmware_version=info.firmware_version,
        call_timeout_s=settings.ocpp.call_timeout_s if settings is not None else 30.0,
        max_frame_bytes=settings.ocpp.max_frame_bytes if settings is not None else 1024 * 1024,
        certificates=certificates,
        charging_profiles=charging_profiles,
        rate_units=lambda: rate_unit_words(services.keys),
        display=settings is not None and settings.display is not None,
        stored=sizes.current,
        refresh=sizes.refresh,
    )


class StoredSizes:
    """What the journal holds, as the read-only variables report it (LocalAuthListCtrlr
    Entries and Storage, AuthCacheCtrlr.Storage): read again before each answer."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.sizes: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<StoredSizes {self.sizes}>"

    def current(self) -> Mapping[str, int]:
        return self.sizes

    async def refresh(self) -> None:
        try:
            summary = await self.journal.list_summary()
            _entries, cache_bytes = await self.journal.cache_size()
        except JournalUnavailable as exc:  # reported without a value, not guessed
            log.warning("device model: the journal's sizes cannot be read: %s", exc)
            self.sizes = {}
            return
        self.sizes = {
            "local_list.entries": summary.entries,
            "local_list.bytes": summary.bytes,
            "cache.bytes": cache_bytes,
        }


class DeviceModelHandlers:
    """The four device-model calls of one daemon, over one :class:`DeviceModel`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.keys = services.keys
        self.model = DeviceModel(services.keys, facts(services))

    def __repr__(self) -> str:
        return f"<DeviceModelHandlers {self.model!r}>"

    async def set_variables(self, request: m.SetVariablesRequest) -> m.SetVariablesResponse:
        limit = self.model.limit("SetVariables")
        results = []
        for index, data in enumerate(request.set_variable_data):
            # more than ItemsPerMessageSetVariables: the first ones are taken, the rest
            # Rejected (as GetVariables, TC_B_08_CS); a refusal is an answer, not a CALLERROR
            decision = (
                self.model.decide_set(data)
                if index < limit
                else SetDecision(SetVariableStatusEnumType.REJECTED, "TooManyElements")
            )
            status = decision.status
            why = "" if decision.secret and decision.change is None else decision.why
            change = decision.change
            if change is not None:
                try:
                    await self.services.persist_key(change.key, change.text)
                except Exception as exc:  # not persisted = not changed
                    log.error("SetVariables %s: cannot persist (%s)", change.key, exc)
                    status, why = SetVariableStatusEnumType.REJECTED, "NotPersisted"
                else:
                    await self.keys.apply(change.key, change.value)
            log.info(
                "SetVariables %s%s.%s = %s: %s%s",
                data.component.name,
                "" if data.component.evse is None else f"[evse {data.component.evse.id}]",
                data.variable.name,
                "***" if decision.secret else repr(data.attribute_value),
                status.value,
                f" ({why})" if why else "",
            )
            results.append(
                m.SetVariableResultType(
                    attribute_status=status,
                    component=data.component,
                    variable=data.variable,
                    # B05.FR.12: Actual when the request gave no attributeType
                    attribute_type=data.attribute_type or AttributeEnumType.ACTUAL,
                    attribute_status_info=_info(why),
                )
            )
        return m.SetVariablesResponse(set_variable_result=tuple(results))

    async def get_variables(self, request: m.GetVariablesRequest) -> m.GetVariablesResponse:
        await self.model.facts.refresh()
        limit = self.model.limit("GetVariables")
        return m.GetVariablesResponse(
            get_variable_result=tuple(
                self.model.get(data) if index < limit else too_many(data)
                for index, data in enumerate(request.get_variable_data)
            )
        )

    async def get_base_report(self, request: m.GetBaseReportRequest) -> Then:
        await self.model.facts.refresh()
        data = self.model.base_report(request.report_base)
        log.info(
            "GetBaseReport %s (request %d): %d variables",
            request.report_base.value,
            request.request_id,
            len(data),
        )
        return Then(
            m.GetBaseReportResponse(status=ACCEPTED), self._sender(request.request_id, data)
        )

    async def get_report(self, request: m.GetReportRequest) -> Any:
        """B08: Accepted and the report, or EmptyResultSet when nothing matches (B08.FR.07)."""
        await self.model.facts.refresh()
        wanted = request.component_variable
        limit = self.model.limit("GetReport")
        if wanted is not None and len(wanted) > limit:
            log.info("GetReport (request %d): more than %d components", request.request_id, limit)
            return m.GetReportResponse(
                status=GenericDeviceModelStatusEnumType.REJECTED,
                status_info=m.StatusInfoType(
                    reason_code="TooManyElements",
                    additional_info=f"at most {limit} (ItemsPerMessageGetReport)",
                ),
            )
        data = self.model.custom_report(wanted, request.component_criteria)
        log.info("GetReport (request %d): %d variables", request.request_id, len(data))
        if not data:
            return m.GetReportResponse(status=GenericDeviceModelStatusEnumType.EMPTY_RESULT_SET)
        return Then(m.GetReportResponse(status=ACCEPTED), self._sender(request.request_id, data))

    def _sender(
        self, request_id: int, data: Sequence[m.ReportDataType]
    ) -> Callable[[], Awaitable[None]]:
        parts = split(
            data,
            self.keys.get_int(f"{DEVICE_DATA}.ItemsPerMessageGetReport"),
            self.model.facts.max_frame_bytes,
        )
        generated_at = self.services.clock.now() or datetime.now(UTC)

        async def send() -> None:
            session = open_session(self.services.link)
            for seq_no, part in enumerate(parts):
                try:
                    await session.call(
                        m.NotifyReportRequest(
                            request_id=request_id,
                            generated_at=generated_at,
                            seq_no=seq_no,
                            report_data=part,
                            tbc=seq_no < len(parts) - 1,
                        )
                    )
                except CallFailure as exc:
                    log.warning(
                        "report %d ended at part %d of %d: %s",
                        request_id,
                        seq_no + 1,
                        len(parts),
                        exc,
                    )
                    return
            log.info("report %d sent in %d NotifyReport(s)", request_id, len(parts))

        return send


def _info(why: str) -> m.StatusInfoType | None:
    """A refusal's reason: a short code (reasonCode is at most 20 characters), the text
    in additionalInfo."""
    if not why:
        return None
    if len(why) <= 20 and " " not in why:
        return m.StatusInfoType(reason_code=why)
    return m.StatusInfoType(reason_code="InvalidValue", additional_info=why[:512])


def keys(site: Site) -> list[KeySpec]:
    return variables.keys(site)


def handlers(services: Services) -> Mapping[str, Handler]:
    calls = services.part("v201.device_model", lambda: DeviceModelHandlers(services))
    return {
        "SetVariables": TypedHandler(m.SetVariablesRequest, calls.set_variables),
        "GetVariables": TypedHandler(m.GetVariablesRequest, calls.get_variables),
        "GetBaseReport": TypedHandler(m.GetBaseReportRequest, calls.get_base_report),
        "GetReport": TypedHandler(m.GetReportRequest, calls.get_report),
    }


profile = Profile("DeviceModel", keys=keys, handlers=handlers, advertised=False)
"""B05-B08. ``advertised`` is a 1.6 notion (SupportedFeatureProfiles): 2.0.1 has none."""
