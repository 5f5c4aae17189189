"""Real drivers wired together without OCPP: a GPIO contactor with feedback, GPIO plug inputs,
a Modbus TCP meter and an RDM6300 reader, driven by a ten-line charging rule. Real clock
(the meter's worker threads wait on real sockets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
from hal_fake_modbus import Slave, TcpSlave
from hal_fake_serial import PtyPort
from hal_meter_values import load

from hal import ConnectorSpec, build_hardware
from hal.base import DeviceEvent, PlugChanged, ReadingTaken, TagRead
from hal.meter_maps import MODELS, Encoding, encode
from hal.registry import DeviceKind, DeviceSpec
from hal.rfid_protocols import rdm6300_frame

COIL, AUX, PLUG = 17, 22, 27


class Forward:
    """One sink per device, all into one channel, tagged with the device's name."""

    def __init__(self, name: str, send: trio.MemorySendChannel[tuple[str, DeviceEvent]]):
        self.name, self.send = name, send

    def report(self, event: DeviceEvent) -> None:
        self.send.send_nowait((self.name, event))


async def aux_contact(pins: Any) -> None:
    while True:
        if pins.pin(COIL).state:
            pins.pin(AUX).drive_low()
        else:
            pins.pin(AUX).drive_high()
        await trio.sleep(0.01)


def set_energy(slave: Slave, kwh: float) -> None:
    slave.set(1, "input", 0x0048, encode(Encoding.F32, kwh))


async def test_plug_swipe_charge_unplug_on_real_drivers(pins: Any, tmp_path: Path) -> None:
    slave = Slave()
    load(slave, 1, MODELS["sdm630"])
    set_energy(slave, 1000.0)
    reader_port = PtyPort(tmp_path).plug()
    with TcpSlave(slave) as meter_line:
        specs = [
            ConnectorSpec(
                1,
                {
                    DeviceKind.CONTACTOR: DeviceSpec(
                        DeviceKind.CONTACTOR, "gpio", {"pin": COIL, "feedback_pin": AUX}
                    ),
                    DeviceKind.PLUG: DeviceSpec(
                        DeviceKind.PLUG, "gpio", {"pin": PLUG, "debounce_s": 0.05}
                    ),
                    DeviceKind.METER: DeviceSpec(
                        DeviceKind.METER,
                        "modbus-tcp",
                        {
                            "host": "127.0.0.1",
                            "tcp_port": meter_line.port,
                            "poll_interval_s": 0.5,
                        },
                    ),
                },
            ),
        ]
        rfid = DeviceSpec(DeviceKind.RFID, "serial", {"port": str(reader_port.path)})
        hardware = build_hardware(specs, rfid, tmp_path)
        devices = hardware.connectors[1]
        send, receive = trio.open_memory_channel[tuple[str, DeviceEvent]](100)
        timeline: list[str] = []
        energy: dict[str, float] = {}
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(aux_contact, pins)
                for device in [*devices.all(), hardware.rfid]:
                    nursery.start_soon(device.run, Forward(device.name, send))

                async def rule() -> None:  # what the charger logic will do, in miniature
                    latest = 0.0
                    async for _name, event in receive:
                        if isinstance(event, ReadingTaken):
                            latest = event.reading.energy_wh
                        elif isinstance(event, TagRead) and devices.plug.state.plugged:
                            await devices.contactor.set_closed(True)
                            energy["start"] = (await devices.meter.read()).energy_wh
                            timeline.append(f"charging for {event.id_tag}")
                        elif isinstance(event, PlugChanged) and not event.state.plugged:
                            if devices.contactor.closed:
                                await devices.contactor.set_closed(False)
                                energy["stop"] = latest
                                timeline.append("stopped")
                                return
                        elif isinstance(event, PlugChanged):
                            timeline.append("plugged")

                nursery.start_soon(rule)
                await trio.sleep(0.5)
                pins.pin(PLUG).drive_high()
                await trio.sleep(0.3)
                reader_port.write(rdm6300_frame("0F00A1B2C3") * 3)
                while "start" not in energy:
                    await trio.sleep(0.05)
                assert pins.pin(COIL).state
                set_energy(slave, 1000.5)
                await trio.sleep(1.5)  # at least two polls
                pins.pin(PLUG).drive_low()
                while "stop" not in energy:
                    await trio.sleep(0.05)
                nursery.cancel_scope.cancel()
        await hardware.aclose()
    reader_port.unplug()
    assert timeline == ["plugged", "charging for 0F00A1B2C3", "stopped"]
    assert energy["stop"] - energy["start"] == 500.0
    assert energy["start"] == 1_000_000.0  # Wh, the raw register
    assert not pins.pin(COIL).state and pins.pin(COIL).function == "input"
