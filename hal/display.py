"""A small monochrome display (128x64 OLED on I2C, or a simulated one): pages in, pixels out.

What to show arrives as a :class:`Page`: plain text in a fixed layout (a title, a mark
in the top-right corner, one figure in double size, a few lines, an optional QR code).
The device draws it with Pillow in its own layout and writes it through luma.core /
luma.oled. Nothing here knows OCPP or what a charger is: the charger logic decides
what the page says (``ocppd/view``).

Kind to the hardware:

- ``show`` and ``set_level`` only remember what is wanted; the device's ``run`` task
  writes it, at most once every ``min_interval_s`` (a burst of changes is one write),
  and only when something changed: an idle charger writes nothing and wakes nobody.
- I2C writes happen in a worker thread (``trio.to_thread``), never in the event loop.
- A write that fails (display unplugged, bus error) raises the DISPLAY fault once, and
  the device is opened again with back-off until a write succeeds, which clears it.
  What should be shown is kept meanwhile and written as soon as it can be.

Pillow, luma.core and luma.oled are imported only when a display is built, so a
charger without one never loads them (``pip install ocppd[display]``, or Debian's
python3-luma.oled, python3-luma.core and python3-pil).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import trio

from hal.base import DeviceError, EventSink, Fault, FaultKind
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch

log = logging.getLogger(__name__)

CHAR_W, LINE_H = 6, 10  # Pillow's built-in bitmap font: 6 px a character, 10 px a line
BIG = 2  # the figure line is drawn at this scale


class Level(StrEnum):
    """How bright the display is: on, dimmed (low contrast), or blank (panel off)."""

    ON = "on"
    DIM = "dim"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Page:
    """What one screen says, as text. ``text()`` is the text model of the drawn image
    (``ocppctl screen`` prints it; tests read it)."""

    title: str = ""
    corner: str = ""  # a short mark top right ("offline", "1/2")
    big: str = ""  # one figure in double size ("7.4 kW")
    lines: tuple[str, ...] = ()
    qr: str | None = None  # a QR code of this text, on the right half

    def text(self) -> str:
        out = [f"{self.title}  [{self.corner}]" if self.corner else self.title]
        if self.big:
            out.append(f"** {self.big} **")
        out.extend(self.lines)
        if self.qr:
            out.append(f"[QR: {self.qr}]")
        return "\n".join(out)


BLANK_PAGE = Page()


class Display(Protocol):
    """A display: ``show`` a page, ``set_level`` (on, dim, off); ``run`` writes them."""

    name: str
    size: tuple[int, int]

    @property
    def page(self) -> Page: ...

    @property
    def level(self) -> Level: ...

    def show(self, page: Page) -> None: ...

    def set_level(self, level: Level) -> None: ...

    def png(self) -> bytes:
        """What the panel shows, as a PNG image."""
        ...

    async def run(self, sink: EventSink) -> None: ...

    async def aclose(self) -> None: ...


def wrap(text: str, cols: int) -> list[str]:
    """``text`` in lines of at most ``cols`` characters, broken between words where it can."""
    out: list[str] = []
    line = ""
    for whole in text.split():
        word = whole
        while len(word) > cols:  # a word longer than a line is cut into pieces
            if line:
                out.append(line)
                line = ""
            out.append(word[:cols])
            word = word[cols:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= cols:
            line += " " + word
        else:
            out.append(line)
            line = word
    if line or not out:
        out.append(line)
    return out


def drawable(text: str) -> str:
    """``text`` as the built-in bitmap font can draw it: it has Latin-1 glyphs only (Pillow
    raises on anything else), so every other character, and every control character
    (a newline or tab included), becomes "?" or a space. A page may carry text the central
    system wrote (2.0.1 display messages): it must never stop the screen."""
    out = []
    for ch in text:
        if ch in "\t\n\r":
            out.append(" ")
        elif ord(ch) > 0xFF or not ch.isprintable():
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def render(page: Page, size: tuple[int, int]) -> Any:
    """The page as a 1-bit Pillow image of ``size`` (width, height), in the layout above.

    Lines too long are wrapped between words; lines below the bottom are dropped. With a
    QR code the text keeps to the left of it and the figure is drawn small. Imports
    Pillow (and qrcode for a page with a QR code).
    """
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    image = Image.new("1", size, 0)
    draw = ImageDraw.Draw(image)
    font = getattr(ImageFont, "load_default_imagefont", ImageFont.load_default)()
    text_w = width
    if page.qr:
        side = min(width // 2, height)
        image.paste(qr_image(page.qr, side), (width - side, (height - side) // 2))
        text_w = width - side - 2
    cols = max(1, text_w // CHAR_W)
    corner = drawable(page.corner[:cols])
    title = drawable(page.title)
    draw.text(
        (0, 0), title[: max(0, cols - len(corner) - 1) if corner else cols], font=font, fill=1
    )
    if corner:
        draw.text((text_w - len(corner) * CHAR_W, 0), corner, font=font, fill=1)
    draw.line((0, LINE_H, text_w - 1, LINE_H), fill=1)
    y = LINE_H + 2
    lines = [wrapped for line in page.lines for wrapped in wrap(drawable(line), cols)]
    big = drawable(page.big)
    if big and not page.qr:
        small = Image.new("1", (text_w // BIG, LINE_H), 0)
        ImageDraw.Draw(small).text((0, 0), big[: cols // BIG], font=font, fill=1)
        scaled = small.resize((small.width * BIG, LINE_H * BIG), Image.Resampling.NEAREST)
        image.paste(scaled, (0, y))
        y += LINE_H * BIG + 1
    elif big:
        lines[:0] = wrap(big, cols)
    for line in lines:
        if y + LINE_H - 1 > height:
            break
        draw.text((0, y), line, font=font, fill=1)
        y += LINE_H
    return image


def qr_image(text: str, side: int) -> Any:
    """A QR code of ``text`` as a 1-bit image of ``side`` x ``side`` (white on black)."""
    import qrcode
    from PIL import Image, ImageOps

    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    scale = max(1, side // n)
    small = Image.new("1", (n, n), 0)
    small.putdata([0 if cell else 1 for row in matrix for cell in row])
    big = small.resize((n * scale, n * scale), Image.Resampling.NEAREST)
    out = Image.new("1", (side, side), 0)
    out.paste(ImageOps.fit(big, (min(side, big.width), min(side, big.height))), (0, 0))
    return out


def png_of(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- the device --------------------------------------------------------------------------


Opener = Callable[[], Any]
"""Opens the luma device (blocking: it initialises the panel over I2C)."""


class LumaDisplay:
    """A display drawn through luma: a real OLED (``threaded``: I2C in a worker thread) or
    :class:`MemoryPanel` (the sim driver).

    ``show(page)`` and ``set_level(level)`` return at once; ``run`` writes what changed.
    ``image`` is the last frame written (what the panel shows, also while it is blank).
    """

    def __init__(
        self,
        name: str,
        opener: Opener,
        size: tuple[int, int],
        *,
        contrast: int = 255,
        dim_contrast: int = 16,
        threaded: bool = True,
        min_interval_s: float = 0.25,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.size = size
        self.contrast = contrast
        self.dim_contrast = dim_contrast
        self.min_interval_s = min_interval_s
        self.writes = 0  # frames written to the panel (tests, repr)
        self.image: Any = None
        self._opener = opener
        self._threaded = threaded
        self._device: Any = None
        self._page = BLANK_PAGE
        self._level = Level.ON
        self._written: tuple[Page, Level] | None = None
        self._faults = FaultLatch()
        self._backoff = backoff or Backoff(1.0, 60.0)
        self._wanted = trio.Event()

    def __repr__(self) -> str:
        return (
            f"<LumaDisplay {self.name} {self.size[0]}x{self.size[1]} {self._level} "
            f"writes={self.writes} {self._faults!r} page={self._page.title!r}>"
        )

    @property
    def page(self) -> Page:
        return self._page

    @property
    def level(self) -> Level:
        return self._level

    @property
    def faulted(self) -> bool:
        return self._faults.active(FaultKind.DISPLAY)

    def show(self, page: Page) -> None:
        """Show ``page`` (written by ``run`` soon; the same page again changes nothing)."""
        if page != self._page:
            self._page = page
            self._wanted.set()

    def set_level(self, level: Level) -> None:
        if level is not self._level:
            self._level = level
            self._wanted.set()

    def png(self) -> bytes:
        """The frame the panel shows, as PNG (the wanted page when nothing was written yet)."""
        return png_of(self.image if self.image is not None else render(self._page, self.size))

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        try:
            while True:
                if self._written == (self._page, self._level):
                    await self._wanted.wait()
                self._wanted = trio.Event()
                if await self._write():
                    await trio.sleep(self.min_interval_s)  # rate limit: a burst is one write
                else:
                    await trio.sleep(self._backoff.next_delay())
        finally:
            self._faults.detach(sink)

    async def _write(self) -> bool:
        """Write the wanted page and level; False (fault raised) when the panel failed."""
        page, level = self._page, self._level
        try:
            image = render(page, self.size)  # Pillow missing: a fault like a missing panel
            await self._call(self._put, image, level)
        except Exception as exc:  # smbus2 raises OSError; luma its own errors; all one fault
            self._failed(exc)
            return False
        self.image = image
        self.writes += 1
        self._written = (page, level)
        self._backoff.reset()
        if self._faults.active(FaultKind.DISPLAY):
            log.info("%s: display answers again", self.name)
            self._faults.clear_fault(FaultKind.DISPLAY)
        return True

    def _put(self, image: Any, level: Level) -> None:  # worker thread (or inline for the sim)
        if self._device is None:
            self._device = self._opener()
            self._written = None
        device = self._device
        device.display(image)
        if level is Level.OFF:
            device.hide()
        else:
            device.contrast(self.contrast if level is Level.ON else self.dim_contrast)
            device.show()

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._threaded:
            return await trio.to_thread.run_sync(fn, *args)
        await trio.lowlevel.checkpoint()
        return fn(*args)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ImportError):
            exc = DeviceError(_missing(exc))
        device, self._device = self._device, None  # opened again on the next attempt
        if device is not None:
            _cleanup_quietly(device)
        reason = f"{type(exc).__name__}: {exc}"
        if not self._faults.active(FaultKind.DISPLAY):
            log.warning("%s: write failed (%s); retrying with back-off", self.name, reason)
        self._faults.raise_fault(Fault(FaultKind.DISPLAY, "display does not answer"))

    async def aclose(self) -> None:
        """Blank the panel (OLED burn-in) and let the bus go. Never raises."""
        device, self._device = self._device, None
        if device is None:
            return
        with trio.CancelScope(shield=True):
            try:
                await self._call(_cleanup_quietly, device)
            except Exception:
                log.exception("%s: closing failed", self.name)


def _cleanup_quietly(device: Any) -> None:
    try:
        device.cleanup()
    except Exception as exc:  # a panel that is gone cannot be blanked
        log.debug("display cleanup failed: %s", exc)


# --- drivers -----------------------------------------------------------------------------


def _min_interval(options: Mapping[str, Any]) -> float:
    return float(options.get("min_interval_s", 0.25))


class MemoryPanel:
    """A panel in memory, for the sim driver: it keeps the frame it is given, as luma.core's
    ``dummy`` device does (tests/hal/test_display.py checks they agree), without loading
    luma (4.5 MB a charger with a simulated display need not carry)."""

    def __init__(self, contrast: int = 255) -> None:
        self.frame: Any = None
        self.on = True
        self.contrast_level = contrast

    def display(self, image: Any) -> None:
        self.frame = image.copy()

    def show(self) -> None:
        self.on = True

    def hide(self) -> None:
        self.on = False

    def contrast(self, level: int) -> None:
        self.contrast_level = level

    def cleanup(self) -> None:
        self.on = False

    def __repr__(self) -> str:
        return f"<MemoryPanel on={self.on} contrast={self.contrast_level}>"


def sim_display(options: Mapping[str, Any], context: DeviceContext) -> LumaDisplay:
    """A display in memory: the frames a panel would get, no hardware (needs Pillow)."""
    width, height = int(options.get("width", 128)), int(options.get("height", 64))
    rotation = int(options.get("rotation", 0)) // 90
    size = (height, width) if rotation % 2 else (width, height)
    return LumaDisplay(
        context.name,
        MemoryPanel,
        size,
        contrast=int(options.get("contrast", 255)),
        threaded=False,
        min_interval_s=_min_interval(options),
    )


def _oled(model: str) -> Callable[[Mapping[str, Any], DeviceContext], LumaDisplay]:
    def factory(options: Mapping[str, Any], context: DeviceContext) -> LumaDisplay:
        bus, address = int(options.get("i2c_bus", 1)), int(options.get("i2c_address", 0x3C))
        width, height = int(options.get("width", 128)), int(options.get("height", 64))
        rotation = int(options.get("rotation", 0)) // 90

        def opener() -> Any:
            """Imported here, in the worker thread: a missing library is a DISPLAY fault (the
            log says which package), retried like a missing panel; charging goes on."""
            try:
                from luma.core.interface.serial import i2c
                from luma.oled import device as oled
            except ImportError as exc:
                raise DeviceError(_missing(exc)) from exc
            cls = getattr(oled, model)
            return cls(i2c(port=bus, address=address), width=width, height=height, rotate=rotation)

        size = (height, width) if rotation % 2 else (width, height)
        return LumaDisplay(
            context.name,
            opener,
            size,
            contrast=int(options.get("contrast", 255)),
            min_interval_s=_min_interval(options),
        )

    return factory


ssd1306_display = _oled("ssd1306")
sh1106_display = _oled("sh1106")


def _missing(exc: ImportError) -> str:
    return (
        f"the display needs Pillow and luma.oled ({exc}); install python3-luma.oled "
        "python3-pil (Debian) or `pip install ocppd[display]`"
    )


__all__ = [
    "BLANK_PAGE",
    "Display",
    "Level",
    "LumaDisplay",
    "MemoryPanel",
    "Page",
    "png_of",
    "qr_image",
    "render",
    "sh1106_display",
    "sim_display",
    "ssd1306_display",
    "wrap",
]
