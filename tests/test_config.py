"""The configuration file: every problem is one line that names the key and what was expected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocppd import cli, config
from ocppd.app import key_checker

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[ocpp]
url = "ws://127.0.0.1:9000/ocpp"
charge_point_id = "CP0001"

[charge_point]
vendor = "Acme"
model = "PiCharger"

[[connector]]
id = 1
[connector.contactor]
driver = "sim"
[connector.plug]
driver = "sim"
[connector.meter]
driver = "sim"
"""


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "ocppd.toml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, key_checker())
    return caught.value.lines()


def only(text: str, tmp_path: Path) -> str:
    lines = problems(text, tmp_path)
    assert len(lines) == 1, lines
    return lines[0].split(": ", 1)[1]


def test_the_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "ocppd.toml"
    path.write_text(GOOD)
    s = config.load(path, key_checker())
    assert s.ocpp.endpoint == "ws://127.0.0.1:9000/ocpp/CP0001"
    assert s.ocpp.security_profile == 0
    assert s.storage.state_dir == Path("/var/lib/ocppd")
    assert s.control.socket == Path("/run/ocppd/control.sock")
    assert s.connectors[0].max_current_a == 32.0 and s.connectors[0].phases == 3
    assert s.rfid is None
    assert s.system.hard_reset_command == ("systemctl", "reboot")


