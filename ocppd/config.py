"""The configuration file: TOML in, frozen typed settings out, every problem on one line.

``ocppd run`` and ``ocppd check-config`` both call :func:`load`. A file with problems
raises :class:`ConfigError`, whose ``lines()`` are ``PATH: key.path: problem (expected
...)``, one per problem, in file order. Unknown keys are problems: a typo must not
pass silently. Device tables (``[rfid]``, ``[connector.<kind>]``) are checked against
the options their driver declares in ``hal``.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hal import ConnectorSpec
from hal.options import (
    Kind,
    Option,
    OptionError,
    Problem,
    any_scalar,
    choice,
    integer,
    number,
    path,
    read_options,
    string,
)
from hal.registry import (
    OPTIONAL_KINDS,
    REQUIRED_KINDS,
    DeviceKind,
    DeviceSpec,
    driver_for,
    drivers_of,
)

DEFAULT_PATH = Path("/etc/ocppd.toml")
EX_CONFIG = 78

# Charge point identity as the security whitepaper allows it in the URL path.
IDENTITY = r"[A-Za-z0-9*\-_=:+|@.]{1,48}"


class ConfigError(Exception):
    """The file cannot be used. ``problems`` are (key path, problem, expected) in file order."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)")

    def lines(self) -> list[str]:
        out = []
        for p in self.problems:
            where = f"{p.key}: " if p.key else ""
            expected = f" (expected {p.expected})" if p.expected else ""
            out.append(f"{self.path}: {where}{p.problem}{expected}")
        return out


@dataclass(frozen=True)
class OcppSettings:
    url: str
    charge_point_id: str
    security_profile: int
    authorization_key: str | None = field(repr=False)
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    reconnect_min_s: float
    reconnect_max_s: float
    connect_timeout_s: float
    call_timeout_s: float
    max_frame_bytes: int
    versions: tuple[str, ...]  # the OCPP versions offered, preferred first (subprotocols)
    keys: Mapping[str, bool | int | float | str]
    tls_url: str | None = None  # the wss:// URL for profiles 2 and 3 when ``url`` is ws://

    @property
    def endpoint(self) -> str:
        """The URL the daemon dials: ``url`` with the charge point id as last path segment."""
        return f"{self.url.rstrip('/')}/{self.charge_point_id}"

    def endpoint_for(self, profile: int) -> str:
        """The URL to dial with security ``profile``: for 2 and 3 (raised over OCPP from a
        ws:// ``url``) ``tls_url``, else ``url`` made wss://; TLS never falls back to plain
        ws [SEC A00.FR.311]."""
        if profile < 2 or urlsplit(self.url).scheme == "wss":
            return self.endpoint
        base = self.tls_url or urlunsplit(urlsplit(self.url)._replace(scheme="wss"))
        return f"{base.rstrip('/')}/{self.charge_point_id}"


