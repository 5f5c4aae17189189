"""OCPP 2.0.1 authorization (functional block C): Authorize with the token's type, the
verdicts in the model's words, ClearCache, and the variables of AuthCtrlr and
AuthCacheCtrlr.

Who may charge is the model's business (``ocppd/model/auth.py``: the local list, the
cache, the offline rules); this module says it in 2.0.1:

- C01 (RFID), C05 (a start the CSMS asked for), C06 (a local id type): an ``IdTokenType``
  is the identifier and its type; the model keeps the type as a :class:`TokenKind`
  (:data:`TOKEN_TYPE`, :data:`TOKEN_KIND`, total both ways). The reader's tags are
  ISO14443 unless the charger says otherwise (``Charger.reader_kind``).
- ``idTokenInfo`` becomes the model's ``IdTagInfo``: the status by :data:`VERDICT` (Unknown
  is Invalid; NotAllowedTypeEVSE and NotAtThisLocation are "not here"),
  ``cacheExpiryDateTime`` its expiry, ``groupIdToken`` its group (parent), ``evseId`` the
  connectors it may use (EVSE N is connector N, the design's decision 6).
- C10-C12: the cache is the journal's, shared with 1.6 (``AuthCacheCtrlr.Enabled`` is
  ``AuthorizationCacheEnabled``); ``AuthCacheCtrlr.LifeTime`` bounds an entry that came
  without ``cacheExpiryDateTime``. C11: ClearCache is Rejected while the cache is disabled
  (C11.FR.04, OCTT TC_C_38_CS) or cannot be written.
- C15: ``AuthCtrlr.OfflineTxForUnknownIdEnabled`` is ``AllowOfflineTxForUnknownId``;
  ``AuthCtrlr.LocalAuthorizeOffline`` and ``AuthCtrlr.LocalPreAuthorize`` are the 1.6 keys
  of the same names (:data:`SAME_AS_V16`, the device model's mapping onto the key store).
- C02 (start button) and C04 (PIN, KeyCode) need hardware this charger does not have (its
  buttons are stop and info; it has no key pad): the types are mapped, nothing makes them.
  C03 (payment terminal) likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.model.auth import AuthStatus, IdTagInfo
from ocppd.model.keys import KeySpec, KeyType
from ocppd.model.token import Origin, TokenKind
from ocppd.model.transaction import StorageUnavailable
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    AuthorizationStatusEnumType,
    ClearCacheStatusEnumType,
    IdTokenEnumType,
)
from ocppd.session import Session

log = logging.getLogger(__name__)

# the model's kind of token -> the 2.0.1 IdTokenEnumType, and back (both total: tests)
TOKEN_TYPE: Mapping[TokenKind, IdTokenEnumType] = MappingProxyType(
    {
        TokenKind.CARD: IdTokenEnumType.ISO14443,
        TokenKind.VICINITY_CARD: IdTokenEnumType.ISO15693,
        TokenKind.KEY_CODE: IdTokenEnumType.KEY_CODE,
        TokenKind.LOCAL: IdTokenEnumType.LOCAL,
        TokenKind.MAC_ADDRESS: IdTokenEnumType.MAC_ADDRESS,
        TokenKind.CONTRACT: IdTokenEnumType.E_MAID,
        TokenKind.CENTRAL: IdTokenEnumType.CENTRAL,
        TokenKind.NONE: IdTokenEnumType.NO_AUTHORIZATION,
    }
)
TOKEN_KIND: Mapping[IdTokenEnumType, TokenKind] = MappingProxyType(
    {word: kind for kind, word in TOKEN_TYPE.items()}
)

# idTokenInfo.status -> the model's verdict (total: a test). Only Accepted starts.
VERDICT: Mapping[AuthorizationStatusEnumType, AuthStatus] = MappingProxyType(
    {
        AuthorizationStatusEnumType.ACCEPTED: AuthStatus.ACCEPTED,
        AuthorizationStatusEnumType.BLOCKED: AuthStatus.BLOCKED,
        AuthorizationStatusEnumType.CONCURRENT_TX: AuthStatus.CONCURRENT_TX,
        AuthorizationStatusEnumType.EXPIRED: AuthStatus.EXPIRED,
        AuthorizationStatusEnumType.INVALID: AuthStatus.INVALID,
        AuthorizationStatusEnumType.NO_CREDIT: AuthStatus.NO_CREDIT,
        AuthorizationStatusEnumType.NOT_ALLOWED_TYPE_EVSE: AuthStatus.NOT_HERE,
        AuthorizationStatusEnumType.NOT_AT_THIS_LOCATION: AuthStatus.NOT_HERE,
        AuthorizationStatusEnumType.NOT_AT_THIS_TIME: AuthStatus.NOT_NOW,
        # "unknown to the CSMS": 1.6's Invalid says the same ("not known, not allowed")
        AuthorizationStatusEnumType.UNKNOWN: AuthStatus.INVALID,
    }
)

# The 2.0.1 variables of this block that mean what a 1.6 key means: (component, variable)
# -> the key in the key store (design decision 4). A value set in one version is the
# value in the other. The device model (features/v201/device_model.py) owns the full table.
SAME_AS_V16: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("AuthCacheCtrlr", "Enabled"): "AuthorizationCacheEnabled",
        ("AuthCtrlr", "LocalPreAuthorize"): "LocalPreAuthorize",
        ("AuthCtrlr", "LocalAuthorizeOffline"): "LocalAuthorizeOffline",
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): "AllowOfflineTxForUnknownId",
        ("AuthCtrlr", "AuthorizeRemoteStart"): "AuthorizeRemoteTxRequests",
    }
)

# 2.0.1-only variables of this block, as keys of their own ("Component.Variable", as the
# device model names them; not ``listed``: no 1.6 message reaches them)
CACHE_LIFETIME = "AuthCacheCtrlr.LifeTime"
CACHE_POLICY = "AuthCacheCtrlr.Policy"
MASTER_PASS_GROUP = "AuthCtrlr.MasterPassGroupId"
DISABLE_REMOTE = "AuthCtrlr.DisableRemoteAuthorization"
V201_ONLY: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("AuthCacheCtrlr", "LifeTime"): CACHE_LIFETIME,
        ("AuthCacheCtrlr", "Policy"): CACHE_POLICY,
        ("AuthCtrlr", "MasterPassGroupId"): MASTER_PASS_GROUP,
        ("AuthCtrlr", "DisableRemoteAuthorization"): DISABLE_REMOTE,
    }
)
# AuthCacheCtrlr.Policy: the journal's cache is full at its bound (README "Journal") and
# then gives up the entries that are not Accepted first, then the least recently used
# (a use: the central system's verdict, or a start the cache decided). That is LRU; LFU,
# FIFO and CUSTOM are refused (SetVariables Rejected), not pretended.
CACHE_POLICIES = frozenset({"LRU"})


def keys(_site: Site) -> Iterable[KeySpec]:
    yield KeySpec(
        CACHE_LIFETIME,
        KeyType.INT,
        0,
        minimum=0,
        listed=False,  # 2.0.1 only: 1.6's GetConfiguration and ChangeConfiguration miss it
        doc="2.0.1 AuthCacheCtrlr.LifeTime (s): how long a cached verdict without its own "
        "expiry stays valid; 0: no bound",
    )
    yield KeySpec(
        CACHE_POLICY,
        KeyType.STRING,
        "LRU",
        choices=CACHE_POLICIES,
        listed=False,
        doc="2.0.1 AuthCacheCtrlr.Policy: which cached verdict a full cache gives up; LRU "
        "(refused first, then the least recently used) is the one the cache has",
    )
    yield KeySpec(
        MASTER_PASS_GROUP,
        KeyType.STRING,
        "",
        max_length=36,
        listed=False,
        doc="2.0.1 AuthCtrlr.MasterPassGroupId (C16): a token of this group stops every "
        "transaction and starts none; empty: no master pass",
    )
    yield KeySpec(
        DISABLE_REMOTE,
        KeyType.BOOL,
        False,
        listed=False,
        doc="2.0.1 AuthCtrlr.DisableRemoteAuthorization: never send Authorize; the local "
        "list and the cache alone decide",
    )


def id_token(id_tag: str, kind: TokenKind) -> m.IdTokenType:
    """The 2.0.1 IdTokenType of a tag of ``kind``."""
    return m.IdTokenType(id_token=id_tag, type=TOKEN_TYPE[kind])


def origin_of(token: m.IdTokenType) -> Origin:
    """What the model keeps of a 2.0.1 token beyond its identifier: its kind and its
    additionalInfo as given."""
    extra = tuple((info.additional_id_token, info.type) for info in token.additional_info or ())
    return Origin(TOKEN_KIND[token.type], extra)


def token_info(info: m.IdTokenInfoType) -> IdTagInfo:
    """A 2.0.1 idTokenInfo in the model's words."""
    group = info.group_id_token.id_token if info.group_id_token is not None else None
    return IdTagInfo(
        VERDICT[info.status],
        info.cache_expiry_date_time,
        group,
        tuple(info.evse_id) if info.evse_id else None,
    )


