"""The physical world as the charger logic sees it: narrow device interfaces and their events.

Every device is an object a driver builds from its options. Devices that watch
something (a plug input, a meter's health, an RFID reader) do it in ``run(sink)``,
a task owned by the caller's nursery, and report what they see as events through
``sink.report(event)``, which never blocks. Commands (close the contactor, unlock,
offer a current, show an LED pattern) are methods. ``aclose()`` puts the device in
its safe state (outputs de-energised) and never raises.

Drivers turn their library's errors into :class:`DeviceError`; a device that is
unplugged or stops answering reports a :class:`FaultRaised`, retries with back-off
and reports :class:`FaultCleared` when it answers again. Nothing in this package
knows OCPP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class DeviceError(Exception):
    """A device could not do what was asked (timeout, no answer, bad reading, feedback mismatch)."""


class DeviceUnavailable(DeviceError):
    """The device is absent or does not answer (unplugged reader, silent meter, closed port)."""


class HardwareError(DeviceError):
    """The charger's hardware could not be set up: ``device`` names which, ``reason`` why
    (for example a GPIO pin already in use). Devices built before the failure are safe."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason


class FaultKind(StrEnum):
    """What a device can report as wrong: physical facts, no policy. The charger logic decides
    what each means for charging and maps it to its protocol's codes."""

    POWER_METER = "power-meter"  # the meter does not answer or reads nonsense
    READER = "reader"  # the RFID reader is gone
    POWER_SWITCH = "power-switch"  # contactor feedback does not follow the command (or welded)
    CONNECTOR_LOCK = "connector-lock"  # the cable lock did not lock (feedback says unlocked)
    CONNECTOR_UNLOCK = "connector-unlock"  # the cable lock did not release (the cable is held)
    HIGH_TEMPERATURE = "high-temperature"  # at or above the trip temperature
    TEMPERATURE_DERATING = "temperature-derating"  # hot: the current is reduced
    TEMPERATURE_SENSOR = "temperature-sensor"  # the temperature sensor cannot be read
    GROUND_FAILURE = "ground-failure"  # RCD / GFI tripped
    OVER_CURRENT = "over-current"
    OVER_VOLTAGE = "over-voltage"
    UNDER_VOLTAGE = "under-voltage"
    EV_COMMUNICATION = "ev-communication"  # pilot signal implausible, diode check failed
    CONTROLLER = "controller"  # an EVSE controller board reports a failure or stops answering
    STORAGE = "storage"  # the charger's own storage (where its journal lives) cannot be written
    DISPLAY = "display"  # the local display does not answer
    STORAGE_DAMAGE = "storage-damage"  # damaged journal records or files were found and set aside
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault as a device reports it.

    ``info`` is a short human text (at most 50 characters reach the central
    system); ``vendor_code`` an optional manufacturer code. Whether energy may
    flow while it lasts is not the device's call: the charger logic decides by
    ``kind`` (``ocppd/model/status.py``, SEVERITY).
    """

    kind: FaultKind
    info: str = ""
    vendor_code: str | None = None


@dataclass(frozen=True, slots=True)
class PlugState:
    """The vehicle side of one connector.

    ``plugged``: a cable connects an EV (IEC 61851 state B, C or D).
    ``ev_requesting``: the EV asks for energy (state C or D); False while it pauses.
    """

    plugged: bool = False
    ev_requesting: bool = False


UNPLUGGED = PlugState()


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One reading of an energy meter. Phase tuples are L1, L2, L3 (shorter for fewer phases).

    ``energy_wh`` is the meter's import register in Wh, raw (never rebased to zero).
    A quantity the meter cannot measure is ``None`` (or an empty tuple).
    """

    energy_wh: float
    power_w: float | None = None
    current_a: tuple[float, ...] = ()
    voltage_v: tuple[float, ...] = ()
    power_offered_w: float | None = None
    frequency_hz: float | None = None
    energy_export_wh: float | None = None
    temperature_c: float | None = None


class Quantity(StrEnum):
    """What a meter (or sensor) can measure; the charger logic maps these to measurands."""

    ENERGY_IMPORT = "energy-import"
    ENERGY_EXPORT = "energy-export"
    POWER = "power"
    CURRENT = "current"  # per phase
    VOLTAGE = "voltage"  # per phase
    FREQUENCY = "frequency"
    TEMPERATURE = "temperature"


# --- events a device reports ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlugChanged:
    state: PlugState


@dataclass(frozen=True, slots=True)
class TagRead:
    """An RFID tag was presented (once per presentation, not once per frame)."""

    id_tag: str


@dataclass(frozen=True, slots=True)
class FaultRaised:
    fault: Fault


@dataclass(frozen=True, slots=True)
class FaultCleared:
    kind: FaultKind


@dataclass(frozen=True, slots=True)
class ReadingTaken:
    """A fresh meter reading (drivers that poll report each one; the logic keeps the latest)."""

    reading: MeterReading


