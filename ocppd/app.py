"""The daemon: the one place that wires settings, hardware, journal, model, features and I/O.

Start order matters for safety and for systemd:

1. build the hardware and open every contactor before anything else;
2. open the journal (a corrupt one is moved aside and reported);
3. load the OCPP keys (defaults < config file < values the central system set);
4. stop transactions a crash or power cut left running (PowerLoss);
5. run the connectors, the control socket, then tell systemd READY=1 (the central
   system may be unreachable for hours; the charger works meanwhile);
6. keep the connection to the central system.

An orderly stop (SIGTERM/SIGINT, or a reset) stops every transaction with its reason,
opens every contactor, gives the outbox a short grace period to deliver the stops
while the link is up, and closes the journal. SIGHUP re-reads the config.

Whatever was acquired is released on every path, a failed start included (a journal
that cannot be opened, a control socket path that is taken): the hardware first (its
outputs made safe, GPIO lines and serial ports let go), then the journal.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import trio

from hal import Hardware, build_hardware
from hal.base import Fault, FaultKind, FaultRaised, Quantity
from ocppd import __version__, config, logs
from ocppd.clock import Clock
from ocppd.config import Settings
from ocppd.connection import Connection, LinkEnded, LinkState
from ocppd.control.commands import Sources, commands
from ocppd.control.server import serve_control
from ocppd.features import PROFILES, declared_keys
from ocppd.features.core.conversation import AskAuthorize, Conversation, Untracked, Uplink
from ocppd.features.core.heartbeat import Heartbeat
from ocppd.features.core.policies import follow_keys
from ocppd.features.core.registration import REASON_SETTING, Registration
from ocppd.features.core.speech import V16_SPEECH, BootReason, Speech
from ocppd.features.core.status_report import StatusFeed, StatusReporter
from ocppd.features.core.transactions import (
    V16_WORDS,
    Carrier,
    Courier,
    ModelDelivery,
    OutboxSignal,
    Recorder,
    V16Carrier,
)
from ocppd.features.core.words import STATUS
from ocppd.features.firmware import firmware_of
from ocppd.features.firmware import profile as firmware_profile
from ocppd.features.link import PROTOCOL_SETTING, Versions
from ocppd.features.profile import Handler, Persist, Profile, Services, Task, Trigger
from ocppd.features.security.events import InvalidMessages, SecurityEvents, SecurityLog
from ocppd.features.security.profiles import (
    TRIAL_SETTING,
    ConfiguredCredentials,
    SecurityProfiles,
    Trial,
    confirm_trials,
)
from ocppd.features.security.watch import memory_watch, start_checks
from ocppd.features.storage import ModelStorage, ProfileRecords
from ocppd.features.tx_versions import TxLogs
from ocppd.features.v201 import V201_PROFILES, V201_SPEECH, authorization, display
from ocppd.features.v201.network import PART as NETWORK_PART
from ocppd.features.v201.network import SECRET_FIELDS, NetworkSlots
from ocppd.features.v201.registration import answered_while_rejected
from ocppd.features.v201.security import in_words
from ocppd.features.v201.transactions import Recorder201, V201Carrier
from ocppd.features.v201.variables import SECRET_VARIABLES
from ocppd.features.v201.words import V201_WORDS
from ocppd.journal import Journal, JournalError, JournalUnavailable
from ocppd.journal.records import TxWords
from ocppd.model.auth import Authorizer
from ocppd.model.charger import STORAGE_VENDOR_CODE, Charger, OpenTransaction
from ocppd.model.keys import Keys, KeySpecs
from ocppd.model.metering import supported_measurands
from ocppd.model.notices import Notices
from ocppd.model.outcomes import ResetKind
from ocppd.model.policies import Policies
from ocppd.model.supervise import start_supervised
from ocppd.model.token import TokenKind
from ocppd.model.transaction import StopReason, TransactionLog
from ocppd.protocol.dialect import Dialect
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v201.dialect import V201
from ocppd.sdnotify import Notifier
from ocppd.security.store import CertificateStore
from ocppd.transport.backoff import Backoff
from ocppd.transport.link import LinkFailure, LinkTarget

if TYPE_CHECKING:
    from ocppd.view.presenter import Presenter

log = logging.getLogger(__name__)

DIALECTS: Mapping[str, Dialect] = MappingProxyType({V16.subprotocol: V16, V201.subprotocol: V201})
"""The OCPP versions this charge point speaks, by subprotocol (``ocpp.versions`` says which
are offered, in which order)."""

SPEECHES: Mapping[str, Speech] = MappingProxyType(
    {V16.subprotocol: V16_SPEECH, V201.subprotocol: V201_SPEECH}
)
"""How each version says the registration, heartbeat and status messages."""

WORDS: Mapping[str, TxWords] = MappingProxyType(
    {V16.subprotocol: V16_WORDS, V201.subprotocol: V201_WORDS}
)
"""What the journal stores with a message of each version."""

AUTHORIZERS: Mapping[str, AskAuthorize] = MappingProxyType(
    {V201.subprotocol: authorization.authorize}
)
"""How each version other than 1.6 asks Authorize (the Uplink has 1.6's)."""

# [rfid] token_type -> the kind of token the reader's tags are (config.RFID_OPTIONS)
READER_KINDS: Mapping[str, TokenKind] = MappingProxyType(
    {"iso14443": TokenKind.CARD, "iso15693": TokenKind.VICINITY_CARD}
)

STOP_GRACE_S = 5.0  # how long an orderly stop waits for the outbox to deliver
KEY_PREFIX = "key."  # journal settings holding the keys the central system set
JOURNAL_TOKEN = "journal.token"  # random, made once per journal file (see Courier)


class Outcome(Enum):
    """How the daemon ended: the CLI turns these into an exit or a re-exec."""

    STOPPED = "stopped"
    SOFT_RESET = "soft-reset"
    HARD_RESET = "hard-reset"


class StartupError(Exception):
    """The daemon cannot start (the message is for the operator; exit status follows)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Parts:
    """What a running daemon is made of (tests and the demo look inside)."""

    hardware: Hardware
    journal: Journal
    keys: Keys
    charger: Charger
    connection: Connection
    uplink: Uplink
    registration: Registration
    heartbeat: Heartbeat
    statuses: StatusReporter
    courier: Courier
    handlers: Mapping[str, Handler]  # OCPP 1.6's, by action
    tasks: tuple[tuple[str, Task], ...]  # the profiles' own (profile name, task)
    security: SecurityEvents
    presenter: Presenter | None = None  # with [display] or [buttons]; else made when asked
    certificates: CertificateStore | None = None  # the roots and the charger's own certificate

    def screen(self, settings: Settings) -> Presenter:
        """The presenter; without a display it is made on the first ``ocppctl screen`` (a
        charger without one never loads the view: 0.4 MB)."""
        if self.presenter is None:
            self.presenter = make_presenter(settings, self.hardware, self.charger, self.connection)
        return self.presenter

    services: Services | None = None  # what the profiles were built from
    dialect_handlers: Mapping[str, Mapping[str, Handler]] = field(default_factory=dict)
    """Every version's handlers: subprotocol -> action -> handler."""
    versions: Versions | None = None  # which version a message made now is recorded in
    network: NetworkSlots | None = None  # 2.0.1's network profile slots (B09-B10)


class Daemon:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        virtual_time: bool = False,
        journal_options: dict[str, Any] | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
        v201_profiles: tuple[Profile, ...] = V201_PROFILES,
    ) -> None:
        self.settings = settings
        self.profiles = profiles  # OCPP 1.6's
        self.v201_profiles = v201_profiles
        self.virtual_time = virtual_time  # trio MockClock: no worker threads (see Journal.open)
        self.journal_options = journal_options or {}  # tests: Journal.open's fault seam
        self.clock = clock or Clock()
        self.notifier = notifier or Notifier()
        self.parts: Parts | None = None
        self._stop = trio.Event()

    def __repr__(self) -> str:
        return f"<Daemon {self.settings.ocpp.charge_point_id} parts={self.parts is not None}>"

    # --- start ---

    def _link_target(
        self, keys: Keys, store: CertificateStore, network: NetworkSlots
    ) -> Callable[[], LinkTarget]:
        """Built at each dial: the network profile slot to dial (B10: slot 0 is the config
        file's ``ocpp`` section at the security profile in force), the roots and the client
        certificate from the certificate store as it is now (the config file's files until
        the store has its own)."""

        def target() -> LinkTarget:
            o = self.settings.ocpp
            key = keys.get_str("AuthorizationKey") or o.authorization_key
            slot = network.choose()
            profile = keys.get_int("SecurityProfile") if slot is None else slot.security_profile
            try:
                roots = store.trust()
                own = store.identity() if profile == 3 else None
            except OSError as exc:
                log.error("certificate store unreadable, using the config file's files: %s", exc)
                roots, own = None, None
            return LinkTarget(
                url=o.endpoint_for(profile) if slot is None else slot.endpoint(o.charge_point_id),
                charge_point_id=o.charge_point_id,
                subprotocols=o.versions if slot is None else (slot.version,),
                security_profile=profile,
                authorization_key=key,
                ca_file=o.ca_file,
                ca_data=roots,
                cert_file=str(own.cert_path) if own else o.cert_file,
                key_file=str(own.key_path) if own else o.key_file,
                connect_timeout_s=o.connect_timeout_s,
                max_frame_bytes=o.max_frame_bytes,
            )

        return target

    async def _open_journal(self) -> Journal:
        state_dir = self.settings.storage.state_dir
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            return await Journal.open(
                state_dir,
                max_bytes=int(self.settings.storage.journal_max_mb * 2**20),
                inline=self.virtual_time,
                **self.journal_options,
            )
        except (OSError, JournalError) as exc:
            raise StartupError(f"cannot open the journal in {state_dir}: {exc}", 73) from exc

    async def _open_hardware(self) -> Hardware:
        """Build every device and open every contactor; nothing stays claimed if that fails."""
        s = self.settings
        hardware = build_hardware(
            [c.spec() for c in s.connectors],
            s.rfid,
            s.storage.state_dir,
            display=s.display.device if s.display else None,
            buttons=s.buttons,
        )
        try:
            for devices in hardware.connectors.values():  # safe before anything else
                await devices.contactor.set_closed(False)
        except BaseException:
            with trio.CancelScope(shield=True):
                await hardware.aclose()
            raise
        return hardware

    async def _build(self, hardware: Hardware, journal: Journal) -> Parts:
        """Everything, in dependency order: what a piece needs exists before it is made, and
        nothing is patched in afterwards. The link state comes first (the features read it,
        the connection writes it), the connection last."""
        s, clock = self.settings, self.clock
        stored = await _journal_settings(journal)
        keys = build_keys(s, hardware, stored, (*self.profiles, *self.v201_profiles))
        link = LinkState()
        versions = Versions(
            link,
            lambda: self.settings.ocpp.versions,  # a reload may change them
            stored.get(PROTOCOL_SETTING),
            keep=protocol_keeper(journal),
        )
        # firmwareVersion: the running ocppd unless the config names one (the new version
        # shows in the BootNotification after an UpdateFirmware, OCPP 1.6 section 4.2)
        registration = Registration(
            info=s.charge_point,
            keys=keys,
            clock=clock,
            link=link,
            firmware_version=__version__,
            speeches=SPEECHES,
            reason=await _boot_reason(journal, stored),
            answered_while_rejected=answered_while_rejected,
        )
        outbox, feed = OutboxSignal(), StatusFeed()
        uplink = Uplink(
            link=link,
            registration=registration,
            outbox=outbox,
            statuses=feed,
            authorizers=AUTHORIZERS,
        )
        untracked = Untracked(uplink, V16.subprotocol)  # the recorders' MeterValues
        storage = ModelStorage(journal)
        # each transaction is recorded in the version current when it starts (decision 5)
        txlog = build_txlog(journal, untracked, uplink, versions)
        policies = follow_keys(keys)
        authorizer = Authorizer(policies, storage, clock, uplink, local_list=storage)
        charger = build_charger(
            s,
            hardware,
            policies=policies,
            clock=clock,
            txlog=txlog,
            uplink=uplink,
            authorizer=authorizer,
            storage=storage,
            notices=Notices(storage, capacity=display.capacity(keys)),
        )
        ids = MessageIds()
        courier = build_courier(
            journal,
            keys=keys,
            clock=clock,
            ids=ids,
            delivery=ModelDelivery(charger, authorizer),
            signal=outbox,
            token=stored[JOURNAL_TOKEN],
        )
        statuses = StatusReporter(
            charger=charger, feed=feed, keys=keys, clock=clock, link=link, speeches=SPEECHES
        )
        heartbeat = Heartbeat(keys=keys, clock=clock, link=link, speeches=SPEECHES)
        security_queue = SecurityQueue(journal, outbox, versions)
        events = SecurityEvents(
            security_log=SecurityLog(s.storage.state_dir),
            clock=clock,
            queue=security_queue,
        )
        store = CertificateStore(
            s.storage.state_dir / "certs",
            now=lambda: clock.now() or datetime.now(UTC),
            bootstrap_ca=Path(s.ocpp.ca_file) if s.ocpp.ca_file else None,
        )
        credentials = ConfiguredCredentials(
            keys,
            config_key=s.ocpp.authorization_key,
            ca_file=s.ocpp.ca_file,
            cert_file=s.ocpp.cert_file,
            key_file=s.ocpp.key_file,
            now=clock.now,
            store=store,
        )
        network = NetworkSlots(  # 2.0.1's network profiles (B09-B10); slot 0 is the config's
            keys=keys,
            stored=stored,
            store=setting_keeper(journal),
            credentials=credentials,
            forget_registration=registration.forget,
        )
        services = Services(
            charger=charger,
            keys=keys,
            clock=clock,
            registration=registration,
            heartbeat=heartbeat,
            statuses=statuses,
            persist_key=key_keeper(journal),
            records=ProfileRecords(journal),
            journal=journal,
            link=link,
            triggers=build_triggers(self.profiles),
            certificates=store,
            serial_number=s.charge_point.serial_number or s.charge_point.charge_box_serial_number,
            wake_outbox=outbox.ring,
            security_event=events.occurred,
            settings=s,
            inline=self.virtual_time,
            protocol=lambda: versions.current,
        )
        services.part(NETWORK_PART, lambda: network)
        # 2.0.1's blocks share the same services, with 2.0.1's triggerable messages
        services201 = replace(services, triggers=build_triggers(self.v201_profiles))
        tables = MappingProxyType(
            {
                V16.subprotocol: build_handlers(self.profiles, services),
                V201.subprotocol: build_handlers(self.v201_profiles, services201),
            }
        )
        conversation = Conversation(
            link=link,
            registration=registration,
            heartbeat=heartbeat,
            statuses=statuses,
            courier=courier,
            untracked=untracked,
        )
        invalid = InvalidMessages(events)
        connection, security = self._connection(
            keys,
            ids,
            tables,
            conversation,
            registration,
            link,
            journal,
            stored,
            events,
            store,
            invalid,
            credentials,
            network,
        )
        charger.restore_availability(stored)
        await charger.reservations.restore(await storage.reservations())
        charger.notices.restore(await storage.notices())
        presenter = None
        if hardware.display is not None or hardware.buttons is not None:
            presenter = make_presenter(s, hardware, charger, connection)
        return Parts(
            hardware=hardware,
            journal=journal,
            keys=keys,
            charger=charger,
            connection=connection,
            uplink=uplink,
            registration=registration,
            heartbeat=heartbeat,
            statuses=statuses,
            courier=courier,
            handlers=tables[V16.subprotocol],
            dialect_handlers=tables,
            tasks=(
                *((p.name, task) for p in self.profiles for task in p.tasks(services)),
                *((p.name, task) for p in self.v201_profiles for task in p.tasks(services201)),
                ("OCPP versions", versions.follow),
                ("Security", security_queue.run),
                ("Security", lambda: confirm_trials(security, link)),
                ("NetworkConfiguration", lambda: follow_slots(network, security, link)),
                ("Security", lambda: steady_links(events, link)),
                ("Security", lambda: clock_settings(events, clock)),
                ("Security", invalid.run),
                ("Security", lambda: memory_watch(events, journal, s.storage.state_dir)),
            ),
            security=events,
            presenter=presenter,
            certificates=store,
            services=services,
            versions=versions,
            network=network,
        )

    def _connection(
        self,
        keys: Keys,
        ids: MessageIds,
        tables: Mapping[str, Mapping[str, Handler]],
        conversation: Conversation,
        registration: Registration,
        link: LinkState,
        journal: Journal,
        stored: Mapping[str, str],
        events: SecurityEvents,
        store: CertificateStore,
        invalid: InvalidMessages,
        credentials: ConfiguredCredentials,
        network: NetworkSlots,
    ) -> tuple[Connection, SecurityProfiles]:
        """The supervisor of the link, built last: everything it runs exists. A new
        AuthorizationKey re-dials with it; a raised SecurityProfile is tried, and left if
        the links with it fail (features/security/profiles.py)."""
        o = self.settings.ocpp

        async def link_ended(ended: LinkEnded) -> None:
            if ended.hung_up:
                return
            event = LINK_EVENTS.get(ended.kind) if ended.kind else None
            if event is not None:
                await events.occurred(event, ended.reason)
            network.link_ended(healthy=ended.healthy)
            profile = ended.target.security_profile if ended.target else None
            await security.link_ended(profile, ended.reason, ended.healthy)

        connection = Connection(
            target=self._link_target(keys, store, network),
            dialects=DIALECTS,
            ids=ids,
            supported=lambda dialect: frozenset(tables[dialect.subprotocol]),
            handler=dispatcher(tables, link),
            conversation=conversation,
            call_timeout=lambda: network.call_timeout(self.settings.ocpp.call_timeout_s),
            secret_keys=frozenset(spec.name for spec in keys.specs.values() if spec.secret)
            | SECRET_VARIABLES
            | SECRET_FIELDS,
            backoff=Backoff(o.reconnect_min_s, o.reconnect_max_s),
            ping_interval=lambda: keys.get_int("WebSocketPingInterval"),
            settings_changed=keys.wait_changed,
            answering=registration.answering,
            now=self.clock.now,
            link_state=link,
            on_ended=link_ended,
            on_invalid=invalid.saw,
        )

        async def new_key(_value: object) -> None:
            # A01.FR.11: the change is in the security log (never the key itself)
            await events.occurred("ReconfigurationOfSecurityParameters", "new AuthorizationKey")
            connection.hang_up("new AuthorizationKey")

        keys.on_change("AuthorizationKey", new_key)
        security = SecurityProfiles(
            keys=keys,
            credentials=credentials,
            persist_key=key_keeper(journal),
            store=setting_keeper(journal),
            trial=Trial.parse(stored.get(TRIAL_SETTING)),
            reconnect=connection.hang_up,
            note=events.occurred,
        )
        return connection, security

    async def _recover(self, parts: Parts) -> None:
        records = await parts.journal.open_transactions()
        await parts.charger.recover(
            [
                OpenTransaction(
                    r.local_id,
                    r.connector_id,
                    r.id_tag,
                    r.meter_start_wh,
                    r.meter_last_wh,
                    r.meter_last_at,
                )
                for r in records
            ]
        )

    async def _report_journal_damage(self, parts: Parts) -> None:
        """Connector 0 tells the central system (and ``ocppctl status`` the owner) when damage
        was set aside: a file set moved aside at start, damaged records found since."""
        journal = parts.journal
        while True:
            info = journal.damage_summary()
            if info is not None:
                fault = Fault(FaultKind.STORAGE_DAMAGE, info[:50], STORAGE_VENDOR_CODE)
                parts.charger.report(FaultRaised(fault))
            await journal.wait_damage()

    # --- run ---

    async def run(
        self, *, task_status: trio.TaskStatus[Parts] = trio.TASK_STATUS_IGNORED
    ) -> Outcome:
        hardware = await self._open_hardware()
        journal: Journal | None = None
        outcome = Outcome.STOPPED
        try:
            journal = await self._open_journal()
            parts = await self._build(hardware, journal)
            self.parts = parts
            async with trio.open_nursery() as nursery:
                await nursery.start(parts.journal.run)
                await nursery.start(parts.charger.run)
                if parts.presenter is not None:
                    await nursery.start(parts.presenter.run)
                nursery.start_soon(self._report_journal_damage, parts)
                await self._recover(parts)
                for owner, task in parts.tasks:  # a bug in one is a log line, not the end
                    start_supervised(nursery, f"a task of the {owner} profile", task)
                await nursery.start(
                    serve_control, self.settings.control.socket, commands(self._sources(parts))
                )
                await start_checks(parts.security, parts.journal)
                await parts.security.occurred("StartupOfTheDevice", f"ocppd {__version__} started")
                nursery.start_soon(parts.connection.run)
                nursery.start_soon(self.notifier.run_watchdog)
                nursery.start_soon(self._signals)
                nursery.start_soon(self._status_line, parts)
                nursery.start_soon(self._indicators_follow_link, parts)
                self.notifier.send(READY=1, STATUS="started; connecting to the central system")
                log.info(
                    "ocppd %s running: %d connector(s), state in %s",
                    __version__,
                    len(parts.charger.connectors),
                    self.settings.storage.state_dir,
                )
                task_status.started(parts)
                outcome = await self._until_stop(parts)
                await self._orderly_stop(parts, outcome)
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                self.notifier.send(STOPPING=1)
                await hardware.aclose()
                if journal is not None:
                    await journal.aclose()
        return outcome

    def _sources(self, parts: Parts) -> Sources:
        return Sources(
            self.settings.ocpp.charge_point_id,
            parts.charger,
            parts.connection,
            parts.registration,
            parts.journal,
            parts.hardware.sim,
            lambda: self.clock.source,
            lambda: parts.screen(self.settings),
            version=lambda: parts.versions.current if parts.versions else None,
            network_slot=lambda: parts.network.dialled if parts.network else None,
            certificates=parts.certificates,
            security=parts.security,
            firmware=(
                firmware_of(parts.services)
                if parts.services is not None and firmware_profile in self.profiles
                else None
            ),
        )

    def stop(self) -> None:
        """Ask for an orderly stop (what SIGTERM does)."""
        self._stop.set()

    async def _until_stop(self, parts: Parts) -> Outcome:
        result = Outcome.STOPPED
        async with trio.open_nursery() as nursery:

            async def reset() -> None:
                nonlocal result
                kind = await parts.charger.wait_reset()
                result = Outcome.HARD_RESET if kind is ResetKind.HARD else Outcome.SOFT_RESET
                nursery.cancel_scope.cancel()

            async def stop() -> None:
                await self._stop.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(reset)
            nursery.start_soon(stop)
        return result

    async def _orderly_stop(self, parts: Parts, outcome: Outcome) -> None:
        await parts.security.occurred("ResetOrReboot", f"ocppd stopping: {outcome.value}")
        reason = {
            Outcome.STOPPED: StopReason.REBOOT,
            Outcome.SOFT_RESET: StopReason.SOFT_RESET,
            Outcome.HARD_RESET: StopReason.HARD_RESET,
        }[outcome]
        log.info("stopping (%s): ending transactions, opening contactors", outcome.value)
        self.notifier.send(STOPPING=1, STATUS=f"stopping ({outcome.value})")
        await parts.charger.stop_all(reason)
        await self._deliver_stops(parts)

    async def _deliver_stops(self, parts: Parts) -> None:
        """Give the outbox up to STOP_GRACE_S to deliver what stop_all queued, while the link is
        up: done as soon as the queue is empty (at once when it already is) or the link is lost.
        Each delivery or change of the link wakes the check; nothing polls."""
        courier = parts.courier
        with trio.move_on_after(STOP_GRACE_S):
            while parts.uplink.online:
                progress = courier.progress  # take it before looking, so nothing is missed
                if (await parts.journal.queue_stats()).pending == 0:
                    break
                await first_of(progress.wait, parts.connection.wait_changed)

    async def _signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as received:
            async for signum in received:
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    log.info("received %s: orderly stop", signal.Signals(signum).name)
                    self.stop()

    async def _status_line(self, parts: Parts) -> None:
        """STATUS= for `systemctl status`: connection, registration, connectors, queue."""
        while True:
            conn = parts.connection
            statuses = ", ".join(
                f"{c.id}:{STATUS[c.reported.status]}" for c in parts.charger.connectors.values()
            )
            registration = parts.registration.status
            self.notifier.status(
                f"{conn.state}"
                f"{', ' + registration.value if registration else ''}; "
                f"connectors {statuses}"
            )
            await first_of(conn.wait_changed, parts.charger.wait_changed)

    async def _indicators_follow_link(self, parts: Parts) -> None:
        """The LEDs' "central system unreachable" flashes follow the link, not only status
        changes: on when the link is lost, off once registered again. An indicator that
        already shows the right thing ignores the call."""
        while True:
            await parts.connection.wait_changed()
            parts.charger.uplink_changed()

    # --- SIGHUP ---

    def reload(self) -> list[str]:
        """Re-read the config. Returns the problem lines (empty when applied)."""
        keys = self.parts.keys if self.parts else None
        check: config.KeyCheck | None = None
        if keys is not None:  # keys and connectors need a restart: check as running

            def check(name: str, raw: Any, _phases: Mapping[int, int]) -> str | None:
                spec = keys.specs.get(name)
                if spec is None:
                    return "unknown OCPP configuration key"
                try:
                    spec.from_config(raw)
                except ValueError as exc:
                    return str(exc)
                return None

        try:
            new = config.load(self.settings.path, check)
        except config.ConfigError as exc:
            lines = exc.lines()
            for line in lines:
                log.error("reload refused: %s", line)
            log.error("still running on the previous configuration")
            return lines
        old, self.settings = self.settings, new
        logs.set_level(new.log.level)
        for what, changed in (
            (
                "connectors and devices",
                (old.connectors, old.rfid, old.buttons) != (new.connectors, new.rfid, new.buttons),
            ),
            ("[display]", old.display != new.display),
            ("storage", old.storage != new.storage),
            ("control socket", old.control != new.control),
            ("[ocpp.keys]", old.ocpp.keys != new.ocpp.keys),
            ("[charge_point] (sent at the next start)", old.charge_point != new.charge_point),
        ):
            if changed:
                log.warning("reload: %s changed: needs restart", what)
        if self.parts is not None:
            conn = self.parts.connection
            conn.backoff.minimum = new.ocpp.reconnect_min_s
            conn.backoff.maximum = new.ocpp.reconnect_max_s
            if _link_fields(old) != _link_fields(new):
                conn.hang_up("central system settings changed")
            elif conn.state != "connected":  # e.g. a CA file replaced in place: try it now
                conn.hang_up("configuration reloaded")
        log.info("configuration reloaded from %s", new.path)
        return []


