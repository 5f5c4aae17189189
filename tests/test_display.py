"""The local display and buttons in the running daemon: the screen follows a session, the
stop button ends it through the same stop as a tag, a blank screen wakes nobody, the
display's faults are warnings, and ``ocppctl screen`` shows what the panel shows.

The display is the sim driver (a panel in memory), the buttons the sim driver
(``ocppctl sim press``); everything else is the real daemon against the ``ocpp`` central
system, on virtual time.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from PIL import Image

from hal.base import Fault, FaultCleared, FaultKind, FaultRaised
from ocppd import config, ctl
from tests.harness import Charger, ControlRefused, charger
from tests.test_sessions import TAG, start_session, until_status

DISPLAY = """driver = "sim"

[display]
driver = "sim"
language = "{language}"
dim_after_s = 60.0
blank_after_s = 300.0
refresh_s = 5.0
{extra}

[buttons]
driver = "sim"
"""


def with_display(language: str = "en", extra: str = "") -> dict[str, Any]:
    """charger() options: a sim display and sim buttons (tables after [rfid])."""
    return {"rfid": DISPLAY.format(language=language, extra=extra)}


async def screen(cp: Charger, **request: Any) -> str:
    result = await cp.control({"cmd": "screen", **request})
    return str(result["text"])


async def press(cp: Charger, button: str) -> None:
    await cp.control({"cmd": "sim", "action": "press", "button": button})
    await trio.sleep(0.5)  # the screen takes it (and the display writes within 0.25 s)


async def test_the_screen_follows_a_session_and_the_stop_button_ends_it(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(tags={"BADCAFE1": "Invalid"})
    options = with_display()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 0}, **options) as cp:
        station = await cp.registered()
        await trio.sleep(1)
        assert "Ready" in await screen(cp) and "Tap your card" in await screen(cp)
        await cp.sim("plug", 1)
        await until_status(station, "Preparing")
        await trio.sleep(1)
        assert "Cable connected" in await screen(cp)
        with pytest.raises(ControlRefused):
            await cp.swipe("BADCAFE1")
        await trio.sleep(0.5)
        assert "Unknown card" in await screen(cp)
        await trio.sleep(5)  # the refusal was shown long enough
        assert "Cable connected" in await screen(cp)
        await cp.swipe(TAG)
        await until_status(station, "Charging")
        await trio.sleep(600)
        text = await screen(cp)
        assert "Charging" in text and "7.2 kW" in text and "Time 0:10" in text
        assert "1.20 kWh" in text and "Max 32 A (charger)" in text
        await press(cp, "stop")  # the screen is dimmed: the first press only wakes it
        assert "Charging" in await screen(cp)
        await press(cp, "stop")
        assert "Press STOP again" in await screen(cp)
        assert not station.calls("StopTransaction")
        await trio.sleep(10)  # no second press in time: nothing happens
        assert "Press STOP again" not in await screen(cp)
        await press(cp, "stop")
        await press(cp, "stop")
        with trio.fail_after(60):
            stop = (await station.wait_for("StopTransaction")).payload
        assert stop["reason"] == "Local" and "idTag" not in stop
        await until_status(station, "Finishing")
        await trio.sleep(1)
        text = await screen(cp)
        assert "Please unplug" in text and "kWh charged" in text
        status = await cp.status()
        assert status["connectors"][0]["transaction"] is None


async def test_the_stop_button_takes_the_same_stop_as_the_drivers_tag(
    nursery, start_csms, autojump_clock
):
    """Button and tag: the same StopTransaction, but for the idTag a tag adds."""
    stops = []
    for how in ("tag", "button"):
        csms = await start_csms()
        keys = {"MeterValueSampleInterval": 0}
        async with charger(nursery, csms, keys=keys, **with_display()) as cp:
            station = await cp.registered()
            await start_session(cp, station)
            await trio.sleep(30)  # the screen is still on (it dims after 60 s)
            if how == "tag":
                await cp.swipe(TAG)
            else:
                await press(cp, "stop")
                await press(cp, "stop")
            with trio.fail_after(60):
                stop = (await station.wait_for("StopTransaction")).payload
            await until_status(station, "Finishing")
            # the presses take a second: the meter reading differs by a watt-hour or so
            stops.append(sorted(k for k in stop if k != "idTag"))
            assert stop["reason"] == "Local" and stop["transactionId"] == 1
            assert ("idTag" in stop) is (how == "tag")
            assert not cp.world(1).contactor_closed
    assert stops[0] == stops[1]


async def test_a_blank_screen_wakes_nobody_while_nothing_changes(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, **with_display()) as cp:
        await cp.registered()
        presenter, display = cp.parts.presenter, cp.parts.presenter.display
        await trio.sleep(301)
        assert str(display.level) == "off"
        wakeups, writes = presenter.wakeups, display.writes
        await trio.sleep(4 * 3600)  # heartbeats go on; the screen does not
        assert (presenter.wakeups, display.writes) == (wakeups, writes)
        assert "(display off)" not in await screen(cp)  # the text model: the page itself
        await cp.sim("plug", 1)  # any event wakes it
        await trio.sleep(1)
        assert str(display.level) == "on"
        assert "Cable connected" in await screen(cp)


async def test_the_info_button_cycles_session_meter_network_version(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(
        nursery, csms, keys={"MeterValueSampleInterval": 0}, **with_display("de")
    ) as cp:
        station = await cp.registered()
        await start_session(cp, station)
        await trio.sleep(1800)
        await cp.swipe(TAG)
        await until_status(station, "Finishing")
        await trio.sleep(1)
        seen = []
        for _ in range(4):
            await press(cp, "info")
            seen.append(await screen(cp))
        assert "Letzte Ladung" in seen[0] and "3.60 kWh" in seen[0] and "Dauer 0:30" in seen[0]
        assert "Zähler" in seen[1] and "kWh gesamt" in seen[1]
        assert "Netzwerk" in seen[2] and "verbunden" in seen[2] and "127.0.0.1" in seen[2]
        assert "Version" in seen[3] and "ocppd" in seen[3] and "CP-TEST" in seen[3]
        await press(cp, "info")  # past the last one: the status again
        assert "Bitte abstecken" in await screen(cp)


async def test_a_display_fault_is_a_warning_on_connector_0_and_charging_goes_on(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 0}, **with_display()) as cp:
        station = await cp.registered()
        presenter = cp.parts.presenter
        presenter.report(FaultRaised(Fault(FaultKind.DISPLAY, "display does not answer")))
        with trio.fail_after(60):
            hit = await station.wait_for(
                "StatusNotification",
                lambda p: p["connectorId"] == 0 and p["errorCode"] == "OtherError",
            )
        assert hit.payload["status"] == "Available"
        await start_session(cp, station)
        assert cp.world(1).contactor_closed
        presenter.report(FaultCleared(FaultKind.DISPLAY))
        with trio.fail_after(60):
            await station.wait_for(
                "StatusNotification",
                lambda p: p["connectorId"] == 0 and p["errorCode"] == "NoError",
            )


async def test_screen_png_is_exactly_what_the_panel_shows(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    qr = 'qr_url = "https://pay.example/start/{id}"'
    async with charger(nursery, csms, **with_display(extra=qr)) as cp:
        await cp.registered()
        await trio.sleep(1)
        result = await cp.control({"cmd": "screen", "png": True})
        data = base64.b64decode(result["png"])
        assert data == cp.parts.presenter.display.png()
        image = Image.open(io.BytesIO(data))
        assert image.size == (128, 64)
        assert "[QR: https://pay.example/start/CP-TEST]" in result["text"]
        one = await cp.control({"cmd": "screen", "connector": 1, "png": True})
        assert Image.open(io.BytesIO(base64.b64decode(one["png"]))).size == (128, 64)
        with pytest.raises(ControlRefused, match="no connector 7"):
            await cp.control({"cmd": "screen", "connector": 7})


async def test_without_a_display_the_screen_is_text_only(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        assert cp.parts.presenter is None  # the view is loaded when first asked
        assert "Ready" in await screen(cp)
        assert cp.parts.presenter is not None and cp.parts.presenter.display is None
        with pytest.raises(ControlRefused, match="no display configured"):
            await cp.control({"cmd": "screen", "png": True})
        with pytest.raises(ControlRefused, match="buttons are not simulated"):
            await cp.control({"cmd": "sim", "action": "press", "button": "stop"})


def test_a_daemon_without_a_display_loads_neither_the_view_nor_pillow() -> None:
    code = (
        "import sys, ocppd.app, ocppd.cli\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'luma', 'qrcode')"
        " or m.startswith('ocppd.view') or m == 'hal.display')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_sim_display_and_sim_buttons_load_pillow_only(tmp_path: Path) -> None:
    code = f"""
