"""The driver tables: every driver of every kind, its options and its factory, as plain data.

Each entry names its options and its factory as ``"module:attribute"``; nothing here
imports a device library, so loading these tables costs nothing on a sim-only charger.
The option tables are what the config loader checks ``[connector.<kind>]`` and
``[rfid]`` against, and what docs/hardware.md lists. :mod:`hal.registry` indexes them
once; adding a driver is adding an entry here.
"""

from __future__ import annotations

from hal.driver import DeviceKind, Driver
from hal.options import Option, boolean, choice, integer, number, path, pin, string

# --- shared option groups -------------------------------------------------------------------


def _pull(prefix: str, default: str, what: str) -> Option:
    return Option(
        f"{prefix}pull",
        choice("up", "down", "off"),
        default,
        f"internal pull resistor of the {what} input",
    )


def _feedback(what: str, active: str) -> tuple[Option, ...]:
    return (
        Option(
            "feedback_pin",
            pin(),
            None,
            f"input from the {what}'s feedback contact "
            f"(active = {active}); none = no feedback check",
        ),
        Option(
            "feedback_active_high",
            boolean(),
            False,
            "feedback is active when the pin is high (default: contact to ground)",
        ),
        _pull("feedback_", "up", "feedback"),
    )


_SERIAL_LINE = (
    Option("port", path(), "/dev/ttyUSB0", "RS-485 adapter (serial device)"),
    Option("baudrate", integer(300, 921600), 9600, "bits per second"),
    Option("parity", choice("N", "E", "O"), "N", "N (none), E (even) or O (odd)"),
    Option("stopbits", choice(1, 2), 1, "stop bits"),
    Option("bytesize", choice(7, 8), 8, "data bits"),
)
_TIMEOUT = Option(
    "timeout_s",
    integer(1, 10),
    1,
    "seconds to wait for an answer (whole seconds: pymodbus 3.0 truncates)",
)


def _unit(default: int = 1) -> Option:
    return Option("unit", integer(1, 247), default, "Modbus unit (slave) address")


_METER_MODELS = ("sdm630", "sdm120", "sdm72", "abb-b23", "em340", "orno-we516")
_METER_COMMON = (
    Option("model", choice(*_METER_MODELS), "sdm630", "register map (docs/hardware.md)"),
    Option(
        "poll_interval_s",
        number(0.5, 60),
        5.0,
        "seconds between readings; a silent meter is a fault within this + 3 s",
    ),
)
_EVSE_DIN = (
    *_SERIAL_LINE,
    _unit(),
    _TIMEOUT,
    Option("poll_interval_s", number(0.2, 30), 2.0, "seconds between status reads"),
)


_DISPLAY_COMMON = (
    Option("width", choice(128), 128, "pixels across"),
    Option("height", choice(64, 32), 64, "pixels down"),
    Option("rotation", choice(0, 90, 180, 270), 0, "degrees the picture is turned"),
    Option("contrast", integer(0, 255), 255, "brightness while on (dimmed: 16)"),
    Option(
        "min_interval_s",
        number(0.05, 10),
        0.25,
        "at most one write per this many seconds (a burst of changes is one write)",
    ),
)


def _oled(model: str) -> Driver:
    return Driver(
        DeviceKind.DISPLAY,
        model,
        f"hal.display:{model}_display",
        options=(
            Option("i2c_bus", integer(0, 99), 1, "N of /dev/i2c-N (1 on a Raspberry Pi)"),
            Option("i2c_address", integer(0x03, 0x77), 0x3C, "7-bit address (0x3C or 0x3D)"),
            *_DISPLAY_COMMON,
        ),
        doc=f"{model.upper()} OLED on I2C (luma.oled)",
    )


SIM_DRIVERS: tuple[Driver, ...] = (
    Driver(DeviceKind.CONTACTOR, "sim", "hal.sim:SimContactor", doc="simulated relay"),
    Driver(
        DeviceKind.PLUG,
        "sim",
        "hal.sim:SimPlug",
        options=(
            Option(
                "power_w",
                number(0, 1_000_000),
                7360.0,
                "power the simulated EV draws while the contactor is closed",
            ),
        ),
        doc="simulated EV and cable, driven by `ocppctl sim`",
    ),
    Driver(
        DeviceKind.METER,
        "sim",
        "hal.sim:SimMeter",
        options=(
            Option(
                "voltage_v", number(0, 1000, exclusive_min=True), 230.0, "nominal phase voltage"
            ),
            Option("initial_wh", number(0), 0.0, "register value on first start"),
        ),
        doc="integrates the simulated EV's power; the register survives restarts",
    ),
    Driver(DeviceKind.RFID, "sim", "hal.sim:SimReader", doc="no reader; use `ocppctl swipe`"),
    Driver(
        DeviceKind.LOCK,
        "sim",
        "hal.sim:SimLock",
        options=(Option("fail", boolean(), False, "every unlock fails (for tests)"),),
    ),
    Driver(DeviceKind.OFFER, "sim", "hal.sim:SimOffer"),
    Driver(DeviceKind.INDICATOR, "sim", "hal.sim:SimIndicator"),
    Driver(
        DeviceKind.TEMPERATURE,
        "sim",
        "hal.sim:SimTemperature",
        options=(Option("celsius", number(-60, 200), 25.0),),
    ),
    Driver(
        DeviceKind.DISPLAY,
        "sim",
        "hal.display:sim_display",
        options=_DISPLAY_COMMON,
        doc="a display in memory; `ocppctl screen` shows it",
    ),
    Driver(DeviceKind.BUTTONS, "sim", "hal.sim:SimButtons", doc="`ocppctl sim press`"),
)
"""The simulated devices (:mod:`hal.sim`): every kind has one, driven by ``ocppctl sim``."""