def make_presenter(
    settings: Settings, hardware: Hardware, charger: Charger, connection: Connection
) -> Presenter:
    """The screen and its buttons, as ``[display]`` says (defaults without one: the pages
    ``ocppctl screen`` prints)."""
    from ocppd.view.presenter import Network, Presenter, ScreenOptions

    d = settings.display
    options = (
        ScreenOptions(
            language=d.language,
            qr_url=d.qr_url,
            dim_after_s=d.dim_after_s,
            blank_after_s=d.blank_after_s,
            refresh_s=d.refresh_s,
            connectors=d.connectors,
            turn_s=d.turn_s,
        )
        if d is not None
        else ScreenOptions()
    )

    def network() -> Network:
        return Network(str(connection.state), urlsplit(connection.url).hostname or "")

    return Presenter(
        charger,
        display=hardware.display,
        buttons=hardware.buttons,
        options=options,
        charge_point_id=settings.ocpp.charge_point_id,
        network=network,
        link_changed=connection.wait_changed,
    )


# --- building, step by step (Daemon._build puts the steps in order) ---


async def _journal_settings(journal: Journal) -> dict[str, str]:
    """What the journal keeps of settings; a new journal gets its own prefix for message ids."""
    stored = await journal.settings()
    if JOURNAL_TOKEN not in stored:
        stored[JOURNAL_TOKEN] = os.urandom(4).hex()
        await journal.set_setting(JOURNAL_TOKEN, stored[JOURNAL_TOKEN])
    return stored


