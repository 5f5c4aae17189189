"""What the screen says for each status, as text (the page) and as pixels (the image).

Plain ``def`` tests: a Scene is plain data, a page is plain text, rendering is Pillow.
"""

from __future__ import annotations

import pytest

from hal.base import FaultKind
from hal.display import Page, drawable, render, wrap
from ocppd.model.status import Status
from ocppd.model.supervise import Why
from ocppd.view.screens import Scene, confirm_stop, notice_page, page_for, summary
from ocppd.view.strings import LANGUAGES, STRINGS, Words

EN, DE = Words("en"), Words("de")

CHARGING = Scene(
    1,
    Status.CHARGING,
    power_w=7360.0,
    session_wh=12345.0,
    elapsed_s=3725.0,
    limit_a=16.0,
    limit_by="temperature",
)

# status (and facts) -> words the page must hold, in English and in German
ROWS = [
    (
        "idle",
        Scene(1, Status.AVAILABLE),
        ["Ready", "Tap your card", "plug in"],
        ["Bereit", "Karte"],
    ),
    (
        "cable in, no card yet",
        Scene(1, Status.PREPARING),
        ["Cable connected", "Tap your card"],
        ["Kabel verbunden", "Karte vorhalten"],
    ),
    (
        "card being checked",
        Scene(1, Status.PREPARING, claim="authorizing"),
        ["Checking card"],
        ["Karte wird geprüft"],
    ),
    (
        "card accepted, no cable",
        Scene(1, Status.PREPARING, claim="authorized"),
        ["Card accepted", "Plug in the cable"],
        ["Karte akzeptiert", "Kabel einstecken"],
    ),
    (
        "unknown card",
        Scene(1, Status.AVAILABLE, refused=Why.UNKNOWN_TAG),
        ["Not accepted", "Unknown card"],
        ["Abgelehnt", "Karte unbekannt"],
    ),
    (
        "blocked card",
        Scene(1, Status.PREPARING, refused=Why.BLOCKED),
        ["Card blocked"],
        ["Karte gesperrt"],
    ),
    (
        "expired card",
        Scene(1, Status.AVAILABLE, refused=Why.EXPIRED),
        ["Card expired"],
        ["abgelaufen"],
    ),
    ("charger busy", Scene(1, Status.CHARGING, refused=Why.BUSY), ["Charger busy"], ["belegt"]),
    (
        "charging",
        CHARGING,
        ["Charging", "7.4 kW", "12.35 kWh", "Time 1:02", "Max 16 A (heat)"],
        ["Laden", "7.4 kW", "12.35 kWh", "Dauer 1:02", "Max 16 A (Hitze)"],
    ),
    (
        "limit set by the charger itself",
        Scene(1, Status.CHARGING, power_w=3600.0, limit_a=32.0, limit_by="charger"),
        ["3.6 kW", "Max 32 A (charger)"],
        ["Max 32 A (Station)"],
    ),
    (
        "suspended by the EV",
        Scene(1, Status.SUSPENDED_EV, power_w=0.0, session_wh=500.0),
        ["Paused by the car", "0.0 kW", "0.50 kWh"],
        ["Pause durch Auto"],
    ),
    (
        "suspended by the charger",
        Scene(1, Status.SUSPENDED_EVSE, power_w=0.0),
        ["Paused by charger"],
        ["Pause durch Station"],
    ),
    (
        "finishing",
        Scene(1, Status.FINISHING, last_wh=8120),
        ["Done", "Please unplug", "8.12 kWh charged"],
        ["Fertig", "Bitte abstecken", "8.12 kWh geladen"],
    ),
    (
        "faulted: the meter",
        Scene(1, Status.FAULTED, fault=FaultKind.POWER_METER),
        ["Out of order", "Meter fault", "Call service"],
        ["Gestört", "Zählerfehler"],
    ),
    (
        "faulted: residual current",
        Scene(1, Status.FAULTED, fault=FaultKind.GROUND_FAILURE),
        ["Residual current"],
        ["Fehlerstrom"],
    ),
    ("unavailable", Scene(1, Status.UNAVAILABLE), ["Out of service"], ["Außer Betrieb"]),
    ("reserved", Scene(1, Status.RESERVED), ["Reserved"], ["Reserviert"]),
    ("offline mark", Scene(1, Status.AVAILABLE, online=False), ["offline", "Ready"], ["offline"]),
    (
        "QR code for app payment",
        Scene(1, Status.AVAILABLE, qr="https://pay.example/CP-1"),
        ["scan to pay", "[QR: https://pay.example/CP-1]"],
        ["scannen"],
    ),
]


