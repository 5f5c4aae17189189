"""The journal as the model's SettingsStore, CacheStore, ListStore, ReservationStore and
NoticeStore, and as the profiles' RecordStore.

The journal's JournalUnavailable becomes the model's StorageUnavailable: the model
knows no journal, and the journal knows no model.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from ocppd.journal import Journal, JournalUnavailable, ReservationRecord
from ocppd.journal.records import CacheEntry, ListedTag
from ocppd.model.notices import Notice, Place, Priority, TextForm, When
from ocppd.model.reservation import Reservation
from ocppd.model.transaction import StorageUnavailable

log = logging.getLogger(__name__)


class ModelStorage:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __repr__(self) -> str:
        return f"<ModelStorage {self.journal!r}>"

    async def set_setting(self, name: str, value: str | None) -> None:
        try:
            await self.journal.set_setting(name, value)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def cache_lookup(self, id_tag: str) -> CacheEntry | None:
        try:
            return await self.journal.cache_lookup(id_tag)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

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
        try:
            await self.journal.cache_store(
                id_tag, status, expiry, parent_id_tag, now, unless_listed=unless_listed
            )
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def cache_clear(self) -> None:
        try:
            await self.journal.cache_clear()
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def list_lookup(self, id_tag: str) -> ListedTag | None:
        try:
            return await self.journal.list_lookup(id_tag)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def save_reservation(self, reservation: Reservation) -> None:
        record = ReservationRecord(
            reservation.reservation_id,
            reservation.connector_id,
            reservation.id_tag,
            reservation.parent_id_tag,
            reservation.expiry.isoformat(),
            reservation.connector_type,
        )
        try:
            await self.journal.save_reservation(record)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def delete_reservation(self, reservation_id: int) -> None:
        try:
            await self.journal.delete_reservation(reservation_id)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def reservations(self) -> list[Reservation]:
        """The reservations kept last time; a row that cannot be read is logged and left
        out (it is forgotten when its reservation id is next used or cancelled)."""
        found = []
        for record in await self.journal.reservations():
            try:
                expiry = datetime.fromisoformat(record.expiry)
            except ValueError:
                log.error(
                    "reservation %d: unreadable expiry %r", record.reservation_id, record.expiry
                )
                continue
            found.append(
                Reservation(
                    record.reservation_id,
                    record.connector_id,
                    record.id_tag,
                    record.parent_id_tag,
                    expiry,
                    record.connector_type,
                )
            )
        return found

    # --- notices (display messages): one JSON record each, in the model's words ---

    async def save_notice(self, notice: Notice) -> None:
        try:
            await self.journal.save_display_message(notice.notice_id, notice_record(notice))
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def delete_notice(self, notice_id: int) -> None:
        try:
            await self.journal.delete_display_message(notice_id)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def notices(self) -> list[Notice]:
        """The notices kept last time; a record that cannot be read is logged and left out
        (it is replaced when its id is set again, or removed when cleared)."""
        found = []
        for notice_id, record in await self.journal.display_messages():
            try:
                found.append(notice_of(notice_id, record))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("display message %d: unreadable record (%s), left out", notice_id, exc)
        return found


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def notice_record(notice: Notice) -> str:
    """A notice as the journal keeps it (JSON text)."""
    place = notice.place
    record: dict[str, Any] = {
        "priority": notice.priority.value,
        "text": notice.text,
        "form": notice.form.value,
        "language": notice.language,
        "state": notice.state.value if notice.state is not None else None,
        "start": notice.start.isoformat() if notice.start is not None else None,
        "end": notice.end.isoformat() if notice.end is not None else None,
        "transaction_id": notice.transaction_id,
        "place": None
        if place is None
        else [place.name, place.instance, place.evse_id, place.connector_id],
        "order": notice.order,
    }
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def notice_of(notice_id: int, record: str) -> Notice:
    """The notice of a journal record; ValueError, KeyError or TypeError when unreadable."""
    data = json.loads(record)
    if not isinstance(data, dict):
        raise TypeError("not an object")
    place = data["place"]
    return Notice(
        notice_id=notice_id,
        priority=Priority(data["priority"]),
        text=str(data["text"]),
        form=TextForm(data["form"]),
        language=data["language"],
        state=None if data["state"] is None else When(data["state"]),
        start=_time(data["start"]),
        end=_time(data["end"]),
        transaction_id=data["transaction_id"],
        place=None if place is None else Place(*place),
        order=int(data["order"]),
    )


class ProfileRecords:
    """The journal's charging-profile table as a profile's RecordStore."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __repr__(self) -> str:
        return f"<ProfileRecords {self.journal!r}>"

    async def load(self) -> list[str]:
        try:
            return await self.journal.charging_profiles()
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def replace(self, records: list[tuple[int, str]]) -> None:
        try:
            await self.journal.replace_charging_profiles(records)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc
