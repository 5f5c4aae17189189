"""Hardware abstraction for ocppd: device interfaces, drivers chosen by name, simulated devices.

Use :func:`build_hardware` with the configured device specs; it imports only the
driver modules the specs name and returns a :class:`Hardware` whose ``aclose()``
leaves every output safe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from hal.base import ConnectorDevices, Device, HardwareError, Releasable, RfidReader
from hal.context import DeviceContext, SharedResources
from hal.registry import DeviceKind, DeviceSpec, driver_for
from hal.sim import SimWorld

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """The devices configured for one connector, by kind."""

    connector_id: int
    devices: Mapping[DeviceKind, DeviceSpec]
    max_current_a: float = 32.0
    phases: int = 3


@dataclass
class Hardware:
    """All devices of the charger. ``sim`` holds the simulated world of every connector
    whose plug driver is ``sim`` (the ones ``ocppctl sim`` may drive)."""

    connectors: dict[int, ConnectorDevices]
    rfid: RfidReader | None
    sim: dict[int, SimWorld] = field(default_factory=dict)
    shared: SharedResources = field(default_factory=SharedResources)
    display: Any = None  # hal.display.Display, when [display] is configured
    buttons: Any = None  # hal.buttons.GpioButtons / SimButtons, when [buttons] is configured

    def devices(self) -> list[Device]:
        out: list[Device] = [d for c in self.connectors.values() for d in c.all()]
        out.extend(d for d in (self.rfid, self.display, self.buttons) if d is not None)
        return out

    async def aclose(self) -> None:
        """Make every output safe: contactors first, then everything else. Never raises."""
        with trio.CancelScope(shield=True):
            for c in self.connectors.values():
                await _close_quietly(c.contactor)
            for device in self.devices():
                await _close_quietly(device)
            for resource in self.shared.values():
                if hasattr(resource, "aclose"):
                    await _close_quietly(resource)

    def __repr__(self) -> str:
        return f"<Hardware connectors={sorted(self.connectors)} rfid={self.rfid!r}>"


async def _close_quietly(device: Any) -> None:
    try:
        await device.aclose()
    except Exception:  # a driver's aclose must not raise; if it does, keep closing the rest
        log.exception("closing %r failed", device)


def _build(spec: DeviceSpec, context: DeviceContext, built: list[Any]) -> Any:
    driver = driver_for(spec.kind, spec.driver)
    if driver is None:  # the config loader rejects unknown drivers; this is a programming error
        raise ValueError(f"no {spec.kind} driver named {spec.driver!r}")
    try:
        device = driver.load()(spec.options, context)
    except Exception as exc:  # any driver's failure becomes one clear message
        reason = str(exc) or type(exc).__name__
        if reason.startswith(f"{context.name}: "):
            reason = reason[len(context.name) + 2 :]
        raise HardwareError(context.name, reason) from exc
    built.append(device)
    return device


def _release_all(devices: list[Any]) -> None:
    """Make the devices built so far safe, without an event loop (see base.Releasable)."""
    for device in reversed(devices):
        if isinstance(device, Releasable):
            try:
                device.release()
            except Exception:  # release must not raise; keep releasing the others
                log.exception("releasing %r failed", device)


def build_hardware(
    connectors: Sequence[ConnectorSpec],
    rfid: DeviceSpec | None,
    state_dir: Path,
    *,
    display: DeviceSpec | None = None,
    buttons: DeviceSpec | None = None,
) -> Hardware:
    """Construct every device (no I/O beyond claiming what drivers claim in constructors).

    Raises :class:`HardwareError` naming the device that could not be built; the devices
    built before it are released first, so no output stays energised.
    """
    built_devices: list[Any] = []
    try:
        hardware = _build_all(connectors, rfid, state_dir, built_devices)
        hardware.display = _charger_wide(display, "display", state_dir, hardware, built_devices)
        hardware.buttons = _charger_wide(buttons, "buttons", state_dir, hardware, built_devices)
        return hardware
    except BaseException:
        _release_all(built_devices)
        raise


def _charger_wide(
    spec: DeviceSpec | None, what: str, state_dir: Path, hardware: Hardware, built: list[Any]
) -> Any:
    if spec is None:
        return None
    context = DeviceContext(
        name=f"{what} ({spec.driver})",
        connector_id=None,
        state_dir=state_dir,
        shared=hardware.shared,
    )
    return _build(spec, context, built)


def _build_all(
    connectors: Sequence[ConnectorSpec],
    rfid: DeviceSpec | None,
    state_dir: Path,
    built_devices: list[Any],
) -> Hardware:
    shared = SharedResources()
    built: dict[int, ConnectorDevices] = {}
    sims: dict[int, SimWorld] = {}
    for spec in connectors:
        world = SimWorld(spec.connector_id, spec.phases)
        devices: dict[DeviceKind, Any] = {}
        for kind, device_spec in spec.devices.items():
            context = DeviceContext(
                name=f"connector {spec.connector_id} {kind} ({device_spec.driver})",
                connector_id=spec.connector_id,
                state_dir=state_dir,
                shared=shared,
                sim=world,
                max_current_a=spec.max_current_a,
                phases=spec.phases,
            )
            devices[kind] = _build(device_spec, context, built_devices)
        built[spec.connector_id] = ConnectorDevices(
            connector_id=spec.connector_id,
            contactor=devices[DeviceKind.CONTACTOR],
            plug=devices[DeviceKind.PLUG],
            meter=devices[DeviceKind.METER],
            lock=devices.get(DeviceKind.LOCK),
            offer=devices.get(DeviceKind.OFFER),
            indicator=devices.get(DeviceKind.INDICATOR),
            temperature=devices.get(DeviceKind.TEMPERATURE),
        )
        if spec.devices[DeviceKind.PLUG].driver == "sim":
            sims[spec.connector_id] = world
    reader = None
    if rfid is not None:
        reader = _build(
            rfid,
            DeviceContext(
                name=f"rfid ({rfid.driver})",
                connector_id=None,
                state_dir=state_dir,
                shared=shared,
            ),
            built_devices,
        )
    return Hardware(built, reader, sims, shared)


__all__ = [
    "ConnectorSpec",
    "DeviceKind",
    "DeviceSpec",
    "Hardware",
    "HardwareError",
    "build_hardware",
]
