"""The model's notices (2.0.1 display messages) without OCPP: which are in force, in what
order, the bound, removal of what ended, persistence first. Plain data, a memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocppd.features.storage import notice_of, notice_record
from ocppd.model.notices import Notice, Notices, Place, Priority, TextForm, When, when_of
from ocppd.model.status import Status
from ocppd.model.transaction import StorageUnavailable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def notice(notice_id: int, priority: Priority = Priority.CYCLE, **fields: object) -> Notice:
    return Notice(notice_id, priority, f"text {notice_id}", **fields)  # type: ignore[arg-type]


class Store:
    def __init__(self, fail: bool = False) -> None:
        self.kept: dict[int, Notice] = {}
        self.fail = fail

    async def save_notice(self, n: Notice) -> None:
        if self.fail:
            raise StorageUnavailable("disk gone")
        self.kept[n.notice_id] = n

    async def delete_notice(self, notice_id: int) -> None:
        if self.fail:
            raise StorageUnavailable("disk gone")
        self.kept.pop(notice_id, None)


@pytest.mark.parametrize(
    ("status", "when"),
    [
        (Status.AVAILABLE, When.IDLE),
        (Status.PREPARING, When.IDLE),
        (Status.FINISHING, When.IDLE),
        (Status.RESERVED, When.IDLE),
        (Status.CHARGING, When.CHARGING),
        (Status.SUSPENDED_EV, When.CHARGING),
        (Status.SUSPENDED_EVSE, When.CHARGING),
        (Status.FAULTED, When.FAULTED),
        (Status.UNAVAILABLE, When.UNAVAILABLE),
    ],
)
def test_each_status_is_one_notice_state(status: Status, when: When) -> None:
    assert when_of(status) is when


async def test_in_force_by_window_state_transaction_and_evse() -> None:
    room = Notices(Store())
    await room.put(notice(1))
    await room.put(notice(2, start=NOW + HOUR))
    await room.put(notice(3, end=NOW - HOUR))
    await room.put(notice(4, state=When.CHARGING))
    await room.put(notice(5, transaction_id="tx-1"))
    await room.put(notice(6, place=Place("Display", evse_id=2)))
    ids = [n.notice_id for n in room.showing(NOW, When.IDLE, None, 1)]
    assert ids == [1]
    ids = [n.notice_id for n in room.showing(NOW, When.CHARGING, "tx-1", 2)]
    assert ids == [1, 4, 5, 6]
    # no known time: only notices without a window
    assert [n.notice_id for n in room.showing(None, When.IDLE, None, 2)] == [1, 6]
    assert room.next_change(NOW) == NOW + HOUR


async def test_front_first_newest_first_then_ahead_then_cycle_oldest_first() -> None:
    room = Notices(Store())
    for notice_id, priority in (
        (1, Priority.CYCLE),
        (2, Priority.FRONT),
        (3, Priority.AHEAD),
        (4, Priority.FRONT),
        (5, Priority.CYCLE),
    ):
        await room.put(notice(notice_id, priority))
    assert [n.notice_id for n in room.showing(NOW, When.IDLE)] == [4, 2, 3, 1, 5]


async def test_bounded_replace_always_fits_and_storage_comes_first() -> None:
    store = Store()
    room = Notices(store, capacity=2)
    assert await room.put(notice(1)) and await room.put(notice(2))
    assert room.full_for(3) and not await room.put(notice(3))
    assert await room.put(Notice(2, Priority.FRONT, "again"))
    assert [n.text for n in room.all()] == ["text 1", "again"]
    assert sorted(store.kept) == [1, 2]
    store.fail = True
    with pytest.raises(StorageUnavailable):
        await room.put(Notice(1, Priority.CYCLE, "lost"))
    assert room.get(1) == store.kept[1]  # nothing changed
    with pytest.raises(StorageUnavailable):
        await room.remove(1)
    assert room.get(1) is not None


async def test_prune_removes_what_ended_and_restore_keeps_the_newest() -> None:
    store = Store()
    room = Notices(store)
    await room.put(notice(1, end=NOW + HOUR))
    await room.put(notice(2, transaction_id="tx-1"))
    await room.put(notice(3))
    assert await room.prune(NOW, {"tx-1"}) == []
    assert await room.prune(NOW + 2 * HOUR, set()) == [1, 2]
    assert sorted(store.kept) == [3]
    again = Notices(Store(), capacity=2)
    again.restore([notice(7, order=3), notice(8, order=1), notice(9, order=2)])
    assert [n.notice_id for n in again.all()] == [7, 9]
    assert await again.put(notice(9, Priority.FRONT))  # numbered after what was restored
    assert [n.order for n in again.all()] == [3, 4]


def test_a_journal_record_reads_back_as_the_notice() -> None:
    full = Notice(
        5,
        Priority.AHEAD,
        "Grüße €",
        form=TextForm.ASCII,
        language="de",
        state=When.FAULTED,
        start=NOW,
        end=NOW + HOUR,
        transaction_id="tx-9",
        place=Place("Display", "front", 1, 1),
        order=12,
    )
    assert notice_of(5, notice_record(full)) == full
    assert notice_of(1, notice_record(notice(1))) == notice(1)
    for broken in ("[]", "{}", '{"priority": "loud"}', "not json"):
        with pytest.raises((ValueError, KeyError, TypeError)):
            notice_of(1, broken)
