"""The screen follows the charger: events in, pages out, no polling loop.

:class:`Presenter` waits for what a person would notice (``Charger.wait_notice``: a
status, a refusal, a tag's outcome, an ended session), for the link to change and for
button presses, and shows the page for the new state. Between events it sleeps until
the next thing it has promised to do: end a refusal or an info screen, turn to the next
connector, refresh the figures of a running session (every ``refresh_s``), dim or blank
the panel after inactivity. An idle charger with a blank screen has no deadline at all:
it wakes for nothing (``wakeups`` counts its turns for the tests).

Messages of the central system (2.0.1 display messages, ``Charger.notices``) take the
screen by their priority (``_notice``): the newest front one before everything but a
person's own button screens; ahead ones before the charger's page, taking turns; cycle
ones taking turns with the charger's page (every ``turn_s``). Only those in force are
shown: in their time window, for the state of the connector shown, during their
transaction, for its EVSE.

The stop button asks for a second press within ``CONFIRM_S`` and then ends the session
through :meth:`Charger.stop_local` (reason Local, the same stop as the driver's tag).
The info button cycles the information screens: last session, meter, network, version.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trio

from hal.base import ButtonPressed, DeviceEvent, FaultCleared, FaultRaised
from hal.display import Display, Level, Page
from ocppd import __version__
from ocppd.model.charger import Charger
from ocppd.model.connector import Connector
from ocppd.model.notices import Notice, Priority, precedence, when_of
from ocppd.model.status import Status, worst
from ocppd.view.screens import (
    Scene,
    confirm_stop,
    duration,
    kw,
    kwh,
    notice_page,
    page_for,
    summary,
)
from ocppd.view.strings import Words

log = logging.getLogger(__name__)

CONFIRM_S = 5.0  # a second press of stop within this ends the session
INFO_S = 10.0  # an info screen stays this long
INFO_SCREENS = ("session", "meter", "network", "version")
RECHECK_S = 600.0  # a message's window far ahead is looked at again this often


@dataclass(frozen=True, slots=True)
class ScreenOptions:
    """What the screens say and when (``[display]`` in the config)."""

    language: str = "en"
    qr_url: str | None = None  # "{id}" becomes the charge point id
    dim_after_s: float = 60.0  # 0: never
    blank_after_s: float = 300.0  # 0: never
    refresh_s: float = 5.0  # figures of a running session
    connectors: str = "summary"  # several connectors: "summary" | "turns"
    turn_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Network:
    """The link as the info screen shows it."""

    state: str  # "connected" | "connecting" | "disconnected"
    where: str = ""  # the central system's host


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def scene_of(
    connector: Connector, charger: Charger, *, qr: str | None = None, corner: str = ""
) -> Scene:
    """One connector of the model as a Scene (plain facts for the screen)."""
    reported = connector.reported
    status = reported.status
    fault = (
        connector.blocking_fault() or charger.blocking_fault() or worst(connector.faults.values())
    )
    pending = connector.pending
    claim = None if pending is None else "authorizing" if pending.auth is None else "authorized"
    shown = connector.refusal_shown
    reading, tx = connector.latest, connector.tx
    session_wh = elapsed = None
    if tx is not None:
        if reading is not None:
            session_wh = max(0.0, reading.energy_wh - tx.meter_start_wh)
        start, now = _parse(tx.started), charger.clock.now()
        if start is not None and now is not None:
            elapsed = max(0.0, (now - start).total_seconds())
    limit = connector.current_limit_a()
    by = "charger"
    if connector.limits and min(connector.limits.values()) < connector.max_current_a:
        by = min(connector.limits, key=lambda source: connector.limits[source])
    last = connector.last_session
    return Scene(
        connector_id=connector.id,
        status=status,
        online=charger.uplink.online,
        fault=fault.kind if fault is not None else None,
        claim=claim,
        refused=shown[0] if shown is not None else None,
        power_w=reading.power_w if reading is not None and tx is not None else None,
        session_wh=session_wh,
        elapsed_s=elapsed,
        limit_a=limit if tx is not None else None,
        limit_by=by,
        last_wh=last.delivered_wh if last is not None and status is Status.FINISHING else None,
        qr=qr if status in (Status.AVAILABLE, Status.PREPARING) else None,
        corner=corner,
    )


class Presenter:
    """Shows the charger on ``display`` (None: pages are still computed for ``ocppctl
    screen``) and takes the presses of ``buttons``. Also the EventSink of both devices:
    the display's faults go to the charger (connector 0), presses to the run loop."""

    def __init__(
        self,
        charger: Charger,
        *,
        display: Display | None = None,
        buttons: Any = None,
        options: ScreenOptions | None = None,
        charge_point_id: str = "",
        network: Callable[[], Network] | None = None,
        link_changed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.charger = charger
        self.display = display
        self.buttons = buttons
        self.options = options or ScreenOptions()
        self.words = Words(self.options.language)
        self.charge_point_id = charge_point_id
        self.network = network
        self.link_changed = link_changed
        self.wakeups = 0  # turns of the run loop (an idle charger makes none)
        self.qr = (
            self.options.qr_url.replace("{id}", charge_point_id) if self.options.qr_url else None
        )
        self._poke = trio.Event()
        self._presses: list[str] = []
        self._active_at = -math.inf
        self._info: int | None = None
        self._info_until = -math.inf
        self._confirm: tuple[int, float] | None = None  # connector, until
        self._turn = 0
        self._turn_at = -math.inf
        self._refreshed_at = -math.inf

    def __repr__(self) -> str:
        return (
            f"<Presenter display={self.display!r} info={self._info} confirm={self._confirm} "
            f"wakeups={self.wakeups}>"
        )

    # --- devices report here ---

    def report(self, event: DeviceEvent) -> None:
        """EventSink of the display and the buttons (trio thread, never blocks)."""
        if isinstance(event, ButtonPressed):
            self._presses.append(event.button)
            self._poke.set()
        elif isinstance(event, FaultRaised | FaultCleared):
            self.charger.report(event)  # a charger-wide device: reported on connector 0

    # --- pages ---

    def _connectors(self) -> list[Connector]:
        return list(self.charger.connectors.values())

    def _scene(self, connector: Connector, corner: str = "") -> Scene:
        return scene_of(connector, self.charger, qr=self.qr, corner=corner)

    def page(self, connector_id: int | None = None) -> Page:
        """The page for ``connector_id``, or the page the display is given now (with the
        figures of now: a dimmed or blank panel keeps the frame it was last given)."""
        if connector_id is not None:
            connector = self.charger.connector(connector_id)
            if connector is None:
                raise KeyError(connector_id)
            return page_for(self._scene(connector), self.words)
        return self._compose(trio.current_time())[0]

    def _shown(self, now: float) -> tuple[Connector | None, float]:
        """The connector the screen is about (None: the summary) and when that changes."""
        connectors = self._connectors()
        if len(connectors) == 1:
            return connectors[0], math.inf
        if self._confirm is not None:
            return self.charger.connector(self._confirm[0]), math.inf
        if self.options.connectors != "turns":
            return None, math.inf
        if now >= self._turn_at + self.options.turn_s:
            self._turn = (self._turn + 1) % len(connectors)
            self._turn_at = now
        return connectors[self._turn], self._turn_at + self.options.turn_s

    def _compose(self, now: float) -> tuple[Page, float]:
        """The page to show now and when it must be composed again at the latest."""
        if self._info is not None and now < self._info_until:
            return self._info_page(INFO_SCREENS[self._info]), self._info_until
        self._info = None
        connector, deadline = self._shown(now)
        if self._confirm is not None:
            cid, until = self._confirm
            target = self.charger.connector(cid)
            if now < until and target is not None and target.tx is not None:
                return confirm_stop(self._scene(target), self.words), until
            self._confirm = None
        connectors = self._connectors()
        for c in connectors:
            shown = c.refusal_shown
            if shown is not None:
                deadline = min(deadline, shown[1])
        if any(c.tx is not None for c in connectors):
            deadline = min(deadline, self._refreshed_at + self.options.refresh_s)
        corner = ""
        if connector is not None and len(connectors) > 1:
            corner = f"{connector.id}/{len(connectors)}"
        notice, notice_at = self._notice(now, connector)
        deadline = min(deadline, notice_at)
        if notice is not None:
            title = (
                self.words.say("charger")
                if connector is None
                else self.words.say("connector", n=connector.id)
            )
            online = self.charger.uplink.online
            return notice_page(
                notice.text, title, corner if online else self.words.say("offline")
            ), deadline
        if connector is None:
            return summary([self._scene(c) for c in connectors], self.words), deadline
        return page_for(self._scene(connector, corner), self.words), deadline

    def _notice(self, now: float, connector: Connector | None) -> tuple[Notice | None, float]:
        """The central system's message to show now instead of the charger's page (None:
        the charger's page) and when that may change (a window's start or end, a turn)."""
        wall = self.charger.clock.now()
        shown = [connector] if connector is not None else self._connectors()
        found: dict[int, Notice] = {}
        for c in shown:
            tx = c.tx
            tx_id = None if tx is None or tx.transaction_id is None else str(tx.transaction_id)
            for n in self.charger.notices.showing(wall, when_of(c.reported.status), tx_id, c.id):
                found.setdefault(n.notice_id, n)
        deadline = math.inf
        change = self.charger.notices.next_change(wall)
        if change is not None and wall is not None:  # looked at again at least every
            # RECHECK_S: the wall clock may step (the central system's time)
            deadline = now + min(RECHECK_S, max(0.0, (change - wall).total_seconds()))
        ordered = sorted(found.values(), key=precedence)
        if ordered and ordered[0].priority is Priority.FRONT:
            return ordered[0], deadline  # the newest front message replaces the others
        if any(c.refusal_shown is not None for c in shown):
            return None, deadline  # the driver's own outcome first
        ahead = [n for n in ordered if n.priority is Priority.AHEAD]
        turns: list[Notice | None] = list(ahead) if ahead else [None, *ordered]
        if len(turns) == 1:
            return turns[0], deadline
        turn = max(self.options.turn_s, 1.0)
        slot = int(now // turn)
        return turns[slot % len(turns)], min(deadline, (slot + 1) * turn)

    def _info_page(self, which: str) -> Page:
        w = self.words
        connector = self._connectors()[0] if len(self._connectors()) == 1 else None
        if which == "session":
            sessions = [c.last_session for c in self._connectors() if c.last_session is not None]
            if not sessions:
                return Page(w.say("info.session"), "1/4", w.say("info.no session"))
            last = max(sessions, key=lambda s: s.stopped)
            start, stop = _parse(last.started), _parse(last.stopped)
            lines = [last.stopped[:16].replace("T", " ")]
            if start is not None and stop is not None:
                lines.append(w.say("time", time=duration((stop - start).total_seconds())))
            lines.append(w.say("info.reason", reason=last.reason))
            return Page(w.say("info.session"), "1/4", f"{kwh(last.delivered_wh)} kWh", tuple(lines))
        if which == "meter":
            lines = []
            for c in self._connectors():
                if c.latest is not None:
                    prefix = "" if connector is not None else f"{c.id}: "
                    lines.append(prefix + w.say("info.register", kwh=kwh(c.latest.energy_wh)))
                    if c.latest.power_w is not None:
                        lines.append(prefix + w.say("info.power", kw=kw(c.latest.power_w)))
            return Page(w.say("info.meter"), "2/4", "", tuple(lines))
        if which == "network":
            net = self.network() if self.network is not None else Network("disconnected")
            state = w.maybe(f"info.{net.state}", net.state)
            return Page(w.say("info.network"), "3/4", "", (state, net.where))
        return Page(w.say("info.version"), "4/4", f"ocppd {__version__}", (self.charge_point_id,))

    # --- the loop ---

    def _level(self, now: float) -> tuple[Level, float]:
        """How bright the panel is now, and when that changes."""
        idle = now - self._active_at
        dim, blank = self.options.dim_after_s, self.options.blank_after_s
        if blank and idle >= blank:
            return Level.OFF, math.inf
        if dim and idle >= dim:
            return Level.DIM, self._active_at + blank if blank else math.inf
        nxt = [t for t in (dim, blank) if t]
        return Level.ON, self._active_at + min(nxt) if nxt else math.inf

    async def _forward(self, wait: Callable[[], Awaitable[None]], *, active: bool) -> None:
        while True:
            await wait()
            if active:
                self._active_at = trio.current_time()
            self._poke.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            if self.display is not None:
                nursery.start_soon(self.display.run, self)
            if self.buttons is not None:
                nursery.start_soon(self.buttons.run, self)
            nursery.start_soon(lambda: self._forward(self.charger.wait_notice, active=True))
            notices = self.charger.notices
            nursery.start_soon(lambda: self._forward(notices.wait_changed, active=True))
            if self.link_changed is not None:
                changed = self.link_changed
                nursery.start_soon(lambda: self._forward(changed, active=False))
            self._active_at = trio.current_time()
            task_status.started()
            await self._loop()

    async def _loop(self) -> None:
        while True:
            now = trio.current_time()
            level, level_at = self._level(now)
            if level is not Level.OFF and now >= self._refreshed_at + self.options.refresh_s:
                await self._refresh()
            page, page_at = self._compose(now)
            if self.display is not None:
                self.display.show(page)
                self.display.set_level(level)
            deadline = level_at if level is Level.OFF else min(level_at, page_at)
            with trio.move_on_at(deadline):
                await self._poke.wait()
            self._poke = trio.Event()
            self.wakeups += 1
            await self._take_presses(level)

    async def _refresh(self) -> None:
        """Fresh figures of running sessions (the meter is read; idle connectors are not)."""
        self._refreshed_at = trio.current_time()
        for connector in self._connectors():
            if connector.tx is not None:
                await connector.read_meter()

    async def _take_presses(self, level: Level) -> None:
        presses, self._presses = self._presses, []
        for button in presses:
            now = trio.current_time()
            self._active_at = now
            if level is not Level.ON:
                level = Level.ON  # the first press only wakes the screen
                continue
            if button == "info":
                self._info = 0 if self._info is None else self._info + 1
                if self._info >= len(INFO_SCREENS):
                    self._info = None
                self._info_until = now + INFO_S
            elif button == "stop":
                await self._stop_pressed(now)

    async def _stop_pressed(self, now: float) -> None:
        self._info = None
        running = [c for c in self._connectors() if c.tx is not None]
        if self._confirm is not None and now < self._confirm[1]:
            cid = self._confirm[0]
            self._confirm = None
            log.info("stop button: ending the session on connector %d", cid)
            await self.charger.stop_local(cid)
            return
        connector, _ = self._shown(now)
        target = connector if connector is not None and connector.tx is not None else None
        if target is None and len(running) == 1:
            target = running[0]
        if target is not None:
            self._confirm = (target.id, now + CONFIRM_S)


__all__ = ["CONFIRM_S", "INFO_S", "Network", "Presenter", "ScreenOptions", "scene_of"]
