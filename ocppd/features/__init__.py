"""What OCPP asks for, by feature profile: handlers and the configuration keys they own.

:func:`build_features` assembles the profiles this charge point implements into one
handler table (the session finds a handler by action; an action without one is
answered NotSupported) and one key registry, and builds the model around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hal import Hardware
from hal.base import Quantity
from ocppd.clock import Clock
from ocppd.config import Settings
from ocppd.features.core.conversation import Conversation
from ocppd.features.core.handlers import CoreHandlers
from ocppd.features.core.keys import core_keys
from ocppd.features.core.policies import follow_keys
from ocppd.features.core.transactions import GIVEN_UP_ID, Courier, Recorder
from ocppd.journal import Journal, JournalUnavailable
from ocppd.journal.records import CacheEntry
from ocppd.model.auth import Authorizer, IdTagInfo
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys, KeySpec
from ocppd.model.metering import supported_measurands
from ocppd.model.transaction import StorageUnavailable
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall

PROFILES = ("Core",)
KEY_PREFIX = "key."
JOURNAL_TOKEN = "journal.token"  # random, made once per journal file (see Courier)

Handler = Callable[[IncomingCall], Awaitable[Any]]


def declared_keys(
    *,
    connectors: int = 1,
    phases: Mapping[int, int] | None = None,
    measurands: frozenset[str] | None = None,
    security_profile: int = 0,
) -> list[KeySpec]:
    """Every configuration key this charge point declares; ``phases`` (connector id ->
    phase count) defaults to ``connectors`` three-phase connectors."""
    if measurands is None:
        measurands = supported_measurands(Quantity)
    return core_keys(
        phases=phases if phases is not None else dict.fromkeys(range(1, connectors + 1), 3),
        measurands=measurands,
        profiles=PROFILES,
        security_profile=security_profile,
    )


@dataclass
class Features:
    keys: Keys
    ids: MessageIds
    charger: Charger
    conversation: Conversation
    courier: Courier
    handlers: dict[str, Handler]

    async def dispatch(self, call: IncomingCall) -> Any:
        return await self.handlers[call.action](call)

    def check_key(self, name: str, raw: Any) -> str | None:
        spec = self.keys.specs.get(name)
        if spec is None:
            return "unknown OCPP configuration key"
        try:
            spec.from_config(raw)
        except ValueError as exc:
            return str(exc)
        return None


class _ModelStorage:
    """The journal as the model's SettingsStore and CacheStore: the journal's
    JournalUnavailable becomes the model's StorageUnavailable (the model knows no journal)."""

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
        self, id_tag: str, status: str, expiry: str | None, parent_id_tag: str | None, now: str
    ) -> None:
        try:
            await self.journal.cache_store(id_tag, status, expiry, parent_id_tag, now)
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def cache_clear(self) -> None:
        try:
            await self.journal.cache_clear()
        except JournalUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc


class _Delivery:
    """Tells the model what the central system answered to its transaction messages."""

    def __init__(self, charger: Charger, authorizer: Authorizer) -> None:
        self.charger = charger
        self.authorizer = authorizer

    async def started(self, local_id: int, transaction_id: int, info: IdTagInfo) -> None:
        await self.charger.confirm_start(local_id, transaction_id, info)

    async def stopped(self, local_id: int) -> None:
        self.charger.confirm_stop(local_id)

    async def start_given_up(self, local_id: int) -> None:
        self.charger.give_up_start(local_id, GIVEN_UP_ID)

    async def remember(self, id_tag: str, info: IdTagInfo) -> None:
        await self.authorizer.remember(id_tag, info)


def build_features(
    *,
    settings: Settings,
    hardware: Hardware,
    journal: Journal,
    clock: Clock,
    persisted: Mapping[str, str],
) -> Features:
    quantities: set[Quantity] = set()
    for index, devices in enumerate(hardware.connectors.values()):
        have = set(devices.meter.quantities)
        if devices.temperature is not None:
            have.add(Quantity.TEMPERATURE)
        quantities = have if index == 0 else quantities & have
    specs = declared_keys(
        phases={c.id: c.phases for c in settings.connectors},
        measurands=supported_measurands(quantities),
        security_profile=settings.ocpp.security_profile,
    )
    keys = Keys(
        specs,
        settings.ocpp.keys,
        {k[len(KEY_PREFIX) :]: v for k, v in persisted.items() if k.startswith(KEY_PREFIX)},
    )
    ids = MessageIds()
    conversation = Conversation(info=settings.charge_point, keys=keys, clock=clock)
    recorder = Recorder(journal, conversation.send_untracked, JournalUnavailable)
    storage = _ModelStorage(journal)
    policies = follow_keys(keys)
    authorizer = Authorizer(policies, storage, clock, conversation)
    charger = Charger(
        policies=policies,
        clock=clock,
        txlog=recorder,
        uplink=conversation,
        authorizer=authorizer,
        settings=storage,
        reader=hardware.rfid,
    )
    for c in settings.connectors:
        charger.add_connector(
            hardware.connectors[c.id], max_current_a=c.max_current_a, phases=c.phases
        )
    courier = Courier(
        journal,
        clock,
        ids,
        attempts=lambda: keys.get_int("TransactionMessageAttempts"),
        retry_interval=lambda: keys.get_int("TransactionMessageRetryInterval"),
        delivery=_Delivery(charger, authorizer),
        unavailable=JournalUnavailable,
        token=persisted[JOURNAL_TOKEN],
    )
    conversation.attach(charger, courier)

    async def persist_key(name: str, value: str) -> None:
        await journal.set_setting(KEY_PREFIX + name, value)

    core = CoreHandlers(
        charger=charger, keys=keys, conversation=conversation, persist_key=persist_key
    )
    return Features(
        keys=keys,
        ids=ids,
        charger=charger,
        conversation=conversation,
        courier=courier,
        handlers=core.table(),
    )
