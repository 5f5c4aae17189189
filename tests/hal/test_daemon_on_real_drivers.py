"""The whole daemon on real drivers against the independent central system: a GPIO contactor
with feedback and a GPIO plug input (gpiozero MockFactory pins), an Eastron SDM630 on Modbus
TCP (a fake slave), an RDM6300 reader on a pty. Real clock: the drivers' worker threads and
the pty must be seen by trio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from hal_fake_modbus import Slave, TcpSlave
from hal_fake_serial import PtyPort
from hal_meter_values import load

from hal.meter_maps import MODELS, Encoding, encode
from hal.rfid_protocols import rdm6300_frame
from tests.harness import ControlRefused, charger, make_csms

COIL, AUX, PLUG = 17, 22, 27
TAG = "0F00A1B2C3"


async def aux_contact(pins: Any) -> None:
    """The contactor's auxiliary contact follows its coil (wired active-low)."""
    while True:
        if pins.pin(COIL).state:
            pins.pin(AUX).drive_low()
        else:
            pins.pin(AUX).drive_high()
        await trio.sleep(0.01)


def set_energy(slave: Slave, kwh: float) -> None:
    slave.set(1, "input", 0x0048, encode(Encoding.F32, kwh))


async def test_a_session_on_real_drivers(pins: Any, tmp_path: Path, nursery) -> None:
    slave = Slave()
    load(slave, 1, MODELS["sdm630"])
    set_energy(slave, 1000.0)
    reader = PtyPort(tmp_path).plug()
    csms = make_csms()
    await nursery.start(csms.serve)
    nursery.start_soon(aux_contact, pins)
    with TcpSlave(slave) as meter_line, trio.fail_after(60):
        devices = f"""
[connector.contactor]
driver = "gpio"
pin = {COIL}
feedback_pin = {AUX}
[connector.plug]
driver = "gpio"
pin = {PLUG}
debounce_s = 0.05
[connector.meter]
driver = "modbus-tcp"
host = "127.0.0.1"
tcp_port = {meter_line.port}
model = "sdm630"
poll_interval_s = 1
"""
        rfid = f'driver = "serial"\nport = "{reader.path}"\nprotocol = "rdm6300"'
        async with charger(
            nursery,
            csms,
            devices=devices,
            rfid=rfid,
            keys={
                "MeterValueSampleInterval": 1,
                "MeterValuesSampledData": "Energy.Active.Import.Register,Voltage,Current.Import",
            },
        ) as cp:
            station = await cp.registered()
            with pytest.raises(ControlRefused, match="not simulated"):
                await cp.sim("plug", 1)  # `ocppctl sim` drives sim connectors only
            pins.pin(PLUG).drive_high()
            await station.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
            reader.write(rdm6300_frame(TAG) * 3)  # held on the reader: one swipe
            await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
            assert pins.pin(COIL).state
            start = station.calls("StartTransaction")[0].payload
            assert start["idTag"] == TAG and start["meterStart"] == 1_000_000
            set_energy(slave, 1000.25)
            await station.wait_for(
                "MeterValues", lambda p: p["meterValue"][0]["sampledValue"][0]["value"] == "1000250"
            )
            await trio.sleep(1.5)  # the reader forgets the held tag
            reader.write(rdm6300_frame(TAG))
            stop = (await station.wait_for("StopTransaction")).payload
            assert stop["meterStop"] == 1_000_250 and stop["reason"] == "Local"
            assert not pins.pin(COIL).state
            pins.pin(PLUG).drive_low()
            await station.wait_for(
                "StatusNotification", lambda p: p["status"] == "Available", count=2
            )
            slave.silent = True  # the meter stops answering: reported, then cleared
            fault = await station.wait_for(
                "StatusNotification", lambda p: p["errorCode"] == "PowerMeterFailure"
            )
            assert fault.payload["status"] == "Faulted"
            slave.silent = False
            await station.wait_for(
                "StatusNotification", lambda p: p["status"] == "Available", count=3
            )
    reader.unplug()
    assert not csms.violations
    values = [
        v for c in station.calls("MeterValues") for v in c.payload["meterValue"][0]["sampledValue"]
    ]
    assert {v["measurand"] for v in values} == {
        "Energy.Active.Import.Register",
        "Voltage",
        "Current.Import",
    }
