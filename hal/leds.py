"""Status LEDs of one connector on GPIO: one LED, two (green + red) or an RGB LED.

What each state looks like is the table :data:`PATTERNS` (documented in docs/hardware.md).
A pattern is a loop of steps (colour, seconds); a one-step pattern is steady and costs no
wake-ups. ``show(state, online=False)`` appends three quick red flashes to every loop:
"the central system is unreachable", distinct from every state pattern. The patterns are
played by a trio task in ``run``, not by gpiozero's blink threads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gpiozero
import trio

from hal.base import DeviceError, EventSink, IndicatorState
from hal.context import DeviceContext
from hal.gpio import claim, close_quietly
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)

Colour = frozenset[str]  # lit channels: "red", "green", "blue"
DARK: Colour = frozenset()
GREEN: Colour = frozenset({"green"})
RED: Colour = frozenset({"red"})
BLUE: Colour = frozenset({"blue"})
CYAN: Colour = frozenset({"green", "blue"})
YELLOW: Colour = frozenset({"green", "red"})

Step = tuple[Colour, float]


@dataclass(frozen=True, slots=True)
class Pattern:
    """Steps for colour LEDs; ``single`` overrides them for a one-LED indicator."""

    steps: tuple[Step, ...]
    single: tuple[Step, ...] | None = None


PATTERNS: Mapping[IndicatorState, Pattern] = {
    IndicatorState.AVAILABLE: Pattern(((GREEN, 2.0),)),
    IndicatorState.PREPARING: Pattern(((CYAN, 0.5), (DARK, 0.5))),
    IndicatorState.CHARGING: Pattern(((BLUE, 1.5), (DARK, 0.5))),
    IndicatorState.SUSPENDED: Pattern(((BLUE, 0.2), (DARK, 1.8))),
    IndicatorState.FINISHING: Pattern(((CYAN, 0.2), (DARK, 0.2), (CYAN, 0.2), (DARK, 1.4))),
    IndicatorState.RESERVED: Pattern(((YELLOW, 1.0), (DARK, 0.3), (YELLOW, 0.3), (DARK, 0.4))),
    IndicatorState.FAULTED: Pattern(((RED, 0.25), (DARK, 0.25))),
    IndicatorState.UNAVAILABLE: Pattern(((RED, 2.0),), single=((RED, 0.1), (DARK, 3.9))),
    IndicatorState.REFUSED: Pattern(((RED, 0.1), (DARK, 0.1))),
    IndicatorState.OFF: Pattern(((DARK, 2.0),)),
}

OFFLINE_TAIL: tuple[Step, ...] = (
    (DARK, 0.3),
    (RED, 0.1),
    (DARK, 0.1),
    (RED, 0.1),
    (DARK, 0.1),
    (RED, 0.1),
    (DARK, 0.5),
)


def steps_for(state: IndicatorState, *, online: bool, single: bool) -> tuple[Step, ...]:
    """The loop to play for ``state``: the table's steps, plus the offline flashes."""
    pattern = PATTERNS[state]
    steps = pattern.single if single and pattern.single is not None else pattern.steps
    return steps if online else steps + OFFLINE_TAIL


class GpioIndicator:
    """One LED (``pin``), a green + red pair (``green_pin``, ``red_pin``) or an RGB LED
    (``red_pin``, ``green_pin``, ``blue_pin``). On a two-LED indicator blue shows as green."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.INDICATOR, "gpio", options)
        self.name = context.name
        pins = {c: options[f"{c}_pin"] for c in ("red", "green", "blue")}
        given = {c for c, p in pins.items() if p is not None}
        if options["pin"] is not None and not given:
            channels = {"single": options["pin"]}
        elif options["pin"] is None and given in ({"red", "green"}, {"red", "green", "blue"}):
            channels = {c: pins[c] for c in sorted(given)}
        else:
            raise DeviceError(
                f"{self.name}: set pin (one LED), or red_pin and green_pin (two LEDs), "
                "or red_pin, green_pin and blue_pin (RGB)"
            )
        names = list(channels)
        opened = claim(
            self.name,
            *(
                (
                    lambda p=p: gpiozero.LED(
                        p, active_high=options["active_high"], initial_value=False
                    )
                )
                for p in channels.values()
            ),
        )
        self._leds: dict[str, Any] = dict(zip(names, opened, strict=True))
        self._single = "single" in self._leds
        self._dual = not self._single and "blue" not in self._leds
        self._state = IndicatorState.OFF
        self._online = True
        self._changed = trio.Event()
        self._steps = steps_for(self._state, online=True, single=self._single)

    @property
    def shown(self) -> tuple[IndicatorState, bool]:
        return self._state, self._online

    def show(self, state: IndicatorState, *, online: bool = True) -> None:
        if (state, online) == (self._state, self._online):
            return
        self._state, self._online = state, online
        self._steps = steps_for(state, online=online, single=self._single)
        self._light(self._steps[0][0])
        self._changed.set()

    def _light(self, colour: Colour) -> None:
        if self._single:
            self._leds["single"].value = bool(colour)
            return
        if self._dual and "blue" in colour:
            colour = colour - {"blue"} | {"green"}
        for channel, led in self._leds.items():
            led.value = channel in colour

    async def run(self, sink: EventSink) -> None:
        while True:
            self._changed = trio.Event()
            steps = self._steps
            if len(steps) == 1:
                self._light(steps[0][0])
                await self._changed.wait()
                continue
            while not self._changed.is_set():
                for colour, seconds in steps:
                    self._light(colour)
                    with trio.move_on_after(seconds):
                        await self._changed.wait()
                    if self._changed.is_set():
                        break

    async def aclose(self) -> None:
        self.release()

    def release(self) -> None:
        for led in self._leds.values():
            if not led.closed:
                try:
                    led.off()
                except Exception:
                    log.exception("%s: switching off failed", self.name)
            close_quietly(led)

    def __repr__(self) -> str:
        return (
            f"<GpioIndicator {self.name} {self._state} online={self._online} {sorted(self._leds)}>"
        )