import sys
from pathlib import Path
from hal import ConnectorSpec, build_hardware
from hal.registry import DeviceKind, DeviceSpec
kinds = (DeviceKind.CONTACTOR, DeviceKind.PLUG, DeviceKind.METER)
devices = {{k: DeviceSpec(k, "sim") for k in kinds}}
hw = build_hardware([ConnectorSpec(1, devices)], None, Path({str(tmp_path)!r}),
                    display=DeviceSpec(DeviceKind.DISPLAY, "sim"),
                    buttons=DeviceSpec(DeviceKind.BUTTONS, "sim"))
assert hw.display is not None and hw.buttons is not None
libraries = ("gpiozero", "luma", "qrcode", "smbus2")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in libraries)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture
def io_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0.05)


async def test_ocppctl_screen_writes_the_png_and_prints_the_text(
    nursery, start_csms, io_clock, tmp_path: Path, capsys
):
    csms = await start_csms()
    async with charger(nursery, csms, **with_display()) as cp:
        await cp.registered()
        await trio.sleep(1)
        png = tmp_path / "screen.png"
        code = await trio.to_thread.run_sync(
            ctl.main, ["-s", str(cp.socket), "screen", "--png", str(png)]
        )
        assert code == 0
        assert png.read_bytes() == cp.parts.presenter.display.png()
        assert "Ready" in capsys.readouterr().out
        code = await trio.to_thread.run_sync(
            ctl.main, ["-s", str(cp.socket), "sim", "press", "info"]
        )
        assert code == 0