async def authorize(session: Session, id_tag: str, kind: TokenKind) -> IdTagInfo:
    """C01: AuthorizeRequest with the token and its type; the verdict in the model's words.
    The session's CallFailures pass through (the Uplink turns them into Offline or
    NoVerdict); ``conversation.Uplink(authorizers=...)`` holds it for "ocpp2.0.1"."""
    response = await session.call(m.AuthorizeRequest(id_token=id_token(id_tag, kind)))
    assert isinstance(response, m.AuthorizeResponse)  # the dialect's decoder says so
    return token_info(response.id_token_info)


class AuthorizationHandlers:
    """The CSMS's CALLs of block C this charger answers."""

    def __init__(self, services: Services) -> None:
        self.charger = services.charger

    def __repr__(self) -> str:
        return f"<AuthorizationHandlers {self.charger.authorizer!r}>"

    def table(self) -> dict[str, Handler]:
        return {"ClearCache": TypedHandler(m.ClearCacheRequest, self.clear_cache)}

    async def clear_cache(self, request: m.ClearCacheRequest) -> m.ClearCacheResponse:
        """C11: every cached verdict forgotten: Accepted; Rejected while the cache is
        disabled (C11.FR.04) or when the journal cannot be written."""
        authorizer = self.charger.authorizer
        if not authorizer.policies.auth.cache_enabled:
            log.info("ClearCache rejected: the authorization cache is disabled")
            return m.ClearCacheResponse(status=ClearCacheStatusEnumType.REJECTED)
        try:
            await authorizer.clear()
        except StorageUnavailable as exc:
            log.warning("ClearCache rejected: %s", exc)
            return m.ClearCacheResponse(status=ClearCacheStatusEnumType.REJECTED)
        log.info("authorization cache cleared by the central system")
        return m.ClearCacheResponse(status=ClearCacheStatusEnumType.ACCEPTED)


def _handlers(services: Services) -> Mapping[str, Handler]:
    return AuthorizationHandlers(services).table()


profile = Profile("Authorization", keys=keys, handlers=_handlers, advertised=False)
