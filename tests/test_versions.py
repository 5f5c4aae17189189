"""Which OCPP versions the charge point offers (``ocpp.versions``), which one is spoken, and
what happens to a queued message recorded in another version than the link speaks."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ocppd import app, config, ctl
from ocppd.app import key_checker
from ocppd.journal.records import TxWords
from tests.harness import charger
from tests.test_config import GOOD, only


def load(text: str, tmp_path: Path) -> config.Settings:
    path = tmp_path / "ocppd.toml"
    path.write_text(text)
    return config.load(path, key_checker())


def with_versions(value: str) -> str:
    return GOOD.replace('charge_point_id = "CP0001"', f'charge_point_id = "CP0001"\n{value}')


def test_without_the_key_the_charge_point_offers_ocpp16_alone(tmp_path: Path) -> None:
    assert load(GOOD, tmp_path).ocpp.versions == ("ocpp1.6",)


def test_the_versions_are_offered_in_the_order_written(tmp_path: Path) -> None:
    settings = load(with_versions('versions = ["ocpp1.6"]'), tmp_path)
    assert settings.ocpp.versions == ("ocpp1.6",)


def test_every_version_the_config_may_name_has_a_dialect() -> None:
    assert set(config.OCPP_VERSIONS) == set(app.DIALECTS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('versions = "ocpp1.6"', "ocpp.versions: got 'ocpp1.6' (expected a list of OCPP versions"),
        ("versions = []", "ocpp.versions: got [] (expected a list"),
        ('versions = ["ocpp1.5"]', "ocpp.versions: 'ocpp1.5' is not a version ocppd speaks"),
        ('versions = ["ocpp1.6", "ocpp1.6"]', "ocpp.versions: names a version twice"),
        ("versions = [16]", "ocpp.versions: 16 is not a version ocppd speaks"),
    ],
)
def test_a_bad_versions_list_is_one_line(value: str, expected: str, tmp_path: Path) -> None:
    line = only(with_versions(value), tmp_path)
    assert line.startswith(expected), line
    assert "\n" not in line


def test_the_shipped_config_shows_the_key_commented() -> None:
    text = (Path(__file__).resolve().parent.parent / "etc" / "ocppd.toml").read_text()
    assert '# versions = ["ocpp1.6"]' in text


async def test_the_link_offers_the_versions_and_status_names_the_one_spoken(
    nursery, start_csms, autojump_clock
) -> None:
    csms = await start_csms()
    async with charger(nursery, csms, ocpp={"versions": ["ocpp1.6"]}) as cp:
        await cp.registered()
        assert csms.offers == [("ocpp1.6",)]
        status = await cp.status()
        assert status["connection"]["protocol"] == "ocpp1.6"
        assert "connection    connected in ocpp1.6" in ctl.format_status(status)
        assert status["queue"]["held_for"] is None


async def test_a_message_recorded_in_another_version_is_held_with_everything_behind_it(
    nursery, start_csms, autojump_clock
) -> None:
    """A queued message is delivered in the version it was recorded in, and the queue keeps
    its one order: over a 1.6 link the head recorded in 2.0.1 waits, and so does the 1.6
    StartTransaction queued after it; the link itself carries on (heartbeats, statuses)."""
    csms = await start_csms(heartbeat_interval=60)
    async with charger(nursery, csms, keys={"MeterValueSampleInterval": 0}) as cp:
        station = await cp.registered()
        later = TxWords("ocpp2.0.1", "TransactionEvent", "TransactionEvent", "TransactionEvent")
        await cp.journal.add_message("NotifyEvent", {"seqNo": 0}, words=later)
        await cp.sim("plug", 1)
        await cp.swipe("TAG-1")
        with trio.fail_after(60):
            await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        beats = len(station.calls("Heartbeat"))
        await trio.sleep(600)
        assert len(station.calls("Heartbeat")) >= beats + 9
        assert station.calls("NotifyEvent") == []
        assert station.calls("StartTransaction") == []
        status = await cp.status()
        assert status["queue"]["held_for"] == "ocpp2.0.1"
        assert status["queue"]["pending"] == 2
        assert "held for a connection in ocpp2.0.1" in ctl.format_status(status)


def test_both_versions_may_be_offered_in_either_order(tmp_path: Path) -> None:
    settings = load(with_versions('versions = ["ocpp2.0.1", "ocpp1.6"]'), tmp_path)
    assert settings.ocpp.versions == ("ocpp2.0.1", "ocpp1.6")
    settings = load(with_versions('versions = ["ocpp2.0.1"]'), tmp_path)
    assert settings.ocpp.versions == ("ocpp2.0.1",)


def test_the_shipped_config_shows_how_to_offer_201() -> None:
    text = (Path(__file__).resolve().parent.parent / "etc" / "ocppd.toml").read_text()
    assert '# versions = ["ocpp2.0.1", "ocpp1.6"]' in text
