"""Who may charge: Authorize online, the authorization cache, and the offline rules.

The rules (OCPP 1.6 §3.5 and the errata, in ``notes/ocpp16-rules.md`` §B):

The policy (:class:`~ocppd.model.policies.AuthPolicy`) is named here after the 1.6 keys
that feed it:

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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ocppd.clock import Clock, format_time
from ocppd.model.policies import Policies
from ocppd.model.transaction import StorageUnavailable

log = logging.getLogger(__name__)


class AuthStatus(StrEnum):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    status: AuthStatus
    expiry: datetime | None = None
    parent_id_tag: str | None = None


class Offline(Exception):
    """The central system cannot be asked now (not connected, no answer in time)."""


class NoVerdict(Exception):
    """The central system answered Authorize without a usable verdict (a CALLERROR, or an
    answer that breaks the schema); the message says what came back."""


class Uplink(Protocol):
    """What the model needs from the connection to the central system."""

    @property
    def online(self) -> bool: ...

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """Authorize.req. Raises Offline when no answer comes (not connected, timeout, the
        link is lost), NoVerdict when the answer is unusable."""
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
        self, id_tag: str, status: str, expiry: str | None, parent_id_tag: str | None, now: str
    ) -> None: ...

    async def cache_clear(self) -> None: ...


class AuthSource(StrEnum):
    """Who decided about a tag (the logs say it)."""

    CENTRAL_SYSTEM = "central-system"  # Authorize answered
    CACHE = "cache"  # the authorization cache (or that it cannot be read)
    OFFLINE_UNKNOWN = "offline-unknown"  # offline, a tag the cache does not know
    REMOTE = "remote"  # a remote start the central system asked for itself


@dataclass(frozen=True, slots=True)
class AuthResult:
    accepted: bool
    info: IdTagInfo | None
    source: AuthSource
    why: str = ""

    @property
    def parent_id_tag(self) -> str | None:
        return self.info.parent_id_tag if self.info else None


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
    def __init__(self, policies: Policies, cache: CacheStore, clock: Clock, uplink: Uplink) -> None:
        self.policies = policies
        self.cache = cache
        self.clock = clock
        self.uplink = uplink

    def __repr__(self) -> str:
        return f"<Authorizer online={self.uplink.online} cache={self._cache_enabled}>"

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
        if entry is None:
            return None
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

    async def remember(self, id_tag: str, info: IdTagInfo) -> None:
        """Keep the newest IdTagInfo the central system gave for ``id_tag`` (1.6 §3.5.1)."""
        if not self._cache_enabled:
            return
        now = self.clock.timestamp()
        expiry = format_time(info.expiry) if info.expiry else None
        try:
            await self.cache.cache_store(
                id_tag.upper(), info.status.value, expiry, info.parent_id_tag, now
            )
        except StorageUnavailable as exc:  # a full disk must not stop charging: it is a cache
            log.warning("authorization cache not updated for a tag: %s", exc)

    async def clear(self) -> None:
        """Forget every cached verdict (ClearCache), also while the cache is disabled: what
        it kept from before would otherwise count again once it is enabled. Raises
        StorageUnavailable."""
        await self.cache.cache_clear()

    async def authorize(self, id_tag: str) -> AuthResult:
        """Who may charge, by the rules in the module docstring. Never raises for a refusal:
        ``accepted`` and ``why`` say it."""
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
            try:
                info = await self.uplink.authorize(id_tag)
            except Offline as exc:
                log.info("Authorize got no answer (%s); applying the offline rules", exc)
            except NoVerdict as exc:
                log.warning("Authorize answered without a valid verdict (%s): tag refused", exc)
                return AuthResult(
                    False,
                    None,
                    AuthSource.CENTRAL_SYSTEM,
                    f"no valid answer from the central system ({exc})",
                )
            else:
                await self.remember(id_tag, info)
                accepted = info.status is AuthStatus.ACCEPTED
                return AuthResult(
                    accepted,
                    info,
                    AuthSource.CENTRAL_SYSTEM,
                    "" if accepted else f"central system says {info.status}",
                )
        if not cache_readable:
            return AuthResult(
                False, None, AuthSource.CACHE, "offline and the authorization cache cannot be read"
            )
        return self._offline(cached)

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
