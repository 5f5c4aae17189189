"""The diagnostics bundle: what a technician needs to understand a misbehaving charger,
and no secret.

A gzip-compressed tar with:

- ``journal.json``: the daemon's journald entries in the window (``journalctl -u
  <unit> --since --until -o json``), or why there are none;
- ``state.json``: the journal/queue summary, the firmware state and a hardware
  self-test (meter read, reader present, contactor feedback) the caller passes;
- ``config.json``: the config file with every secret removed (keys named like a
  secret in any spelling, secret OCPP keys, credentials inside URLs); the values so
  removed are also replaced wherever else they appear (a log line quoting one);
- ``versions.json``: ocppd, Python and the libraries.
"""

from __future__ import annotations

import io
import json
import platform
import re
import subprocess
import tarfile
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trio

from ocppd import __version__
from ocppd.config import Settings
from ocppd.system.transfer import Runner, in_thread, redact_url

REDACTED = "***"
_SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|authorization|key$|_key|credential)", re.I
)
LIBRARIES = (
    "trio",
    "trio-websocket",
    "httpx",
    "pymodbus",
    "gpiozero",
    "pyserial",
    "systemd-python",
)


def is_secret_name(name: str, secret_keys: frozenset[str]) -> bool:
    folded = name.casefold()
    return folded in {k.casefold() for k in secret_keys} or bool(_SECRET_NAME.search(name))


def redact(value: Any, secret_keys: frozenset[str]) -> Any:
    """``value`` (a parsed config) with secrets replaced by ``***``: the values of keys
    named like a secret (case-insensitive), of secret OCPP keys, and credentials in URLs."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_name(str(k), secret_keys) else redact(v, secret_keys))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secret_keys) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return redact_url(value)
    return value


def secret_values(value: Any, secret_keys: frozenset[str], inside: bool = False) -> set[str]:
    """The values :func:`redact` hides (and URL passwords), so that the same text found
    anywhere else in the bundle (a log line, an error message) is hidden too."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= secret_values(v, secret_keys, inside or is_secret_name(str(k), secret_keys))
    elif isinstance(value, list):
        for v in value:
            found |= secret_values(v, secret_keys, inside)
    elif isinstance(value, str):
        if inside and len(value) >= 4:
            found.add(value)
        elif "://" in value and "@" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password and len(password) >= 4:
                found.add(password)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"ocppd": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["platform"] = platform.platform()
    return found


def journal_entries(unit: str, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """journald's entries of ``unit`` in the window (blocking: run in a worker thread)."""
    argv = ["journalctl", "-u", unit, "-o", "json", "--no-pager", "-q"]
    if since is not None:
        argv += ["--since", since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")]
    if until is not None:
        argv += ["--until", until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"journalctl: {exc.__class__.__name__}", "entries": []}
    entries = []
    for line in done.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        entries.append({k: v for k, v in entry.items() if not k.startswith("__")})
    result: dict[str, Any] = {"argv": argv, "entries": entries}
    if done.returncode != 0:
        result["error"] = done.stderr.strip()[:300]
    return result


async def self_test(charger: Any, *, meter_timeout_s: float = 5.0) -> dict[str, Any]:
    """What the hardware says now: per connector a fresh meter read (or that it did not
    answer), the contactor's confirmed state and any feedback fault; whether an RFID
    reader is configured and whether it reports a fault."""
    connectors = []
    for cid, connector in sorted(charger.connectors.items()):
        reading = None
        with trio.move_on_after(meter_timeout_s):
            reading = await connector.read_meter()
        reported = connector.reported
        connectors.append(
            {
                "id": cid,
                "status": str(reported.status),
                "error_code": str(reported.error_code),
                "info": reported.info,
                "meter": (
                    {"answered": False}
                    if reading is None
                    else {
                        "answered": True,
                        "energy_wh": reading.energy_wh,
                        "power_w": reading.power_w,
                        "voltage_v": list(reading.voltage_v),
                    }
                ),
                "contactor_closed": connector.devices.contactor.closed,
            }
        )
    return {
        "reader_present": charger.reader is not None,
        "charger_faults": sorted(str(kind) for kind in charger.faults),
        "connectors": connectors,
    }


def _add(tar: tarfile.TarFile, name: str, text: str, mtime: float, hidden: set[str]) -> None:
    data = scrub(text, hidden).encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def write_bundle(
    path: Path,
    *,
    config_path: Path,
    unit: str,
    since: datetime | None,
    until: datetime | None,
    sources: dict[str, Any],
    secret_keys: Iterable[str],
) -> Path:
    """Write the bundle at ``path`` (0600); blocking."""
    secrets = frozenset(secret_keys)
    try:
        raw_config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raw_config = {"error": f"{config_path}: {exc.__class__.__name__}"}
    config = redact(raw_config, secrets)
    hidden = secret_values(raw_config, secrets)
    now = datetime.now(UTC).timestamp()
    path.parent.mkdir(parents=True, exist_ok=True)
    window = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    with open(path, "wb") as raw:
        path.chmod(0o600)
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            entries = journal_entries(unit, since, until)
            _add(tar, "journal.json", json.dumps(entries, indent=1), now, hidden)
            state = redact({"window": window, **sources}, secrets)
            _add(tar, "state.json", json.dumps(state, indent=1, default=str), now, hidden)
            _add(tar, "config.json", json.dumps(config, indent=1, default=str), now, hidden)
            _add(tar, "versions.json", json.dumps(versions(), indent=1), now, hidden)
    return path


async def make_bundle(
    path: Path,
    *,
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    sources: dict[str, Any],
    secret_keys: frozenset[str],
    runner: Runner = in_thread,
) -> Path:
    result: Path = await runner(
        lambda: write_bundle(
            path,
            config_path=settings.path,
            unit=settings.firmware.unit,
            since=since,
            until=until,
            sources=sources,
            secret_keys=secret_keys,
        )
    )
    return result


__all__ = ["is_secret_name", "make_bundle", "redact", "self_test", "versions", "write_bundle"]
