"""The Authorizer with a local authorization list (1.6 §3.5.2-3.5.4), row by row, without OCPP:
plain stores and an uplink that answers what each row says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import trio

from ocppd.clock import Clock
from ocppd.model.auth import Authorizer, AuthStatus, IdTagInfo, Offline
from ocppd.model.policies import AuthPolicy, Policies
from ocppd.model.token import TokenKind
from ocppd.model.transaction import StorageUnavailable

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
A, B, E = AuthStatus.ACCEPTED, AuthStatus.BLOCKED, AuthStatus.EXPIRED


@dataclass(frozen=True)
class Entry:
    status: str
    expiry: str | None = None
    parent_id_tag: str | None = None
    token_kind: str | None = None
    connectors: str | None = None


@dataclass
class Stores:
    listed: dict[str, Entry] = field(default_factory=dict)
    cached: dict[str, Entry] = field(default_factory=dict)
    list_broken: bool = False
    used: list[str] = field(default_factory=list)  # cache entries touched, in order

    async def list_lookup(self, id_tag: str) -> Entry | None:
        await trio.lowlevel.checkpoint()
        if self.list_broken:
            raise StorageUnavailable("disk I/O error")
        return self.listed.get(id_tag)

    async def cache_lookup(self, id_tag: str) -> Entry | None:
        await trio.lowlevel.checkpoint()
        return self.cached.get(id_tag)

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
        await trio.lowlevel.checkpoint()
        if unless_listed and id_tag in self.listed:
            return
        self.cached[id_tag] = Entry(status, expiry, parent_id_tag)

    async def cache_touch(self, id_tag: str, now: str) -> None:
        await trio.lowlevel.checkpoint()
        self.used.append(id_tag)

    async def cache_clear(self) -> None:
        self.cached.clear()


@dataclass
class Up:
    online: bool
    answer: AuthStatus | None = A  # None: no answer (Offline)
    asked: list[str] = field(default_factory=list)

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        await trio.lowlevel.checkpoint()
        self.asked.append(id_tag)
        if self.answer is None:
            raise Offline("no answer")
        return IdTagInfo(self.answer)

    def wake(self) -> None:
        pass

    def status_changed(self) -> None:
        pass


def authorizer(stores: Stores, up: Up, **policy: bool) -> Authorizer:
    auth = AuthPolicy(local_list_enabled=True, **policy)
    return Authorizer(
        Policies(auth=auth),
        stores,
        Clock(wall=NOW.timestamp, monotonic=lambda: 0.0),
        up,
        local_list=stores,
    )


# (listed status, expiry, online, central system's answer, policy) -> (accepted, source, asked)
ROWS = [
    # online, LocalPreAuthorize: a valid listed tag starts without asking
    (A, None, True, A, {"local_pre_authorize": True}, (True, "local-list", False)),
    # online without it: the central system is asked and decides
    (A, None, True, B, {}, (False, "central-system", True)),
    (B, None, True, A, {"local_pre_authorize": True}, (True, "central-system", True)),
    # an expired list entry is not valid: asked online
    (A, "2026-11-21T09:00:00Z", True, A, {"local_pre_authorize": True},
     (True, "central-system", True)),
    # Authorize gets no answer: the offline rules on the list entry
    (A, None, True, None, {}, (True, "local-list", True)),
    # offline: valid with LocalAuthorizeOffline, refused without
    (A, None, False, A, {}, (True, "local-list", False)),
    (A, None, False, A, {"local_authorize_offline": False}, (False, "local-list", False)),
    # offline: not valid in the list is refused, AllowOfflineTxForUnknownId or not (§3.5.4)
    (B, None, False, A, {"allow_offline_unknown": True}, (False, "local-list", False)),
    (A, "2026-11-21T09:00:00Z", False, A, {"allow_offline_unknown": True},
     (False, "local-list", False)),
]  # fmt: skip


@pytest.mark.parametrize(("listed", "expiry", "online", "said", "policy", "expected"), ROWS)
async def test_the_list_rules_row_by_row(
    listed: AuthStatus,
    expiry: str | None,
    online: bool,
    said: AuthStatus | None,
    policy: dict[str, bool],
    expected: tuple[bool, str, bool],
) -> None:
    stores = Stores(listed={"TAG": Entry(listed.value, expiry)})
    up = Up(online=online, answer=said)
    result = await authorizer(stores, up, **policy).authorize("tag")
    assert (result.accepted, result.source, bool(up.asked)) == expected
    assert "TAG" not in stores.cached  # whatever was said, a listed tag is never cached


async def test_the_list_wins_over_a_valid_cache_entry_offline() -> None:
    stores = Stores(listed={"TAG": Entry("Blocked")}, cached={"TAG": Entry("Accepted")})
    result = await authorizer(stores, Up(online=False)).authorize("TAG")
    assert not result.accepted and result.why == "in the local list as Blocked"


async def test_a_disabled_list_is_not_asked() -> None:
    stores = Stores(listed={"TAG": Entry("Blocked")})
    auth = authorizer(stores, Up(online=False), allow_offline_unknown=True)
    auth.policies.update(auth=AuthPolicy(local_list_enabled=False, allow_offline_unknown=True))
    result = await auth.authorize("TAG")
    assert result.accepted and result.source == "offline-unknown"
    assert (await auth.lookup("TAG")).source == "unknown"


async def test_an_unreadable_list_is_refused_offline_and_asked_online() -> None:
    stores = Stores(list_broken=True, cached={"TAG": Entry("Accepted")})
    offline = await authorizer(stores, Up(online=False), allow_offline_unknown=True).authorize(
        "TAG"
    )
    assert not offline.accepted and "cannot be read" in offline.why
    up = Up(online=True, answer=A)
    online = await authorizer(stores, up, local_pre_authorize=True).authorize("TAG")
    assert online.accepted and online.source == "central-system" and up.asked == ["TAG"]


async def test_a_contradicting_verdict_is_a_conflict_until_the_list_changes() -> None:
    stores = Stores(listed={"TAG": Entry("Accepted")})
    auth = authorizer(stores, Up(online=True))
    await auth.start_answered("tag", IdTagInfo(A))
    assert auth.conflicts.current is None  # agreeing: nothing
    await auth.start_answered("tag", IdTagInfo(B))
    assert auth.conflicts.current == "local list Accepted, CSMS Blocked"
    assert "TAG" not in stores.cached
    auth.conflicts.clear()
    assert auth.conflicts.current is None
    await auth.start_answered("tag", IdTagInfo(AuthStatus.CONCURRENT_TX))  # valid too (§3.5.2)
    assert auth.conflicts.current is None
    stores.listed["BAD"] = Entry("Blocked")
    await auth.start_answered("bad", IdTagInfo(AuthStatus.INVALID))  # both not valid
    assert auth.conflicts.current is None
    await auth.start_answered("OTHER", IdTagInfo(B))  # not listed: cached, no conflict
    assert auth.conflicts.current is None and stores.cached["OTHER"].status == "Blocked"


async def test_lookup_says_list_cache_or_unknown() -> None:
    stores = Stores(
        listed={"L": Entry("Accepted")}, cached={"C": Entry("Blocked"), "L": Entry("X")}
    )
    auth = authorizer(stores, Up(online=False))
    assert (await auth.lookup("l")).source == "local-list"
    assert (await auth.lookup("c")).info == IdTagInfo(B)
    assert (await auth.lookup("nobody")).source == "unknown"
    stores.listed["OLD"] = Entry("Accepted", "2026-11-21T09:00:00Z")
    assert (await auth.lookup("old")).info == IdTagInfo(E, datetime(2026, 11, 21, 9, tzinfo=UTC))


# --- beyond 1.6 (2.0.1's rules in neutral words) ---


async def test_an_entry_of_another_token_kind_does_not_match() -> None:
    """An entry names how its identifier is presented: a card is not the central system's
    token with the same identifier; an entry without a kind (1.6) matches any."""
    stores = Stores(listed={"TAG": Entry("Accepted", token_kind=TokenKind.CENTRAL.value)})
    up = Up(online=True, answer=B)
    auth = authorizer(stores, up, local_pre_authorize=True)
    result = await auth.authorize("TAG", TokenKind.CARD)
    assert (result.accepted, result.source, up.asked) == (False, "central-system", ["TAG"])
    assert (await auth.authorize("TAG", TokenKind.CENTRAL)).source == "local-list"
    stores.listed["OLD"] = Entry("Accepted")
    assert (await auth.authorize("OLD", TokenKind.KEY_CODE)).source == "local-list"
    assert (await auth.lookup("TAG")).source == "local-list"  # ocppctl tag: any kind


async def test_an_entry_names_its_connectors() -> None:
    stores = Stores(
        listed={
            "TAG": Entry("Accepted", connectors="2,3"),
            "BAD": Entry("Accepted", connectors="x"),
        }
    )
    auth = authorizer(stores, Up(online=False))
    result = await auth.authorize("TAG")
    assert result.info is not None and result.info.connectors == (2, 3)
    assert not result.info.allows(1) and result.info.allows(3)
    unreadable = await auth.authorize("BAD")
    assert unreadable.info is not None and unreadable.info.connectors is None


# (listed, cached, policy) -> (accepted, why) with remote authorization off, online
REMOTE_OFF = [
    ({"TAG": Entry("Accepted")}, {}, {}, (True, "")),
    ({"TAG": Entry("Blocked")}, {}, {},
     (False, "in the local list as Blocked and remote authorization is off")),
    ({}, {"TAG": Entry("Accepted")}, {}, (True, "")),
    ({}, {"TAG": Entry("Blocked")}, {},
     (False, "cached as Blocked and remote authorization is off")),
    ({}, {}, {"allow_offline_unknown": True},
     (False, "unknown here and remote authorization is off")),
]  # fmt: skip


@pytest.mark.parametrize(("listed", "cached", "policy", "expected"), REMOTE_OFF)
async def test_remote_authorization_off_asks_nobody(
    listed: dict[str, Entry],
    cached: dict[str, Entry],
    policy: dict[str, bool],
    expected: tuple[bool, str],
) -> None:
    stores = Stores(listed=listed, cached=cached)
    up = Up(online=True)
    result = await authorizer(stores, up, remote_authorization=False, **policy).authorize("tag")
    assert (result.accepted, result.why) == expected
    assert up.asked == []


async def test_a_start_the_cache_decided_marks_its_entry_used() -> None:
    """LRU: a verdict the cache gave (online with LocalPreAuthorize, or offline) is a use."""
    stores = Stores(cached={"TAG": Entry("Accepted")})
    await authorizer(stores, Up(online=True), local_pre_authorize=True).authorize("tag")
    await authorizer(stores, Up(online=False)).authorize("tag")
    await authorizer(stores, Up(online=False)).authorize("unknown")
    assert stores.used == ["TAG", "TAG"]


async def test_the_master_pass_is_an_accepted_tag_of_its_group() -> None:
    stores = Stores(
        listed={
            "COP": Entry("Accepted", parent_id_tag="police"),
            "X": Entry("Blocked", parent_id_tag="POLICE"),
        }
    )
    auth = authorizer(stores, Up(online=False))
    auth.policies.update(auth=AuthPolicy(local_list_enabled=True, master_pass_group="POLICE"))
    assert auth.is_master_pass(await auth.authorize("COP"))
    assert not auth.is_master_pass(await auth.authorize("X"))  # refused: no master pass
    auth.policies.update(auth=AuthPolicy(local_list_enabled=True))
    assert not auth.is_master_pass(await auth.authorize("COP"))