@dataclass(frozen=True, slots=True)
class CurrentAvailable:
    """The current one limit allows right now changed (cable rating, board limit, derating).

    Limits from different ``source``s combine: the charger offers the smallest.
    """

    amps: float
    source: str = "device"


BUTTONS = ("stop", "info")
"""The buttons a charger may have beside its display."""


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A push button was pressed (once per press, debounced). ``button`` is its name."""

    button: str


DeviceEvent = (
    PlugChanged
    | TagRead
    | FaultRaised
    | FaultCleared
    | ReadingTaken
    | CurrentAvailable
    | ButtonPressed
)


class EventSink(Protocol):
    """Where devices report. ``report`` never blocks and may be called only from the trio thread."""

    def report(self, event: DeviceEvent) -> None: ...


# --- devices -----------------------------------------------------------------------------


@runtime_checkable
class Device(Protocol):
    """What every device has: a name for logs and ``ocppctl``, a watch task and a safe close."""

    name: str

    async def run(self, sink: EventSink) -> None:
        """Watch the device and report events until cancelled. Must not return early on errors."""
        ...

    async def aclose(self) -> None:
        """Leave the hardware safe (outputs off) and release it. Never raises."""
        ...


@runtime_checkable
class Releasable(Protocol):
    """Optional: a device that claims hardware in its constructor (GPIO pins) also has a
    synchronous ``release()``: outputs safe, pins freed. ``build_hardware`` calls it on the
    devices already built when a later one fails (no event loop is needed). Never raises."""

    def release(self) -> None: ...


class Contactor(Device, Protocol):
    """The power switch between mains and the EV. Starts open."""

    @property
    def closed(self) -> bool:
        """The state last commanded (and confirmed by feedback where there is feedback)."""
        ...

    async def set_closed(self, closed: bool) -> None:
        """Close or open. DeviceError when feedback does not follow (the output is then off)."""
        ...


class PlugSensor(Device, Protocol):
    """Whether an EV is connected and asks for energy. Reports PlugChanged from ``run``."""

    @property
    def state(self) -> PlugState: ...


class EnergyMeter(Device, Protocol):
    """An energy meter. ``run`` watches its health (FaultRaised within 10 s of it going silent)."""

    @property
    def quantities(self) -> frozenset[Quantity]: ...

    @property
    def phases(self) -> int: ...

    async def read(self) -> MeterReading:
        """A fresh reading. Raises DeviceUnavailable when the meter does not answer in time."""
        ...


class RfidReader(Device, Protocol):
    """Reports TagRead from ``run``; owns resynchronisation, debouncing and reconnects."""


class ConnectorLock(Device, Protocol):
    """A cable lock actuator (optional)."""

    @property
    def locked(self) -> bool: ...

    async def lock(self) -> None:
        """Raises DeviceError when the feedback does not confirm."""
        ...

    async def unlock(self) -> None:
        """Raises DeviceError when the feedback does not confirm."""
        ...


class PowerOffer(Device, Protocol):
    """What current the EV may draw: a control-pilot PWM or an EVSE controller's setting."""

    async def offer(self, amps: float | None) -> None:
        """Offer ``amps`` (0 = EV must not draw; None = no offer, pilot steady / EV not allowed)."""
        ...


class IndicatorState(StrEnum):
    """What a status light can show."""

    AVAILABLE = "available"
    PREPARING = "preparing"
    CHARGING = "charging"
    SUSPENDED = "suspended"
    FINISHING = "finishing"
    RESERVED = "reserved"
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"  # shown for a few seconds: a tag or a start was refused
    OFF = "off"


class Indicator(Device, Protocol):
    """Status LEDs of one connector."""

    def show(self, state: IndicatorState, *, online: bool = True) -> None:
        """Show ``state``; ``online=False`` adds the "central system unreachable" pattern.
        Called again with what is already shown, it changes nothing (no restart of a blink).
        REFUSED, like every state, lasts until the next call: the charger logic shows the
        connector's status again after a few seconds."""
        ...


class TemperatureSensor(Device, Protocol):
    """A temperature sensor; ``run`` reports HIGH_TEMPERATURE faults and derating limits."""

    async def read(self) -> float:
        """Degrees Celsius. Raises DeviceUnavailable."""
        ...


@dataclass(slots=True)
class ConnectorDevices:
    """Everything wired to one connector. Optional devices are None when not configured."""

    connector_id: int
    contactor: Contactor
    plug: PlugSensor
    meter: EnergyMeter
    lock: ConnectorLock | None = None
    offer: PowerOffer | None = None
    indicator: Indicator | None = None
    temperature: TemperatureSensor | None = None
    extra: list[Device] = field(default_factory=list)

    def all(self) -> list[Device]:
        devices: list[Device | None] = [
            self.contactor,
            self.plug,
            self.meter,
            self.lock,
            self.offer,
            self.indicator,
            self.temperature,
            *self.extra,
        ]
        seen: list[Device] = []
        for device in devices:
            if device is not None and all(device is not other for other in seen):
                seen.append(device)
        return seen
