"""The diagnostics bundle holds what a technician needs and no secret, in any spelling."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from ocppd import __version__
from ocppd.system.diagnostics import redact, write_bundle

CONFIG = """
[ocpp]
url = "wss://cp:URLPASS1@csms.example.com/ocpp"
charge_point_id = "CP-9"
authorization_key = "BASICAUTH1"

[ocpp.keys]
AuthorizationKey = "KEYVALUE1"
authorizationkey = "KEYVALUE2"
HeartbeatInterval = 300

[storage]
state_dir = "/var/lib/ocppd"

[vendor_extra]
api_token = "TOKEN1"
Password = "PASSWORD1"
"""
SECRETS = ["URLPASS1", "BASICAUTH1", "KEYVALUE1", "KEYVALUE2", "TOKEN1", "PASSWORD1"]


def test_redaction_matches_secret_names_in_any_case_and_urls_with_credentials() -> None:
    out = redact(
        {"AUTHORIZATIONKEY": "a", "x": ["ftp://u:p@h/f", "plain"], "Heartbeat": 1},
        frozenset({"AuthorizationKey"}),
    )
    assert out == {"AUTHORIZATIONKEY": "***", "x": ["ftp://***@h/f", "plain"], "Heartbeat": 1}


def test_a_bundle_unpacks_to_its_parts_and_holds_no_secret(tmp_path: Path) -> None:
    config = tmp_path / "ocppd.toml"
    config.write_text(CONFIG)
    since = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    until = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    path = write_bundle(
        tmp_path / "out" / "d.tar.gz",
        config_path=config,
        unit="ocppd.service",
        since=since,
        until=until,
        sources={"queue": {"pending": 2}, "note": "AuthorizationKey=KEYVALUE1 is not a key"},
        secret_keys={"AuthorizationKey"},
    )
    assert path.stat().st_mode & 0o777 == 0o600
    raw = path.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        files = {n: tar.extractfile(n).read() for n in tar.getnames()}  # type: ignore[union-attr]
    everything = b"".join(files.values())
    assert set(files) == {"journal.json", "state.json", "config.json", "versions.json"}
    config_out = json.loads(files["config.json"])
    assert config_out["ocpp"]["charge_point_id"] == "CP-9"
    assert config_out["ocpp"]["url"] == "wss://***@csms.example.com/ocpp"
    assert config_out["ocpp"]["keys"]["HeartbeatInterval"] == 300
    state = json.loads(files["state.json"])
    assert state["queue"] == {"pending": 2}
    assert state["window"] == {"since": since.isoformat(), "until": until.isoformat()}
    journal = json.loads(files["journal.json"])
    assert "--since" in journal.get("argv", ["--since"])
    assert json.loads(files["versions.json"])["ocppd"] == __version__
    assert [s for s in SECRETS if s.encode() in everything] == []
    assert "AuthorizationKey=*** is not a key" in state["note"]  # quoted elsewhere: hidden too
