"""The installed charging profiles of one charger, kept durable, and the limit they put on
each connector, applied at the right moment.

:class:`SmartCharging` owns the :class:`~ocppd.model.charging_profile.ProfileStore`. Every
change (a profile set or cleared, a transaction begun, numbered or ended) is written to
the journal in one transaction before it counts (errata 2025-04 §3.37: profiles "SHALL be
persistent across reboots/power cycles"); a change that cannot be written did not happen.

Its task (:meth:`SmartCharging.run`) keeps each connector's ``profile`` limit equal to
the engine's :func:`~ocppd.model.smart_charging.limit_at`: it applies the limit, then
sleeps until the earliest :func:`~ocppd.model.smart_charging.next_change` of any connector
(a deadline on trio's clock, not a poll), or until something changed (:meth:`wake`, a
connector's status: a transaction began or ended, or the wall clock stepped). The
connector takes the lowest of its sources (the configured maximum, a temperature
derating, the cable, the profiles) and drives pilot, board or contactor
(``Connector.set_limit``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import trio

from ocppd.clock import Clock
from ocppd.features.profile import RecordStore
from ocppd.features.smart_charging.words import ALLOWED_UNIT
from ocppd.model.charger import Charger
from ocppd.model.charging_profile import (
    ChargingProfile,
    ProfileFormatError,
    ProfileLimits,
    ProfileStore,
    Purpose,
    RunningTransaction,
    profile_from_dict,
)
from ocppd.model.keys import Keys
from ocppd.model.smart_charging import (
    ConnectorFacts,
    LimitSource,
    Site,
    SourceKind,
    limit_at,
    next_change,
)
from ocppd.model.transaction import StorageUnavailable

log = logging.getLogger(__name__)

SOURCE = "profile"  # the connector's limit source the charging profiles set
NOMINAL_VOLTAGE_V = 230.0  # §7.12: W <-> A with "the set voltage for the area"
TIME_UNKNOWN_RETRY_S = 60.0  # without the time of day no schedule can be placed
LOAD_RETRY_S = 5.0
BOUNDARY_MARGIN_S = 0.001  # wake just after a boundary, never just before it


Edit = Callable[[ProfileStore], object]
"""A change to the installed profiles."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What the task last told a connector."""

    amps: float | None
    source: LimitSource | None


