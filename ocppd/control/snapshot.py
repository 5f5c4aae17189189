"""The charger as ``ocppctl status`` shows it: presentation, kept out of the model.

Statuses, error codes and availability are shown in the words of the OCPP version the
charger speaks (1.6), the words an operator also sees at the central system. The model
has its own (``ocppd/model/status.py``); :mod:`ocppd.features.core.words` translates.
Never the tag of the last swipe: tags are personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocppd.features.core.words import ERROR_CODE, STATUS
from ocppd.features.smart_charging.words import PURPOSE_WORD
from ocppd.features.v201.display import FORM_WORD, PRIORITY_WORD, STATE_WORD
from ocppd.model.charger import Charger
from ocppd.model.connector import Connector, CurrentLimit
from ocppd.model.notices import Notice
from ocppd.model.reservation import Reservation
from ocppd.model.status import severity
from ocppd.security.store import CertificateStore, RootKind
from ocppd.security.x509 import not_after, not_before


def notice_snapshot(notice: Notice, now: datetime | None) -> dict[str, Any]:
    """A display message as the central system set it (2.0.1 words: the operator set them
    so), and whether it is in its time window now."""
    return {
        "id": notice.notice_id,
        "priority": PRIORITY_WORD[notice.priority].value,
        "state": STATE_WORD[notice.state].value if notice.state is not None else None,
        "start": notice.start.isoformat() if notice.start is not None else None,
        "end": notice.end.isoformat() if notice.end is not None else None,
        "transaction_id": notice.transaction_id,
        "evse": notice.place.evse_id if notice.place is not None else None,
        "format": FORM_WORD[notice.form].value,
        "language": notice.language,
        "text": notice.text,
        "in_window": notice.in_window(now),
    }


def reservation_snapshot(reservation: Reservation | None) -> dict[str, Any] | None:
    """A reservation in force: its id and until when (not the tag: personal data)."""
    if reservation is None:
        return None
    return {"id": reservation.reservation_id, "expiry": reservation.expiry.isoformat()}


def connector_snapshot(connector: Connector) -> dict[str, Any]:
    """One connector as ``ocppctl status --json`` shows it."""
    reading = connector.latest
    tx = connector.tx
    reported = connector.reported
    scheduled = connector.scheduled_operative
    pending = connector.pending
    refusal = connector.refusal
    return {
        "id": connector.id,
        "status": STATUS[reported.status].value,
        "error_code": ERROR_CODE[reported.error_code].value,
        "info": reported.info,
        "plugged": connector.plug.plugged,
        "ev_requesting": connector.plug.ev_requesting,
        "contactor_closed": connector.devices.contactor.closed,
        "operative": connector.operative,
        "scheduled_availability": (
            None if scheduled is None else "Operative" if scheduled else "Inoperative"
        ),
        "current_limit_a": connector.current_limit_a(),
        "current_limit_source": limit_source(connector.limiting()),
        "power_w": reading.power_w if reading else None,
        "energy_wh": round(reading.energy_wh) if reading else None,
        "claimed": None
        if pending is None
        else ("authorising" if pending.auth is None else "waiting for the EV"),
        "reservation": reservation_snapshot(connector.reservation),
        "last_refusal": None
        if refusal is None
        else {"at": refusal.at, "what": refusal.what, "why": refusal.why},
        "transaction": None
        if tx is None
        else {
            "id": tx.transaction_id,
            "local_id": tx.local_id,
            "id_tag": tx.id_tag,
            "meter_start_wh": tx.meter_start_wh,
            "started": tx.started,
            "suspended_by_charger": not tx.permitted,
        },
    }


def limit_source(limit: CurrentLimit) -> dict[str, Any]:
    """Who set the limit in force: ``local_max`` (the configured max_current_a),
    ``temperature`` (derating), ``cable`` (its rating), or ``profile`` with the charging
    profile's id, purpose (1.6 words) and stack level. The lowest limit wins."""
    shown: dict[str, Any] = {"source": limit.source}
    profile = limit.profile
    if profile is not None and profile.purpose is not None:
        shown |= {
            "profile_id": profile.profile_id,
            "purpose": PURPOSE_WORD[profile.purpose].value,
            "stack_level": profile.stack_level,
        }
    return shown


def connectors_snapshot(charger: Charger) -> list[dict[str, Any]]:
    return [connector_snapshot(c) for c in charger.connectors.values()]


def charge_point_snapshot(charger: Charger) -> dict[str, Any]:
    """Connector 0 as ``ocppctl status`` shows it."""
    zero = charger.current()
    return {
        "status": STATUS[zero.status].value,
        "error_code": ERROR_CODE[zero.error_code].value,
        "info": zero.info,
        "operative": charger.operative,
        "reservation": reservation_snapshot(charger.reservations.zero),
        # every reservation of the charge point as a whole (2.0.1 may make several; the
        # first is ``reservation`` too)
        "reservations": [reservation_snapshot(z) for z in charger.reservations.zeros],
        "faults": [
            {"kind": f.kind.value, "severity": severity(f).value, "info": f.info}
            for f in charger.faults.values()
        ],
    }


def tag_snapshot(charger: Charger) -> dict[str, Any] | None:
    """The last tag event as ``ocppctl status`` shows it (without the tag)."""
    event = charger.last_tag
    if event is None:
        return None
    return {
        "at": event.at,
        "source": event.source,
        "accepted": event.accepted,
        "outcome": event.outcome,
    }


def certificates_snapshot(store: CertificateStore | None) -> dict[str, Any] | None:
    """The certificate store as ``ocppctl status`` shows it: how many roots of each kind, and
    the charger's own certificate in use (subject, dates, key id). Never a key."""
    if store is None:
        return None
    try:
        own = store.identity()
        roots = {kind.value: len(store.roots(kind)) for kind in RootKind}
    except OSError as exc:
        return {"problem": f"certificate store unreadable: {exc.strerror or exc}"}
    return {
        "roots": roots,
        "own": None
        if own is None
        else {
            "subject": own.leaf.subject.rfc4514_string(),
            "not_before": not_before(own.leaf).isoformat(),
            "not_after": not_after(own.leaf).isoformat(),
            "key_id": own.key_id,
        },
    }
