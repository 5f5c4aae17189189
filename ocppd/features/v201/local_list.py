"""OCPP 2.0.1 local authorization list management (functional block D): SendLocalList (D01)
and GetLocalListVersion (D02) over the one list 1.6's profile keeps, and the variables of
LocalAuthListCtrlr.

One list, one version number (design decision 1): the journal's ``local_list``
(migrations 0006 and 0012). A list sent over 2.0.1 authorises over 1.6 and the other way
round; GetLocalListVersion answers the same number in both versions. What a 2.0.1 entry
says is kept as follows:

- ``idToken`` is the key (case-insensitive, as the schema says of IdTokenType.idToken); its
  ``type`` is kept as the model's :class:`~ocppd.model.token.TokenKind`: the entry matches a
  token presented the same way only (2.0.1 identifies a token by identifier and type), a
  1.6 entry matches any. One identifier is one entry: two entries with the same identifier
  in one update are duplicates (D01.FR.06) even when their types differ.
- ``idTokenInfo``: the status in the model's words (``authorization.VERDICT``: Unknown is
  Invalid; NotAllowedTypeEVSE and NotAtThisLocation are "not here"), ``cacheExpiryDateTime``
  the expiry, ``groupIdToken.idToken`` the group (1.6's parentIdTag), ``evseId`` the
  connectors it is valid at (EVSE N is connector N, decision 6).
- Not kept (nothing here uses them): the group token's type, ``chargingPriority``,
  ``language1``/``language2``, ``personalMessage`` and the token's ``additionalInfo``.

Answers, in 2.0.1's words (SendLocalListStatusEnumType has no NotSupported):

- SendLocalList: ``Failed`` while LocalAuthListCtrlr.Enabled is false, for a versionNumber
  of 0 or less (D01.FR.18: 0 means "no list"), more entries than ItemsPerMessage, a list
  longer than LocalAuthListCtrlr.Entries' maximum once applied, a token named twice
  (D01.FR.06), a Full entry without idTokenInfo, or a journal that cannot be written.
  ``VersionMismatch`` for a Differential update whose versionNumber is not newer than the
  list's (D01.FR.19). A Full update without a list empties it; a Differential entry
  without idTokenInfo removes its token; a Differential update without a list changes
  no entry (D01.FR.05). Every update is one journal transaction: all or nothing, and an
  Accepted update survives a power cut.
- GetLocalListVersion (D02): the version; 0 when the list is empty (also after an update
  that emptied it: 1.6 keeps the same rule, and 0 is "no list" in both), while the list is
  disabled (D02.FR.03) or when the journal cannot be read (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from ocppd.clock import format_time
from ocppd.features import local_auth_list as v16_list
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.features.v201.authorization import TOKEN_KIND, VERDICT
from ocppd.journal import Journal, JournalUnavailable, ListEntry, ListUpdate
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys, KeySpec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import SendLocalListStatusEnumType, UpdateEnumType

log = logging.getLogger(__name__)

ACCEPTED = SendLocalListStatusEnumType.ACCEPTED
FAILED = SendLocalListStatusEnumType.FAILED
VERSION_MISMATCH = SendLocalListStatusEnumType.VERSION_MISMATCH
NO_LIST = 0  # GetLocalListVersion: no list installed (D02.FR.02)

# What a refused update is answered (the journal says why in its own words).
UPDATE_STATUS: Mapping[ListUpdate, SendLocalListStatusEnumType] = {
    ListUpdate.APPLIED: ACCEPTED,
    ListUpdate.VERSION_NOT_NEWER: VERSION_MISMATCH,
    ListUpdate.TOO_LONG: FAILED,
    ListUpdate.DUPLICATE: FAILED,
    ListUpdate.INCOMPLETE: FAILED,
}

# The variables of LocalAuthListCtrlr that are 1.6 keys (decision 4): a value set in one
# version is the value in the other. The rows are in variables.py's block D.
SAME_AS_V16: Mapping[tuple[str, str], str] = {
    ("LocalAuthListCtrlr", "Enabled"): v16_list.ENABLED,
    ("LocalAuthListCtrlr", "ItemsPerMessage"): v16_list.SEND_MAX_LENGTH,
}


def keys(_site: Site) -> Iterable[KeySpec]:
    """None of its own: Enabled, ItemsPerMessage and the list's largest size are the 1.6
    profile's keys (LocalAuthListEnabled, SendLocalListMaxLength, LocalAuthListMaxLength);
    Entries, Storage and BytesPerMessage are facts (variables.py)."""
    return ()


def entry(data: m.AuthorizationData) -> ListEntry:
    """A 2.0.1 list entry as the journal keeps it (see the module docstring)."""
    token = data.id_token
    kind = TOKEN_KIND[token.type].value
    info = data.id_token_info
    if info is None:
        return ListEntry(token.id_token, None, token_kind=kind)
    group = info.group_id_token.id_token if info.group_id_token is not None else None
    return ListEntry(
        token.id_token,
        VERDICT[info.status].value,
        format_time(info.cache_expiry_date_time) if info.cache_expiry_date_time else None,
        group,
        token_kind=kind,
        connectors=",".join(str(evse) for evse in info.evse_id) if info.evse_id else None,
    )


class LocalListHandlers:
    """SendLocalList and GetLocalListVersion in 2.0.1 over the journal's list."""

    def __init__(self, *, charger: Charger, keys: Keys, journal: Journal) -> None:
        self.charger = charger
        self.keys = keys
        self.journal = journal

    def __repr__(self) -> str:
        return f"<v201 LocalListHandlers enabled={self._enabled}>"

    @property
    def _enabled(self) -> bool:
        return self.keys.get_bool(v16_list.ENABLED)

    def table(self) -> dict[str, Handler]:
        return {
            "GetLocalListVersion": TypedHandler(m.GetLocalListVersionRequest, self.get_version),
            "SendLocalList": TypedHandler(m.SendLocalListRequest, self.send_list),
        }

    async def get_version(
        self, _request: m.GetLocalListVersionRequest
    ) -> m.GetLocalListVersionResponse:
        if not self._enabled:
            return m.GetLocalListVersionResponse(version_number=NO_LIST)  # D02.FR.03
        try:
            summary = await self.journal.list_summary()
        except JournalUnavailable as exc:
            log.error("GetLocalListVersion: the local list cannot be read: %s", exc)
            return m.GetLocalListVersionResponse(version_number=NO_LIST)
        return m.GetLocalListVersionResponse(version_number=summary.version)

    async def send_list(self, request: m.SendLocalListRequest) -> m.SendLocalListResponse:
        status, why = await self._update(request)
        log.info(
            "SendLocalList %s version %d with %d entries: %s%s",
            request.update_type,
            request.version_number,
            len(request.local_authorization_list or ()),
            status,
            f" ({why})" if why else "",
        )
        info = m.StatusInfoType(reason_code=why) if why else None
        return m.SendLocalListResponse(status=status, status_info=info)

    async def _update(
        self, request: m.SendLocalListRequest
    ) -> tuple[SendLocalListStatusEnumType, str]:
        """The answer and, for a refusal, its reasonCode."""
        if not self._enabled:
            return FAILED, "Disabled"
        if request.version_number <= 0:  # D01.FR.18
            return FAILED, "InvalidVersion"
        items = request.local_authorization_list or ()
        per_message = self.keys.get_int(v16_list.SEND_MAX_LENGTH)
        if len(items) > per_message:
            return FAILED, "TooManyElements"
        try:
            outcome = await self.journal.list_update(
                full=request.update_type is UpdateEnumType.FULL,
                version=request.version_number,
                entries=[entry(data) for data in items],
                max_entries=self.keys.get_int(v16_list.MAX_LENGTH),
            )
        except JournalUnavailable as exc:
            log.error("SendLocalList: the local list cannot be stored: %s", exc)
            return FAILED, "StorageUnavailable"
        if outcome is ListUpdate.APPLIED:
            self.charger.local_list_updated()
            return ACCEPTED, ""
        return UPDATE_STATUS[outcome], WHY[outcome]


WHY: Mapping[ListUpdate, str] = {
    ListUpdate.APPLIED: "",
    ListUpdate.VERSION_NOT_NEWER: "VersionNotNewer",
    ListUpdate.TOO_LONG: "ListFull",
    ListUpdate.DUPLICATE: "DuplicateIdToken",
    ListUpdate.INCOMPLETE: "MissingIdTokenInfo",
}
"""A refusal's statusInfo.reasonCode (the schema leaves the words to the charger)."""


def handlers(services: Services) -> Mapping[str, Handler]:
    return LocalListHandlers(
        charger=services.charger, keys=services.keys, journal=services.journal
    ).table()


profile = Profile("LocalAuthListManagement", keys=keys, handlers=handlers, advertised=False)
"""D: SendLocalList (D01), GetLocalListVersion (D02)."""