@dataclass(frozen=True)
class ChargePointInfo:
    """BootNotification fields."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True)
class StorageSettings:
    state_dir: Path
    journal_max_mb: float


@dataclass(frozen=True)
class ControlSettings:
    socket: Path


@dataclass(frozen=True)
class LogSettings:
    level: str


@dataclass(frozen=True)
class SystemSettings:
    """What a hard reset runs (argv), after transactions were stopped and journaled."""

    hard_reset_command: tuple[str, ...]


@dataclass(frozen=True)
class FirmwareSettings:
    """Firmware Management: which Debian packages an UpdateFirmware may install, how long
    the update helper waits for the new version to register before it rolls back, and
    how much disk and patience a transfer may take."""

    packages: tuple[str, ...] = ("ocppd",)
    health_timeout_s: float = 300.0
    max_download_mb: float = 512.0
    stall_timeout_s: float = 60.0
    unit: str = "ocppd.service"


@dataclass(frozen=True)
class ConnectorSettings:
    id: int
    max_current_a: float
    phases: int
    devices: Mapping[DeviceKind, DeviceSpec]
    connector_type: str | None = None  # its socket or cable (CONNECTOR_TYPES), if said

    def spec(self) -> ConnectorSpec:
        return ConnectorSpec(self.id, self.devices, self.max_current_a, self.phases)


@dataclass(frozen=True)
class DisplaySettings:
    """``[display]``: the device (driver and its keys) and what the screens say and when."""

    device: DeviceSpec
    language: str
    qr_url: str | None
    dim_after_s: float
    blank_after_s: float
    refresh_s: float
    connectors: str  # "summary" | "turns"
    turn_s: float


@dataclass(frozen=True)
class Settings:
    path: Path
    ocpp: OcppSettings
    charge_point: ChargePointInfo
    storage: StorageSettings
    control: ControlSettings
    log: LogSettings
    system: SystemSettings
    rfid: DeviceSpec | None
    connectors: tuple[ConnectorSettings, ...]
    firmware: FirmwareSettings = FirmwareSettings()
    display: DisplaySettings | None = None
    buttons: DeviceSpec | None = None

    def summary(self) -> str:
        drivers = ", ".join(
            f"{c.id}: " + "/".join(c.devices[k].driver for k in REQUIRED_KINDS)
            for c in self.connectors
        )
        rfid = self.rfid.driver if self.rfid else "none"
        display = f"; display {self.display.device.driver}" if self.display else ""
        buttons = f"; buttons {self.buttons.driver}" if self.buttons else ""
        return (
            f"{self.path}: OK: charge point {self.ocpp.charge_point_id} -> {self.ocpp.endpoint} "
            f"(security profile {self.ocpp.security_profile}); {len(self.connectors)} connector(s) "
            f"[{drivers}]; rfid {rfid}{display}{buttons}; state in {self.storage.state_dir}"
        )


# --- table declarations ------------------------------------------------------------------


def _url() -> Kind:
    expected = "a ws:// or wss:// URL with a host"

    def convert(raw: Any) -> str:
        if not isinstance(raw, str):
            raise OptionError(f"got {raw!r}", expected)
        parts = urlsplit(raw)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise OptionError(f"got {raw!r}", expected)
        if parts.query or parts.fragment:
            raise OptionError("has a query or fragment", expected)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise OptionError(f"bad port in {raw!r}", expected) from None
        return raw

    return Kind(expected, convert)


OCPP_VERSIONS = ("ocpp1.6", "ocpp2.0.1")
"""The OCPP versions (websocket subprotocols) this daemon speaks; ``ocpp.versions`` names
some of them in order of preference. ``app.DIALECTS`` holds one dialect for each."""


def _versions() -> Kind:
    known = " and ".join(f'"{v}"' for v in OCPP_VERSIONS)
    expected = f"a list of OCPP versions, preferred first, each once, of {known}"

    def convert(raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw:
            raise OptionError(f"got {raw!r}", expected)
        for version in raw:
            if version not in OCPP_VERSIONS:
                raise OptionError(f"{version!r} is not a version ocppd speaks", expected)
        if len(set(raw)) != len(raw):
            raise OptionError(f"names a version twice: {raw!r}", expected)
        return tuple(raw)

    return Kind(expected, convert)


def _names() -> Kind:
    expected = "a list of Debian package names"

    def convert(raw: Any) -> tuple[str, ...]:
        if (
            isinstance(raw, list)
            and raw
            and all(isinstance(a, str) and re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", a) for a in raw)
        ):
            return tuple(raw)
        raise OptionError(f"got {raw!r}", expected)

    return Kind(expected, convert)


def _command() -> Kind:
    expected = "a command line (text) or a list of arguments"

    def convert(raw: Any) -> tuple[str, ...]:
        if isinstance(raw, str) and raw.strip():
            return tuple(shlex.split(raw))
        if isinstance(raw, list) and raw and all(isinstance(a, str) and a for a in raw):
            return tuple(raw)
        raise OptionError(f"got {raw!r}", expected)

    return Kind(expected, convert)


OCPP_OPTIONS = (
    Option("url", _url()),
    Option(
        "charge_point_id",
        string(pattern=IDENTITY, expected="1-48 characters of A-Z a-z 0-9 *-_=:+|@."),
    ),
    Option("security_profile", choice(0, 1, 2, 3), 0),
    Option("authorization_key", string(max_length=255), None),
    Option("ca_file", path(), None),
    Option("cert_file", path(), None),
    Option("key_file", path(), None),
    Option("tls_url", _url(), None),
    Option("reconnect_min_s", number(0, 3600, exclusive_min=True), 1.0),
    Option("reconnect_max_s", number(0, 86400, exclusive_min=True), 60.0),
    Option("connect_timeout_s", number(0, 600, exclusive_min=True), 30.0),
    Option("call_timeout_s", number(0, 600, exclusive_min=True), 30.0),
    Option("max_frame_bytes", integer(4096, 16 * 1024 * 1024), 1024 * 1024),
    Option("versions", _versions(), ("ocpp1.6",)),  # without the key: 1.6, as before
)

CHARGE_POINT_OPTIONS = (
    Option("vendor", string(max_length=20)),
    Option("model", string(max_length=20)),
    Option("serial_number", string(max_length=25), None),
    Option("charge_box_serial_number", string(max_length=25), None),
    Option("firmware_version", string(max_length=50), None),
    Option("iccid", string(max_length=20), None),
    Option("imsi", string(max_length=20), None),
    Option("meter_type", string(max_length=25), None),
    Option("meter_serial_number", string(max_length=25), None),
)

STORAGE_OPTIONS = (
    Option("state_dir", path(), "/var/lib/ocppd"),
    Option("journal_max_mb", number(1, 100_000), 256.0),
)
CONTROL_OPTIONS = (Option("socket", path(), "/run/ocppd/control.sock"),)
LOG_OPTIONS = (Option("level", choice("debug", "info", "warning", "error"), "info"),)
SYSTEM_OPTIONS = (Option("hard_reset_command", _command(), ("systemctl", "reboot")),)
FIRMWARE_OPTIONS = (
    Option("packages", _names(), ("ocppd",)),
    Option("health_timeout_s", number(10, 86400), 300.0),
    Option("max_download_mb", number(1, 100_000), 512.0),
    Option("stall_timeout_s", number(1, 3600), 60.0),
    Option("unit", string(max_length=100), "ocppd.service"),
)


def _qr_url() -> Kind:
    expected = "a URL or text with {id} where the charge point id goes"

    def convert(raw: Any) -> str:
        if not isinstance(raw, str) or "{id}" not in raw or len(raw) > 200:
            raise OptionError(f"got {raw!r}", expected)
        try:
            raw.format(id="X")
        except (KeyError, IndexError, ValueError):
            raise OptionError(f"got {raw!r}", expected + " (and no other {...})") from None
        return raw

    return Kind(expected, convert)


# What the screens say and when; the device keys (driver, i2c_bus, ...) are the driver's.
DISPLAY_OPTIONS = (
    Option("language", choice("en", "de"), "en"),
    Option("qr_url", _qr_url(), None),
    Option("dim_after_s", number(0, 86400), 60.0),
    Option("blank_after_s", number(0, 86400), 300.0),
    Option("refresh_s", number(1, 600), 5.0),
    Option("connectors", choice("summary", "turns"), "summary"),
    Option("turn_s", number(1, 600), 5.0),
)

# [rfid] keys that are not the driver's: what kind of token the reader's tags are (OCPP
# 2.0.1 sends it with each tag: ISO14443 proximity cards, ISO15693 vicinity cards)
RFID_OPTIONS = (Option("token_type", choice("iso14443", "iso15693"), "iso14443"),)

CONNECTOR_TYPES = (
    "cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A", "s309-1P-32A",
    "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2", "sType3", "Other1PhMax16A",
    "Other1PhOver16A", "Other3Ph", "Pan", "wInductive", "wResonant",
)  # fmt: skip
"""What a connector's ``type`` may say: its socket (s...) or cable (c...), in OCPP 2.0.1's
words (ConnectorEnumType, less Undetermined and Unknown: then leave the key out). A
reservation of a connector type needs one of that type."""

CONNECTOR_OPTIONS = (
    Option("id", integer(1, 99)),
    Option("max_current_a", number(6, 1000), 32.0),
    Option("phases", choice(1, 3), 3),
    Option("type", choice(*CONNECTOR_TYPES), None),
)

TOP_LEVEL = (
    "ocpp",
    "charge_point",
    "storage",
    "control",
    "log",
    "system",
    "firmware",
    "rfid",
    "rfid",
    "display",
    "buttons",
    "connector",
)

KeyCheck = Callable[[str, Any, Mapping[int, int]], str | None]
"""Checks one ``[ocpp.keys]`` entry: (name, value, phases per connector id) -> problem or None.
Some keys depend on the charger's layout (ConnectorPhaseRotation names connectors)."""


