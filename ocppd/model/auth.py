"""Who may charge: the local authorization list, Authorize online, the authorization cache,
and the offline rules.

The rules (OCPP 1.6 §3.5 and the errata, in ``notes/ocpp16-rules.md`` §B):

The policy (:class:`~ocppd.model.policies.AuthPolicy`) is named here after the 1.6 keys
that feed it:

- The local authorization list (``LocalAuthListEnabled``, 1.6 §3.5.2-3.5.3) is asked
  before the cache and wins over it; its identifiers are never written into the cache.
  A listed tag that is valid (Accepted, unexpired) starts at once online with
  ``LocalPreAuthorize``, and offline with ``LocalAuthorizeOffline``; otherwise the
  central system is asked when online. Offline, a listed tag that is not valid is
  refused, also with ``AllowOfflineTxForUnknownId`` (1.6 §3.5.4: that key is for unknown
  tags only). When the central system's verdict on a listed tag (Authorize.conf, or a
  StartTransaction.conf) differs in validity from the list's (valid: Accepted or
  ConcurrentTx, §3.5.2), that is a conflict
  (:class:`ListConflicts`), which the charger reports on connector 0.
- Online: with ``LocalPreAuthorize`` a valid cached tag starts at once; otherwise
  Authorize.req asks the central system, and its answer updates the cache.
- Offline (or when Authorize gets no answer: a timeout or a lost link): a cached
  Accepted, unexpired tag is accepted when ``LocalAuthorizeOffline`` is on; a tag
  cached as anything else, or expired, is refused; an unknown tag is accepted only
  with ``AllowOfflineTxForUnknownId``.
- An answer without a usable verdict (a CALLERROR, or a CALLRESULT that breaks the
  schema) refuses the tag: the central system is there, so the charge point is not
  offline (1.6 §3.5: offline is "unavailability of the communications or even of the
  Central System"), and the offline rules, which may accept unknown tags, must not
  start a transaction the central system never accepted.
- A cache that cannot be read is no entry online (the central system decides); offline
  it refuses the tag, since a tag cached as blocked might otherwise pass as unknown.
- Tags are compared case-insensitively (CiString20).
- A list that cannot be read counts as a cache that cannot be read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import trio

from ocppd.clock import Clock, format_time
from ocppd.model.policies import Policies
from ocppd.model.supervise import Why
from ocppd.model.token import DEFAULT_ORIGIN, Origin, TokenKind
from ocppd.model.transaction import StorageUnavailable

log = logging.getLogger(__name__)


class AuthStatus(StrEnum):
    """The central system's verdict on a tag (the values are what the journal's cache and
    local list keep). Only Accepted starts a transaction; Accepted and ConcurrentTx count as
    valid for a conflict with the local list (:func:`is_valid`)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"  # also: the central system does not know it
    CONCURRENT_TX = "ConcurrentTx"
    NO_CREDIT = "NoCredit"  # valid, but the driver's account has no credit left
    NOT_HERE = "NotHere"  # valid, but not at this charger or not on this kind of connector
    NOT_NOW = "NotNow"  # valid, but not at this time


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    status: AuthStatus
    expiry: datetime | None = None
    parent_id_tag: str | None = None
    # the connectors where the tag may charge (None: any). The charger leaves the others
    # alone; a cached verdict keeps no such list (the cache knows the verdict only).
    connectors: tuple[int, ...] | None = None

    def allows(self, connector_id: int) -> bool:
        return self.connectors is None or connector_id in self.connectors


class Offline(Exception):
    """The central system cannot be asked now (not connected, no answer in time)."""


class NoVerdict(Exception):
    """The central system answered Authorize without a usable verdict (a CALLERROR, or an
    answer that breaks the schema); the message says what came back."""


class Uplink(Protocol):
    """What the model needs from the connection to the central system."""

    @property
    def online(self) -> bool: ...

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        """Ask the central system about ``id_tag`` (1.6 Authorize.req; 2.0.1 Authorize with
        the token's ``kind``), in the version of the open link. Raises Offline when no
        answer comes (not connected, timeout, the link is lost), NoVerdict when the answer
        is unusable."""
        ...

    def wake(self) -> None:
        """The journal's outbox has something new to send."""
        ...

    def status_changed(self) -> None:
        """A connector's status or error changed."""
        ...


