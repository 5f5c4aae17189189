"""The Local Auth List Management profile (OCPP 1.6 §3.5.2-3.5.3, §5.10, §5.15, §9.3).

The central system keeps a list of tags this charger may accept without asking it: a
fleet depot, an apartment garage with no network. The list lives in the journal (one
row per tag, looked up by key), changes only through SendLocalList, one update per
journal transaction (never half-applied), and survives restarts. Who uses it is the
model's business (``ocppd/model/auth.py``): it is asked before the cache and its tags are
never cached.

Answers, in the spec's words:

- SendLocalList: ``NotSupported`` while LocalAuthListEnabled is false; ``VersionMismatch``
  for a Differential update whose listVersion is not newer than the list's; ``Failed``
  when the update cannot be stored: more entries than SendLocalListMaxLength in the
  request or than LocalAuthListMaxLength in the resulting list, a tag named twice, a
  Full entry without idTagInfo, a listVersion of 0 or less (errata 3.52: 0 and -1 have
  their own meaning) or a journal that cannot be written. In every refused case nothing
  changes. Business refusals are answers, never CALLERRORs (OCPP-J §4.2.2).
- GetLocalListVersion: the version, 0 when the list is empty; -1 while
  LocalAuthListEnabled is false. 1.6 §5.10 gives -1 for "does not support Local
  Authorization Lists"; the 2025-04 errata sheet adds nothing for a disabled list, and a
  disabled list is not in use, so it answers like a charger without one (as the OCTT's
  TC_042_1 expects when the list is off). A journal that cannot be read answers -1 too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from ocppd.clock import format_time
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.journal import Journal, JournalUnavailable, ListEntry, ListUpdate
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys, KeySpec, KeyType
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.enums import UpdateStatus, UpdateType

log = logging.getLogger(__name__)

NAME = "LocalAuthListManagement"
ENABLED = "LocalAuthListEnabled"
MAX_LENGTH = "LocalAuthListMaxLength"
SEND_MAX_LENGTH = "SendLocalListMaxLength"
DEFAULT_MAX_ENTRIES = 10_000
NOT_IN_USE = -1  # GetLocalListVersion: no list in use (1.6 §5.10)

# What a refused update is answered (the journal says why in its own words).
UPDATE_STATUS: Mapping[ListUpdate, UpdateStatus] = {
    ListUpdate.APPLIED: UpdateStatus.ACCEPTED,
    ListUpdate.VERSION_NOT_NEWER: UpdateStatus.VERSION_MISMATCH,
    ListUpdate.TOO_LONG: UpdateStatus.FAILED,
    ListUpdate.DUPLICATE: UpdateStatus.FAILED,
    ListUpdate.INCOMPLETE: UpdateStatus.FAILED,
}


def keys(_site: Site) -> Iterable[KeySpec]:
    """1.6 §9.3. The two lengths are read-only for the central system; an installer may set
    them in the config file (a 10,000-entry list with expiry dates needs about 1 MB per
    SendLocalList: see ``ocpp.max_frame_bytes``)."""
    return (
        KeySpec(
            ENABLED,
            KeyType.BOOL,
            True,
            doc="use the local authorization list the central system sends",
        ),
        KeySpec(
            MAX_LENGTH,
            KeyType.INT,
            DEFAULT_MAX_ENTRIES,
            readonly=True,
            minimum=1,
            maximum=1_000_000,
            doc="most tags the local authorization list holds",
        ),
        KeySpec(
            SEND_MAX_LENGTH,
            KeyType.INT,
            DEFAULT_MAX_ENTRIES,
            readonly=True,
            minimum=1,
            maximum=1_000_000,
            doc="most tags one SendLocalList may carry",
        ),
    )


def _entry(data: m.AuthorizationData) -> ListEntry:
    info = data.id_tag_info
    if info is None:
        return ListEntry(data.id_tag, None)
    return ListEntry(
        data.id_tag,
        info.status.value,
        format_time(info.expiry_date) if info.expiry_date else None,
        info.parent_id_tag,
    )


class LocalListHandlers:
    """SendLocalList and GetLocalListVersion over the journal's list."""

    def __init__(self, *, charger: Charger, keys: Keys, journal: Journal) -> None:
        self.charger = charger
        self.keys = keys
        self.journal = journal

    def __repr__(self) -> str:
        return f"<LocalListHandlers enabled={self._enabled}>"

    @property
    def _enabled(self) -> bool:
        return self.keys.get_bool(ENABLED)

    def table(self) -> dict[str, Handler]:
        return {
            "GetLocalListVersion": TypedHandler(m.GetLocalListVersionRequest, self.get_version),
            "SendLocalList": TypedHandler(m.SendLocalListRequest, self.send_list),
        }

    async def get_version(
        self, _request: m.GetLocalListVersionRequest
    ) -> m.GetLocalListVersionResponse:
        if not self._enabled:
            return m.GetLocalListVersionResponse(list_version=NOT_IN_USE)
        try:
            summary = await self.journal.list_summary()
        except JournalUnavailable as exc:
            log.error("GetLocalListVersion: the local list cannot be read: %s", exc)
            return m.GetLocalListVersionResponse(list_version=NOT_IN_USE)
        return m.GetLocalListVersionResponse(list_version=summary.version)

    async def send_list(self, request: m.SendLocalListRequest) -> m.SendLocalListResponse:
        status = await self._update(request)
        log.info(
            "SendLocalList %s version %d with %d entries: %s",
            request.update_type,
            request.list_version,
            len(request.local_authorization_list or ()),
            status,
        )
        return m.SendLocalListResponse(status=status)

    async def _update(self, request: m.SendLocalListRequest) -> UpdateStatus:
        if not self._enabled:
            return UpdateStatus.NOT_SUPPORTED
        entries = [_entry(d) for d in request.local_authorization_list or ()]
        full = request.update_type is UpdateType.FULL
        # errata 3.52: 0 means empty, -1 not supported (a Differential one is not newer)
        if full and request.list_version <= 0:
            log.warning("SendLocalList with listVersion %d refused", request.list_version)
            return UpdateStatus.FAILED
        if len(entries) > self.keys.get_int(SEND_MAX_LENGTH):
            log.warning(
                "SendLocalList with %d entries refused: SendLocalListMaxLength is %d",
                len(entries),
                self.keys.get_int(SEND_MAX_LENGTH),
            )
            return UpdateStatus.FAILED
        try:
            outcome = await self.journal.list_update(
                full=full,
                version=request.list_version,
                entries=entries,
                max_entries=self.keys.get_int(MAX_LENGTH),
            )
        except JournalUnavailable as exc:
            log.error("SendLocalList: the local list cannot be stored: %s", exc)
            return UpdateStatus.FAILED
        if outcome is ListUpdate.APPLIED:
            self.charger.local_list_updated()
        else:
            log.warning("SendLocalList refused: %s", outcome)
        return UPDATE_STATUS[outcome]


def handlers(services: Services) -> Mapping[str, Handler]:
    return LocalListHandlers(
        charger=services.charger, keys=services.keys, journal=services.journal
    ).table()


profile = Profile(NAME, keys=keys, handlers=handlers)