async def _boot_reason(journal: Journal, stored: Mapping[str, str]) -> BootReason:
    """Why this process boots: what the previous one noted before it restarted (a Reset),
    else a power-up. The note is used once."""
    noted = stored.get(REASON_SETTING)
    if noted is None:
        return BootReason.POWER_UP
    await journal.set_setting(REASON_SETTING, None)
    try:
        return BootReason(noted)
    except ValueError:
        return BootReason.POWER_UP


def build_keys(
    settings: Settings,
    hardware: Hardware,
    persisted: Mapping[str, str],
    profiles: tuple[Profile, ...],
) -> Keys:
    """The profiles' keys for these connectors and meters: defaults < config file < what the
    central system set (persisted in the journal)."""
    quantities: set[Quantity] = set()
    for index, devices in enumerate(hardware.connectors.values()):
        have = set(devices.meter.quantities)
        if devices.temperature is not None:
            have.add(Quantity.TEMPERATURE)
        quantities = have if index == 0 else quantities & have
    specs = declared_keys(
        profiles,
        phases={c.id: c.phases for c in settings.connectors},
        measurands=supported_measurands(quantities),
        security_profile=settings.ocpp.security_profile,
    )
    kept = {k[len(KEY_PREFIX) :]: v for k, v in persisted.items() if k.startswith(KEY_PREFIX)}
    if _profile_below(kept.get("SecurityProfile"), settings.ocpp.security_profile):
        del kept["SecurityProfile"]  # the operator raised ocpp.security_profile since
    return Keys(specs, settings.ocpp.keys, kept)


