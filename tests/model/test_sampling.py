"""ocppd/model/sampling.py on its own: which values are taken, when, where they go.

The sampler reads through its port (here a meter whose register grows 10 Wh a second)
and writes to the transaction log (here one that keeps what it is given)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from hal.base import Fault, MeterReading
from ocppd.clock import Clock
from ocppd.model.auth import IdTagInfo, Offline
from ocppd.model.metering import ENERGY_REGISTER, Context, Sample, SampledValue
from ocppd.model.policies import MeterPolicy, Policies
from ocppd.model.sampling import CHECKPOINT_S, MeterSampler
from ocppd.model.token import TokenKind
from ocppd.model.transaction import MAX_STOP_SAMPLES, MAX_STOP_VALUES, Transaction

POWER = "Power.Active.Import"


class Log:
    """A TransactionLog keeping meter values and checkpoints, stamped on trio's clock."""

    healthy, problem = True, None

    def __init__(self) -> None:
        self.values: list[tuple[float, int | None, Sample]] = []
        self.checkpoints: list[tuple[float, float]] = []

    async def wait_unhealthy(self) -> None:
        await trio.sleep_forever()

    async def wait_healthy(self) -> None:
        pass

    async def start(self, **_: Any) -> int:
        return 1

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        self.checkpoints.append((trio.current_time(), energy_wh))

    async def meter_values(
        self, local_id: int | None, *, connector_id: int, samples: list[Sample], droppable: bool
    ) -> None:
        self.values.extend((trio.current_time(), local_id, s) for s in samples)

    async def stop(self, local_id: int, **_: Any) -> None:
        pass

    def known_id(self, local_id: int) -> int | str | None:
        return None

    async def changed(self, local_id: int, **_: Any) -> None:
        pass

    follows_points = False  # OCPP 1.6's rule: authorised and plugged in

    async def noted(self, local_id: int, **_: Any) -> None:
        pass


class Uplink:
    online = True
    wakes = 0

    async def authorize(self, id_tag: str, kind: TokenKind = TokenKind.CARD) -> IdTagInfo:
        raise Offline("none here")

    def wake(self) -> None:
        self.wakes += 1

    def status_changed(self) -> None:
        pass


