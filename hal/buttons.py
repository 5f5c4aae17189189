"""Push buttons beside the display on GPIO: ``stop`` and ``info`` (gpiozero ``Button``,
debounced). The simulated ones are ``hal.sim.SimButtons``.

Each press is reported once as :class:`~hal.base.ButtonPressed` with the button's name;
what a press means (stop after a confirming press, cycle the info screens) is the
charger logic's business. gpiozero calls back from its own thread (lgpio) or, with
``MockFactory``, from whoever drives the pin: the press enters trio through
``TrioToken.run_sync_soon``, which works from both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import gpiozero
import trio

from hal.base import BUTTONS, ButtonPressed, EventSink
from hal.context import DeviceContext
from hal.gpio import claim, close_quietly

log = logging.getLogger(__name__)


class GpioButtons:
    """``stop_pin`` and ``info_pin`` (either may be left out), contacts to ground by
    default (internal pull-up), ``bounce_s`` of debouncing."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        self.name = context.name
        self.presses = 0
        pull_up = {"up": True, "down": False}[options.get("pull", "up")]
        bounce = float(options.get("bounce_s", 0.05)) or None
        wanted = [
            (b, options.get(f"{b}_pin")) for b in BUTTONS if options.get(f"{b}_pin") is not None
        ]
        opened = claim(
            self.name,
            *(
                (lambda pin=pin: gpiozero.Button(pin, pull_up=pull_up, bounce_time=bounce))
                for _, pin in wanted
            ),
        )
        self._buttons: dict[str, Any] = {b: dev for (b, _), dev in zip(wanted, opened, strict=True)}
        self._token: trio.lowlevel.TrioToken | None = None
        self._sink: EventSink | None = None
        for button, device in self._buttons.items():
            device.when_pressed = lambda _device=None, button=button: self._pressed(button)

    def _pressed(self, button: str) -> None:  # any thread
        token, sink = self._token, self._sink
        if token is None or sink is None:
            return
        try:
            token.run_sync_soon(self._report, sink, button)
        except trio.RunFinishedError:
            pass

    def _report(self, sink: EventSink, button: str) -> None:
        self.presses += 1
        log.debug("%s: %s pressed", self.name, button)
        sink.report(ButtonPressed(button))

    async def run(self, sink: EventSink) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._sink = sink
        try:
            await trio.sleep_forever()
        finally:
            self._sink = None

    async def aclose(self) -> None:
        self.release()

    def release(self) -> None:
        for device in self._buttons.values():
            close_quietly(device)

    def __repr__(self) -> str:
        return f"<GpioButtons {self.name} {sorted(self._buttons)} presses={self.presses}>"