# --- loading -----------------------------------------------------------------------------


class _Collector:
    """Collects problems with their full key path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, key: str, problem: str, expected: str = "") -> None:
        self.problems.append(Problem(key, problem, expected))

    def table(
        self, where: str, options: tuple[Option, ...], raw: Any, *, ignore: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.add(where, f"is a {type(raw).__name__}", "a table")
            return {}
        values, problems = read_options(options, raw, ignore=ignore)
        for p in problems:
            self.add(f"{where}.{p.key}", p.problem, p.expected)
        return values


def _device(
    c: _Collector, where: str, kind: DeviceKind, raw: Any, *, also: tuple[Option, ...] = ()
) -> DeviceSpec | None:
    """A device table; ``also`` are keys of the table that are not the driver's (read by
    the caller), accepted here so they are no "unknown key"."""
    if not isinstance(raw, dict):
        c.add(where, f"is a {type(raw).__name__}", "a table")
        return None
    names = " | ".join(drivers_of(kind))
    name = raw.get("driver")
    if name is None:
        c.add(f"{where}.driver", "missing", f"one of {names}")
        return None
    driver = driver_for(kind, name) if isinstance(name, str) else None
    if driver is None:
        c.add(f"{where}.driver", f"unknown driver {name!r}", f"one of {names}")
        return None
    values = c.table(
        where, (*driver.options, *also), raw, ignore=("driver", *(o.name for o in also))
    )
    return DeviceSpec(kind, name, MappingProxyType(values))


def _display(c: _Collector, raw: Any) -> DisplaySettings | None:
    spec = _device(c, "display", DeviceKind.DISPLAY, raw, also=DISPLAY_OPTIONS)
    if spec is None or not isinstance(raw, dict):
        return None
    view_raw = {o.name: raw[o.name] for o in DISPLAY_OPTIONS if o.name in raw}
    values, problems = read_options(DISPLAY_OPTIONS, view_raw)
    if problems:
        return None  # reported by _device already (same keys, same checks)
    if values["blank_after_s"] and values["dim_after_s"] > values["blank_after_s"]:
        c.add(
            "display.dim_after_s",
            f"{values['dim_after_s']:g} is after blank_after_s",
            f"a number <= {values['blank_after_s']:g} (or blank_after_s = 0: never blank)",
        )
        return None
    return DisplaySettings(device=spec, **values)


def _connector(c: _Collector, where: str, raw: Any) -> ConnectorSettings | None:
    if not isinstance(raw, dict):
        c.add(where, f"is a {type(raw).__name__}", "a [[connector]] table")
        return None
    device_keys = tuple(k.value for k in (*REQUIRED_KINDS, *OPTIONAL_KINDS))
    values = c.table(where, CONNECTOR_OPTIONS, raw, ignore=device_keys)
    devices: dict[DeviceKind, DeviceSpec] = {}
    for kind in (*REQUIRED_KINDS, *OPTIONAL_KINDS):
        if kind.value in raw:
            spec = _device(c, f"{where}.{kind.value}", kind, raw[kind.value])
            if spec is not None:
                devices[kind] = spec
        elif kind in REQUIRED_KINDS:
            c.add(
                f"{where}.{kind.value}",
                "missing table",
                f'a [connector.{kind.value}] table with driver = "sim" or a real driver',
            )
    if any(o.name not in values for o in CONNECTOR_OPTIONS) or any(
        k not in devices for k in REQUIRED_KINDS
    ):
        return None  # the problems are reported already
    return ConnectorSettings(
        values["id"],
        values["max_current_a"],
        values["phases"],
        MappingProxyType(devices),
        values["type"],
    )


def _ocpp_keys(
    raw_keys: dict[str, Any], check_key: KeyCheck | None, phases: Mapping[int, int]
) -> tuple[dict[str, bool | int | float | str], list[Problem]]:
    """``[ocpp.keys]``: OCPP key names are case-insensitive (CiString50Type), so two
    spellings of one key are one key given twice."""
    c = _Collector()
    keys: dict[str, bool | int | float | str] = {}
    seen: dict[str, str] = {}
    scalar = any_scalar()
    for name, value in raw_keys.items():
        first = seen.setdefault(name.casefold(), name)
        if first != name:
            c.add(f"ocpp.keys.{name}", f"is {first} again (key names ignore case)", "each key once")
            continue
        try:
            keys[name] = scalar(value)
        except OptionError as exc:
            c.add(f"ocpp.keys.{name}", exc.problem, exc.expected)
            continue
        if check_key is not None and (problem := check_key(name, value, phases)) is not None:
            c.add(f"ocpp.keys.{name}", *_split_expected(problem))
    return keys, c.problems


def _ocpp(c: _Collector, raw: Any) -> tuple[OcppSettings | None, dict[str, Any], int]:
    """The ``[ocpp]`` table; its ``keys`` table unchecked (they need the connectors), and
    where in the problem list theirs belong."""
    if raw is None:
        c.add("ocpp", "missing table", "an [ocpp] table with url and charge_point_id")
        return None, {}, len(c.problems)
    values = c.table("ocpp", OCPP_OPTIONS, raw, ignore=("keys",))
    raw_keys = raw.get("keys", {}) if isinstance(raw, dict) else {}
    if not isinstance(raw_keys, dict):
        c.add("ocpp.keys", f"is a {type(raw_keys).__name__}", "a table of OCPP configuration keys")
        raw_keys = {}
    keys_at = len(c.problems)
    if any(o.name not in values for o in OCPP_OPTIONS):
        return None, raw_keys, keys_at  # reported already; cross-checks need every value
    profile = values["security_profile"]
    scheme = urlsplit(values["url"]).scheme
    if profile >= 2 and scheme != "wss":
        c.add(
            "ocpp.url",
            f"is {scheme}:// but security_profile is {profile}",
            "a wss:// URL: profiles 2 and 3 need TLS, which never falls back to plain ws",
        )
    tls_url = values["tls_url"]
    if tls_url and urlsplit(tls_url).scheme != "wss":
        c.add("ocpp.tls_url", f"is {urlsplit(tls_url).scheme}://", "a wss:// URL")
    if profile in (1, 2) and not values["authorization_key"]:
        c.add(
            "ocpp.authorization_key",
            f"missing for security_profile {profile}",
            "the basic-auth password",
        )
    key = values["authorization_key"]
    if key and not 16 <= len(key.encode()) <= 40:
        c.add(
            "ocpp.authorization_key",
            f"is {len(key.encode())} bytes long",
            "16 to 40 bytes: the basic-auth password as written (never hex-decoded)",
        )
    if profile == 3:
        for key in ("cert_file", "key_file"):
            if not values[key]:
                c.add(
                    f"ocpp.{key}",
                    "missing for security_profile 3",
                    "the client certificate and its key (PEM files)",
                )
    if profile >= 2:
        for key in ("ca_file", "cert_file", "key_file"):
            file = values[key]
            if file and not os.access(file, os.R_OK):
                c.add(f"ocpp.{key}", f"cannot read {file}", "a readable PEM file")
    if values["reconnect_max_s"] < values["reconnect_min_s"]:
        c.add(
            "ocpp.reconnect_max_s",
            f"{values['reconnect_max_s']:g} is below reconnect_min_s",
            f"a number >= {values['reconnect_min_s']:g}",
        )
    return OcppSettings(keys=MappingProxyType({}), **values), raw_keys, keys_at


def _split_expected(problem: str) -> tuple[str, str]:
    """``"got 5 (expected x)"`` -> ("got 5", "x"); other texts pass whole."""
    m = re.fullmatch(r"(.*) \(expected (.*)\)", problem)
    return (m.group(1), m.group(2)) if m else (problem, "")


def parse(text: str, path: Path, check_key: KeyCheck | None = None) -> Settings:
    """Check a config text; raise ConfigError listing every problem."""
    c = _Collector()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        c.add("", str(exc), "valid TOML")
        raise ConfigError(path, c.problems) from None
    for key in doc:
        if key not in TOP_LEVEL:
            c.add(key, "unknown table", "one of " + ", ".join(TOP_LEVEL))
    ocpp, raw_keys, keys_at = _ocpp(c, doc.get("ocpp"))  # keys: once connectors are known
    cp_raw = doc.get("charge_point")
    if cp_raw is None:
        c.add("charge_point", "missing table", "a [charge_point] table with vendor and model")
        cp_values: dict[str, Any] = {}
    else:
        cp_values = c.table("charge_point", CHARGE_POINT_OPTIONS, cp_raw)
    storage = c.table("storage", STORAGE_OPTIONS, doc.get("storage", {}))
    control = c.table("control", CONTROL_OPTIONS, doc.get("control", {}))
    logs = c.table("log", LOG_OPTIONS, doc.get("log", {}))
    system = c.table("system", SYSTEM_OPTIONS, doc.get("system", {}))
    firmware = c.table("firmware", FIRMWARE_OPTIONS, doc.get("firmware", {}))
    rfid = (
        _device(c, "rfid", DeviceKind.RFID, doc["rfid"], also=RFID_OPTIONS)
        if "rfid" in doc
        else None
    )
    display = _display(c, doc["display"]) if "display" in doc else None
    buttons = (
        _device(c, "buttons", DeviceKind.BUTTONS, doc["buttons"]) if "buttons" in doc else None
    )
    raw_connectors = doc.get("connector")
    connectors: list[ConnectorSettings] = []
    if raw_connectors is None:
        c.add("connector", "missing", "at least one [[connector]] table")
    elif not isinstance(raw_connectors, list):
        c.add("connector", "is a single table", "[[connector]] (an array of tables)")
    else:
        for i, raw in enumerate(raw_connectors):
            conn = _connector(c, f"connector[{i}]", raw)
            if conn is not None:
                connectors.append(conn)
        ids = sorted(conn.id for conn in connectors)
        if len(ids) == len(raw_connectors) and ids != list(range(1, len(ids) + 1)):
            c.add(
                "connector",
                f"ids are {ids}",
                f"ids 1 to {len(ids)}, each once (OCPP numbers connectors from 1)",
            )
    keys, key_problems = _ocpp_keys(
        raw_keys, check_key, {conn.id: conn.phases for conn in connectors}
    )
    c.problems[keys_at:keys_at] = key_problems
    if c.problems or ocpp is None:
        raise ConfigError(path, c.problems)
    return Settings(
        path=path,
        ocpp=replace(ocpp, keys=MappingProxyType(keys)),
        charge_point=ChargePointInfo(**cp_values),
        storage=StorageSettings(Path(storage["state_dir"]), storage["journal_max_mb"]),
        control=ControlSettings(Path(control["socket"])),
        log=LogSettings(logs["level"]),
        system=SystemSettings(system["hard_reset_command"]),
        rfid=rfid,
        connectors=tuple(sorted(connectors, key=lambda conn: conn.id)),
        firmware=FirmwareSettings(**firmware),
        display=display,
        buttons=buttons,
    )


def load(path: Path = DEFAULT_PATH, check_key: KeyCheck | None = None) -> Settings:
    """Read and check the file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [Problem("", f"cannot read: {exc.strerror or exc}", "")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path, [Problem("", f"not UTF-8 ({exc.reason})", "a UTF-8 text")]
        ) from None
    return parse(text, path, check_key)


def permission_warnings(settings: Settings) -> list[str]:
    """Warnings (not errors) about how the file is stored: a password readable by everyone."""
    try:
        mode = settings.path.stat().st_mode
    except OSError:
        return []
    if settings.ocpp.authorization_key and mode & stat.S_IROTH:
        return [
            f"{settings.path}: holds ocpp.authorization_key but is readable by every user "
            f"(mode {stat.S_IMODE(mode):04o}; expected 0640 root:ocppd)"
        ]
    return []
