"""What the screen says: plain functions from a :class:`Scene` (facts) to a ``hal`` Page.

A Scene is what one connector looks like to the driver standing in front of it, as
plain data (:func:`ocppd.view.presenter.scene_of` reads it from the model). The
functions here are pure: each status renders the same words every time, so they are
tested as text, row by row, without a daemon or a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hal.base import FaultKind
from hal.display import Page
from ocppd.model.status import Status
from ocppd.model.supervise import Why
from ocppd.view.strings import Words


@dataclass(frozen=True, slots=True)
class Scene:
    """One connector as the driver sees it."""

    connector_id: int
    status: Status
    online: bool = True
    fault: FaultKind | None = None  # the fault behind Faulted, or a warning beside the status
    claim: str | None = None  # "authorizing" | "authorized" (a driver claimed it, no EV yet)
    refused: Why | None = None  # a refusal shown now
    power_w: float | None = None
    session_wh: float | None = None  # energy of the running session
    elapsed_s: float | None = None  # how long the session runs (None: time unknown)
    limit_a: float | None = None
    limit_by: str | None = None  # who set the limit ("charger", "cable", ...)
    last_wh: int | None = None  # the session that just ended (Finishing)
    qr: str | None = None  # the QR payload for app payment (idle screens)
    corner: str = ""  # the connector's place among several ("1/2")


def kwh(wh: float) -> str:
    return f"{wh / 1000:.2f}"


def kw(w: float) -> str:
    return f"{w / 1000:.1f}"


def duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _corner(scene: Scene, words: Words) -> str:
    return scene.corner if scene.online else words.say("offline")


def _title(scene: Scene, words: Words) -> str:
    if scene.status in (Status.CHARGING,) and scene.refused is None:
        return words.say("charging")
    return words.say("connector", n=scene.connector_id)


def page_for(scene: Scene, words: Words) -> Page:
    """The page for one connector (the first matching rule wins, like derive_status)."""
    title, corner = _title(scene, words), _corner(scene, words)
    if scene.refused is not None:
        return Page(title, corner, words.say("refused"), (words.say(f"why.{scene.refused.value}"),))
    status = scene.status
    if status is Status.FAULTED:
        fault = scene.fault or FaultKind.OTHER
        return Page(
            title,
            corner,
            words.say("faulted"),
            (words.say(f"fault.{fault.value}"), words.say("call service")),
        )
    if status is Status.UNAVAILABLE:
        return Page(title, corner, words.say("unavailable"))
    if status in (Status.CHARGING, Status.SUSPENDED_EV, Status.SUSPENDED_EVSE):
        return _charging(scene, words, title, corner)
    if status is Status.FINISHING:
        lines = [words.say("unplug")]
        if scene.last_wh is not None:
            lines.append(words.say("charged", kwh=kwh(scene.last_wh)))
        return Page(title, corner, words.say("finishing"), tuple(lines))
    if scene.claim == "authorizing":
        return Page(title, corner, words.say("authorizing"), (words.say("please wait"),))
    if scene.claim == "authorized":
        return Page(title, corner, words.say("authorized"), (words.say("plug in"),))
    if status is Status.PREPARING:
        if scene.qr:  # beside a QR code the headline takes the title's place
            return Page(words.say("plugged"), corner, "", (words.say("tap card"),), scene.qr)
        return Page(title, corner, words.say("plugged"), (words.say("tap card"),))
    if status is Status.RESERVED:
        return Page(title, corner, words.say("reserved"), (words.say("tap card"),))
    lines = [words.say("tap card"), words.say("or plug in")]
    if scene.qr:
        lines.append(words.say("scan to pay"))
        return Page(words.say("available"), corner, "", tuple(lines), scene.qr)
    return Page(title, corner, words.say("available"), tuple(lines))


def _charging(scene: Scene, words: Words, title: str, corner: str) -> Page:
    lines: list[str] = []
    if scene.status is Status.SUSPENDED_EV:
        big = words.say("suspended ev")
    elif scene.status is Status.SUSPENDED_EVSE:
        big = words.say("suspended evse")
    else:
        big = f"{kw(scene.power_w or 0.0)} kW"
    if scene.session_wh is not None:
        lines.append(words.say("energy", kwh=kwh(scene.session_wh)))
    if scene.elapsed_s is not None:
        lines.append(words.say("time", time=duration(scene.elapsed_s)))
    if scene.limit_a is not None:
        by = words.maybe(f"by.{scene.limit_by}", scene.limit_by or "", n=0)
        lines.append(words.say("limit", amps=f"{scene.limit_a:g}", by=by))
    if scene.status is not Status.CHARGING:  # the figure line names the pause; kW go below
        lines.insert(0, f"{kw(scene.power_w or 0.0)} kW")
    return Page(title, corner, big, tuple(lines))


def confirm_stop(scene: Scene, words: Words) -> Page:
    """After a first press of the stop button."""
    return Page(
        _title(scene, words),
        _corner(scene, words),
        words.say("stop again"),
        (words.say("to end"),),
    )


def notice_page(text: str, title: str, corner: str = "") -> Page:
    """A message of the central system (a 2.0.1 display message) in place of the charger's
    page: the title and corner stay the charger's, the text fills the lines (the display
    wraps it; what does not fit is cut)."""
    return Page(title, corner, "", (" ".join(text.split()),))


def summary(scenes: Sequence[Scene], words: Words) -> Page:
    """Several connectors on one page: one line each."""
    online = all(s.online for s in scenes)
    lines = []
    for scene in scenes:
        page = page_for(scene, words)
        lines.append(f"{scene.connector_id} {page.big}")
    corner = "" if online else words.say("offline")
    qr = next((s.qr for s in scenes if s.qr), None)
    return Page(words.say("charger"), corner, "", tuple(lines), qr)


__all__ = [
    "Scene",
    "confirm_stop",
    "duration",
    "kw",
    "kwh",
    "notice_page",
    "page_for",
    "summary",
]
