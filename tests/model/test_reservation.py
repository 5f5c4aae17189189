"""Reservations in the model alone (model/reservation.py; 1.6 §3.11, §5.13): the charger on
simulated devices, a store in memory, virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trio

from hal.base import ConnectorDevices
from hal.context import DeviceContext, SharedResources
from hal.sim import SimContactor, SimMeter, SimPlug, SimWorld
from ocppd.clock import Clock
from ocppd.features import declared_keys
from ocppd.features.core.policies import follow_keys
from ocppd.model.auth import Authorizer
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys
from ocppd.model.outcomes import ReserveResult
from ocppd.model.reservation import Reservation, fits
from ocppd.model.status import Status
from tests.model.test_supervise import TxLog, Uplink

EPOCH = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class Store:
    """Reservations in memory; ``gate`` (when set) holds each save until it is set."""

    def __init__(self) -> None:
        self.rows: dict[int, Reservation] = {}
        self.gate: trio.Event | None = None

    async def save_reservation(self, reservation: Reservation) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.rows[reservation.reservation_id] = reservation

    async def delete_reservation(self, reservation_id: int) -> None:
        self.rows.pop(reservation_id, None)


def make(
    tmp_path: Path, connectors: int = 2, store: Store | None = None
) -> tuple[Charger, Store, list[SimWorld]]:
    keys = follow_keys(Keys(declared_keys(connectors=connectors)))
    clock = Clock(wall=lambda: EPOCH.timestamp() + trio.current_time())
    store = store or Store()
    uplink: Any = Uplink()
    charger = Charger(
        policies=keys,
        clock=clock,
        txlog=TxLog(),  # type: ignore[arg-type]
        uplink=uplink,
        authorizer=Authorizer(keys, None, clock, uplink),  # type: ignore[arg-type]
        settings=None,  # type: ignore[arg-type]
        reservation_store=store,
    )
    worlds = []
    for cid in range(1, connectors + 1):
        world = SimWorld(1)
        device = DeviceContext("sim", cid, tmp_path, SharedResources(), sim=world)
        devices = ConnectorDevices(
            cid, SimContactor({}, device), SimPlug({}, device), SimMeter({}, device)
        )
        charger.add_connector(devices, max_current_a=16.0, phases=3)
        worlds.append(world)
    return charger, store, worlds


def booking(rid: int, connector_id: int, minutes: float = 30, tag: str = "RESV0001") -> Reservation:
    return Reservation(rid, connector_id, tag, None, EPOCH + timedelta(minutes=minutes))


async def test_judged_again_after_it_is_written(tmp_path, autojump_clock):
    """A driver who claims the connector while the reservation is being written wins: the
    answer is Occupied and nothing stays on disk."""
    charger, store, _ = make(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(charger.run)
        store.gate = trio.Event()
        answers: list[ReserveResult] = []

        async def reserve() -> None:
            answers.append(await charger.reservations.reserve(booking(1, 1)))

        nursery.start_soon(reserve)
        await trio.sleep(1)
        charger.connectors[1].claim("DRIVER01", None)  # a tag is being authorised there
        store.gate.set()
        await trio.sleep(1)
        assert answers == [ReserveResult.OCCUPIED]
        assert store.rows == {} and charger.reservations.all() == []
        nursery.cancel_scope.cancel()


async def test_expiry_is_a_deadline_and_restore_drops_what_expired(tmp_path, autojump_clock):
    charger, store, _ = make(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(charger.run)
        # expiry counts from the wall clock of the test (EPOCH + trio time)
        assert await charger.reservations.reserve(booking(1, 1, minutes=10)) is (
            ReserveResult.ACCEPTED
        )
        assert await charger.reservations.reserve(booking(2, 0, minutes=20)) is (
            ReserveResult.ACCEPTED
        )
        assert charger.connectors[1].reported.status is Status.RESERVED
        await trio.sleep(10 * 60 - 1)
        assert charger.connectors[1].reservation is not None
        await trio.sleep(2)
        assert charger.connectors[1].reservation is None
        assert charger.connectors[1].reported.status is Status.AVAILABLE
        assert list(store.rows) == [2]
        await trio.sleep(10 * 60)
        assert charger.reservations.zero is None and store.rows == {}
        nursery.cancel_scope.cancel()
    # a new charger on the same store (20 minutes on): what expired meanwhile is dropped
    kept, gone = booking(3, 2, minutes=60), booking(4, 1, minutes=15)
    store.rows = {3: kept, 4: gone}
    again, _, _ = make(tmp_path, store=store)
    await again.reservations.restore([kept, gone])
    assert again.connectors[2].reservation == kept and again.connectors[1].reservation is None
    assert list(store.rows) == [3]


async def test_connector_zero_needs_a_free_connector_and_judges_others_by_it(
    tmp_path, autojump_clock
):
    charger, _, _ = make(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(charger.run)
        reservations = charger.reservations
        assert await reservations.reserve(booking(1, 0)) is ReserveResult.ACCEPTED
        assert await reservations.reserve(booking(2, 0, tag="OTHER")) is ReserveResult.OCCUPIED
        # connector 1 may be reserved by another: connector 2 stays free for connector 0
        assert await reservations.reserve(booking(3, 1, tag="OTHER")) is ReserveResult.ACCEPTED
        # but not connector 2 as well
        assert await reservations.reserve(booking(4, 2, tag="OTHER")) is ReserveResult.OCCUPIED
        assert await reservations.cancel(1)
        assert await reservations.reserve(booking(4, 2, tag="OTHER")) is ReserveResult.ACCEPTED
        # nothing free: a connector-0 reservation is Occupied
        assert await reservations.reserve(booking(5, 0)) is ReserveResult.OCCUPIED
        assert not await reservations.cancel(99)
        nursery.cancel_scope.cancel()


def test_fits_gives_each_reservation_a_connector_of_its_type() -> None:
    """Reservations of the whole charge point, some of a connector type (2.0.1 H01 S3): each
    needs a connector of its own, of its type; an untyped one placed on the only typed
    connector makes way for a typed one (augmenting path)."""

    def connector(kind: str | None) -> Any:
        return type("C", (), {"connector_type": kind})()

    def reservation(rid: int, kind: str | None = None) -> Reservation:
        return Reservation(rid, 0, "TAG", None, EPOCH, kind)

    type2, plain = connector("cType2"), connector(None)
    assert fits([], [])
    assert fits([reservation(1)], [plain])
    assert fits([reservation(1), reservation(2, "cType2")], [type2, plain])
    assert fits([reservation(2, "cType2"), reservation(1)], [plain, type2])
    assert not fits([reservation(1, "cType2"), reservation(2, "cType2")], [type2, plain])
    assert not fits([reservation(1, "cCCS2")], [type2, plain])
    assert not fits([reservation(1), reservation(2), reservation(3)], [type2, plain])
