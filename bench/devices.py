"""Real drivers for the benchmark: what ocppd costs on a charger with Modbus, serial and GPIO.

:func:`real_drivers` sets up, in the bench process, the devices a relay-and-meter charger
has (``etc/examples/relay-meter-rdm6300.toml``): an Eastron SDM630 answering on Modbus
TCP on 127.0.0.1 (the test suite's independent slave, ``tests/hal/hal_fake_modbus.py``),
an RDM6300 reader on a pty, and GPIO pins from gpiozero's MockFactory
(``GPIOZERO_PIN_FACTORY=mock``) for the contactor with its auxiliary contact, the plug
comparators and the RGB indicator. It yields the config sections that name them and the
environment the daemon needs, so ocppd loads and runs exactly the drivers a real charger
would: pymodbus polling the meter, pyserial reading the reader, gpiozero holding the pins.
"""

from __future__ import annotations

import os
import sys
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hal.meter_maps import MODELS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "hal"))  # the suite's fakes import each other flat

from hal_fake_modbus import Slave, TcpSlave  # noqa: E402
from hal_meter_values import load  # noqa: E402

METER_POLL_S = 5.0  # the driver's default and the example's

SECTIONS = """\
[rfid]
driver = "serial"
port = "{rfid_port}"
protocol = "rdm6300"

[[connector]]
id = 1
max_current_a = 16.0
phases = 3

[connector.contactor]
driver = "gpio"
pin = 17
feedback_pin = 22
feedback_active_high = false
feedback_pull = "up"

[connector.plug]
driver = "gpio"
pin = 27
pull = "down"
requesting_pin = 23
requesting_pull = "down"
debounce_s = 0.1

[connector.meter]
driver = "modbus-tcp"
host = "127.0.0.1"
tcp_port = {meter_port}
model = "sdm630"
poll_interval_s = {poll}

[connector.indicator]
driver = "gpio"
red_pin = 5
green_pin = 6
blue_pin = 13
"""


@dataclass(frozen=True)
class Devices:
    sections: str  # [rfid] and [[connector]] with its devices, for ocppd's config
    env: dict[str, str]  # for the daemon's process
    slave: Slave  # the meter's registers; ``requests`` shows the daemon polling


@contextmanager
def real_drivers() -> Iterator[Devices]:
    """The devices, up for the duration of the block."""
    slave = Slave()
    load(slave, 1, MODELS["sdm630"])
    master, reader_side = os.openpty()
    try:
        tty.setraw(reader_side)
        with TcpSlave(slave) as meter:
            sections = SECTIONS.format(
                rfid_port=os.ttyname(reader_side), meter_port=meter.port, poll=METER_POLL_S
            )
            yield Devices(sections, {"GPIOZERO_PIN_FACTORY": "mock"}, slave)
    finally:
        os.close(master)
        os.close(reader_side)
