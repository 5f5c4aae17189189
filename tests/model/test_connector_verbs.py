"""A connector's verbs, on the model alone: sim devices, a journal that keeps what it is
given, and a charge point context no bigger than ocppd/model/context.py says.

Features change connectors only through these verbs; the tests drive them the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from hal.base import ConnectorDevices, Fault, FaultKind
from hal.context import DeviceContext, SharedResources
from hal.sim import SimContactor, SimMeter, SimOffer, SimPlug, SimWorld
from ocppd.clock import Clock
from ocppd.model.auth import AuthResult, AuthSource, AuthStatus, IdTagInfo, Offline
from ocppd.model.charging_profile import Purpose
from ocppd.model.connector import LOCAL_MAX, MIN_CURRENT_A, Connector, CurrentLimit, TxMessage
from ocppd.model.context import ChargePointContext
from ocppd.model.policies import Policies, TxPolicy
from ocppd.model.reservation import Reservation
from ocppd.model.smart_charging import LimitSource, SourceKind
from ocppd.model.status import Status
from ocppd.model.supervise import Refused, start_supervised
from ocppd.model.token import TokenKind
from ocppd.model.transaction import StopReason

REMOTE = AuthResult(True, None, AuthSource.REMOTE)


class Journal:
    """A TransactionLog that always works and keeps the starts and stops."""

    healthy, problem = True, None

    def __init__(self) -> None:
        self.started: list[int] = []
        self.reservation_ids: list[int | None] = []  # StartTransaction.reservationId of each
        self.stopped: list[tuple[int, StopReason]] = []

    async def wait_unhealthy(self) -> None:
        await trio.sleep_forever()

    async def wait_healthy(self) -> None:
        pass

    async def start(self, *, reservation_id: int | None = None, **_: Any) -> int:
        self.reservation_ids.append(reservation_id)
        self.started.append(len(self.started) + 1)
        return self.started[-1]

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        pass

    async def meter_values(self, local_id: int | None, **_: Any) -> None:
        pass

    async def stop(self, local_id: int, *, reason: StopReason, **_: Any) -> None:
        self.stopped.append((local_id, reason))

    def known_id(self, local_id: int) -> int | str | None:
        return None

    async def changed(self, local_id: int, **_: Any) -> None:
        pass

    follows_points = False  # OCPP 1.6's rule: authorised and plugged in

    async def noted(self, local_id: int, **_: Any) -> None:
        pass


class Uplink:
    online = True

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        raise Offline("no central system in these tests")

    def wake(self) -> None:
        pass

    def status_changed(self) -> None:
        pass


class Context:
    """The charge point as a connector sees it: nothing but ChargePointContext."""

    def __init__(self, nursery: trio.Nursery, policies: Policies) -> None:
        self.policies = policies
        self.clock = Clock()
        self.txlog = Journal()
        self.uplink = Uplink()
        self.accepts_sessions = True
        self.faulted = False
        self.stopping = False
        self.held: str | None = None
        self.changes = 0
        self.reservations_ended: list[tuple[Reservation, str]] = []
        self._nursery = nursery

    def blocking_fault(self) -> Fault | None:
        return None

    def spawn(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        start_supervised(self._nursery, what, fn, *args)

    async def retry_storage(self, write: Callable[[], Awaitable[None]]) -> None:
        await write()

    async def persist_availability(self, connector_id: int, operative: bool) -> None:
        pass

    def tag_read(self, id_tag: str) -> None:
        pass

    def claim_taken(self, connector_id: int, id_tag: str) -> None:
        pass

    def status_changed(self) -> None:
        self.changes += 1

    def free_changed(self) -> None:
        pass

    # a connector alone: no charge-point (connector 0) reservation
    def reservation_for(
        self, id_tag: str, parent_id_tag: str | None, connector_id: int
    ) -> Reservation | None:
        return None

    def reservation_blocks(self, id_tag: str, parent_id_tag: str | None, connector_id: int) -> bool:
        return False

    def reservation_used(self, reservation: Reservation) -> None:
        self.reservations_ended.append((reservation, "used"))

    def reservation_lost(self, reservation: Reservation, why: str) -> None:
        self.reservations_ended.append((reservation, why))

    def notice(self) -> None:
        pass


def connector(
    nursery: trio.Nursery, tmp_path: Path, policies: Policies | None = None
) -> tuple[Connector, Context, SimWorld]:
    world = SimWorld(1)
    device = DeviceContext("sim", 1, tmp_path, SharedResources(), sim=world)
    devices = ConnectorDevices(
        1,
        SimContactor({}, device),
        SimPlug({}, device),
        SimMeter({}, device),
        offer=SimOffer({}, device),
    )
    context = Context(nursery, policies or Policies())
    narrow: ChargePointContext = context  # the connector needs no more than this
    return Connector(narrow, devices, max_current_a=16.0, phases=3), context, world


async def charging(
    nursery: trio.Nursery, tmp_path: Path, **policies: Any
) -> tuple[Connector, Context, SimWorld]:
    c, context, world = connector(nursery, tmp_path, Policies(tx=TxPolicy(**policies)))
    await nursery.start(c.run)
    world.plug()
    await trio.sleep(1)
    assert await c.start_for("TAG1", REMOTE)
    await trio.sleep(1)
    assert c.reported.status is Status.CHARGING and world.contactor_closed
    return c, context, world


async def test_set_limit_suspends_at_zero_and_the_lowest_limit_wins(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, _, world = await charging(nursery, tmp_path)
        assert world.offered_a == 16.0
        await c.set_limit("profile", 10.0)
        await c.set_limit("cable", 13.0)
        assert world.offered_a == 10.0 and c.current_limit_a() == 10.0
        await c.set_limit("profile", 0)
        assert c.reported.status is Status.SUSPENDED_EVSE and not world.contactor_closed
        await c.set_limit("profile", None)  # lifted: the cable's limit is left
        assert c.reported.status is Status.CHARGING and world.contactor_closed
        assert world.offered_a == 13.0
        nursery.cancel_scope.cancel()


async def test_the_lowest_of_local_max_temperature_and_profile_wins_and_is_named(
    tmp_path, autojump_clock
):
    profile = LimitSource(SourceKind.PROFILE, 4, Purpose.TX_DEFAULT, 1)
    async with trio.open_nursery() as nursery:
        c, _, world = await charging(nursery, tmp_path)
        assert c.limiting() == CurrentLimit(16.0, LOCAL_MAX)
        await c.set_limit("profile", 12.0, profile)
        await c.set_limit("temperature", 14.0)
        assert c.limiting() == CurrentLimit(12.0, "profile", profile)
        assert world.offered_a == 12.0
        await c.set_limit("temperature", 9.0)  # derating below the profile: it rules
        assert c.limiting() == CurrentLimit(9.0, "temperature") and world.offered_a == 9.0
        await c.set_limit("temperature", None)
        await c.set_limit("profile", MIN_CURRENT_A - 0.5, profile)  # no pilot offers it: pause
        assert c.reported.status is Status.SUSPENDED_EVSE and not world.contactor_closed
        assert world.offered_a is None
        await c.set_limit("profile", MIN_CURRENT_A, profile)
        assert c.reported.status is Status.CHARGING and world.offered_a == MIN_CURRENT_A
        nursery.cancel_scope.cancel()


async def test_start_for_without_the_ev_claims_and_with_it_starts(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, context, world = connector(nursery, tmp_path)
        await nursery.start(c.run)
        assert not await c.start_for("TAG1", REMOTE)  # no cable: the driver has a claim
        assert c.claimed_by("tag1") and c.reported.status is Status.PREPARING
        world.plug()  # the claim starts the transaction where the EV is
        await trio.sleep(1)
        assert c.tx is not None and c.tx.id_tag == "TAG1"
        assert context.txlog.started == [1]
        assert (1, TxMessage.START) in c.awaiting
        nursery.cancel_scope.cancel()


async def test_confirm_start_takes_the_id_and_acknowledged_ends_the_wait(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, _, _ = await charging(nursery, tmp_path)
        await c.confirm_start(2, 99, IdTagInfo(AuthStatus.ACCEPTED))  # not this transaction
        assert c.tx is not None and c.tx.transaction_id is None
        await c.confirm_start(1, 42, IdTagInfo(AuthStatus.ACCEPTED, parent_id_tag="GROUP"))
        assert (c.tx.transaction_id, c.tx.parent_id_tag) == (42, "GROUP")
        assert not c.acknowledged(1, TxMessage.STOP)
        assert c.acknowledged(1, TxMessage.START)
        assert not c.acknowledged(1, TxMessage.START)  # once
        assert c.awaiting == set()
        nursery.cancel_scope.cancel()


async def test_an_invalid_verdict_stops_the_transaction_by_policy(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, context, _ = await charging(nursery, tmp_path, stop_on_invalid_id=True)
        await c.confirm_start(1, 42, IdTagInfo(AuthStatus.INVALID))
        assert c.tx is None and context.txlog.stopped == [(1, StopReason.DE_AUTHORIZED)]
        nursery.cancel_scope.cancel()


async def test_an_invalid_verdict_suspends_energy_when_the_policy_keeps_it(
    tmp_path, autojump_clock
):
    async with trio.open_nursery() as nursery:
        c, context, world = await charging(nursery, tmp_path, stop_on_invalid_id=False)
        await c.confirm_start(1, 42, IdTagInfo(AuthStatus.BLOCKED))
        assert c.tx is not None and context.txlog.stopped == []
        assert c.reported.status is Status.SUSPENDED_EVSE and not world.contactor_closed
        nursery.cancel_scope.cancel()


async def test_give_up_start_gives_the_running_transaction_the_fallback_id(
    tmp_path, autojump_clock
):
    async with trio.open_nursery() as nursery:
        c, _, _ = await charging(nursery, tmp_path)
        c.give_up_start(7, -1)  # another transaction: nothing
        assert c.tx is not None and c.tx.transaction_id is None
        c.give_up_start(1, -1)
        assert c.tx.transaction_id == -1
        nursery.cancel_scope.cancel()


async def test_restore_puts_a_connector_out_of_service_before_it_runs(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, _, _ = connector(nursery, tmp_path)
        c.restore(operative=False)
        assert not c.operative and c.reported.status is Status.UNAVAILABLE
        nursery.cancel_scope.cancel()


async def test_the_policy_in_force_when_the_claim_is_made_sets_its_deadline(
    tmp_path, autojump_clock
):
    policies = Policies(tx=TxPolicy(connection_timeout_s=30))
    async with trio.open_nursery() as nursery:
        c, _, _ = connector(nursery, tmp_path, policies)
        await nursery.start(c.run)
        assert not await c.start_for("TAG1", REMOTE)
        policies.update(tx=TxPolicy(connection_timeout_s=300))  # later claims only
        await trio.sleep(29)
        assert c.claimed_by("TAG1")
        await trio.sleep(2)
        assert not c.claimed_by("TAG1") and c.reported.status is Status.AVAILABLE
        nursery.cancel_scope.cancel()


# --- a reservation on the connector (model/reservation.py; 1.6 §3.11, §5.13) ---

IN_AN_HOUR = datetime.now(UTC) + timedelta(hours=1)


def member_of(group: str) -> AuthResult:
    return AuthResult(True, IdTagInfo(AuthStatus.ACCEPTED, parent_id_tag=group), "central system")


def booking(parent: str | None = None) -> Reservation:
    return Reservation(7, 1, "RESV0001", parent, IN_AN_HOUR)


async def test_a_reserved_connector_admits_only_its_tag_and_the_start_carries_its_id(
    tmp_path, autojump_clock
):
    async with trio.open_nursery() as nursery:
        c, context, world = connector(nursery, tmp_path)
        await nursery.start(c.run)
        await c.reserve(booking())
        assert c.reported.status is Status.RESERVED
        world.plug()
        await trio.sleep(1)
        assert c.reported.status is Status.RESERVED  # a cable alone (§4.9 E2)
        with pytest.raises(Refused, match="reserved for another driver"):
            await c.start_for("STRANGER", REMOTE)
        assert c.reservation is not None and context.txlog.started == []
        assert await c.start_for("resv0001", REMOTE)  # tags compare case-insensitively
        assert context.txlog.reservation_ids == [7]
        assert c.reservation is None
        assert [(r.reservation_id, why) for r, why in context.reservations_ended] == [(7, "used")]
        await trio.sleep(1)
        assert c.reported.status is Status.CHARGING
        nursery.cancel_scope.cancel()


async def test_a_reservation_with_a_parent_admits_the_group(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, context, world = connector(nursery, tmp_path)
        await nursery.start(c.run)
        await c.reserve(booking(parent="GROUP-A"))
        world.plug()
        await trio.sleep(1)
        with pytest.raises(Refused):
            await c.start_for("KID2", member_of("GROUP-B"))
        assert await c.start_for("KID1", member_of("group-a"))
        assert context.txlog.reservation_ids == [7]
        nursery.cancel_scope.cancel()


async def test_a_faulted_or_unavailable_connector_ends_its_reservation(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, context, _ = connector(nursery, tmp_path)
        await nursery.start(c.run)
        await c.reserve(booking())
        await c.set_fault(Fault(FaultKind.GROUND_FAILURE, "test"))
        assert c.reported.status is Status.FAULTED and c.reservation is None
        await c.set_fault(None, FaultKind.GROUND_FAILURE)
        assert c.reported.status is Status.AVAILABLE  # not Reserved again
        await c.reserve(booking())
        await c.set_operative(False)
        assert c.reported.status is Status.UNAVAILABLE and c.reservation is None
        assert [why for _, why in context.reservations_ended] == [
            "connector 1 is faulted",
            "connector 1 is unavailable",
        ]
        nursery.cancel_scope.cancel()


async def test_end_reservation_ends_only_its_own(tmp_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        c, _, _ = connector(nursery, tmp_path)
        await nursery.start(c.run)
        await c.reserve(booking())
        assert not await c.end_reservation(8)
        assert c.reported.status is Status.RESERVED
        assert await c.end_reservation(7)
        assert c.reported.status is Status.AVAILABLE
        nursery.cancel_scope.cancel()
