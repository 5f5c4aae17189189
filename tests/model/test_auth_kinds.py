"""The Authorizer with what OCPP 2.0.1 added in neutral words: the kind of token reaches
the central system's question, the new verdicts refuse, and a cache lifetime bounds a
verdict that came without its own expiry (2.0.1 AuthCacheCtrlr.LifeTime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import trio

from ocppd.clock import Clock
from ocppd.model.auth import Authorizer, AuthStatus, IdTagInfo, Offline
from ocppd.model.policies import AuthPolicy, Policies
from ocppd.model.token import TokenKind
from tests.model.test_auth_list import Stores

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@dataclass
class Up:
    online: bool = True
    answer: IdTagInfo | None = field(default_factory=lambda: IdTagInfo(AuthStatus.ACCEPTED))
    asked: list[tuple[str, TokenKind]] = field(default_factory=list)

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        await trio.lowlevel.checkpoint()
        self.asked.append((id_tag, kind))
        if self.answer is None:
            raise Offline("no answer")
        return self.answer

    def wake(self) -> None:
        pass

    def status_changed(self) -> None:
        pass


class Wall:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


def authorizer(up: Up, stores: Stores, wall: Wall, **policy: object) -> Authorizer:
    return Authorizer(
        Policies(auth=AuthPolicy(**policy)),  # type: ignore[arg-type]
        stores,
        Clock(wall=wall, monotonic=lambda: 0.0),
        up,
    )


async def test_the_kind_of_token_is_what_the_central_system_is_asked_about() -> None:
    up = Up()
    auth = authorizer(up, Stores(), Wall())
    await auth.authorize("DE-ABC-C12345678-X", TokenKind.CONTRACT)
    await auth.authorize("04A2B3C4")
    assert up.asked == [("DE-ABC-C12345678-X", TokenKind.CONTRACT), ("04A2B3C4", TokenKind.CARD)]


@pytest.mark.parametrize("verdict", [AuthStatus.NO_CREDIT, AuthStatus.NOT_HERE, AuthStatus.NOT_NOW])
async def test_the_new_verdicts_refuse_online_and_from_the_cache_offline(
    verdict: AuthStatus,
) -> None:
    up, stores = Up(answer=IdTagInfo(verdict)), Stores()
    auth = authorizer(up, stores, Wall(), allow_offline_unknown=True)
    result = await auth.authorize("TAG")
    assert not result.accepted and result.why == f"central system says {verdict}"
    up.online = False
    offline = await auth.authorize("TAG")
    assert not offline.accepted and offline.why == f"cached as {verdict}"


async def test_a_verdict_without_expiry_lives_as_long_as_the_cache_lifetime() -> None:
    up, stores, wall = Up(), Stores(), Wall()
    auth = authorizer(up, stores, wall, cache_lifetime_s=3600)
    assert (await auth.authorize("TAG")).accepted
    assert stores.cached["TAG"].expiry == "2026-11-21T11:00:00Z"
    up.online = False
    wall.now += 3599
    assert (await auth.authorize("TAG")).accepted
    wall.now += 1
    late = await auth.authorize("TAG")
    assert not late.accepted and late.why == "cached as Expired"


async def test_without_a_lifetime_a_verdict_keeps_its_own_expiry_or_none() -> None:
    up, stores = Up(), Stores()
    auth = authorizer(up, stores, Wall())
    await auth.authorize("TAG")
    assert stores.cached["TAG"].expiry is None
    up.answer = IdTagInfo(AuthStatus.ACCEPTED, datetime(2026, 11, 22, tzinfo=UTC))
    auth.policies.update(auth=AuthPolicy(cache_lifetime_s=60))
    await auth.authorize("TAG2")
    assert stores.cached["TAG2"].expiry == "2026-11-22T00:00:00Z"  # its own wins