class SmartCharging:
    """The charging profiles of one charger: checked limits, durable store, the limit task."""

    def __init__(
        self,
        *,
        charger: Charger,
        keys: Keys,
        clock: Clock,
        records: RecordStore,
        voltage_v: float = NOMINAL_VOLTAGE_V,
    ) -> None:
        self.charger = charger
        self.keys = keys
        self.clock = clock
        self.records = records
        self.voltage_v = voltage_v
        self.store = ProfileStore(self.keys.get_int("MaxChargingProfilesInstalled"))
        self.pending: dict[int, ChargingProfile] = {}  # came with a remote start, not begun
        self._seen: dict[int, int | None] = {}  # connector -> local id of its transaction
        self._started: dict[int, datetime] = {}  # local id -> when it began (relative kind)
        self._applied: dict[int, Applied] = {}
        self._changed = trio.Event()
        self._lock = trio.Lock()
        self._loaded = False  # no change is taken before the kept profiles are read

    def __repr__(self) -> str:
        return f"<SmartCharging {self.store!r} pending={sorted(self.pending)}>"

    # --- facts for the engine ---

    def limits(self) -> ProfileLimits:
        units = frozenset(
            ALLOWED_UNIT[u]
            for u in self.keys.get_csl("ChargingScheduleAllowedChargingRateUnit")
            if u in ALLOWED_UNIT
        )
        return ProfileLimits(
            connectors=len(self.charger.connectors),
            max_stack_level=self.keys.get_int("ChargeProfileMaxStackLevel"),
            max_periods=self.keys.get_int("ChargingScheduleMaxPeriods"),
            units=units,
        )

    def running(self) -> dict[int, RunningTransaction]:
        """The transactions running now, by connector."""
        found = {}
        for number, connector in self.charger.connectors.items():
            tx = connector.tx
            if tx is not None:
                started = self._start_of(tx.local_id, tx.started)
                # by the id of its own version: a 1.6 integer, a 2.0.1 string; a profile
                # naming the other kind names another transaction (transactions stay in
                # the version they began in)
                found[number] = RunningTransaction(started, tx.transaction_id)
        return found

    def _start_of(self, local_id: int, started: str) -> datetime:
        """When transaction ``local_id`` began (relative profiles count from it). A start
        stamped while the time was unknown counts from when it was first seen here."""
        known = self._started.get(local_id)
        if known is None:
            try:
                known = datetime.fromisoformat(started)
            except ValueError:
                known = self.clock.now() or datetime.fromtimestamp(0).astimezone()
            if known.tzinfo is None:
                known = known.astimezone()
            self._started[local_id] = known
        return known

    def site(self, about_to_start: Mapping[int, datetime] | None = None) -> Site:
        """The engine's facts. ``about_to_start``: connectors whose transaction begins as
        if at the given instant (a remote start with a profile, waiting for the EV)."""
        running: dict[int, RunningTransaction | None] = dict(self.running())
        for number, at in (about_to_start or {}).items():
            running.setdefault(number, RunningTransaction(at))
        return Site(
            connectors={
                number: ConnectorFacts(c.max_current_a, c.phases, running.get(number))
                for number, c in self.charger.connectors.items()
            },
            voltage_v=self.voltage_v,
        )

    # --- changes, each durable before it counts ---

    def wake(self) -> None:
        """Something the limits depend on changed: the task evaluates again now."""
        self._changed.set()

    async def load(self) -> None:
        """The profiles kept across the restart. Transaction profiles end with their
        transaction, and no transaction outlives a restart (it was stopped with PowerLoss):
        they are dropped here (§3.13.1)."""
        records = await self.records.load()
        profiles: list[ChargingProfile] = []
        for text in records:
            try:
                profiles.append(profile_from_dict(json.loads(text)))
            except (ValueError, ProfileFormatError) as exc:
                log.error("a stored charging profile cannot be read and is left out: %s", exc)
        kept = [p for p in profiles if p.purpose is not Purpose.TX]
        self.store = ProfileStore(self.keys.get_int("MaxChargingProfilesInstalled"), kept)
        if len(kept) != len(records):
            gone = [p.id for p in profiles if p.purpose is Purpose.TX]
            log.info("transaction profiles %s ended with their transaction (restart)", gone)
            await self._save_or_log()
        self._loaded = True
        log.info("charging profiles: %s", self.store)

    async def _load_until_read(self) -> None:
        """:meth:`load`, retried while the journal cannot be read: until then no change is
        taken (a set written over an unread one would lose the profiles kept)."""
        while True:
            try:
                async with self._lock:
                    await self.load()
                return
            except StorageUnavailable as exc:
                log.error("charging profiles cannot be read yet (%s); retrying", exc)
                await trio.sleep(LOAD_RETRY_S)

    async def change(self, what: str, edit: Edit) -> bool:
        """Apply ``edit`` to the store and persist the result; on a journal error undo it.
        Returns whether the change counts."""
        if not self._loaded:
            log.error("charging profiles: %s not taken: the kept profiles are not read yet", what)
            return False
        async with self._lock:
            before = self.store.to_records()
            edit(self.store)
            try:
                await self._save()
            except StorageUnavailable as exc:
                log.error("charging profiles: %s not kept: the journal failed (%s)", what, exc)
                self.store = ProfileStore.from_records(before, self.store.max_installed)
                return False
        self.wake()
        return True

    async def _save(self) -> None:
        await self.records.replace(
            [(r["id"], json.dumps(r, sort_keys=True)) for r in self.store.to_records()]
        )

    async def _save_or_log(self) -> None:
        try:
            await self._save()
        except StorageUnavailable as exc:
            log.error("charging profiles not written (%s); the next change tries again", exc)

    def take_remote_start(self, connector_id: int, profile: ChargingProfile) -> None:
        """A remote start carried ``profile``: it is installed when the transaction the
        start begins is there (§5.16.2, errata §3.42)."""
        self.pending[connector_id] = profile
        self.wake()

    # --- following the transactions ---

    async def follow_transactions(self) -> None:
        """Transactions began, were numbered or ended since the last look: a remote start's
        profile is installed, a transaction's profiles name it, an ended one's go (§7.10)."""
        for number, connector in self.charger.connectors.items():
            tx = connector.tx
            now_id = None if tx is None else tx.local_id
            before = self._seen.get(number)
            self._seen[number] = now_id
            if before is not None and before != now_id:
                self._started.pop(before, None)
                if any(p.purpose is Purpose.TX and p.connector_id == number for p in self.store):
                    await self.change(
                        f"the end of transaction profiles on connector {number}",
                        functools.partial(_end, number),
                    )
            if tx is not None and before != now_id:
                pending = self.pending.pop(number, None)
                if pending is not None:
                    await self.change(
                        f"the remote start's profile {pending.id}",
                        functools.partial(_install, pending),
                    )
            if tx is not None and tx.transaction_id is not None:
                unbound = [
                    p
                    for p in self.store
                    if p.purpose is Purpose.TX
                    and p.connector_id == number
                    and p.transaction_id is None
                ]
                if unbound:
                    tx_id = tx.transaction_id
                    await self.change(
                        f"transaction {tx_id} on its profiles",
                        functools.partial(_bind, number, tx_id),
                    )
            if tx is None and connector.pending is None:
                self.pending.pop(number, None)  # the remote start was given up

    # --- the limit task ---

    async def run(self) -> None:
        """Keep every connector's profile limit right, waking exactly at each boundary."""
        await self._load_until_read()
        while True:
            # taken before looking, so no change is missed
            changed, status, stepped = (
                self._changed,
                self.charger.next_status_change,
                self.clock.next_step,
            )
            await self.follow_transactions()
            delay = await self.apply()
            with trio.move_on_after(delay):
                async with trio.open_nursery() as nursery:
                    for event in (changed, status, stepped):
                        nursery.start_soon(_wait_then_cancel, event, nursery.cancel_scope)
            if changed.is_set():
                self._changed = trio.Event()

    async def apply(self) -> float:
        """Tell each connector its profile limit now; returns the seconds until the next
        boundary of any connector (inf: none ahead)."""
        now = self.clock.now()
        if now is None:
            return TIME_UNKNOWN_RETRY_S
        # a remote start's profile is in force before its transaction begins, so the first
        # offer to the EV is already the profile's (§5.16.2: it applies to that transaction)
        waiting = {n: p for n, p in self.pending.items() if self.charger.connectors[n].tx is None}
        site = self.site(dict.fromkeys(waiting, now))
        profiles = (*self.store, *waiting.values())
        soonest = math.inf
        for number, connector in self.charger.connectors.items():
            limit = limit_at(profiles, site, number, now)
            if limit.source.kind is SourceKind.PROFILE:
                wanted = Applied(limit.amps, limit.source)
            else:
                wanted = Applied(None, None)  # the local maximum rules
            if self._applied.get(number) != wanted:
                self._applied[number] = wanted
                if wanted.amps is not None:
                    log.info(
                        "connector %d: %s limits the current to %.1f A",
                        number,
                        wanted.source,
                        wanted.amps,
                    )
                else:
                    log.info("connector %d: no charging profile limits the current", number)
                await connector.set_limit(SOURCE, wanted.amps, wanted.source)
            then = next_change(profiles, site, number, now)
            if then is not None:
                soonest = min(soonest, (then - now).total_seconds() + BOUNDARY_MARGIN_S)
        return max(soonest, 0.0)


def _end(connector_id: int, store: ProfileStore) -> None:
    store.end_transaction(connector_id)


def _bind(connector_id: int, transaction_id: int | str, store: ProfileStore) -> None:
    store.bind_transaction(connector_id, transaction_id)


def _install(profile: ChargingProfile, store: ProfileStore) -> None:
    verdict = store.install(profile)
    if not verdict.accepted:
        log.warning("charging profile %d not installed: %s", profile.id, verdict.reason)


async def _wait_then_cancel(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


__all__ = ["SOURCE", "SmartCharging"]