def test_the_shipped_example_config_is_valid_and_harmless() -> None:
    s = config.load(REPO / "etc" / "ocppd.toml", key_checker())
    assert all(d.driver == "sim" for c in s.connectors for d in c.devices.values())
    assert s.ocpp.url.startswith("ws://127.0.0.1")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"', 'charge_point_id = "CP0001"\nretries = 3'
            ),
            "ocpp.retries: unknown key (expected one of",
        ),
        (
            lambda t: t.replace('url = "ws://127.0.0.1:9000/ocpp"', 'url = "http://x/ocpp"'),
            "ocpp.url: got 'http://x/ocpp' (expected a ws:// or wss:// URL with a host)",
        ),
        (
            lambda t: t.replace('url = "ws://127.0.0.1:9000/ocpp"\n', ""),
            "ocpp.url: missing (expected a ws:// or wss:// URL with a host)",
        ),
        (
            lambda t: t.replace('charge_point_id = "CP0001"', 'charge_point_id = "CP 1/2"'),
            "ocpp.charge_point_id: got 'CP 1/2' (expected 1-48 characters",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"', 'charge_point_id = "CP0001"\nreconnect_min_s = "fast"'
            ),
            "ocpp.reconnect_min_s: got 'fast' (expected a number > 0 and <= 3600)",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"',
                'charge_point_id = "CP0001"\nreconnect_min_s = 10.0\nreconnect_max_s = 5.0',
            ),
            "ocpp.reconnect_max_s: 5 is below reconnect_min_s (expected a number >= 10)",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"',
                'charge_point_id = "CP0001"\nsecurity_profile = 2\n'
                'authorization_key = "0123456789abcdef"',
            ),
            "ocpp.url: is ws:// but security_profile is 2 (expected a wss:// URL",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"', 'charge_point_id = "CP0001"\nsecurity_profile = 1'
            ),
            "ocpp.authorization_key: missing for security_profile 1 "
            "(expected the basic-auth password)",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"',
                'charge_point_id = "CP0001"\nsecurity_profile = 1\nauthorization_key = "short"',
            ),
            "ocpp.authorization_key: is 5 bytes long (expected 16 to 40 bytes",
        ),
        (
            lambda t: t.replace(
                'charge_point_id = "CP0001"', 'charge_point_id = "CP0001"\nsecurity_profile = 4'
            ),
            "ocpp.security_profile: got 4 (expected one of 0 | 1 | 2 | 3)",
        ),
        (
            lambda t: t.replace('vendor = "Acme"', 'vendor = "' + "A" * 21 + '"'),
            "charge_point.vendor: 21 characters long (expected a text of at most 20 characters)",
        ),
        (
            lambda t: t.replace('model = "PiCharger"\n', ""),
            "charge_point.model: missing (expected a text of at most 20 characters)",
        ),
        (
            lambda t: t + "\n[logging]\nlevel = 'debug'\n",
            "logging: unknown table (expected one of ocpp, charge_point, storage",
        ),
        (
            lambda t: t + "\n[log]\nlevel = 'verbose'\n",
            "log.level: got 'verbose' (expected one of debug | info | warning | error)",
        ),
        (
            lambda t: t + "\n[storage]\nstate_dir = 'var/lib'\n",
            "storage.state_dir: got 'var/lib' (expected an absolute path)",
        ),
        (
            lambda t: t.replace(
                '[connector.meter]\ndriver = "sim"', '[connector.meter]\ndriver = "sdm"'
            ),
            "connector[0].meter.driver: unknown driver 'sdm' (expected one of",
        ),
        (
            lambda t: t.replace(
                '[connector.meter]\ndriver = "sim"',
                '[connector.meter]\ndriver = "sim"\nbaud = 9600',
            ),
            "connector[0].meter.baud: unknown key (expected one of initial_wh, voltage_v)",
        ),
        (
            lambda t: t.replace(
                '[connector.plug]\ndriver = "sim"',
                '[connector.plug]\ndriver = "sim"\npower_w = "lots"',
            ),
            "connector[0].plug.power_w: got 'lots' (expected a number >= 0 and <= 1e+06)",
        ),
        (
            lambda t: t.replace('[connector.plug]\ndriver = "sim"\n', ""),
            "connector[0].plug: missing table (expected a [connector.plug] table",
        ),
        (
            lambda t: t.replace("[[connector]]\nid = 1", "[[connector]]\nid = 2"),
            "connector: ids are [2] (expected ids 1 to 1, each once",
        ),
        (
            lambda t: t.replace("[[connector]]\nid = 1", "[[connector]]\nid = 1\nphases = 2"),
            "connector[0].phases: got 2 (expected one of 1 | 3)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nHeartbeatInterval = 'often'\n",
            "ocpp.keys.HeartbeatInterval: 'often' is not an integer",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nAuthorizationKey = '0123456789abcde'\n",
            "ocpp.keys.AuthorizationKey: expected 16 to 40 characters of A-Z a-z 0-9",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nSecurityProfile = 2\n",
            "ocpp.keys.SecurityProfile: set by the charger itself (expected no value here)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nNumberOfConnectors = 2\n",
            "ocpp.keys.NumberOfConnectors: set by the charger itself (expected no value here)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nHeartbeatIntervall = 60\n",
            "ocpp.keys.HeartbeatIntervall: unknown OCPP configuration key (expected one of",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nHeartbeatInterval = 60\nheartbeatinterval = 30\n",
            "ocpp.keys.heartbeatinterval: is HeartbeatInterval again (key names ignore case) "
            "(expected each key once)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nConnectorPhaseRotation = '0.RST,2.RST'\n",
            "ocpp.keys.ConnectorPhaseRotation: 2.RST: no connector 2 (0 to 1)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nConnectorPhaseRotation = 'RST'\n",
            "ocpp.keys.ConnectorPhaseRotation: 'RST' is not <connector>.<rotation>, e.g. 1.RST",
        ),
        (
            lambda t: (
                t.replace("id = 1\n", "id = 1\nphases = 1\n")
                + "\n[ocpp.keys]\nConnectorPhaseRotation = '1.RST'\n"
            ),
            "ocpp.keys.ConnectorPhaseRotation: 1.RST: connector 1 is single-phase "
            "(NotApplicable or Unknown)",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nConnectorPhaseRotation = '1.NotApplicable'\n",
            "ocpp.keys.ConnectorPhaseRotation: 1.NotApplicable: NotApplicable is for "
            "single-phase connectors only",
        ),
        (
            lambda t: t + "\n[ocpp.keys]\nMeterValuesSampledData = 'Energy.Reactive.Magic'\n",
            "ocpp.keys.MeterValuesSampledData: not supported: Energy.Reactive.Magic",
        ),
        (
            lambda t: t + "\n[system]\nhard_reset_command = []\n",
            "system.hard_reset_command: got [] (expected a command line (text) or a list",
        ),
    ],
)
def test_each_problem_names_its_key_and_what_was_expected(edit, expected, tmp_path) -> None:
    line = only(edit(GOOD), tmp_path)
    assert line.startswith(expected), line


def test_keys_under_ocpp_keys_go_where_the_ocpp_table_is(tmp_path: Path) -> None:
    text = GOOD.replace(
        'charge_point_id = "CP0001"',
        'charge_point_id = "CP0001"\n[ocpp.keys]\nMeterValueSampleInterval = 30',
    )
    path = tmp_path / "ocppd.toml"
    path.write_text(text)
    assert config.load(path, key_checker()).ocpp.keys["MeterValueSampleInterval"] == 30


def test_a_key_name_in_another_case_is_that_key(tmp_path: Path) -> None:
    """OCPP key names are CiString50Type: ``heartbeatinterval`` is no typo."""
    path = tmp_path / "ocppd.toml"
    path.write_text(
        GOOD + "\n[ocpp.keys]\nheartbeatinterval = 60\nCONNECTORPHASEROTATION = '0.RST,1.RTS'\n"
    )
    settings = config.load(path, key_checker())
    assert dict(settings.ocpp.keys) == {
        "heartbeatinterval": 60,
        "CONNECTORPHASEROTATION": "0.RST,1.RTS",
    }


