"""Home Assistant's OCPP integration (lbbrhzn/ocpp, "ocpp" in HACS) against ocppd (issue 20).

The independent central system replays the integration's own calls, in its order and with
its payloads, as read from its code (commit ids as the stored copies give them):

- ``custom_components/ocpp/chargepoint.py`` @ 00ab81208d7f740c6accdd25fc6e243796047783:
  ``ChargePoint.post_connect`` (features, connectors, heartbeat, measurands, standard
  configuration, then ChangeAvailability and, with RemoteTrigger, TriggerMessage).
- ``custom_components/ocpp/ocppv16.py`` @ 0129d9eb79364b91f5de43e8e289018b18d711ef:
  ``get_supported_features``, ``get_number_of_connectors``, ``get_supported_measurands``
  (ChangeConfiguration of all 22 measurands, then GetConfiguration), ``configure`` (read,
  then change if different), ``set_standard_configuration`` (MeterValueSampleInterval,
  ClockAlignedDataInterval), ``trigger_status_notification``, ``_resolve_charge_rate``
  (ChargingScheduleAllowedChargingRateUnit, ChargeProfileMaxStackLevel),
  ``_station_charge_rate_request`` (ChargePointMaxProfile id 1000, Relative, connector 0),
  ``set_charge_rate`` (then TxProfile 3000+n at the stack level, TxDefaultProfile 2000+n
  one below), ``set_availability``, ``start_transaction`` (a 20-character remote tag),
  ``reset`` (Hard), ``unlock``, ``data_transfer``, ``clear_profile``, ``trigger_custom_message``.
- ``custom_components/ocpp/const.py`` @ 01e8c2840019095ca3abbb128a15a80696ae5aaf: the 22
  ``MEASURANDS``, ``DEFAULT_METER_INTERVAL`` 60, ``DEFAULT_IDLE_INTERVAL`` 900.
- ``number.py`` @ 0094db0dc3bf8ca45fd057ba6fa873ccba3af06f (the Maximum Current slider,
  0-32 A, available only with SmartCharging), ``switch.py`` and ``button.py`` @
  000e81d2777db172b12a9df08f967d53d8e6187d (Charge Control, Availability, Reset, Unlock).

A CALLERROR anywhere raises ``CallFailed`` and fails the test: the integration would log
it and leave its entity empty.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import trio
from ocpp.v16 import call

from ocppd import ctl
from ocppd.app import Outcome
from ocppd.testing.csms import Station
from tests.harness import CP_ID, Charger, charger

HOWTO = Path(__file__).resolve().parent.parent / "docs" / "home-assistant.md"
PASSWORD = "home-assistant-pw-1"
OCPP = {"security_profile": 1, "authorization_key": PASSWORD}
PILOT = '[connector.pilot]\ndriver = "sim"'
# const.py MEASURANDS, in its order: what the integration asks for first
HA_MEASURANDS = (
    "Current.Export,Current.Import,Current.Offered,Energy.Active.Export.Interval,"
    "Energy.Active.Export.Register,Energy.Active.Import.Interval,Energy.Active.Import.Register,"
    "Energy.Reactive.Export.Interval,Energy.Reactive.Export.Register,"
    "Energy.Reactive.Import.Interval,Energy.Reactive.Import.Register,Frequency,"
    "Power.Active.Export,Power.Active.Import,Power.Factor,Power.Offered,"
    "Power.Reactive.Export,Power.Reactive.Import,RPM,SoC,Temperature,Voltage"
)


class HomeAssistant:
    """The integration's side of one connection (ocppv16.ChargePoint), as far as it speaks."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.features: set[str] = set()
        self.connectors = 1
        self.measurands = ""
        self.answers: dict[str, list[str]] = {}

    def _note(self, action: str, status: Any) -> None:
        self.answers.setdefault(action, []).append(str(status))

    async def get_configuration(self, key: str) -> str:
        answer = await self.station.call(call.GetConfiguration(key=[key]))
        if answer.configuration_key:
            return str(answer.configuration_key[0]["value"])
        return "Unknown"

    async def configure(self, key: str, value: str) -> None:
        answer = await self.station.call(call.GetConfiguration(key=[key]))
        assert not answer.unknown_key, key
        if any(kv["key"] == key and kv.get("value") == value for kv in answer.configuration_key):
            return
        changed = await self.station.call(call.ChangeConfiguration(key=key, value=value))
        self._note(f"ChangeConfiguration {key}", changed.status)

    async def post_connect(self) -> None:
        await trio.sleep(2)  # chargepoint.py: asyncio.sleep(2) before anything
        self.features = set((await self.get_configuration("SupportedFeatureProfiles")).split(","))
        self.connectors = int(await self.get_configuration("NumberOfConnectors"))
        await self.get_configuration("HeartbeatInterval")
        # get_supported_measurands, autodetect on (the default): everything first
        asked = await self.station.call(
            call.ChangeConfiguration(key="MeterValuesSampledData", value=HA_MEASURANDS)
        )
        self._note("ChangeConfiguration MeterValuesSampledData", asked.status)
        self.measurands = await self.get_configuration("MeterValuesSampledData")
        await self.configure("MeterValueSampleInterval", "60")
        await self.configure("ClockAlignedDataInterval", "900")
        await self.set_availability(True)
        if "RemoteTrigger" in self.features:
            await self.trigger_status_notification()

    async def trigger_status_notification(self) -> None:
        attempts = [1] if self.connectors <= 1 else [0, *range(1, self.connectors + 1)]
        for cid in attempts:
            answer = await self.station.call(
                call.TriggerMessage(requested_message="StatusNotification", connector_id=cid)
            )
            self._note("TriggerMessage", answer.status)

    async def set_availability(self, state: bool, connector_id: int = 0) -> None:
        kind = "Operative" if state else "Inoperative"
        answer = await self.station.call(
            call.ChangeAvailability(connector_id=connector_id, type=kind)
        )
        self._note("ChangeAvailability", answer.status)

    async def resolve_charge_rate(self) -> tuple[str, int]:
        units = await self.get_configuration("ChargingScheduleAllowedChargingRateUnit")
        tokens = {t.strip().lower() for t in units.replace(";", ",").split(",") if t.strip()}
        assert "current" in tokens  # else the integration would convert to watts
        return "A", int(await self.get_configuration("ChargeProfileMaxStackLevel"))

    async def set_charge_rate(self, limit_amps: float, *, tx_id: int = 0) -> bool:
        """The slider (number.py) and the set_charge_rate service: the station ceiling; only
        if that is not Accepted, a TxProfile for the running transaction and a default."""
        assert "SmartCharging" in self.features  # else the slider is unavailable
        unit, stack = await self.resolve_charge_rate()
        station_max = {
            "chargingProfileId": 1000,
            "stackLevel": stack,
            "chargingProfileKind": "Relative",
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingSchedule": schedule(unit, limit_amps),
        }
        answer = await self.station.call(
            call.SetChargingProfile(connector_id=0, cs_charging_profiles=station_max)
        )
        self._note("SetChargingProfile ChargePointMaxProfile", answer.status)
        if answer.status == "Accepted":
            return True
        return await self.set_connector_rate(limit_amps, unit, stack, tx_id)

    async def set_connector_rate(
        self, limit_amps: float, unit: str, stack: int, tx_id: int
    ) -> bool:
        """set_charge_rate's fallback for connector 1: TxProfile 3001, TxDefaultProfile 2001."""
        ok = False
        if tx_id > 0:
            tx_profile = {
                "chargingProfileId": 3001,
                "stackLevel": max(1, stack),
                "chargingProfileKind": "Relative",
                "chargingProfilePurpose": "TxProfile",
                "chargingSchedule": schedule(unit, limit_amps),
                "transactionId": tx_id,
            }
            answer = await self.station.call(
                call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile)
            )
            self._note("SetChargingProfile TxProfile", answer.status)
            ok = answer.status == "Accepted"
        default = {
            "chargingProfileId": 2001,
            "stackLevel": max(1, stack - 1),
            "chargingProfileKind": "Relative",
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingSchedule": schedule(unit, limit_amps),
        }
        answer = await self.station.call(
            call.SetChargingProfile(connector_id=1, cs_charging_profiles=default)
        )
        self._note("SetChargingProfile TxDefaultProfile", answer.status)
        return ok or answer.status == "Accepted"


