"""Reset in OCPP 2.0.1 (B11 without, B12 with an ongoing transaction).

The model's verb is the one 1.6 uses (``Charger.request_reset``): the daemon stops every
transaction with its reason, opens every contactor, delivers what it can and restarts in
place (a soft reset: 2.0.1 knows one kind of reset, and restarting ocppd is what resets
this station's OCPP state; a reboot of the computer stays 1.6's Hard).

- Immediate: Accepted, and the reset follows at once; running transactions end with
  reason ImmediateReset (B11.FR.03, B12.FR.02).
- OnIdle: Accepted when no transaction runs (B11.FR.02); else Scheduled, and the reset
  follows once the last transaction has ended (B12.FR.01). The free EVSEs stay in
  service meanwhile (their availability is persisted, and an Inoperative set for the
  wait would outlive the restart); a transaction started meanwhile is waited for too.
- With an evseId: Rejected. An EVSE of this station cannot restart apart from the rest
  (B11.FR.09, B12.FR.07 allow a station that cannot to say so).

The next BootNotification says RemoteReset: the reason is kept in the journal across
the restart (``registration.note_reason``); a 1.6 Reset notes it too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ocppd.features.core.registration import note_reason
from ocppd.features.core.speech import BootReason
from ocppd.features.profile import Handler, Services, TypedHandler
from ocppd.model.charger import Charger
from ocppd.model.outcomes import ResetKind
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import ResetEnumType, ResetStatusEnumType
from ocppd.session import Then

log = logging.getLogger(__name__)


def _busy(charger: Charger) -> bool:
    return any(c.tx is not None for c in charger.connectors.values())


def _kept(charger: Charger, what: str) -> Callable[[Callable[[], Awaitable[None]]], None]:
    """What the answer promised runs in the charger's nursery: a lost link does not undo it."""

    def start(work: Callable[[], Awaitable[None]]) -> None:
        charger.spawn(what, work)

    return start


def handlers(services: Services) -> Mapping[str, Handler]:
    charger = services.charger

    async def reset_now() -> None:
        await note_reason(services.journal, BootReason.REMOTE_RESET)
        charger.request_reset(ResetKind.SOFT)

    async def reset_when_idle() -> None:
        while True:
            changed = charger.next_status_change  # taken before looking: nothing is missed
            if not _busy(charger):
                break
            await changed.wait()
        log.warning("Reset OnIdle: the last transaction ended; resetting")
        await reset_now()

    async def reset(request: m.ResetRequest) -> Any:
        if request.evse_id is not None:
            log.info("Reset of EVSE %d: Rejected (an EVSE cannot reset alone)", request.evse_id)
            return m.ResetResponse(status=ResetStatusEnumType.REJECTED)
        if request.type is ResetEnumType.ON_IDLE and _busy(charger):
            log.warning("Reset OnIdle requested: Scheduled until the transactions end")
            return Then(
                m.ResetResponse(status=ResetStatusEnumType.SCHEDULED),
                reset_when_idle,
                owner=_kept(charger, "Reset OnIdle"),
            )
        log.warning("Reset %s requested by the CSMS", request.type)
        return Then(
            m.ResetResponse(status=ResetStatusEnumType.ACCEPTED),
            reset_now,
            owner=_kept(charger, "Reset"),
        )

    return {"Reset": TypedHandler(m.ResetRequest, reset)}
