"""What ``ocppctl`` can ask: status, swipe, a tag lookup, the screen, the display messages, and
driving the simulated devices."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import trio
import trio.lowlevel

from hal.base import Fault
from hal.sim import SimWorld
from ocppd import __version__
from ocppd.clock import format_time
from ocppd.connection import Connection
from ocppd.control.server import ControlError, Handler
from ocppd.control.snapshot import (
    certificates_snapshot,
    charge_point_snapshot,
    connectors_snapshot,
    notice_snapshot,
    tag_snapshot,
)
from ocppd.features.core.registration import Registration
from ocppd.features.core.words import ERROR_CODE_OF
from ocppd.features.firmware import Firmware
from ocppd.features.security.events import SecurityEvents
from ocppd.journal import Journal
from ocppd.model.charger import Charger
from ocppd.model.connector import Refused
from ocppd.model.status import CODE_FAULTS, ErrorCode
from ocppd.model.transaction import StorageUnavailable
from ocppd.protocol.v16.enums import ChargePointErrorCode
from ocppd.security.store import CertificateStore

log = logging.getLogger(__name__)

REFRESH_S = 1.0  # a status refreshes meter readings for at most this long


@dataclass
class Sources:
    """Everything a status is made of; app.py fills it in."""

    charge_point_id: str
    charger: Charger
    connection: Connection
    registration: Registration
    journal: Journal
    sim: dict[int, SimWorld]
    clock_source: Callable[[], str]
    screen: Callable[[], Any] | None = None  # the Presenter (ocppd/view), made when first asked
    # the OCPP version messages made now are recorded in (the open link's, else the last
    # agreed, else the first offered): queued rows of other versions wait for another link
    version: Callable[[], str | None] | None = None
    # the 2.0.1 network profile slot dialled or in use (0: the config file's ocpp.url)
    network_slot: Callable[[], int | None] | None = None
    certificates: CertificateStore | None = None
    firmware: Firmware | None = None  # when the Firmware Management profile is offered
    security: SecurityEvents | None = None  # the security log (``security-log clear``)


def _int(request: dict[str, Any], key: str) -> int:
    value = request.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{key} must be an integer")
    return value


def _when(request: dict[str, Any], key: str) -> datetime | None:
    value = request.get(key)
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise ControlError(f"{key} must be an ISO 8601 time, e.g. 2026-11-21T10:00:00Z") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def firmware_commands(src: Sources) -> dict[str, Handler]:
    """``firmware`` (the update state) and ``diagnostics`` (the GetDiagnostics bundle, made
    here for an installer on site; returned base64-encoded)."""
    firmware = src.firmware
    if firmware is None:
        return {}

    async def state(_request: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = firmware.state()
        return result

    async def bundle(request: dict[str, Any]) -> dict[str, Any]:
        since, until = _when(request, "since"), _when(request, "until")
        name = f"diagnostics-{src.charge_point_id}-local.tar.gz"
        path = firmware.state_dir / "diagnostics" / name
        try:
            await firmware.bundle(path, since, until)
            data = await trio.Path(path).read_bytes()
        finally:
            await trio.Path(path).unlink(missing_ok=True)
        return {"name": name, "data": base64.b64encode(data).decode("ascii")}

    return {"firmware": state, "diagnostics": bundle}


def _id_tag(request: dict[str, Any]) -> str:
    tag = request.get("id_tag")
    if not isinstance(tag, str) or not tag.strip():
        raise ControlError("id_tag must be a non-empty text")
    if len(tag.strip()) > 20:
        raise ControlError("an idTag has at most 20 characters")
    return tag


def commands(src: Sources) -> dict[str, Handler]:
    async def status(request: dict[str, Any]) -> dict[str, Any]:
        with trio.move_on_after(REFRESH_S):
            for connector in src.charger.connectors.values():
                await connector.read_meter()
        conn = src.connection
        registration = src.registration.status
        stats = await src.journal.queue_stats()
        local_list = await src.journal.list_summary()
        damage = src.journal.damage_summary()
        current = src.version() if src.version else None
        waiting = {p: n for p, n, _ in stats.by_protocol if p != current}
        return {
            "version": __version__,
            "charge_point_id": src.charge_point_id,
            "connection": {
                "state": conn.state,
                "url": conn.url,
                "security_profile": conn.security_profile,
                # the network profile slot dialled (0: the config file's; 2.0.1 B09-B10)
                "slot": src.network_slot() if src.network_slot else None,
                # the OCPP version of the open link (None while there is none)
                "protocol": conn.dialect.subprotocol if conn.dialect else None,
                "registration": None if registration is None else registration.value,
                "since": format_time(conn.since) if conn.since else None,
                "last_error": conn.last_error,
            },
            "queue": {
                "pending": stats.pending,
                "dead": stats.dead,
                "dropped": stats.dropped,
                # per OCPP version, the queued rows that wait for a link of that version
                # (the open link, or the next one, speaks another): they hold nothing else
                "waiting_for": waiting,
                # the version of the oldest of them (kept from when such a row held the
                # queue; None: nothing waits)
                "held_for": next(iter(waiting), None),
            },
            "journal": {
                # False too once damage was set aside since the start (damaged below)
                "healthy": src.journal.healthy and damage is None,
                "problem": src.journal.problem or damage,
                "startup": str(src.journal.report),
                "damaged": damage,
                "quarantined": stats.quarantined,
            },
            "local_list": {
                "enabled": src.charger.policies.auth.local_list_enabled,
                "version": local_list.version,
                "entries": local_list.entries,
            },
            "clock": src.clock_source(),
            "charge_point": charge_point_snapshot(src.charger),
            "last_tag": tag_snapshot(src.charger),
            "certificates": certificates_snapshot(src.certificates),
            "connectors": connectors_snapshot(src.charger),
        }

    async def swipe(request: dict[str, Any]) -> str:
        tag = _id_tag(request)
        try:
            return await src.charger.present_tag(tag, "ocppctl")
        except Refused as exc:
            raise ControlError(str(exc)) from None

    async def tag(request: dict[str, Any]) -> dict[str, Any]:
        """Where a tag is known here (local list, cache, or unknown) and its status; never the
        parent tag (personal data) and never a question to the central system."""
        id_tag = _id_tag(request)
        try:
            found = await src.charger.authorizer.lookup(id_tag)
        except StorageUnavailable as exc:
            raise ControlError(f"the journal cannot be read: {exc}") from None
        info = found.info
        return {
            "source": found.source,
            "status": None if info is None else info.status.value,
            "expiry": None if info is None or info.expiry is None else format_time(info.expiry),
        }

    async def screen(request: dict[str, Any]) -> dict[str, Any]:
        """The screen as text (and the panel's image as base64 PNG when asked)."""
        if src.screen is None:
            raise ControlError("no screen")
        presenter = src.screen()
        cid = request.get("connector")
        if cid is not None:
            cid = _int(request, "connector")
            if src.charger.connector(cid) is None:
                raise ControlError(f"no connector {cid}")
        with trio.move_on_after(REFRESH_S):
            for connector in src.charger.connectors.values():
                if connector.tx is not None:
                    await connector.read_meter()
        page = presenter.page(cid)
        display = presenter.display
        result: dict[str, Any] = {
            "text": page.text(),
            "display": None if display is None else display.name,
            "level": None if display is None else str(display.level),
            "png": None,
        }
        if request.get("png"):
            if display is None:
                raise ControlError("no display configured (add a [display] table, driver sim)")
            from hal.display import png_of, render

            data = display.png() if cid is None else png_of(render(page, display.size))
            result["png"] = base64.b64encode(data).decode()
        return result

    async def press(request: dict[str, Any]) -> str:
        button = request.get("button")
        buttons = src.screen().buttons if src.screen is not None else None
        if buttons is None or not hasattr(buttons, "press"):
            raise ControlError('the buttons are not simulated (add [buttons] driver = "sim")')
        try:
            if not buttons.press(str(button)):
                raise ControlError("the buttons are not running yet")
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        await trio.lowlevel.checkpoint()  # let the screen take the press before we answer
        return f"{button} pressed"

    async def sim(request: dict[str, Any]) -> str:
        action = request.get("action")
        if action == "press":
            return await press(request)
        cid = _int(request, "connector")
        if src.charger.connector(cid) is None:
            raise ControlError(f"no connector {cid}")
        world = src.sim.get(cid)
        if world is None:
            raise ControlError(f"connector {cid} is not simulated (its plug driver is not sim)")
        if action == "plug":
            world.plug()
        elif action == "unplug":
            world.unplug()
        elif action == "suspend":
            world.suspend()
        elif action == "resume":
            world.resume()
        elif action == "power":
            watts = request.get("watts")
            if isinstance(watts, bool) or not isinstance(watts, int | float) or watts < 0:
                raise ControlError("watts must be a number >= 0")
            world.set_power(float(watts))
        elif action == "fault":
            code = request.get("error_code")
            try:  # typed in 1.6 words, as the central system shows them
                wire = ChargePointErrorCode(str(code))
            except ValueError:
                raise ControlError(
                    f"{code!r} is not a ChargePointErrorCode (expected one of "
                    f"{', '.join(e.value for e in ChargePointErrorCode)})"
                ) from None
            error = ERROR_CODE_OF[wire]
            if error is ErrorCode.NO_ERROR:
                world.clear_faults()
            elif error is ErrorCode.LOCAL_LIST_CONFLICT:
                raise ControlError("LocalListConflict is not a hardware fault")
            else:
                world.raise_fault(Fault(CODE_FAULTS[error], f"simulated {wire.value}"))
        else:
            raise ControlError(f"unknown sim action {action!r}")
        await trio.lowlevel.checkpoint()  # let the connector take the event before we answer
        log.info("sim: connector %d %s", cid, action)
        return f"connector {cid}: {action}"

    async def messages(request: dict[str, Any]) -> dict[str, Any]:
        """``messages``: the display messages the central system set (2.0.1 block O);
        ``clear``: remove one here (a message left behind when the charger now talks to a
        1.6 central system, which cannot clear it)."""
        kept = src.charger.notices
        if request.get("clear") is not None:
            notice_id = _int(request, "clear")
            try:
                removed = await kept.remove(notice_id)
            except StorageUnavailable as exc:
                raise ControlError(f"cannot remove it: {exc}") from None
            if not removed:
                raise ControlError(f"no display message {notice_id}")
            log.info("ocppctl: display message %d removed", notice_id)
        now = src.charger.clock.now()
        return {
            "capacity": kept.capacity,
            "messages": [notice_snapshot(n, now) for n in kept.all()],
        }

    async def security_log(request: dict[str, Any]) -> str:
        """``security-log clear``: the operator empties the security log; the
        SecurityLogWasCleared event (critical) is its new first line and goes to the
        central system (security whitepaper §8)."""
        if request.get("action") != "clear":
            raise ControlError("security-log: the only action is clear")
        if src.security is None:
            raise ControlError("this daemon keeps no security log")
        try:
            await src.security.clear("ocppctl")
        except OSError as exc:
            raise ControlError(f"cannot clear the security log: {exc.strerror or exc}") from None
        return "security log cleared"

    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
        "status": status,
        "security-log": security_log,
        "swipe": swipe,
        "tag": tag,
        "sim": sim,
        **firmware_commands(src),
        "screen": screen,
        "messages": messages,
    }
    return handlers