def _profile_below(kept: str | None, configured: int) -> bool:
    return kept is not None and kept.strip().isdigit() and int(kept) < configured


def build_charger(
    settings: Settings,
    hardware: Hardware,
    *,
    policies: Policies,
    clock: Clock,
    txlog: TransactionLog,
    uplink: Uplink,
    authorizer: Authorizer,
    storage: ModelStorage,
    notices: Notices | None = None,
) -> Charger:
    """The model: the charger and its connectors, on their devices."""
    charger = Charger(
        policies=policies,
        clock=clock,
        txlog=txlog,
        uplink=uplink,
        authorizer=authorizer,
        settings=storage,
        reservation_store=storage,
        reader=hardware.rfid,
        reader_kind=READER_KINDS[settings.rfid.options["token_type"]]
        if settings.rfid is not None
        else TokenKind.CARD,
        notices=notices,
    )
    for c in settings.connectors:
        charger.add_connector(
            hardware.connectors[c.id],
            max_current_a=c.max_current_a,
            phases=c.phases,
            connector_type=c.connector_type,
        )
    return charger


def build_txlog(
    journal: Journal, untracked: Untracked, uplink: Uplink, versions: Versions
) -> TxLogs:
    """The model's transaction log: one recorder per OCPP version, the version chosen per
    transaction when it starts."""

    async def protocol_of(local_id: int) -> str | None:
        tx = await journal.transaction(local_id)
        return None if tx is None else tx.protocol

    return TxLogs(
        {
            V16.subprotocol: Recorder(journal, untracked.send, JournalUnavailable),
            V201.subprotocol: Recorder201(
                journal,
                lambda action, payload: untracked.send(action, payload, V201.subprotocol),
                JournalUnavailable,
                online=lambda: uplink.online,
            ),
        },
        lambda: versions.current,
        protocol_of,
        JournalUnavailable,
    )