def test_connector_phase_rotation_is_checked_against_the_connectors_of_the_file(
    tmp_path: Path,
) -> None:
    two = GOOD + GOOD[GOOD.index("[[connector]]") :].replace("id = 1", "id = 2\nphases = 1")
    path = tmp_path / "ocppd.toml"
    path.write_text(two + "\n[ocpp.keys]\nConnectorPhaseRotation = '0.RST,1.TSR,2.NotApplicable'\n")
    assert config.load(path, key_checker()).ocpp.keys["ConnectorPhaseRotation"]
    path.write_text(two + "\n[ocpp.keys]\nConnectorPhaseRotation = '2.RST'\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, key_checker())
    assert "2.RST: connector 2 is single-phase" in caught.value.lines()[0]


def test_key_problems_keep_their_place_in_file_order(tmp_path: Path) -> None:
    text = GOOD.replace(
        'charge_point_id = "CP0001"',
        'charge_point_id = "CP0001"\n[ocpp.keys]\nNope = 1\nConnectorPhaseRotation = "9.RST"',
    ).replace('model = "PiCharger"', "model = 7")
    keys = [line.split(": ")[1] for line in problems(text, tmp_path)]
    assert keys == ["ocpp.keys.Nope", "ocpp.keys.ConnectorPhaseRotation", "charge_point.model"]


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        GOOD.replace('url = "ws://127.0.0.1:9000/ocpp"', "url = 5")
        .replace('model = "PiCharger"', "model = 7")
        .replace('driver = "sdm"', "")
    )
    text = text.replace('[connector.meter]\ndriver = "sim"', '[connector.meter]\ndriver = "x"')
    lines = problems(text, tmp_path)
    keys = [line.split(": ")[1] for line in lines]
    assert keys == ["ocpp.url", "charge_point.model", "connector[0].meter.driver"]
    assert all(line.startswith(str(tmp_path / "ocppd.toml") + ": ") for line in lines)


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    line = only(GOOD.replace('vendor = "Acme"', "vendor = Acme"), tmp_path)
    assert "line 7" in line and "(expected valid TOML)" in line


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(tmp_path / "nope.toml")
    assert caught.value.lines() == [
        f"{tmp_path / 'nope.toml'}: cannot read: No such file or directory"
    ]


def test_profile_2_needs_readable_certificate_files(tmp_path: Path) -> None:
    text = GOOD.replace('url = "ws://127.0.0.1:9000/ocpp"', 'url = "wss://csms.example/ocpp"')
    text = text.replace(
        'charge_point_id = "CP0001"',
        'charge_point_id = "CP0001"\n'
        'security_profile = 2\nauthorization_key = "0123456789abcdef"\n'
        'ca_file = "/nonexistent/ca.pem"',
    )
    assert only(text, tmp_path).startswith("ocpp.ca_file: cannot read /nonexistent/ca.pem")


def test_a_world_readable_file_with_a_password_gets_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "ocppd.toml"
    path.write_text(
        GOOD.replace(
            'charge_point_id = "CP0001"',
            'charge_point_id = "CP0001"\nsecurity_profile = 1\n'
            'authorization_key = "secret-secret-16"',
        )
    )
    os.chmod(path, 0o644)
    settings = config.load(path, key_checker())
    assert "readable by every user" in config.permission_warnings(settings)[0]
    os.chmod(path, 0o640)
    assert config.permission_warnings(settings) == []


def test_check_config_exits_0_with_a_summary_and_78_with_the_problems(tmp_path, capsys) -> None:
    path = tmp_path / "ocppd.toml"
    path.write_text(GOOD)
    assert cli.main(["check-config", "-c", str(path)]) == 0
    out = capsys.readouterr()
    assert "OK: charge point CP0001 -> ws://127.0.0.1:9000/ocpp/CP0001" in out.out
    path.write_text(GOOD.replace("[[connector]]\nid = 1", "[[connector]]\nid = 1\nphases = 5"))
    assert cli.main(["check-config", "-c", str(path)]) == 78
    err = capsys.readouterr().err
    assert err == f"{path}: connector[0].phases: got 5 (expected one of 1 | 3)\n"


def test_run_refuses_a_bad_config_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "ocppd.toml"
    path.write_text(GOOD.replace('vendor = "Acme"', ""))
    done = subprocess.run(
        [sys.executable, "-m", "ocppd", "run", "-c", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 78
    assert done.stderr.strip() == (
        f"{path}: charge_point.vendor: missing (expected a text of at most 20 characters)"
    )
