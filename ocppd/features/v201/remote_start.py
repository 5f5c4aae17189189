"""OCPP 2.0.1 remote start and stop, functional block F: RequestStartTransaction and
RequestStopTransaction (F01-F03). UnlockConnector and TriggerMessage (F05-F06) are in
``remote.py``; the block's profile joins both tables.

F01-F03 say in 2.0.1 what the model already does for 1.6's remote start and stop
(``ocppd/model/charger.py``: ``remote_target``, ``remote_start``), with what 2.0.1 adds:

- the token comes with its type and additional info: the model keeps them as the
  authorisation's :class:`~ocppd.model.token.Origin`, which goes into the transaction's
  start; the CSMS's ``remoteStartId`` goes with the claim into the transaction (its
  TransactionEvents name it: ``features/v201/transactions.py``);
- ``evseId`` is the connector (EVSE N has connector 1, design decision 6); without one the
  charger chooses as for 1.6 (the connector reserved for the token, else where an EV waits,
  else the first free one). evseId 0 is not an EVSE: Rejected;
- ``AuthCtrlr.AuthorizeRemoteStart`` is 1.6's AuthorizeRemoteTxRequests (the same key):
  on, the token is authorised as if presented (F01.FR.01: Authorize, or the cache or local
  list by their rules); off, it is not, and the CSMS's verdict comes with the transaction's
  first event (F01.FR.02, OCTT TC_F_03_CS). A token of type NoAuthorization has
  nothing to ask about and is never authorised. ``groupIdToken`` is the session's group
  (its parent), so a tag of that group may stop it;
- a ``chargingProfile`` must be a TxProfile without a transactionId (the transaction does
  not exist yet), else Rejected (K05); it goes to the Smart Charging engine the 1.6 profile
  runs, as 1.6's RemoteStartTransaction profile does, read by block K's rules
  (``smart_charging.py``: one schedule, no phaseToUse, no sales tariff ...); one the engine
  cannot honour is Rejected. Without Smart Charging configured it is ignored (as in 1.6,
  §5.11; TC_K_38_CS);
- ``transactionId`` in the answer (F01, cable plugged in first): a transaction that began
  at the cable before any driver (TxCtrlr.TxStartPoint EVConnected) is named, and the
  remote start authorises it (an Updated RemoteStart with the token and remoteStartId);
  any other EVSE where a transaction runs is not free (Rejected);
- RequestStopTransaction names the transaction by the charger-made 2.0.1 id: Accepted and
  stopped with reason Remote (F03), Rejected when no such transaction runs here.

OCTT: TC_F_01_CS (cable first), TC_F_02_CS and TC_F_03_CS (remote start first, with and
without AuthorizeRemoteStart), TC_F_04_CS (no cable in time: the model's ConnectionTimeOut,
which is TxCtrlr.EVConnectionTimeOut).

An Accepted answer is a promise: the start or stop runs after the answer is on the wire,
in the charger's nursery, whatever the link does meanwhile (as for 1.6, errata 3.32).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ocppd.features.core.registration import Registration
from ocppd.features.profile import (
    Handler,
    Profile,
    RemoteStartProfiles,
    Services,
    Site,
    TypedHandler,
)
from ocppd.features.v201.authorization import origin_of
from ocppd.features.v201.smart_charging import Refused, profile_from_wire
from ocppd.model.auth import AuthResult, AuthSource, AuthStatus, IdTagInfo
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys, KeySpec
from ocppd.model.token import TokenKind
from ocppd.model.transaction import StopReason
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import ChargingProfilePurposeEnumType, RequestStartStopStatusEnumType
from ocppd.session import Starter, Then

log = logging.getLogger(__name__)

ACCEPTED = RequestStartStopStatusEnumType.ACCEPTED
REJECTED = RequestStartStopStatusEnumType.REJECTED


class RemoteStartStop:
    """RequestStartTransaction and RequestStopTransaction (F01-F03)."""

    def __init__(
        self,
        *,
        charger: Charger,
        keys: Keys,
        registration: Registration,
        remote_start_profiles: RemoteStartProfiles | None = None,
    ) -> None:
        self.charger = charger
        self.keys = keys
        self.registration = registration
        self.remote_start_profiles = remote_start_profiles or RemoteStartProfiles()

    def __repr__(self) -> str:
        return f"<RemoteStartStop {self.registration!r} {self.remote_start_profiles!r}>"

    def table(self) -> dict[str, Handler]:
        return {
            "RequestStartTransaction": TypedHandler(
                m.RequestStartTransactionRequest, self.request_start
            ),
            "RequestStopTransaction": TypedHandler(
                m.RequestStopTransactionRequest, self.request_stop
            ),
        }

    def _kept(self, what: str) -> Starter:
        """Work an Accepted answer promised runs in the charger's nursery."""

        def start(work: Callable[[], Awaitable[None]]) -> None:
            self.charger.spawn(what, work)

        return start

    async def request_start(self, request: m.RequestStartTransactionRequest) -> Any:
        rejected = m.RequestStartTransactionResponse(status=REJECTED)
        id_tag = request.id_token.id_token
        why_not = self._cannot_start(request)
        connector = None if why_not else self.charger.remote_target(request.evse_id, id_tag)
        if connector is None:
            where = "any EVSE" if request.evse_id is None else f"EVSE {request.evse_id}"
            log.info(
                "RequestStartTransaction %d rejected: %s",
                request.remote_start_id,
                why_not or f"{where} is not free (occupied, unavailable or faulted)",
            )
            return rejected
        if request.charging_profile is not None:
            refused = self._hand_over(connector.id, request.charging_profile)
            if refused is not None:
                log.info(
                    "RequestStartTransaction %d rejected: its charging profile: %s",
                    request.remote_start_id,
                    refused,
                )
                return rejected
        origin = origin_of(request.id_token)
        authorize_first = origin.kind is not TokenKind.NONE and (
            self.keys.get_bool("AuthorizeRemoteTxRequests")
            or self.charger.needs_group(connector, id_tag)
        )
        group = request.group_id_token.id_token if request.group_id_token is not None else None
        auth = (
            None
            if authorize_first
            else AuthResult(
                True,
                IdTagInfo(AuthStatus.ACCEPTED, parent_id_tag=group) if group else None,
                AuthSource.REMOTE,
                origin=origin,
            )
        )
        # claimed now, before the answer: no other driver can take the connector meanwhile
        connector.claim(id_tag, auth, remote=True, remote_start_id=request.remote_start_id)
        log.info(
            "RequestStartTransaction %d accepted on EVSE %d", request.remote_start_id, connector.id
        )

        async def start() -> None:
            await self.charger.remote_start(
                connector,
                id_tag,
                authorize_first=authorize_first,
                origin=origin,
                remote_start_id=request.remote_start_id,
            )

        running = connector.tx  # begun at the cable, waiting for its driver (remote_target)
        return Then(
            m.RequestStartTransactionResponse(
                status=ACCEPTED,
                transaction_id=None if running is None else str(running.transaction_id),
            ),
            start,
            owner=self._kept(f"RequestStartTransaction on EVSE {connector.id}"),
        )

    def _cannot_start(self, request: m.RequestStartTransactionRequest) -> str | None:
        """Why this start is refused before any connector is looked at, if so."""
        if not self.registration.accepted:
            return "not registered"
        if request.evse_id is not None and request.evse_id <= 0:
            return f"evseId {request.evse_id} is not an EVSE (evseId SHALL be > 0)"
        if self.charger.stopping:
            return "ocppd is stopping"
        if not self.charger.storage_ok or not self.charger.txlog.healthy:
            return f"the journal cannot be written ({self.charger.txlog.problem})"
        return None

    def _hand_over(self, connector_id: int, profile: m.ChargingProfileType) -> str | None:
        """The start's charging profile to Smart Charging: None when taken (or ignored,
        without Smart Charging), else why the start is Rejected."""
        if profile.charging_profile_purpose is not ChargingProfilePurposeEnumType.TX_PROFILE:
            return f"purpose {profile.charging_profile_purpose}, not TxProfile"
        if profile.transaction_id is not None:
            return "it names a transaction, and the start has none yet"
        if not self.remote_start_profiles.supported:
            log.info("RequestStartTransaction carries a charging profile; ignored")
            return None
        engine = profile_from_wire(connector_id, profile)
        if isinstance(engine, Refused):
            return engine.why
        return self.remote_start_profiles.hand_over(connector_id, engine)

    async def request_stop(self, request: m.RequestStopTransactionRequest) -> Any:
        connector = self.charger.find_transaction(request.transaction_id)
        if connector is None or not self.registration.accepted:
            log.info("RequestStopTransaction rejected: no such transaction runs here")
            return m.RequestStopTransactionResponse(status=REJECTED)

        async def stop() -> None:
            await connector.stop(StopReason.REMOTE)

        log.info("RequestStopTransaction accepted on EVSE %d", connector.id)
        return Then(
            m.RequestStopTransactionResponse(status=ACCEPTED),
            stop,
            owner=self._kept(f"RequestStopTransaction on EVSE {connector.id}"),
        )


def remote_start_stop(services: Services) -> Mapping[str, Handler]:
    """F01-F03's handlers, for the 2.0.1 registry (``features/v201/__init__.py``)."""
    return RemoteStartStop(
        charger=services.charger,
        keys=services.keys,
        registration=services.registration,
        remote_start_profiles=services.remote_start_profiles,
    ).table()


def _no_keys(_site: Site) -> Iterable[KeySpec]:
    return ()  # AuthorizeRemoteStart is 1.6's AuthorizeRemoteTxRequests (the Core's key)


profile = Profile("RemoteStartStop", keys=_no_keys, handlers=remote_start_stop, advertised=False)
"""F01-F03: RequestStartTransaction, RequestStopTransaction."""