def build_courier(
    journal: Journal,
    *,
    keys: Keys,
    clock: Clock,
    ids: MessageIds,
    delivery: ModelDelivery,
    signal: OutboxSignal,
    token: str,
) -> Courier:
    """The outbox courier, paced by the keys that govern retries (2.0.1's
    OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval are these keys in the device
    model), with one carrier per OCPP version."""
    carriers: dict[str, Carrier] = {
        V16.subprotocol: V16Carrier(delivery),
        V201.subprotocol: V201Carrier(delivery),
    }
    return Courier(
        journal,
        clock,
        ids,
        attempts=lambda: keys.get_int("TransactionMessageAttempts"),
        retry_interval=lambda: keys.get_int("TransactionMessageRetryInterval"),
        delivery=delivery,
        unavailable=JournalUnavailable,
        token=token,
        signal=signal,
        carriers=carriers,
    )


LINK_EVENTS: Mapping[LinkFailure, str] = MappingProxyType(
    {
        LinkFailure.TLS_CERTIFICATE: "InvalidCentralSystemCertificate",
        LinkFailure.TLS_VERSION: "InvalidTLSVersion",
        LinkFailure.TLS_CIPHER: "InvalidTLSCipherSuite",
        LinkFailure.UNAUTHORIZED: "FailedToAuthenticateAtCentralSystem",
    }
)
"""The link failures that are security events [SEC §8; A00.FR.310, A00.FR.315, A00.FR.322]."""


