"""The strict 2.0.1 CSMS is itself an oracle: what it records as a violation of the
station's registration rules (B01, B02.FR.09, B03.FR.07), checked without a station."""

from __future__ import annotations

from typing import Any

from ocppd.testing.csms201 import CentralSystem201, Station201


def station(registration: str | None, triggered: set[str] | None = None) -> Station201:
    csms = CentralSystem201()
    if registration is not None:
        csms.registrations["CP"] = registration
    made = Station201("CP", ws=None, csms=csms)
    made.triggered |= triggered or set()
    return made


def judged(made: Station201, action: str) -> list[Any]:
    made._judge(action, f'[2,"1","{action}",{{}}]')
    return [v.what for v in made.csms.violations]


def test_only_a_boot_before_the_first_answer() -> None:
    assert judged(station(None), "BootNotification") == []
    assert judged(station(None), "Heartbeat") == [
        "Heartbeat before any BootNotification was answered (B01)"
    ]


def test_pending_allows_what_was_triggered() -> None:
    assert judged(station("Pending"), "StatusNotification") == [
        "StatusNotification while Pending and not triggered (B02.FR.09)"
    ]
    assert judged(station("Pending", {"StatusNotification"}), "StatusNotification") == []


def test_rejected_allows_nothing_but_a_boot() -> None:
    made = station("Rejected", {"StatusNotification"})
    assert judged(made, "StatusNotification") == ["StatusNotification while Rejected (B03.FR.07)"]
    assert judged(station("Rejected"), "BootNotification") == []


def test_accepted_allows_everything_and_is_remembered_across_connections() -> None:
    assert judged(station("Accepted"), "Heartbeat") == []


def test_pending_allows_the_notify_reports_of_a_report_the_csms_asked_for() -> None:
    """B02.FR.01: while Pending the CSMS may retrieve information; a GetBaseReport's answer
    is its NotifyReports (B07.FR.03), matched by requestId. Another report is not asked for."""
    made = station("Pending")
    made.reports.add(7)
    made._judge("NotifyReport", '[2,"1","NotifyReport",{"requestId":7}]')
    assert made.csms.violations == []
    made._judge("NotifyReport", '[2,"2","NotifyReport",{"requestId":8}]')
    assert [v.what for v in made.csms.violations] == [
        "NotifyReport while Pending and not triggered (B02.FR.09)"
    ]