class CachedTag(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def expiry(self) -> str | None: ...
    @property
    def parent_id_tag(self) -> str | None: ...


class CacheStore(Protocol):
    """The journal's authorization cache. Every method raises StorageUnavailable when the
    journal cannot be read or written."""

    async def cache_lookup(self, id_tag: str) -> CachedTag | None: ...

    async def cache_store(
        self,
        id_tag: str,
        status: str,
        expiry: str | None,
        parent_id_tag: str | None,
        now: str,
        *,
        unless_listed: bool = False,
    ) -> None:
        """``unless_listed``: store nothing when the local list holds the tag, decided with
        the write (a list update cannot slip in between)."""
        ...

    async def cache_clear(self) -> None: ...


class ListStore(Protocol):
    """The journal's local authorization list, looked up one tag at a time by key. Raises
    StorageUnavailable when the journal cannot be read."""

    async def list_lookup(self, id_tag: str) -> CachedTag | None: ...


class ListConflicts:
    """Where the central system contradicted the local authorization list (1.6 §3.5.3): the
    latest conflict, until the list is updated. The charger reports it on connector 0 (1.6:
    StatusNotification, connector 0, errorCode LocalListConflict) and waits on it."""

    def __init__(self) -> None:
        self.current: str | None = None
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<ListConflicts current={self.current!r}>"

    def found(self, listed: AuthStatus, said: AuthStatus) -> None:
        # no tag in the text: it reaches `ocppctl status` (tags are personal data); the
        # central system can tell the tag from the answer it just gave
        self.current = f"local list {listed.value}, CSMS {said.value}"
        log.warning(
            "local list conflict: the list says %s for a tag, the central system %s",
            listed,
            said,
        )
        self._ring()

    def clear(self) -> None:
        """The list was updated: the conflict is the central system's to have fixed."""
        if self.current is not None:
            self.current = None
            self._ring()

    def _ring(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        await self._changed.wait()


@dataclass(frozen=True, slots=True)
class TagLookup:
    """Where a tag is known locally (``ocppctl tag``): "local-list", "cache" or "unknown"."""

    source: str
    info: IdTagInfo | None


class AuthSource(StrEnum):
    """Who decided about a tag (the logs say it)."""

    CENTRAL_SYSTEM = "central-system"  # Authorize answered
    LOCAL_LIST = "local-list"  # the local authorization list (or that it cannot be read)
    CACHE = "cache"  # the authorization cache (or that it cannot be read)
    OFFLINE_UNKNOWN = "offline-unknown"  # offline, a tag the cache does not know
    REMOTE = "remote"  # a remote start the central system asked for itself
    NOT_REQUIRED = "not-required"  # nobody is asked: at the cable (a driver comes later), or free


@dataclass(frozen=True, slots=True)
class AuthResult:
    accepted: bool
    info: IdTagInfo | None
    source: AuthSource
    why: str = ""
    origin: Origin = DEFAULT_ORIGIN  # how the identifier came (the kind of token)

    @property
    def parent_id_tag(self) -> str | None:
        return self.info.parent_id_tag if self.info else None


def is_valid(info: IdTagInfo) -> bool:
    """Valid in the sense of a conflict with the local list (1.6 §3.5.2: Accepted and
    ConcurrentTx mark a valid identifier; Expired, Blocked and Invalid do not). Whether a
    tag may start is stricter: Accepted only (§3.5.4)."""
    return info.status in (AuthStatus.ACCEPTED, AuthStatus.CONCURRENT_TX)


def why_refused(auth: AuthResult) -> Why:
    """A refused authorisation in one word, for people (a screen)."""
    status = auth.info.status if auth.info is not None else None
    return {
        AuthStatus.INVALID: Why.UNKNOWN_TAG,
        AuthStatus.BLOCKED: Why.BLOCKED,
        AuthStatus.EXPIRED: Why.EXPIRED,
        AuthStatus.CONCURRENT_TX: Why.IN_USE,
        # NoCredit, NotHere, NotNow: the screen says "other"; the log says the verdict
        None: Why.UNKNOWN_TAG if auth.source == "offline-unknown" else Why.OTHER,
    }.get(status, Why.OTHER)


def same_tag(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.upper() == b.upper()


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class Authorizer:
    def __init__(
        self,
        policies: Policies,
        cache: CacheStore,
        clock: Clock,
        uplink: Uplink,
        local_list: ListStore | None = None,
    ) -> None:
        self.policies = policies
        self.cache = cache
        self.clock = clock
        self.uplink = uplink
        self.local_list = local_list
        self.conflicts = ListConflicts()

    def __repr__(self) -> str:
        return (
            f"<Authorizer online={self.uplink.online} cache={self._cache_enabled} "
            f"list={self._list_enabled}>"
        )

    @property
    def _list_enabled(self) -> bool:
        return self.local_list is not None and self.policies.auth.local_list_enabled

    def _effective(self, entry: CachedTag) -> IdTagInfo:
        """An entry's info, Expired once an Accepted entry's expiry has passed."""
        status = AuthStatus(entry.status)
        expiry = parse_time(entry.expiry)
        now = self.clock.now()
        if (
            status is AuthStatus.ACCEPTED
            and expiry is not None
            and now is not None
            and expiry <= now
        ):
            status = AuthStatus.EXPIRED
        return IdTagInfo(status, expiry, entry.parent_id_tag)

    async def listed(self, id_tag: str) -> IdTagInfo | None:
        """The local list's info of ``id_tag`` (status Expired when its expiry has passed);
        None when the list is disabled or does not hold it.

        Raises StorageUnavailable when the list cannot be read.
        """
        if not self._list_enabled:
            return None
        assert self.local_list is not None
        entry = await self.local_list.list_lookup(id_tag.upper())
        return None if entry is None else self._effective(entry)

    async def lookup(self, id_tag: str) -> TagLookup:
        """Where ``id_tag`` is known here, without asking the central system: the list wins
        over the cache. Raises StorageUnavailable."""
        info = await self.listed(id_tag)
        if info is not None:
            return TagLookup("local-list", info)
        info = await self.cached(id_tag)
        if info is not None:
            return TagLookup("cache", info)
        return TagLookup("unknown", None)

    @property
    def _cache_enabled(self) -> bool:
        return self.policies.auth.cache_enabled

    async def cached(self, id_tag: str) -> IdTagInfo | None:
        """The cached info of ``id_tag`` (status Expired when its expiry has passed).

        Raises StorageUnavailable when the cache cannot be read.
        """
        if not self._cache_enabled:
            return None
        entry = await self.cache.cache_lookup(id_tag.upper())
        return None if entry is None else self._effective(entry)

    async def remember(self, id_tag: str, info: IdTagInfo) -> None:
        """Keep the newest IdTagInfo the central system gave for ``id_tag`` (1.6 §3.5.1), unless
        the local list holds the tag: its identifiers are never cached (1.6 §3.5.2)."""
        if not self._cache_enabled:
            return
        now = self.clock.timestamp()
        expires = info.expiry
        lifetime = self.policies.auth.cache_lifetime_s
        wall = self.clock.now()
        if expires is None and lifetime > 0 and wall is not None:
            # a verdict without its own expiry lives this long in the cache (2.0.1
            # AuthCacheCtrlr.LifeTime; 1.6 has no such bound: 0)
            expires = wall + timedelta(seconds=lifetime)
        expiry = format_time(expires) if expires else None
        try:
            await self.cache.cache_store(
                id_tag.upper(),
                info.status.value,
                expiry,
                info.parent_id_tag,
                now,
                unless_listed=self.local_list is not None,
            )
        except StorageUnavailable as exc:  # a full disk must not stop charging: it is a cache
            log.warning("authorization cache not updated for a tag: %s", exc)

    async def clear(self) -> None:
        """Forget every cached verdict (ClearCache), also while the cache is disabled: what
        it kept from before would otherwise count again once it is enabled. Raises
        StorageUnavailable."""
        await self.cache.cache_clear()

    async def start_answered(self, id_tag: str, info: IdTagInfo) -> None:
        """The central system's verdict on the tag of a StartTransaction: a conflict when the
        local list says otherwise (1.6 §3.5.3), else a cache entry (:meth:`remember`)."""
        await self._compare_with_list(id_tag, info)
        await self.remember(id_tag, info)

    async def _compare_with_list(self, id_tag: str, said: IdTagInfo) -> None:
        try:
            listed = await self.listed(id_tag)
        except StorageUnavailable as exc:
            log.warning("local list unreadable; verdict not compared with it: %s", exc)
            return
        if listed is not None and is_valid(listed) is not is_valid(said):
            self.conflicts.found(listed.status, said.status)

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> AuthResult:
        """Who may charge, by the rules in the module docstring (``kind``: how the identifier
        came, which the central system is told where its version has words for it). Never
        raises for a refusal: ``accepted`` and ``why`` say it."""
        result = await self._authorize(id_tag, kind)
        return result if kind is TokenKind.CARD else replace(result, origin=Origin(kind))

    async def _authorize(self, id_tag: str, kind: TokenKind) -> AuthResult:
        try:
            listed = await self.listed(id_tag)
        except StorageUnavailable as exc:
            log.warning("local authorization list cannot be read: %s", exc)
            return await self._by_central_system(id_tag, kind, "the local list cannot be read")
        if listed is not None:
            return await self._by_list(id_tag, kind, listed)
        cache_readable = True
        try:
            cached = await self.cached(id_tag)
        except StorageUnavailable as exc:
            log.warning("authorization cache cannot be read: %s", exc)
            cached, cache_readable = None, False
        valid_cached = cached is not None and cached.status is AuthStatus.ACCEPTED
        if self.uplink.online:
            if valid_cached and self.policies.auth.local_pre_authorize:
                return AuthResult(True, cached, AuthSource.CACHE)
            answer = await self._ask(id_tag, kind)
            if answer is not None:
                if answer.info is not None:
                    await self.remember(id_tag, answer.info)
                return answer
        if not cache_readable:
            return AuthResult(
                False, None, AuthSource.CACHE, "offline and the authorization cache cannot be read"
            )
        return self._offline(cached)

    async def _ask(self, id_tag: str, kind: TokenKind) -> AuthResult | None:
        """Authorize.req: the central system's verdict, a refusal when it answered without
        one, or None when no answer came (the offline rules apply)."""
        try:
            info = await self.uplink.authorize(id_tag, kind)
        except Offline as exc:
            log.info("Authorize got no answer (%s); applying the offline rules", exc)
            return None
        except NoVerdict as exc:
            log.warning("Authorize answered without a valid verdict (%s): tag refused", exc)
            return AuthResult(
                False,
                None,
                AuthSource.CENTRAL_SYSTEM,
                f"no valid answer from the central system ({exc})",
            )
        accepted = info.status is AuthStatus.ACCEPTED
        return AuthResult(
            accepted,
            info,
            AuthSource.CENTRAL_SYSTEM,
            "" if accepted else f"central system says {info.status}",
        )

    async def _by_list(self, id_tag: str, kind: TokenKind, listed: IdTagInfo) -> AuthResult:
        """A listed tag (1.6 §3.5.2-3.5.4): the list's verdict, the central system's when
        online and the list alone may not decide; never a cache entry."""
        valid = listed.status is AuthStatus.ACCEPTED
        if self.uplink.online:
            if valid and self.policies.auth.local_pre_authorize:
                return AuthResult(True, listed, AuthSource.LOCAL_LIST)
            answer = await self._ask(id_tag, kind)
            if answer is not None:
                if answer.info is not None and is_valid(answer.info) is not is_valid(listed):
                    self.conflicts.found(listed.status, answer.info.status)
                return answer
        if not valid:
            return AuthResult(
                False, listed, AuthSource.LOCAL_LIST, f"in the local list as {listed.status}"
            )
        if not self.policies.auth.local_authorize_offline:
            return AuthResult(
                False, listed, AuthSource.LOCAL_LIST, "offline, LocalAuthorizeOffline is off"
            )
        return AuthResult(True, listed, AuthSource.LOCAL_LIST)

    async def _by_central_system(self, id_tag: str, kind: TokenKind, why_local: str) -> AuthResult:
        """Only the central system may decide (local storage unreadable): offline, refused."""
        if self.uplink.online:
            answer = await self._ask(id_tag, kind)
            if answer is not None:
                return answer
        return AuthResult(False, None, AuthSource.LOCAL_LIST, f"offline and {why_local}")

    def _offline(self, cached: IdTagInfo | None) -> AuthResult:
        if cached is not None:
            if cached.status is AuthStatus.ACCEPTED:
                if self.policies.auth.local_authorize_offline:
                    return AuthResult(True, cached, AuthSource.CACHE)
                return AuthResult(
                    False, cached, AuthSource.CACHE, "offline, LocalAuthorizeOffline is off"
                )
            return AuthResult(False, cached, AuthSource.CACHE, f"cached as {cached.status}")
        if self.policies.auth.allow_offline_unknown:
            return AuthResult(True, None, AuthSource.OFFLINE_UNKNOWN)
        return AuthResult(False, None, AuthSource.OFFLINE_UNKNOWN, "offline and the tag is unknown")