SECURITY_WAIT_LIMIT = 64
JOURNAL_RETRY_S = 10.0  # a journal that refused a waiting security event is asked again
"""Security events kept in memory on a first boot until the first link agrees a version."""


class SecurityQueue:
    """Security events go to the outbox (kind other) and wake its courier. Each is recorded
    in the version current when it happens (SecurityEventNotification is alike in 1.6's
    security whitepaper and 2.0.1, but for the names of four events: ``in_words``).

    On a first boot no version was ever agreed: the first offered one is only a guess, and
    a row is delivered only over a link of its version, so an event recorded in the guess
    would wait for a link that may never come (a 1.6-only central system). Such events wait
    here instead, in memory and bounded (every event is already in the security log file,
    ``SecurityEvents.occurred``), until the first link agrees a version, and are recorded in
    it then, in order. This is the smallest sound rule: nothing already journaled changes
    version (no re-stamping, no new column), and only a first boot is concerned. A restart
    before the first link loses them from the queue, not from the log file; the next start
    raises StartupOfTheDevice again. Transactions are not concerned: they are recorded at
    once, in the first offered version, and never change it (see ``tx_versions``)."""

    def __init__(
        self,
        journal: Journal,
        outbox: OutboxSignal,
        versions: Versions,
        limit: int = SECURITY_WAIT_LIMIT,
    ) -> None:
        self.journal = journal
        self.outbox = outbox
        self.versions = versions
        self.limit = limit
        self.waiting: list[tuple[str, dict[str, Any]]] = []  # until a version is known

    def __repr__(self) -> str:
        return f"<SecurityQueue waiting={len(self.waiting)}>"

    async def __call__(self, action: str, payload: dict[str, Any]) -> None:
        protocol = self.versions.known()
        if protocol is None or self.waiting:  # the waiting ones go first
            if len(self.waiting) >= self.limit:
                dropped, _ = self.waiting.pop(0)
                log.warning(
                    "security events: more than %d wait for the first link; the oldest "
                    "(%s) is dropped from the queue (it stays in the security log)",
                    self.limit,
                    dropped,
                )
            self.waiting.append((action, payload))
            return
        await self._record(protocol, action, payload)

    async def _record(self, protocol: str, action: str, payload: dict[str, Any]) -> None:
        await self.journal.add_message(action, in_words(protocol, payload), words=WORDS[protocol])
        self.outbox.ring()

    async def run(self) -> None:
        """Record the events that waited, once the first link agreed a version."""
        await self.versions.wait_known()
        while self.waiting:
            protocol = self.versions.current
            action, payload = self.waiting[0]
            try:
                await self._record(protocol, action, payload)
            except Exception as exc:  # the journal refuses: try again later
                log.warning("security events wait for the journal: %s", exc)
                await trio.sleep(JOURNAL_RETRY_S)
                continue
            self.waiting.pop(0)


