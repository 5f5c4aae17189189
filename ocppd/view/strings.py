"""Every text the display shows, in every language, in one table.

A key names a text; ``{name}`` fields are filled by :meth:`Words.say`. A language must
have every key (a test checks the table is complete), so a screen never falls back to
another language half-way. Lines are short: 21 characters fit on a 128-pixel line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

LANGUAGES = ("en", "de")

_TABLE: dict[str, tuple[str, str]] = {
    # key: (English, German)
    "connector": ("Connector {n}", "Ladepunkt {n}"),
    "charger": ("Charger", "Ladestation"),
    "offline": ("offline", "offline"),
    # idle and preparing
    "available": ("Ready", "Bereit"),
    "tap card": ("Tap your card", "Karte vorhalten"),
    "or plug in": ("or plug in", "oder einstecken"),
    "plugged": ("Cable connected", "Kabel verbunden"),
    "plug in": ("Plug in the cable", "Kabel einstecken"),
    "authorized": ("Card accepted", "Karte akzeptiert"),
    "authorizing": ("Checking card", "Karte wird geprüft"),
    "please wait": ("Please wait ...", "Bitte warten ..."),
    "scan to pay": ("or scan to pay", "oder scannen"),
    # refusals
    "refused": ("Not accepted", "Abgelehnt"),
    "why.unknown-tag": ("Unknown card", "Karte unbekannt"),
    "why.blocked": ("Card blocked", "Karte gesperrt"),
    "why.expired": ("Card expired", "Karte abgelaufen"),
    "why.in-use": ("Card in use", "Karte schon aktiv"),
    "why.busy": ("Charger busy", "Ladestation belegt"),
    "why.reserved": ("Reserved", "Reserviert"),
    "why.unavailable": ("Out of service", "Außer Betrieb"),
    "why.faulted": ("Charger fault", "Störung"),
    "why.other": ("Please try again", "Bitte erneut"),
    # charging
    "charging": ("Charging", "Laden"),
    "energy": ("{kwh} kWh", "{kwh} kWh"),
    "time": ("Time {time}", "Dauer {time}"),
    "limit": ("Max {amps} A ({by})", "Max {amps} A ({by})"),
    "suspended ev": ("Paused by the car", "Pause durch Auto"),
    "suspended evse": ("Paused by charger", "Pause durch Station"),
    "finishing": ("Done", "Fertig"),
    "unplug": ("Please unplug", "Bitte abstecken"),
    "charged": ("{kwh} kWh charged", "{kwh} kWh geladen"),
    "stop again": ("Press STOP again", "STOP nochmals"),
    "to end": ("to end charging", "zum Beenden"),
    "stopping": ("Stopping ...", "Wird beendet ..."),
    # limits: who set them
    "by.charger": ("charger", "Station"),
    "by.cable": ("cable", "Kabel"),
    "by.temperature": ("heat", "Hitze"),
    "by.board": ("controller", "Steuerung"),
    "by.central system": ("operator", "Betreiber"),
    # faults and other states
    "faulted": ("Out of order", "Gestört"),
    "unavailable": ("Out of service", "Außer Betrieb"),
    "reserved": ("Reserved", "Reserviert"),
    "fault.power-meter": ("Meter fault", "Zählerfehler"),
    "fault.reader": ("Card reader fault", "Leserfehler"),
    "fault.power-switch": ("Contactor fault", "Schützfehler"),
    "fault.connector-lock": ("Cable lock fault", "Verriegelung"),
    "fault.connector-unlock": ("Cable stays locked", "Kabel verriegelt"),
    "fault.high-temperature": ("Too hot", "Zu heiß"),
    "fault.temperature-derating": ("Hot: less power", "Heiß: weniger Strom"),
    "fault.temperature-sensor": ("Sensor fault", "Sensorfehler"),
    "fault.ground-failure": ("Residual current", "Fehlerstrom"),
    "fault.over-current": ("Overcurrent", "Überstrom"),
    "fault.over-voltage": ("Overvoltage", "Überspannung"),
    "fault.under-voltage": ("Undervoltage", "Unterspannung"),
    "fault.ev-communication": ("Car signal fault", "Fahrzeugsignal"),
    "fault.controller": ("Controller fault", "Steuerungsfehler"),
    "fault.storage": ("Storage fault", "Speicherfehler"),
    "fault.storage-damage": ("Storage damaged", "Speicher beschädigt"),
    "fault.display": ("Display fault", "Anzeigefehler"),
    "fault.other": ("Internal fault", "Interner Fehler"),
    "call service": ("Call service", "Service anrufen"),
    # info screens
    "info.session": ("Last session", "Letzte Ladung"),
    "info.no session": ("none yet", "noch keine"),
    "info.meter": ("Meter", "Zähler"),
    "info.register": ("{kwh} kWh total", "{kwh} kWh gesamt"),
    "info.power": ("{kw} kW now", "{kw} kW jetzt"),
    "info.network": ("Network", "Netzwerk"),
    "info.connected": ("connected", "verbunden"),
    "info.connecting": ("connecting", "verbinde"),
    "info.disconnected": ("not connected", "nicht verbunden"),
    "info.queue": ("{n} to send", "{n} zu senden"),
    "info.version": ("Version", "Version"),
    "info.reason": ("ended: {reason}", "Ende: {reason}"),
}

STRINGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        key: MappingProxyType(dict(zip(LANGUAGES, texts, strict=True)))
        for key, texts in _TABLE.items()
    }
)
"""key -> language -> text."""


class Words:
    """The texts of one language: ``words.say("connector", n=1)``."""

    def __init__(self, language: str = "en") -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no language {language!r} (expected one of {', '.join(LANGUAGES)})")
        self.language = language

    def say(self, key: str, **fields: Any) -> str:
        return STRINGS[key][self.language].format(**fields)

    def maybe(self, key: str, default: str, **fields: Any) -> str:
        """The text of ``key``, or ``default`` when the table has none (a limit's source
        named by a driver this table does not know)."""
        return self.say(key, **fields) if key in STRINGS else default

    def __repr__(self) -> str:
        return f"<Words {self.language}>"