def schedule(unit: str, limit: float) -> dict[str, Any]:
    return {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }


def measured(meter_values: Any) -> set[tuple[str, str | None]]:
    return {
        (sv["measurand"], sv.get("phase"))
        for mv in meter_values.payload["meterValue"]
        for sv in mv["sampledValue"]
    }


FULL_METER = {
    ("Energy.Active.Import.Register", None),
    ("Power.Active.Import", None),
    *(("Current.Import", f"L{n}") for n in (1, 2, 3)),
    *(("Voltage", f"L{n}-N") for n in (1, 2, 3)),
    ("Current.Offered", None),
}


async def home_assistant(cp: Charger, connection: int = 1) -> HomeAssistant:
    ha = HomeAssistant(await cp.registered(connection))
    await ha.post_connect()
    return ha


async def charge(cp: Charger, ha: HomeAssistant) -> int:
    """Plug in, then the Charge Control switch: RemoteStartTransaction with its remote tag."""
    await cp.sim("plug", 1)
    answer = await ha.station.call(
        call.RemoteStartTransaction(connector_id=1, id_tag="HA0REMOTE0ID0TAG0001")
    )
    assert answer.status == "Accepted"
    with trio.fail_after(60):
        await ha.station.wait_for(
            "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Charging"
        )
        while cp.connector(1).tx is None or cp.connector(1).tx.transaction_id is None:
            await trio.sleep(0.5)
    return int(cp.connector(1).tx.transaction_id)