async def steady_links(events: SecurityEvents, link: LinkState) -> None:
    """Each link that reaches its steady state lets the next non-critical event be told."""
    while True:
        if link.healthy:
            events.steady()
        await link.wait_changed()


async def clock_settings(events: SecurityEvents, clock: Clock) -> None:
    """SettingSystemTime: each time the wall clock is set (a step, not a drift) [SEC §8]."""
    while True:
        await clock.next_step.wait()
        await events.occurred("SettingSystemTime", "clock set from the central system's time")


def protocol_keeper(journal: Journal) -> Callable[[str], Awaitable[None]]:
    """Keeps the version the last link agreed to (see ``Versions``)."""

    async def keep(protocol: str) -> None:
        await journal.set_setting(PROTOCOL_SETTING, protocol)

    return keep


def setting_keeper(journal: Journal) -> Callable[[str, str | None], Awaitable[None]]:
    """Keeps (or, with None, removes) a journal setting."""

    async def keep(name: str, value: str | None) -> None:
        await journal.set_setting(name, value)

    return keep


async def follow_slots(network: NetworkSlots, security: SecurityProfiles, link: LinkState) -> None:
    """For as long as the daemon runs: a link that registers makes its network profile slot
    the active one, and a higher security profile it proved the one in force (A05)."""
    seen = False  # this link's registration was taken
    while True:
        if link.healthy and not seen:
            seen = True
            raised = await network.registered()
            if raised is not None:
                await security.settle(raised, f"network profile slot {network.dialled}")
        seen = seen and link.healthy
        await link.wait_changed()