REAL_DRIVERS: tuple[Driver, ...] = (
    # --- GPIO (hal.gpio, hal.leds) ---------------------------------------------------------------
    Driver(
        DeviceKind.CONTACTOR,
        "gpio",
        "hal.gpio:GpioContactor",
        options=(
            Option("pin", pin(), doc="output driving the contactor's relay (BCM number or name)"),
            Option(
                "active_high",
                boolean(),
                True,
                "the relay closes on a high output (false for active-low relay boards)",
            ),
            *_feedback("contactor auxiliary contact", "contactor closed"),
            Option(
                "feedback_timeout_s",
                number(0.01, 10),
                0.5,
                "time the contact may take to follow a command",
            ),
        ),
        doc="relay on a GPIO output, optional auxiliary-contact feedback (welded-contact check)",
    ),
    Driver(
        DeviceKind.PLUG,
        "gpio",
        "hal.gpio:GpioPlug",
        options=(
            Option("pin", pin(), doc="input that is active while an EV is connected"),
            Option(
                "requesting_pin",
                pin(),
                None,
                "input that is active while the EV requests energy; none = always when connected",
            ),
            Option("active_high", boolean(), True, "inputs are active when high"),
            _pull("", "off", "plug"),
            Option(
                "requesting_active_high", boolean(), True, "requesting input is active when high"
            ),
            _pull("requesting_", "off", "requesting"),
            Option("debounce_s", number(0, 5), 0.1, "a change counts once stable this long"),
        ),
        doc="EV-connected and EV-requesting inputs on GPIO",
    ),
    Driver(
        DeviceKind.LOCK,
        "gpio",
        "hal.gpio:GpioLock",
        options=(
            Option("pin", pin(), None, "level actuator: output active = locked"),
            Option("lock_pin", pin(), None, "motor actuator: output pulsed to lock"),
            Option("unlock_pin", pin(), None, "motor actuator: output pulsed to unlock"),
            Option("active_high", boolean(), True, "outputs are active when high"),
            Option("pulse_s", number(0.05, 5), 0.6, "length of a lock/unlock motor pulse"),
            *_feedback("lock", "locked"),
            Option(
                "feedback_timeout_s",
                number(0.05, 10),
                1.5,
                "time the lock may take to confirm (after the pulse)",
            ),
        ),
        doc="cable lock actuator on GPIO, optional feedback",
    ),
    Driver(
        DeviceKind.INDICATOR,
        "gpio",
        "hal.leds:GpioIndicator",
        options=(
            Option("pin", pin(), None, "one LED"),
            Option("red_pin", pin(), None, "red LED (two-LED or RGB indicator)"),
            Option("green_pin", pin(), None, "green LED (two-LED or RGB indicator)"),
            Option("blue_pin", pin(), None, "blue LED (RGB indicator)"),
            Option("active_high", boolean(), True, "LEDs light on a high output"),
        ),
        doc="status LEDs: one LED, green + red, or RGB; patterns in docs/hardware.md",
    ),
    Driver(
        DeviceKind.BUTTONS,
        "gpio",
        "hal.buttons:GpioButtons",
        options=(
            Option("stop_pin", pin(), None, "stop button (ends the session after a second press)"),
            Option("info_pin", pin(), None, "info button (cycles the information screens)"),
            Option("pull", choice("up", "down"), "up", "up: contacts to ground; down: to 3.3 V"),
            Option("bounce_s", number(0, 1), 0.05, "presses closer than this are one press"),
        ),
        doc="push buttons on GPIO (gpiozero Button)",
    ),
    # --- displays ---------------------------------------------------------------------------------
    _oled("ssd1306"),
    _oled("sh1106"),
    # --- control pilot ---------------------------------------------------------------------------
    Driver(
        DeviceKind.OFFER,
        "pwm-sysfs",
        "hal.pilot:PwmPilot",
        options=(
            Option("chip", integer(0, 64), 0, "N of /sys/class/pwm/pwmchipN"),
            Option("channel", integer(0, 64), 0, "M of pwmchipN/pwmM"),
            Option(
                "invert",
                boolean(),
                False,
                "the pilot circuit inverts (duty written = 100 % - wanted)",
            ),
            Option("sysfs_root", path(), "/sys/class/pwm", "where the pwmchips are (tests)"),
            Option(
                "export_timeout_s",
                number(0, 10),
                2.0,
                "how long to wait for udev after exporting the channel",
            ),
        ),
        doc="control-pilot PWM (1 kHz, IEC 61851 duty cycle) on a sysfs PWM channel",
    ),
    # --- Modbus: meters and the EVSE DIN board ---------------------------------------------------
    Driver(
        DeviceKind.METER,
        "modbus-rtu",
        "hal.meters:rtu_meter",
        options=(*_SERIAL_LINE, _unit(), *_METER_COMMON, _TIMEOUT),
        doc="energy meter on Modbus RTU (RS-485)",
    ),
    Driver(
        DeviceKind.METER,
        "modbus-tcp",
        "hal.meters:tcp_meter",
        options=(
            Option("host", string(), doc="meter or Modbus gateway address"),
            Option("tcp_port", integer(1, 65535), 502, "Modbus TCP port"),
            _unit(),
            *_METER_COMMON,
            _TIMEOUT,
        ),
        doc="energy meter on Modbus TCP (or behind an RTU-to-TCP gateway)",
    ),
    Driver(
        DeviceKind.PLUG,
        "evse-din",
        "hal.evse_board:EvseDinPlug",
        options=_EVSE_DIN,
        doc="vehicle state from an EVSE DIN board (Modbus RTU)",
    ),
    Driver(
        DeviceKind.CONTACTOR,
        "evse-din",
        "hal.evse_board:EvseDinContactor",
        options=_EVSE_DIN,
        doc="charging enable/disable on an EVSE DIN board (it switches its relay)",
    ),
    Driver(
        DeviceKind.OFFER,
        "evse-din",
        "hal.evse_board:EvseDinOffer",
        options=_EVSE_DIN,
        doc="offered current on an EVSE DIN board",
    ),
    # --- RFID ------------------------------------------------------------------------------------
    Driver(
        DeviceKind.RFID,
        "serial",
        "hal.rfid:SerialReader",
        options=(
            Option("port", path(), "/dev/serial0", "serial device of the reader"),
            Option(
                "baudrate",
                integer(300, 921600),
                9600,
                "bits per second (RDM6300: 9600; PN532 HSU: 115200)",
            ),
            Option(
                "protocol",
                choice("rdm6300", "line", "pn532"),
                "rdm6300",
                "rdm6300 frames | line (one UID per text line) | pn532 (HSU)",
            ),
            Option(
                "id_format",
                choice("hex10", "hex8", "dec10"),
                "hex10",
                "rdm6300: all 10 hex digits | the 8-digit tag number | it as 10 decimal digits",
            ),
            Option(
                "hold_s",
                number(0.1, 30),
                1.5,
                "a tag read again within this time (held on the reader) is the same swipe",
            ),
            Option(
                "pn532_poll_s",
                number(1, 300),
                30.0,
                "pn532: re-arm the card search (and check the chip answers) this often",
            ),
        ),
        doc="RFID reader on a serial port",
    ),
    # --- temperature -----------------------------------------------------------------------------
    Driver(
        DeviceKind.TEMPERATURE,
        "sysfs",
        "hal.temperature:SysfsTemperature",
        options=(
            Option(
                "path",
                path(),
                doc="sysfs file or w1 device directory; * allowed, e.g. "
                "/sys/bus/w1/devices/28-*/temperature or /sys/class/thermal/thermal_zone0/temp",
            ),
            Option("derate_c", number(-40, 200), 60.0, "above this, the current is reduced"),
            Option("max_c", number(-40, 200), 75.0, "at or above this, charging stops"),
            Option("hysteresis_c", number(0, 50), 5.0, "a level is left this far below its limit"),
            Option("min_current_a", number(0, 80), 6.0, "the derated current at max_c"),
            Option("poll_interval_s", number(1, 600), 10.0, "seconds between readings"),
        ),
        doc="DS18B20 (1-wire) or thermal zone temperature with derating",
    ),
)
"""GPIO, Modbus, serial and sysfs drivers (:mod:`hal.gpio`, :mod:`hal.meters` ...)."""

__all__ = ["REAL_DRIVERS", "SIM_DRIVERS"]
