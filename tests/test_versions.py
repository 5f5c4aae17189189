"""Which OCPP versions the charge point offers (``ocpp.versions``), which one is spoken, and
what happens to a queued message recorded in another version than the link speaks (it
waits for a link of its version and holds nothing behind it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ocppd import app, config, ctl
from ocppd.app import WORDS, key_checker
from tests.harness import charger
from tests.test_config import GOOD, only
from tests.v201.harness import BOTH, make_csms201, registered


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
        assert status["queue"]["waiting_for"] == {}


async def test_a_message_of_another_version_at_the_head_holds_nothing_behind_it(
    nursery, start_csms, autojump_clock, tmp_path
) -> None:
    """A queued message is delivered in the version it was recorded in; a row of another
    version waits for a link of its version and the rows of the session's version behind it
    go, in journal order (a transaction never spans versions, so each keeps its order).
    ``ocppctl status`` says what waits, for which version; a 2.0.1 link then delivers it."""
    csms = await start_csms(heartbeat_interval=60)
    keys = {"MeterValueSampleInterval": 0}
    async with charger(nursery, csms, state_dir=tmp_path, keys=keys, ocpp={"versions": BOTH}) as cp:
        station = await cp.registered()
        await cp.settle(30)
        later = WORDS["ocpp2.0.1"]
        event = {"type": "FirmwareUpdated", "timestamp": "2026-11-21T10:00:00Z"}
        head = await cp.journal.add_message("SecurityEventNotification", event, words=later)
        assert [m.seq for m in await cp.journal.pending_messages()] == [head]  # the head
        await cp.sim("plug", 1)
        await cp.swipe("TAG-1")
        with trio.fail_after(60):
            await station.wait_for("StartTransaction")
        await cp.swipe("TAG-1")
        with trio.fail_after(60):
            await station.wait_for("StopTransaction")
        await cp.settle(30)
        sent = [c.action for c in station.calls() if c.action.endswith("Transaction")]
        assert sent == ["StartTransaction", "StopTransaction"]
        told = [c.payload["type"] for c in station.calls("SecurityEventNotification")]
        assert told == ["StartupOfTheDevice"]  # this start's, recorded in the agreed 1.6
        pending = await cp.journal.pending_messages()
        assert [(m.seq, m.protocol) for m in pending] == [(head, "ocpp2.0.1")]
        status = await cp.status()
        assert status["queue"]["waiting_for"] == {"ocpp2.0.1": 1}
        assert status["queue"]["held_for"] == "ocpp2.0.1"
        assert "1 wait for a connection in ocpp2.0.1" in ctl.format_status(status)
        await cp.stop()
    assert csms.violations == []
    new = make_csms201()
    await nursery.start(new.serve)
    async with charger(nursery, new, state_dir=tmp_path, ocpp={"versions": BOTH}) as cp:
        station = await registered(cp)
        with trio.fail_after(60):
            told = await station.wait_for(
                "SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated"
            )
        assert told.payload["timestamp"] == "2026-11-21T10:00:00Z"
        with trio.fail_after(60):
            while any(m.seq == head for m in await cp.journal.pending_messages()):
                await trio.sleep(1)
    assert new.violations == []


async def test_a_first_boot_offering_201_first_delivers_everything_over_a_16_only_link(
    nursery, start_csms, autojump_clock, caplog
) -> None:
    """First boot offering ["ocpp2.0.1", "ocpp1.6"] against a central system that speaks
    1.6 only: no version was agreed yet, so StartupOfTheDevice waits for the first link and
    is recorded in 1.6, the version it agrees; a transaction made right after registration
    is in 1.6 too. Nothing is left waiting for a 2.0.1 link."""
    csms = await start_csms()
    async with charger(nursery, csms, ocpp={"versions": BOTH}) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-1")
        with trio.fail_after(60):
            told = await station.wait_for("SecurityEventNotification")
            await station.wait_for("StartTransaction")
        assert told.payload["type"] == "StartupOfTheDevice"
        await cp.swipe("TAG-1")
        with trio.fail_after(60):
            await station.wait_for("StopTransaction")
        await cp.settle(30)
        assert await cp.journal.pending_messages() == []
        status = await cp.status()
        assert status["connection"]["protocol"] == "ocpp1.6"
        assert status["queue"]["waiting_for"] == {}
        assert status["queue"]["held_for"] is None
    assert "wait for an ocpp" not in caplog.text
    assert csms.violations == []


def test_both_versions_may_be_offered_in_either_order(tmp_path: Path) -> None:
    settings = load(with_versions('versions = ["ocpp2.0.1", "ocpp1.6"]'), tmp_path)
    assert settings.ocpp.versions == ("ocpp2.0.1", "ocpp1.6")
    settings = load(with_versions('versions = ["ocpp2.0.1"]'), tmp_path)
    assert settings.ocpp.versions == ("ocpp2.0.1",)


def test_the_shipped_config_shows_how_to_offer_201() -> None:
    text = (Path(__file__).resolve().parent.parent / "etc" / "ocppd.toml").read_text()
    assert '# versions = ["ocpp2.0.1", "ocpp1.6"]' in text