def key_keeper(journal: Journal) -> Persist:
    """Keeps a key the central system changed in the journal, so it wins after a restart."""

    async def persist_key(name: str, value: str) -> None:
        await journal.set_setting(KEY_PREFIX + name, value)

    return persist_key


def build_handlers(profiles: tuple[Profile, ...], services: Services) -> dict[str, Handler]:
    """One table of the profiles' handlers; an action claimed by two profiles is a mistake in
    the code (ValueError). An action without a handler is answered NotSupported."""
    table: dict[str, Handler] = {}
    for profile in profiles:
        for action, handler in profile.handlers(services).items():
            if action in table:
                raise ValueError(f"{action} is handled by two profiles ({profile.name} is one)")
            table[action] = handler
    return table


def build_triggers(profiles: tuple[Profile, ...]) -> Mapping[str, Trigger]:
    """The messages a TriggerMessage may ask for, from every profile; a message offered by
    two profiles is a mistake in the code (ValueError)."""
    table: dict[str, Trigger] = {}
    for profile in profiles:
        for message, trigger in profile.triggers.items():
            if message in table:
                raise ValueError(f"{message} is triggered by two profiles ({profile.name} is one)")
            table[message] = trigger
    return MappingProxyType(table)


def dispatcher(tables: Mapping[str, Mapping[str, Handler]], link: LinkState) -> Handler:
    """The session's handler: the handler of the call's action in the version the open
    session speaks (``tables``: subprotocol -> action -> handler; the session offers only
    these actions, see ``Connection(supported=...)``). A call is dispatched by the session
    that received it, which is the open one while it runs."""

    async def dispatch(call: IncomingCall) -> Any:
        session = link.session
        if session is None:  # the session ended between the call and here
            raise RuntimeError(f"{call.action}: no session to answer in")
        return await tables[session.rpc.dialect.subprotocol][call.action](call)

    return dispatch


async def first_of(*waits: Callable[[], Awaitable[None]]) -> None:
    """Return as soon as any of ``waits`` returns."""
    async with trio.open_nursery() as nursery:
        for wait in waits:

            async def one(wait: Callable[[], Awaitable[None]] = wait) -> None:
                await wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(one)


def _link_fields(s: Settings) -> tuple[Any, ...]:
    o = s.ocpp
    return (
        o.url,
        o.tls_url,
        o.charge_point_id,
        o.security_profile,
        o.authorization_key,
        o.ca_file,
        o.cert_file,
        o.key_file,
        o.max_frame_bytes,
        o.connect_timeout_s,
        o.versions,
    )


def key_checker() -> config.KeyCheck:
    """Check ``[ocpp.keys]`` without a running daemon (``ocppd check-config``), against
    the connectors the same file declares. Names match in any case, as OCPP's do."""

    def check(name: str, raw: Any, phases: Mapping[int, int]) -> str | None:
        specs = KeySpecs(declared_keys((*PROFILES, *V201_PROFILES), phases=phases))
        spec = specs.get(name)
        if spec is None:
            return f"unknown OCPP configuration key (expected one of {', '.join(sorted(specs))})"
        if spec.derived:
            return "set by the charger itself (expected no value here)"
        try:
            spec.from_config(raw)
        except ValueError as exc:
            return str(exc)
        return None

    return check