class ChargePoint:
    def __init__(self, policies: Policies) -> None:
        self.policies = policies
        self.clock = Clock()
        self.txlog = Log()
        self.uplink = Uplink()
        self.accepts_sessions, self.faulted, self.stopping = True, False, False

    def blocking_fault(self) -> Fault | None:
        return None

    def spawn(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        raise AssertionError("the sampler spawns nothing")

    async def retry_storage(self, write: Callable[[], Awaitable[None]]) -> None:
        await write()

    async def persist_availability(self, connector_id: int, operative: bool) -> None:
        pass

    def tag_read(self, id_tag: str) -> None:
        pass

    def claim_taken(self, connector_id: int, id_tag: str) -> None:
        pass

    def status_changed(self) -> None:
        pass

    def free_changed(self) -> None:
        pass


class Port:
    """The connector, as the sampler sees it."""

    def __init__(self, tx: Transaction) -> None:
        self.tx: Transaction | None = tx
        self.lock = trio.Lock()
        self.offered_a: float | None = 16.0
        self.after: list[float] = []

    def exclusive(self) -> trio.Lock:
        return self.lock

    def runs(self, tx: Transaction) -> bool:
        return self.tx is tx

    async def read_meter(self) -> MeterReading | None:
        return MeterReading(energy_wh=1000 + 10 * trio.current_time(), power_w=3600.0)

    async def sampled(self, tx: Transaction) -> None:
        assert self.lock.locked()  # the connector acts under its lock
        self.after.append(trio.current_time())


def tx() -> Transaction:
    return Transaction(1, 1, "TAG1", None, 1000, "2026-12-02T10:00:00Z")


def sampler(**meter: Any) -> tuple[MeterSampler, ChargePoint]:
    context = ChargePoint(Policies(meter=MeterPolicy(**meter)))
    return MeterSampler(1, context), context


def test_the_ends_of_a_transaction_keep_the_stop_values() -> None:
    s, _ = sampler(stop_sampled=(ENERGY_REGISTER,))
    t = tx()
    s.begin(t, MeterReading(1000), "T0", 16.0)
    s.end(t, MeterReading(1500), "T1", None)
    assert [(x.timestamp, x.values[0].context, x.values[0].value) for x in t.stop_data] == [
        ("T0", Context.BEGIN, "1000"),
        ("T1", Context.END, "1500"),
    ]
    nothing, _ = sampler(stop_sampled=())
    t = tx()
    nothing.begin(t, MeterReading(1000), "T0", 16.0)
    assert t.stop_data == []


def test_stop_data_stays_bounded_in_samples_and_in_values_keeping_begin_and_end() -> None:
    def sample(n: int, width: int, context: Context) -> Sample:
        values = tuple(SampledValue(str(n), ENERGY_REGISTER, "Wh", context) for _ in range(width))
        return Sample(f"T{n}", values)

    for width in (1, 9):  # the energy register alone; a three-phase meter's default
        t = tx()
        t.keep_for_stop(sample(0, width, Context.BEGIN))
        for n in range(1, 2000):
            t.keep_for_stop(sample(n, width, Context.PERIODIC))
            assert len(t.stop_data) <= MAX_STOP_SAMPLES
            assert sum(len(s.values) for s in t.stop_data) <= MAX_STOP_VALUES
        t.keep_for_stop(sample(2000, width, Context.END))
        kept = [s.timestamp for s in t.stop_data]
        assert kept[0] == "T0" and kept[-1] == "T2000"  # Begin and End are never dropped
        assert kept == sorted(kept, key=lambda x: int(x[1:]))  # in time order
        assert len(kept) >= min(MAX_STOP_SAMPLES, MAX_STOP_VALUES // width) // 2


async def test_periodic_samples_keep_the_cadence_and_follow_the_policy(autojump_clock) -> None:
    s, context = sampler(sample_interval_s=10, sampled=(ENERGY_REGISTER, POWER))
    t, log = tx(), context.txlog
    port = Port(t)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(s.run, t, port)
        await trio.sleep(35)
        assert [at for at, _, _ in log.values] == [10, 20, 30]
        assert all(local_id == 1 for _, local_id, _ in log.values)
        first = log.values[0][2].values
        assert [(v.measurand, v.context) for v in first] == [
            (ENERGY_REGISTER, Context.PERIODIC),
            (POWER, Context.PERIODIC),
        ]
        assert port.after == [10, 20, 30]  # the connector acted on each sample
        context.policies.update(meter=MeterPolicy(sample_interval_s=0))  # off
        await trio.sleep(100)
        assert len(log.values) == 3
        # each sample checkpoints the register; without samples, every CHECKPOINT_S
        assert [at for at, _ in log.checkpoints] == [10, 20, 30, 30 + CHECKPOINT_S]
        assert log.checkpoints[-1][1] == 1000 + 10 * (30 + CHECKPOINT_S)
        port.tx = None  # the transaction ended: the sampler ends at its next wake
    assert trio.current_time() == 30 + 2 * CHECKPOINT_S
    assert len(log.checkpoints) == 4


async def test_aligned_values_go_with_the_running_transaction_or_alone(autojump_clock) -> None:
    s, context = sampler(aligned=(ENERGY_REGISTER,), stop_aligned=(ENERGY_REGISTER,))
    t = tx()
    await s.aligned(t, MeterReading(1200), "2026-12-02T10:15:00Z", 16.0)
    await s.aligned(None, MeterReading(1300), "2026-12-02T10:30:00Z", None)
    assert [(local_id, x.timestamp) for _, local_id, x in context.txlog.values] == [
        (1, "2026-12-02T10:15:00Z"),
        (None, "2026-12-02T10:30:00Z"),
    ]
    assert [x.values[0].context for _, _, x in context.txlog.values] == [Context.CLOCK] * 2
    assert [x.timestamp for x in t.stop_data] == ["2026-12-02T10:15:00Z"]
    assert context.uplink.wakes == 2