@pytest.mark.parametrize(("name", "scene", "english", "german"), ROWS, ids=[r[0] for r in ROWS])
def test_each_status_says_the_right_words(
    name: str, scene: Scene, english: list[str], german: list[str]
) -> None:
    for words, expected in ((EN, english), (DE, german)):
        text = page_for(scene, words).text()
        for word in expected:
            assert word in text, f"{word!r} not in {text!r}"


@pytest.mark.parametrize(("name", "scene", "english", "german"), ROWS, ids=[r[0] for r in ROWS])
def test_each_status_draws_an_image_of_the_panels_size(
    name: str, scene: Scene, english: list[str], german: list[str]
) -> None:
    for size in ((128, 64), (128, 32), (64, 128)):
        image = render(page_for(scene, DE), size)
        assert image.size == size and image.mode == "1"
        assert image.getbbox() is not None  # something is lit


def test_statuses_look_different() -> None:
    pages = {row[0]: page_for(row[1], EN) for row in ROWS}
    assert len({p.text() for p in pages.values()}) == len(pages)
    images = {render(p, (128, 64)).tobytes() for p in pages.values()}
    assert len(images) == len(pages)


def test_the_offline_mark_leaves_the_rest_of_the_screen_alone() -> None:
    online = page_for(CHARGING, EN)
    offline = page_for(Scene(**{**_fields(CHARGING), "online": False}), EN)
    assert offline.corner == "offline" and online.corner == ""
    assert (offline.big, offline.lines) == (online.big, online.lines)


def _fields(scene: Scene) -> dict[str, object]:
    return {name: getattr(scene, name) for name in Scene.__slots__}  # type: ignore[attr-defined]


def test_every_text_exists_in_every_language() -> None:
    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts.values()), key


def test_every_fault_and_every_refusal_has_words() -> None:
    for kind in FaultKind:
        assert f"fault.{kind.value}" in STRINGS
    for why in Why:
        assert f"why.{why.value}" in STRINGS


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no language 'fr'"):
        Words("fr")


def test_several_connectors_share_one_summary() -> None:
    page = summary(
        [CHARGING, Scene(2, Status.AVAILABLE), Scene(3, Status.FAULTED, fault=FaultKind.OTHER)],
        EN,
    )
    assert page.title == "Charger"
    assert page.lines == ("1 7.4 kW", "2 Ready", "3 Out of order")


def test_the_stop_button_asks_for_a_second_press() -> None:
    text = confirm_stop(CHARGING, DE).text()
    assert "STOP nochmals" in text and "zum Beenden" in text


def test_long_lines_wrap_between_words() -> None:
    assert wrap("Karte vorhalten", 10) == ["Karte", "vorhalten"]
    assert wrap("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]
    assert wrap("", 5) == [""]


def test_a_page_with_a_qr_code_draws_the_code_on_the_right() -> None:
    image = render(Page("t", qr="https://pay.example/CP-1"), (128, 64))
    right = image.crop((64, 0, 128, 64))
    left_of_text = image.crop((40, 12, 62, 64))  # below the title rule
    assert right.getbbox() is not None
    assert left_of_text.getbbox() is None  # text keeps to the left (a short title here)


def test_a_display_message_fills_the_lines_and_any_text_draws() -> None:
    """A 2.0.1 display message keeps the charger's title and corner; text beyond the
    panel's Latin-1 font and control characters are drawn as "?" or a space, never an
    error."""
    page = notice_page("Heute  kostenlos\nladen €", "Connector 1", "offline")
    assert page.title == "Connector 1" and page.corner == "offline"
    assert page.lines == ("Heute kostenlos laden €",)
    assert drawable("a€\tb\x00ü") == "a? b?ü"
    for size in ((128, 64), (128, 32)):
        image = render(notice_page("充电 " * 200, "Charger"), size)
        assert image.size == size and image.getbbox() is not None