async def test_the_connect_sequence_fills_power_current_voltage_and_energy(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(passwords={CP_ID: PASSWORD})  # security profile 1
    async with charger(nursery, csms, ocpp=OCPP) as cp:
        ha = await home_assistant(cp)
        assert {"Core", "SmartCharging", "RemoteTrigger"} <= ha.features
        assert ha.connectors == 1
        assert ha.answers == {
            "ChangeConfiguration MeterValuesSampledData": ["Rejected"],  # SoC, RPM...
            "ChangeConfiguration ClockAlignedDataInterval": ["Accepted"],
            "ChangeAvailability": ["Accepted"],
            "TriggerMessage": ["Accepted"],
        }
        # what it keeps after the refusal: the meter's own list, every item one it knows
        kept = ha.measurands.split(",")
        assert kept == [
            "Energy.Active.Import.Register",
            "Power.Active.Import",
            "Current.Import",
            "Voltage",
            "Current.Offered",
        ]
        assert set(kept) <= set(HA_MEASURANDS.split(","))
        triggered = await ha.station.wait_for("StatusNotification", count=3)
        assert (triggered.payload["connectorId"], triggered.payload["status"]) == (1, "Available")

        await charge(cp, ha)
        with trio.fail_after(120):
            sampled = await ha.station.wait_for("MeterValues")
        assert measured(sampled) == FULL_METER
        assert {sv["context"] for sv in sampled.payload["meterValue"][0]["sampledValue"]} == {
            "Sample.Periodic"
        }
        # and on the 15-minute boundaries (its idle interval), the same list clock-aligned
        with trio.fail_after(1000):
            aligned = await ha.station.wait_for(
                "MeterValues",
                lambda p: p["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock",
            )
        assert measured(aligned) == FULL_METER
        assert not csms.violations
        assert csms.rejections == []


async def test_the_slider_is_accepted_and_the_limit_reaches_the_pilot(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        ha = await home_assistant(cp)
        tx_id = await charge(cp, ha)
        assert cp.world(1).offered_a == 32.0
        assert await ha.set_charge_rate(10)
        assert ha.answers["SetChargingProfile ChargePointMaxProfile"] == ["Accepted"]
        await trio.sleep(0.5)
        assert cp.world(1).offered_a == 10.0
        shown = (await cp.status())["connectors"][0]
        assert shown["current_limit_a"] == 10.0
        assert shown["current_limit_source"]["profile_id"] == 1000
        assert shown["current_limit_source"]["purpose"] == "ChargePointMaxProfile"
        assert "current limited to 10 A by charging profile 1000 (ChargePointMaxProfile" in (
            ctl.format_status(await cp.status())
        )
        # the fallback requests (sent when a charger refuses the station ceiling) are
        # Accepted too, and the lowest limit wins (1.6 §3.13.3)
        unit, stack = await ha.resolve_charge_rate()
        assert await ha.set_connector_rate(8, unit, stack, tx_id)
        assert ha.answers["SetChargingProfile TxProfile"] == ["Accepted"]
        assert ha.answers["SetChargingProfile TxDefaultProfile"] == ["Accepted"]
        await trio.sleep(0.5)
        assert cp.world(1).offered_a == 8.0
        # its Clear profile service: everything, at once
        answer = await ha.station.call(call.ClearChargingProfile())
        assert answer.status == "Accepted"
        await trio.sleep(0.5)
        assert cp.world(1).offered_a == 32.0
        assert not csms.violations


async def test_a_solar_surplus_automation_moves_the_slider_every_minute_for_an_hour(
    nursery, start_csms, autojump_clock
):
    """Each move replaces the last (same id, 1.6 §3.13.2): one profile installed, never
    MaxChargingProfilesInstalled, and the pilot follows every minute."""
    csms = await start_csms()
    async with charger(nursery, csms, connector_extra=PILOT) as cp:
        ha = await home_assistant(cp)
        await charge(cp, ha)
        most = cp.keys.get_int("MaxChargingProfilesInstalled")
        followed = []
        for minute in range(60):
            surplus = 6 + (minute * 7) % 11  # 6..16 A, as the sun comes and goes
            assert await ha.set_charge_rate(surplus)
            await trio.sleep(1)
            followed.append(cp.world(1).offered_a == surplus)
            kept = await cp.journal.charging_profiles()
            assert len(kept) == 1 < most
            await trio.sleep(59)
        assert all(followed)
        assert ha.answers["SetChargingProfile ChargePointMaxProfile"] == ["Accepted"] * 60
        [kept_profile] = [json.loads(r) for r in await cp.journal.charging_profiles()]
        assert kept_profile["id"] == 1000
        assert not csms.violations


async def test_after_home_assistant_restarts_it_is_told_every_status(
    nursery, start_csms, autojump_clock
):
    """HA restarts or reloads the integration: ocppd reconnects and, without being asked,
    tells the new connection connector 0's and connector 1's current status, so the
    Availability and Charge Control switches are right at once."""
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        ha = await home_assistant(cp)
        await charge(cp, ha)
        await ha.station.close()  # Home Assistant goes away
        second = await cp.station(connection=2)
        with trio.fail_after(30):
            await second.wait_for("StatusNotification", count=2)
        assert [(c.payload["connectorId"], c.payload["status"]) for c in second.inbox[:2]] == [
            (0, "Available"),
            (1, "Charging"),
        ]
        assert second.calls("TriggerMessage") == []  # nobody asked
        again = HomeAssistant(second)
        await again.post_connect()  # and its own sequence on the new connection
        assert again.answers["ChangeConfiguration MeterValuesSampledData"] == ["Rejected"]
        assert "ChangeConfiguration ClockAlignedDataInterval" not in again.answers  # kept
        assert not csms.violations


async def test_its_services_get_answers_not_callerrors(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        ha = await home_assistant(cp)
        station = ha.station
        for message in ("StatusNotification", "MeterValues", "Heartbeat", "BootNotification"):
            answer = await station.call(call.TriggerMessage(requested_message=message))
            ha._note(f"trigger {message}", answer.status)
        assert ha.answers["trigger StatusNotification"] == ["Accepted"]
        assert ha.answers["trigger Heartbeat"] == ["Accepted"]
        assert ha.answers["trigger MeterValues"] == ["Accepted"]
        assert ha.answers["trigger BootNotification"] == ["Rejected"]  # accepted already
        await ha.set_availability(False)
        await ha.set_availability(True)
        assert ha.answers["ChangeAvailability"] == ["Accepted"] * 3
        unlocked = await station.call(call.UnlockConnector(connector_id=1))
        assert unlocked.status in ("Unlocked", "NotSupported")
        cleared = await station.call(call.ClearCache())
        assert cleared.status == "Accepted"
        transfer = await station.call(call.DataTransfer(vendor_id="HA", message_id="", data=""))
        assert transfer.status == "UnknownVendorId"  # no vendor extensions: said, not an error
        everything = await station.call(call.GetConfiguration())
        assert len(everything.configuration_key) > 20
        assert "ChargeProfileMaxStackLevel" in {kv["key"] for kv in everything.configuration_key}
        for key in ("MeterValueSampleInterval", "ClockAlignedDataInterval", "HeartbeatInterval"):
            await ha.configure(key, "120")
            assert ha.answers[f"ChangeConfiguration {key}"][-1] == "Accepted"
        tx_id = await charge(cp, ha)  # Charge Control on, then off
        stopped = await station.call(call.RemoteStopTransaction(transaction_id=tx_id))
        assert stopped.status == "Accepted"
        with trio.fail_after(30):
            stop = await station.wait_for("StopTransaction")
        assert stop.payload["transactionId"] == tx_id
        assert stop.payload["reason"] == "Remote"
        reset = await station.call(call.Reset(type="Hard"))  # the Reset button
        assert reset.status == "Accepted"
        with trio.fail_after(30):
            await cp.done.wait()
        assert cp.outcome == [Outcome.HARD_RESET]
        assert not csms.violations


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


async def test_the_how_to_s_ocpp_lines_connect_to_a_central_system_like_home_assistant_s(
    nursery, start_csms, autojump_clock
):
    """docs/home-assistant.md's [ocpp] block as written (only the host is this test's): a
    URL with no path (the integration takes the last segment as the id), profile 1."""
    howto = HOWTO.read_text()
    [block] = fenced(howto, "toml")
    ocpp = tomllib.loads(block)["ocpp"]
    assert ocpp["url"] == "ws://homeassistant.local:9000"
    csms = await start_csms(path="", passwords={ocpp["charge_point_id"]: ocpp["authorization_key"]})
    url = ocpp.pop("url").replace("homeassistant.local:9000", f"127.0.0.1:{csms.port}")
    cp_id = ocpp.pop("charge_point_id")
    async with charger(nursery, csms, url=url, cp_id=cp_id, ocpp=ocpp) as cp:
        ha = await home_assistant(cp)
        assert "SmartCharging" in ha.features
        assert csms.rejections == []
    # the automation moves the slider the integration names number.<cpid>_maximum_current
    [automation] = fenced(howto, "yaml")
    assert "service: number.set_value" in automation
    assert "entity_id: number.charger_maximum_current" in automation
    assert "| `charger`" in howto.split("Charge point identity", 1)[1].split("\n", 1)[0]
