"""The central system's Core-profile CALLs, one handler each, found through a table.

Business refusals are answers (Rejected, NotSupported status ...), never CALLERRORs
(OCPP-J §4.2.2). Work that must follow the answer (a remote start, a reset) is
returned as :class:`ocppd.session.Then` and runs after the answer is on the wire, in
the charger's nursery: what an Accepted answer promised survives a lost link.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ocppd.features.core.keys import V16_MEANING, V16_RULES
from ocppd.features.core.registration import Registration
from ocppd.features.core.words import AVAILABILITY, RESET_KIND, UNLOCK
from ocppd.features.profile import Handler, Persist, RemoteStartProfiles, TypedHandler
from ocppd.model.auth import AuthResult, AuthSource
from ocppd.model.charger import Charger
from ocppd.model.keys import ChangeResult, Keys
from ocppd.model.transaction import StopReason, StorageUnavailable
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import (
    AvailabilityType,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    RemoteStartStopStatus,
    ResetStatus,
    UnlockStatus,
)
from ocppd.session import Starter, Then

log = logging.getLogger(__name__)

VendorHandler = Callable[[m.DataTransferRequest], Awaitable[m.DataTransferResponse]]


async def _nothing() -> None:
    return None


class CoreHandlers:
    def __init__(
        self,
        *,
        charger: Charger,
        keys: Keys,
        registration: Registration,
        persist_key: Persist,
        remote_start_profiles: RemoteStartProfiles | None = None,
        note_reset: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        self.note_reset = note_reset
        self.charger = charger
        self.keys = keys
        self.registration = registration
        self.persist_key = persist_key
        self.remote_start_profiles = remote_start_profiles or RemoteStartProfiles()
        self.vendors: dict[str, VendorHandler] = {}

    def table(self) -> dict[str, Handler]:
        return {
            "ChangeAvailability": TypedHandler(
                m.ChangeAvailabilityRequest, self.change_availability
            ),
            "ChangeConfiguration": TypedHandler(
                m.ChangeConfigurationRequest, self.change_configuration
            ),
            "ClearCache": TypedHandler(m.ClearCacheRequest, self.clear_cache),
            "DataTransfer": TypedHandler(m.DataTransferRequest, self.data_transfer),
            "GetConfiguration": TypedHandler(m.GetConfigurationRequest, self.get_configuration),
            "RemoteStartTransaction": TypedHandler(
                m.RemoteStartTransactionRequest, self.remote_start
            ),
            "RemoteStopTransaction": TypedHandler(m.RemoteStopTransactionRequest, self.remote_stop),
            "Reset": TypedHandler(m.ResetRequest, self.reset),
            "UnlockConnector": TypedHandler(m.UnlockConnectorRequest, self.unlock_connector),
        }

    @property
    def _registered(self) -> bool:
        return self.registration.accepted

    def _kept(self, what: str) -> Starter:
        """Where work an Accepted answer promised runs: the charger's nursery, which the
        daemon owns (errors are log lines there, ocppd/model/supervise.py)."""

        def start(work: Callable[[], Awaitable[None]]) -> None:
            self.charger.spawn(what, work)

        return start

    async def change_availability(
        self, request: m.ChangeAvailabilityRequest
    ) -> m.ChangeAvailabilityResponse:
        operative = request.type is AvailabilityType.OPERATIVE
        result = AVAILABILITY[
            await self.charger.change_availability(request.connector_id, operative)
        ]
        log.info(
            "ChangeAvailability connector %d %s: %s", request.connector_id, request.type, result
        )
        return m.ChangeAvailabilityResponse(status=result)

    async def change_configuration(
        self, request: m.ChangeConfigurationRequest
    ) -> m.ChangeConfigurationResponse:
        spec = self.keys.specs.get(request.key)  # any case: the key is a CiString50Type
        if spec is not None and not spec.listed:  # another view's own key (the 2.0.1 model)
            spec = None
        name = request.key if spec is None else spec.name
        rule, meaning = V16_RULES.get(name), V16_MEANING.get(name)
        # 1.6's own rule asks of the text as written; what it stands for is then checked
        # against the declaration and kept (AuthorizationKey: hex of text = that text)
        text = meaning(request.value) if meaning is not None else request.value
        if spec is None:
            result, value, why = ChangeResult.NOT_SUPPORTED, None, "unknown key"
        elif rule is not None and (problem := rule(request.value)) is not None:
            result, value, why = ChangeResult.REJECTED, None, problem
        else:
            result, value, why = self.keys.check_change(request.key, text)
        shown = "***" if spec is not None and spec.secret else repr(request.value)
        if value is not None and result in (ChangeResult.ACCEPTED, ChangeResult.REBOOT_REQUIRED):
            try:
                await self.persist_key(name, text)
            except Exception as exc:  # not persisted = not changed
                log.error("ChangeConfiguration %s: cannot persist (%s)", name, exc)
                result = ChangeResult.REJECTED
            else:
                await self.keys.apply(name, value)
        log.info(
            "ChangeConfiguration %s = %s: %s%s",
            name,
            shown,
            result.value,
            f" ({why})" if why else "",
        )
        return m.ChangeConfigurationResponse(status=ConfigurationStatus(result.value))

    async def clear_cache(self, request: m.ClearCacheRequest) -> m.ClearCacheResponse:
        try:
            await self.charger.authorizer.clear()
        except StorageUnavailable as exc:
            log.error("ClearCache failed: %s", exc)
            return m.ClearCacheResponse(status=ClearCacheStatus.REJECTED)
        log.info("authorization cache cleared")
        return m.ClearCacheResponse(status=ClearCacheStatus.ACCEPTED)

    async def data_transfer(self, request: m.DataTransferRequest) -> m.DataTransferResponse:
        handler = self.vendors.get(request.vendor_id)
        if handler is None:
            return m.DataTransferResponse(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
        return await handler(request)

    async def get_configuration(
        self, request: m.GetConfigurationRequest
    ) -> m.GetConfigurationResponse:
        names = request.key
        limit = self.keys.get_int("GetConfigurationMaxKeys")
        if names is not None and len(names) > limit:
            raise OcppError(
                Violation.TOO_MANY_ITEMS,
                f"at most {limit} keys per GetConfiguration (GetConfigurationMaxKeys)",
            )
        known, unknown = self.keys.listing(names or None)
        return m.GetConfigurationResponse(
            configuration_key=tuple(
                m.KeyValue(key=spec.name, readonly=spec.readonly, value=value)
                for spec, value in known
            )
            or None,
            unknown_key=tuple(unknown) or None,
        )

    async def remote_start(self, request: m.RemoteStartTransactionRequest) -> Any:
        rejected = m.RemoteStartTransactionResponse(status=RemoteStartStopStatus.REJECTED)
        if not self._registered:
            log.info("RemoteStartTransaction rejected: not registered")
            return rejected
        if request.connector_id == 0:
            log.info("RemoteStartTransaction rejected: connector 0 cannot charge")
            return rejected
        why_not = self._cannot_start()
        connector = (
            None if why_not else self.charger.remote_target(request.connector_id, request.id_tag)
        )
        if connector is None:
            where = "any connector" if request.connector_id is None else request.connector_id
            log.info(
                "RemoteStartTransaction rejected: %s",
                why_not or f"{where} is not free (occupied, unavailable or faulted)",
            )
            return rejected
        if request.charging_profile is not None:
            # §5.11, §5.16.2: the profile is for the transaction this start begins; the
            # Smart Charging profile checks and keeps it (Rejected when it may not)
            refused = self.remote_start_profiles.hand_over(connector.id, request.charging_profile)
            if refused is not None:
                log.info("RemoteStartTransaction rejected: its charging profile: %s", refused)
                return rejected
            if not self.remote_start_profiles.supported:
                log.info("RemoteStartTransaction carries a charging profile; ignored")
        authorize_first = self.keys.get_bool(
            "AuthorizeRemoteTxRequests"
        ) or self.charger.needs_group(connector, request.id_tag)
        # claimed now, before the answer: no other driver can take the connector meanwhile
        auth = None if authorize_first else AuthResult(True, None, AuthSource.REMOTE)
        connector.claim(request.id_tag, auth, remote=True)
        log.info("RemoteStartTransaction accepted on connector %d", connector.id)

        async def start() -> None:
            await self.charger.remote_start(
                connector, request.id_tag, authorize_first=authorize_first
            )

        return Then(
            m.RemoteStartTransactionResponse(status=RemoteStartStopStatus.ACCEPTED),
            start,
            owner=self._kept(f"RemoteStartTransaction on connector {connector.id}"),
        )

    def _cannot_start(self) -> str | None:
        """Why no transaction can start anywhere now (then RemoteStart is Rejected), if so."""
        if self.charger.stopping:
            return "ocppd is stopping"
        if not self.charger.storage_ok or not self.charger.txlog.healthy:
            return f"the journal cannot be written ({self.charger.txlog.problem})"
        return None

    async def remote_stop(self, request: m.RemoteStopTransactionRequest) -> Any:
        connector = self.charger.find_transaction(request.transaction_id)
        if connector is None or not self._registered:
            return m.RemoteStopTransactionResponse(status=RemoteStartStopStatus.REJECTED)

        async def stop() -> None:
            await connector.stop(StopReason.REMOTE)

        log.info("RemoteStopTransaction accepted on connector %d", connector.id)
        return Then(
            m.RemoteStopTransactionResponse(status=RemoteStartStopStatus.ACCEPTED),
            stop,
            owner=self._kept(f"RemoteStopTransaction on connector {connector.id}"),
        )

    async def reset(self, request: m.ResetRequest) -> Any:
        kind = RESET_KIND[request.type]
        log.warning("Reset %s requested by the central system", request.type)

        async def later() -> None:
            await self.note_reset()  # the next BootNotification says so (in 2.0.1)
            self.charger.request_reset(kind)

        return Then(m.ResetResponse(status=ResetStatus.ACCEPTED), later, owner=self._kept("Reset"))

    async def unlock_connector(
        self, request: m.UnlockConnectorRequest
    ) -> m.UnlockConnectorResponse:
        connector = self.charger.connector(request.connector_id)
        if connector is None:
            return m.UnlockConnectorResponse(status=UnlockStatus.NOT_SUPPORTED)
        result = UNLOCK[await connector.unlock()]
        log.info("UnlockConnector %d: %s", request.connector_id, result)
        return m.UnlockConnectorResponse(status=result)
