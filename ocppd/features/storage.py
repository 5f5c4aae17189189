"""The journal as the model's SettingsStore, CacheStore and ListStore, and as RecordStore.

The journal's JournalUnavailable becomes the model's StorageUnavailable: the model
knows no journal, and the journal knows no model.
"""

from __future__ import annotations

from ocppd.journal import Journal, JournalUnavailable
from ocppd.journal.records import CacheEntry, ListedTag
from ocppd.model.transaction import StorageUnavailable


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