@pytest.mark.parametrize(
    ("table", "line"),
    [
        (
            'driver = "oled"',
            "display.driver: unknown driver 'oled' (expected one of sh1106 | sim | ssd1306)",
        ),
        ('driver = "sim"\nlanguage = "fr"', "display.language: got 'fr' (expected one of en | de)"),
        (
            'driver = "ssd1306"\ni2c_address = 200',
            "display.i2c_address: got 200 (expected an integer from 3 to 119)",
        ),
        (
            'driver = "sim"\nqr_url = "https://pay.example/"',
            "display.qr_url: got 'https://pay.example/' (expected a URL or text with {id} where",
        ),
        (
            'driver = "sim"\nrotation = 45',
            "display.rotation: got 45 (expected one of 0 | 90 | 180 | 270)",
        ),
        (
            'driver = "sim"\ndim_after_s = 600.0',
            "display.dim_after_s: 600 is after blank_after_s (expected a number <= 300 (or",
        ),
        ('driver = "sim"\nbrightness = 3', "display.brightness: unknown key"),
    ],
)
def test_a_bad_display_table_is_one_line_naming_key_and_expectation(
    tmp_path: Path, table: str, line: str
) -> None:
    text = f"""
[ocpp]
url = "ws://127.0.0.1:9/ocpp"
charge_point_id = "CP-1"
[charge_point]
vendor = "v"
model = "m"
[display]
{table}
[[connector]]
id = 1
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
[connector.meter]
driver = "sim"
"""
    with pytest.raises(config.ConfigError) as caught:
        config.parse(text, tmp_path / "ocppd.toml")
    lines = caught.value.lines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'ocppd.toml'}: {line}")


def test_a_good_display_table_is_read(tmp_path: Path) -> None:
    text = """
[ocpp]
url = "ws://127.0.0.1:9/ocpp"
charge_point_id = "CP-1"
[charge_point]
vendor = "v"
model = "m"
[display]
driver = "ssd1306"
i2c_bus = 1
i2c_address = 0x3D
rotation = 180
language = "de"
qr_url = "https://pay.example/{id}"
[buttons]
driver = "gpio"
stop_pin = 5
info_pin = 6
[[connector]]
id = 1
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
[connector.meter]
driver = "sim"
"""
    settings = config.parse(text, tmp_path / "ocppd.toml")
    assert settings.display is not None
    assert settings.display.device.options["i2c_address"] == 0x3D
    assert settings.display.language == "de"
    assert settings.buttons is not None and settings.buttons.options["stop_pin"] == 5
    assert "display ssd1306; buttons gpio" in settings.summary()


async def test_several_connectors_in_turn_and_the_stop_button_stops_the_one_shown(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    options = with_display(extra='connectors = "turns"\nturn_s = 5.0')
    keys = {"MeterValueSampleInterval": 0}
    async with charger(nursery, csms, connectors=2, keys=keys, **options) as cp:
        station = await cp.registered()
        await cp.sim("plug", 2)
        await cp.swipe(TAG)
        await until_status_of(station, 2, "Charging")
        seen = set()
        for _ in range(4):
            await trio.sleep(2.5)
            seen.add(cp.parts.presenter.display.page.corner)
        assert seen == {"1/2", "2/2"}
        while cp.parts.presenter.display.page.corner != "2/2":
            await trio.sleep(0.5)
        await press(cp, "stop")
        await press(cp, "stop")
        with trio.fail_after(60):
            stop = (await station.wait_for("StopTransaction")).payload
        assert stop["reason"] == "Local"
        await until_status_of(station, 2, "Finishing")


async def test_several_connectors_share_a_summary_page(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2, **with_display("de")) as cp:
        station = await cp.registered()
        await cp.sim("plug", 2)
        await until_status_of(station, 2, "Preparing")
        await trio.sleep(1)
        page = cp.parts.presenter.display.page
        assert page.title == "Ladestation"
        assert page.lines == ("1 Bereit", "2 Kabel verbunden")
        assert "Kabel verbunden" in await screen(cp, connector=2)


async def until_status_of(station: Any, connector: int, status: str) -> None:
    with trio.fail_after(600):
        await station.wait_for(
            "StatusNotification",
            lambda p: p["connectorId"] == connector and p["status"] == status,
        )


async def test_the_offline_mark_follows_the_link_and_charging_goes_on(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(boot_status="Rejected")  # connected, never accepted: unreachable
    async with charger(nursery, csms, **with_display()) as cp:
        await cp.station()
        await trio.sleep(5)
        assert cp.parts.presenter.display.page.corner == "offline"
        await cp.sim("plug", 1)
        await trio.sleep(1)
        page = cp.parts.presenter.display.page
        assert page.corner == "offline" and page.big == "Cable connected"
        csms.boot_status = "Accepted"  # the next BootNotification is accepted: reachable
        station = await cp.station()
        with trio.fail_after(3600):  # the charger retries its boot after the given interval
            await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 0)
        await trio.sleep(1)
        assert cp.parts.presenter.display.page.corner == ""
