"""GPIO drivers on gpiozero: contactor relay (with optional auxiliary-contact feedback), plug inputs
and a cable-lock actuator.

Pins are claimed in the constructor (a contactor output must be driven open as early as
possible, and a pin claimed twice is a wiring mistake the installer must see at start);
everything that waits happens in ``run`` and in the async commands. gpiozero calls edge
callbacks from its own thread (lgpio) or synchronously from whoever drives the pin
(``MockFactory`` in tests): :class:`Edges` enters trio with ``TrioToken.run_sync_soon``,
which works from both. Any pin factory works; on Raspberry Pi OS bookworm that is lgpio
(``GPIOZERO_PIN_FACTORY=lgpio``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import gpiozero
import trio

from hal.base import (
    DeviceError,
    EventSink,
    Fault,
    FaultKind,
    PlugChanged,
    PlugState,
)
from hal.context import DeviceContext
from hal.health import Backoff, FaultLatch
from hal.registry import DeviceKind, with_defaults

log = logging.getLogger(__name__)


# --- pins ------------------------------------------------------------------------------------


def _pull_arg(pull: str) -> bool | None:
    return {"up": True, "down": False, "off": None}[pull]


class Input:
    """One digital input with a logical sense: ``active`` is True when the pin level equals
    ``active_high`` (so pull-ups and active-low contacts are configured, not coded)."""

    def __init__(self, pin: int | str, *, active_high: bool, pull: str) -> None:
        pull_up = _pull_arg(pull)
        self.active_high = active_high
        self.device = gpiozero.DigitalInputDevice(
            pin, pull_up=pull_up, active_state=True if pull_up is None else None
        )

    @property
    def active(self) -> bool:
        return bool(self.device.pin.state) == self.active_high

    def close(self) -> None:
        self.device.close()


class Edges:
    """Edges of some inputs, turned into a trio wake-up. Any number of tasks may ``wait()``;
    each wakes on the next edge after it started waiting and then re-reads the pins."""

    def __init__(self) -> None:
        self._event = trio.Event()
        self._token: trio.lowlevel.TrioToken | None = None

    def watch(self, device: Any) -> None:
        device.when_activated = self._edge
        device.when_deactivated = self._edge

    def bind(self) -> None:
        """Called from the trio thread before waiting: edges before this are not needed, the
        waiter reads the pins first."""
        self._token = trio.lowlevel.current_trio_token()

    def _edge(self) -> None:  # any thread
        token = self._token
        if token is None:
            return
        try:
            token.run_sync_soon(self.poke)
        except trio.RunFinishedError:
            pass

    def poke(self) -> None:
        """Wake every waiter (trio thread only): something else than a pin changed."""
        event, self._event = self._event, trio.Event()
        event.set()

    async def wait(self) -> None:
        await self._event.wait()

    async def settle(self, quiet_s: float) -> None:
        """Return once no edge came for ``quiet_s`` (debounce)."""
        while True:
            with trio.move_on_after(quiet_s) as scope:
                await self.wait()
            if scope.cancelled_caught:
                return


def claim(what: str, *openers: Callable[[], Any]) -> list[Any]:
    """Open several pins; if one fails, close the ones already open and raise DeviceError."""
    opened: list[Any] = []
    try:
        for open_one in openers:
            opened.append(open_one())
    except Exception as exc:  # gpiozero raises GPIOZeroError subclasses, lgpio its own errors
        for device in reversed(opened):
            close_quietly(device)
        raise DeviceError(f"{what}: cannot claim GPIO: {type(exc).__name__}: {exc}") from exc
    return opened


def close_quietly(device: Any) -> None:
    if device is None:
        return
    try:
        device.close()
    except Exception:  # closing must go on for the other pins
        log.exception("closing %r failed", device)


def _input_of(options: Mapping[str, Any], prefix: str) -> Callable[[], Input]:
    return lambda: Input(
        options[f"{prefix}pin"],
        active_high=options[f"{prefix}active_high"],
        pull=options[f"{prefix}pull"],
    )


# --- contactor ----------------------------------------------------------------------------


class GpioContactor:
    """A relay output driving the contactor coil, open at start and on close.

    With ``feedback_pin`` (the contactor's auxiliary contact) every command is confirmed
    within ``feedback_timeout_s``: a contact that does not close raises POWER_SWITCH, the
    output goes off and ``set_closed`` raises DeviceError; a contact that stays closed
    while commanded open (welded) raises POWER_SWITCH until it opens. A failed close clears
    itself after a back-off hold (10 s doubling to 5 min) so the logic may try again.
    """

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.CONTACTOR, "gpio", options)
        self.name = context.name
        self._timeout_s: float = options["feedback_timeout_s"]
        self._commanded = False
        self._faults = FaultLatch()
        self._edges = Edges()
        self._busy = False  # a command is waiting for its feedback
        self._clear_at: float | None = None  # when a failed close stops blocking
        self._hold = Backoff(10.0, 300.0, jitter=0.0)
        has_feedback = options["feedback_pin"] is not None
        opened = claim(
            self.name,
            lambda: gpiozero.DigitalOutputDevice(
                options["pin"], active_high=options["active_high"], initial_value=False
            ),
            *([_input_of(options, "feedback_")] if has_feedback else []),
        )
        self._out = opened[0]
        self._feedback: Input | None = opened[1] if has_feedback else None
        if self._feedback is not None:
            self._edges.watch(self._feedback.device)

    @property
    def closed(self) -> bool:
        return self._commanded

    @property
    def contact_closed(self) -> bool | None:
        """What the auxiliary contact says, None without feedback."""
        return None if self._feedback is None else self._feedback.active

    async def set_closed(self, closed: bool) -> None:
        self._busy = True
        try:
            self._commanded = closed
            if closed:
                self._out.on()
            else:
                self._out.off()
            if self._feedback is None:
                return
            self._edges.bind()
            with trio.move_on_after(self._timeout_s):
                while self._feedback.active != closed:
                    await self._edges.wait()
            if self._feedback.active == closed:
                if closed:
                    self._hold.reset()
                return
            self._mismatch(closed)
            state = "close" if closed else "open (welded?)"
            raise DeviceError(f"{self.name}: contact did not {state} within {self._timeout_s} s")
        finally:
            self._busy = False
            self._edges.poke()  # the watch task re-evaluates (and schedules the fault's end)

    def _mismatch(self, commanded: bool) -> None:
        """Feedback disagrees with the command for longer than the timeout."""
        if commanded:
            self._out.off()
            self._commanded = False
            self._clear_at = trio.current_time() + self._hold.next_delay()
            info = "contactor did not close"
        else:
            info = "contactor welded: closed while commanded open"
        if not self._faults.active(FaultKind.POWER_SWITCH):
            log.error("%s: %s", self.name, info)
        self._faults.raise_fault(Fault(FaultKind.POWER_SWITCH, info))

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        try:
            if self._feedback is None:
                await trio.sleep_forever()
            self._edges.bind()
            await self._watch(self._feedback)
        finally:
            self._faults.detach(sink)

    async def _watch(self, feedback: Input) -> None:
        mismatch_since: float | None = None
        acted = False  # this mismatch has been reported already
        while True:
            now = trio.current_time()
            deadline = float("inf")
            if self._busy:  # the command confirms its own feedback
                mismatch_since, acted = None, False
            elif feedback.active != self._commanded:
                mismatch_since = now if mismatch_since is None else mismatch_since
                due = mismatch_since + self._timeout_s  # compared as computed: no float drift
                if now < due:
                    deadline = due
                elif not acted:
                    acted = True
                    self._mismatch(self._commanded)
                    continue
            else:
                mismatch_since, acted = None, False
                fault = self._faults.get(FaultKind.POWER_SWITCH)
                if fault is not None and (self._clear_at is None or now >= self._clear_at):
                    self._clear_at = None
                    self._faults.clear_fault(FaultKind.POWER_SWITCH)
                elif fault is not None and self._clear_at is not None:
                    deadline = self._clear_at
            with trio.move_on_at(deadline):
                await self._edges.wait()
                if not self._busy:
                    await self._edges.settle(min(0.05, self._timeout_s / 4))

    async def aclose(self) -> None:
        self.release()

    def release(self) -> None:
        """Output off, pins released (the relay board must keep the contactor open on a
        floating input). Idempotent; used by ``aclose`` and by ``build_hardware``."""
        self._commanded = False
        if self._out.closed:
            return
        try:
            self._out.off()
        except Exception:  # still release the pin below
            log.exception("%s: switching off failed", self.name)
        close_quietly(self._out)
        close_quietly(self._feedback)

    def __repr__(self) -> str:
        return (
            f"<GpioContactor {self.name} closed={self._commanded} "
            f"contact={self.contact_closed} {self._faults!r}>"
        )


# --- plug -----------------------------------------------------------------------------------


class GpioPlug:
    """EV connected (``pin``) and, optionally, EV requesting energy (``requesting_pin``),
    debounced: a change is reported once the inputs were quiet for ``debounce_s``."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.PLUG, "gpio", options)
        self.name = context.name
        self._debounce_s: float = options["debounce_s"]
        self._edges = Edges()
        has_requesting = options["requesting_pin"] is not None
        opened = claim(
            self.name,
            _input_of(options, ""),
            *([_input_of(options, "requesting_")] if has_requesting else []),
        )
        self._plugged_in: Input = opened[0]
        self._requesting: Input | None = opened[1] if has_requesting else None
        for pin in opened:
            self._edges.watch(pin.device)
        self._state = self._read()

    def _read(self) -> PlugState:
        plugged = self._plugged_in.active
        requesting = plugged if self._requesting is None else self._requesting.active
        return PlugState(plugged=plugged, ev_requesting=plugged and requesting)

    @property
    def state(self) -> PlugState:
        return self._state

    async def run(self, sink: EventSink) -> None:
        self._edges.bind()
        self._state = self._read()
        sink.report(PlugChanged(self._state))
        while True:
            await self._edges.wait()
            await self._edges.settle(self._debounce_s)
            state = self._read()
            if state != self._state:
                self._state = state
                log.info("%s: %s", self.name, state)
                sink.report(PlugChanged(state))

    async def aclose(self) -> None:
        self.release()

    def release(self) -> None:
        close_quietly(self._plugged_in)
        close_quietly(self._requesting)

    def __repr__(self) -> str:
        return f"<GpioPlug {self.name} {self._state}>"


# --- connector lock --------------------------------------------------------------------------


class GpioLock:
    """A cable-lock actuator: either a level output (``pin``: active = locked) or a motor
    driven by pulses (``lock_pin`` / ``unlock_pin`` for ``pulse_s``). With ``feedback_pin``
    (active = locked) a command not confirmed within ``feedback_timeout_s`` raises
    CONNECTOR_LOCK (did not lock) or CONNECTOR_UNLOCK (did not release) and DeviceError;
    the fault clears when the feedback agrees again."""

    def __init__(self, options: Mapping[str, Any], context: DeviceContext) -> None:
        options = with_defaults(DeviceKind.LOCK, "gpio", options)
        self.name = context.name
        self._pulse_s: float = options["pulse_s"]
        self._timeout_s: float = options["feedback_timeout_s"]
        self._faults = FaultLatch()
        self._edges = Edges()
        self._locked = False
        self._wanted: bool | None = None
        level, lock_pin, unlock_pin = options["pin"], options["lock_pin"], options["unlock_pin"]
        if (level is None) == (lock_pin is None or unlock_pin is None):
            raise DeviceError(
                f"{self.name}: set either pin (level actuator) or lock_pin and unlock_pin "
                "(pulsed motor), not both"
            )

        def output(pin: int | str) -> Callable[[], Any]:
            return lambda: gpiozero.DigitalOutputDevice(
                pin, active_high=options["active_high"], initial_value=False
            )

        outputs = [output(level)] if level is not None else [output(lock_pin), output(unlock_pin)]
        has_feedback = options["feedback_pin"] is not None
        opened = claim(
            self.name, *outputs, *([_input_of(options, "feedback_")] if has_feedback else [])
        )
        self._outputs = opened[: len(outputs)]
        self._feedback: Input | None = opened[-1] if has_feedback else None
        if self._feedback is not None:
            self._edges.watch(self._feedback.device)
            self._locked = self._feedback.active

    @property
    def locked(self) -> bool:
        return self._locked

    async def lock(self) -> None:
        await self._move(True)

    async def unlock(self) -> None:
        await self._move(False)

    async def _move(self, locked: bool) -> None:
        self._edges.bind()
        self._wanted = locked
        if len(self._outputs) == 1:
            self._outputs[0].value = locked
        else:
            pulse = self._outputs[0 if locked else 1]
            pulse.on()
            try:
                await trio.sleep(self._pulse_s)
            finally:
                pulse.off()
        if self._feedback is None:
            self._locked = locked
            return
        with trio.move_on_after(self._timeout_s):
            while self._feedback.active != locked:
                await self._edges.wait()
        self._locked = self._feedback.active
        if self._locked == locked:
            self._agreed()
            return
        what = "lock" if locked else "unlock"
        kind = FaultKind.CONNECTOR_LOCK if locked else FaultKind.CONNECTOR_UNLOCK
        self._faults.raise_fault(Fault(kind, f"cable lock did not {what}"))
        raise DeviceError(f"{self.name}: feedback did not confirm {what} in {self._timeout_s} s")

    async def run(self, sink: EventSink) -> None:
        self._faults.attach(sink)
        try:
            if self._feedback is None:
                await trio.sleep_forever()
            self._edges.bind()
            while True:
                await self._edges.wait()
                await self._edges.settle(0.05)
                self._locked = self._feedback.active
                if self._locked == self._wanted:
                    # a stuck lock reached the commanded position late (or was freed by hand)
                    self._agreed()
        finally:
            self._faults.detach(sink)

    def _agreed(self) -> None:
        self._faults.clear_fault(FaultKind.CONNECTOR_LOCK)
        self._faults.clear_fault(FaultKind.CONNECTOR_UNLOCK)

    async def aclose(self) -> None:
        self.release()

    def release(self) -> None:
        for device in self._outputs:
            if len(self._outputs) > 1 and not device.closed:  # never leave a motor powered
                try:
                    device.off()
                except Exception:
                    log.exception("%s: switching off failed", self.name)
            close_quietly(device)
        close_quietly(self._feedback)

    def __repr__(self) -> str:
        return f"<GpioLock {self.name} locked={self._locked} {self._faults!r}>"
