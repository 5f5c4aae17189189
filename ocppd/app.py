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
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import trio

from hal import Hardware, build_hardware
from hal.base import Fault, FaultKind, FaultRaised
from ocppd import __version__, config, logs
from ocppd.clock import Clock
from ocppd.config import Settings
from ocppd.connection import Connection
from ocppd.control.commands import Sources, commands
from ocppd.control.server import serve_control
from ocppd.features import JOURNAL_TOKEN, Features, build_features, declared_keys
from ocppd.features.core.words import STATUS
from ocppd.journal import Journal, JournalError
from ocppd.model.charger import STORAGE_VENDOR_CODE, Charger, OpenTransaction
from ocppd.model.keys import Keys, KeySpecs
from ocppd.model.outcomes import ResetKind
from ocppd.model.transaction import StopReason
from ocppd.protocol.dialect import Dialect
from ocppd.protocol.v16.dialect import V16
from ocppd.sdnotify import Notifier
from ocppd.transport.backoff import Backoff
from ocppd.transport.link import LinkTarget

if TYPE_CHECKING:
    from ocppd.view.presenter import Presenter

log = logging.getLogger(__name__)

DIALECTS: Mapping[str, Dialect] = MappingProxyType({V16.subprotocol: V16})
"""The OCPP versions this charge point speaks, by subprotocol, offered in this order."""

STOP_GRACE_S = 5.0  # how long an orderly stop waits for the outbox to deliver


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
    features: Features
    presenter: Presenter | None  # with [display] or [buttons]; else made when first asked

    def screen(self, settings: Settings) -> Presenter:
        """The presenter; without a display it is made on the first ``ocppctl screen`` (a
        charger without one never loads the view: 0.4 MB)."""
        if self.presenter is None:
            self.presenter = make_presenter(settings, self.hardware, self.charger, self.connection)
        return self.presenter


class Daemon:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        virtual_time: bool = False,
        journal_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.virtual_time = virtual_time  # trio MockClock: no worker threads (see Journal.open)
        self.journal_options = journal_options or {}  # tests: Journal.open's fault seam
        self.clock = clock or Clock()
        self.notifier = notifier or Notifier()
        self.parts: Parts | None = None
        self._stop = trio.Event()

    def __repr__(self) -> str:
        return f"<Daemon {self.settings.ocpp.charge_point_id} parts={self.parts is not None}>"

    # --- start ---

    def _link_target(self, keys: Keys) -> Callable[[], LinkTarget]:
        def target() -> LinkTarget:
            o = self.settings.ocpp
            key = keys.get_str("AuthorizationKey") or o.authorization_key
            return LinkTarget(
                url=o.endpoint,
                charge_point_id=o.charge_point_id,
                subprotocols=tuple(DIALECTS),
                security_profile=o.security_profile,
                authorization_key=key,
                ca_file=o.ca_file,
                cert_file=o.cert_file,
                key_file=o.key_file,
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
        s = self.settings
        stored = await journal.settings()
        if JOURNAL_TOKEN not in stored:  # a new journal: its own prefix for message ids
            stored[JOURNAL_TOKEN] = os.urandom(4).hex()
            await journal.set_setting(JOURNAL_TOKEN, stored[JOURNAL_TOKEN])
        features = build_features(
            settings=s, hardware=hardware, journal=journal, clock=self.clock, persisted=stored
        )
        keys = features.keys
        connection = Connection(
            target=self._link_target(keys),
            dialects=DIALECTS,
            ids=features.ids,
            supported=lambda _dialect: frozenset(features.handlers),
            handler=features.dispatch,
            conversation=features.conversation,
            call_timeout=s.ocpp.call_timeout_s,
            secret_keys=frozenset(spec.name for spec in keys.specs.values() if spec.secret),
            backoff=Backoff(s.ocpp.reconnect_min_s, s.ocpp.reconnect_max_s),
            ping_interval=lambda: keys.get_int("WebSocketPingInterval"),
            settings_changed=keys.wait_changed,
            answering=features.conversation.answering,
            now=self.clock.now,
        )
        features.conversation.connection = connection

        async def new_key(_value: object) -> None:
            connection.hang_up("new AuthorizationKey")

        keys.on_change("AuthorizationKey", new_key)
        charger = features.charger
        charger.restore_availability(stored)
        presenter = None
        if hardware.display is not None or hardware.buttons is not None:
            presenter = make_presenter(s, hardware, charger, connection)
        return Parts(hardware, journal, keys, charger, connection, features, presenter)

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
                await nursery.start(
                    serve_control, self.settings.control.socket, commands(self._sources(parts))
                )
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
            parts.features.conversation,
            parts.journal,
            parts.hardware.sim,
            lambda: self.clock.source,
            lambda: parts.screen(self.settings),
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
        courier, conversation = parts.features.courier, parts.features.conversation
        with trio.move_on_after(STOP_GRACE_S):
            while conversation.online:
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
            registration = parts.features.conversation.registration
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
        features = self.parts.features if self.parts else None
        check: config.KeyCheck | None = None
        if features is not None:  # keys and connectors need a restart: check as running

            def check(name: str, raw: Any, _phases: Mapping[int, int]) -> str | None:
                return features.check_key(name, raw)

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
        o.charge_point_id,
        o.security_profile,
        o.authorization_key,
        o.ca_file,
        o.cert_file,
        o.key_file,
        o.max_frame_bytes,
        o.connect_timeout_s,
    )


def key_checker() -> config.KeyCheck:
    """Check ``[ocpp.keys]`` without a running daemon (``ocppd check-config``), against
    the connectors the same file declares. Names match in any case, as OCPP's do."""

    def check(name: str, raw: Any, phases: Mapping[int, int]) -> str | None:
        specs = KeySpecs(declared_keys(phases=phases))
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
