"""N09/N10: CustomerInformation, what the charger holds about one customer, reported and
cleared (for privacy law: a customer asks the operator what is kept about them, or to
forget it).

What the charger holds about an idToken: its authorization cache entry, its local
authorization list entry and the transactions of the ledger it started or stopped (what,
when, how much energy). Nothing is kept by customerCertificate or customerIdentifier (no
ISO 15118 contracts, no customer accounts): those report that no data was found.

``report`` sends it in NotifyCustomerInformation messages after the answer (text, at most
512 characters each, ``seqNo`` from 0, ``tbc`` on all but the last; N09.FR.05), or one that
says no data was found (N09.FR.06). ``clear`` removes (N10.FR.03/06):

- the authorization cache entry: it is the charger's own copy of a verdict, forgotten;
- not the local list entry: only the central system changes the list, with SendLocalList
  (N10.FR.02/03), so its version stays the central system's;
- not the ledger's transactions. They are the charger's record of energy delivered (the
  meter readings behind each bill), checksummed, and those not yet delivered are still owed
  to the central system: deleting them would lose billing data the operator must keep and
  may not be allowed to drop (calibration law keeps metering records at the meter). The
  report after a clear names them as kept. The central system holds the same transactions
  and deletes its own copy as its privacy rules say.

What is cleared is decided before the answer: Accepted means it is done. No secret is ever
reported: the charger keeps none per customer (the AuthorizationKey and private keys are
not customer data and never leave it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, TypedHandler
from ocppd.journal import JournalUnavailable
from ocppd.journal.records import TxRecord
from ocppd.model.keys import KeySpec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import CustomerInformationStatusEnumType
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

DATA_SIZE = 512  # NotifyCustomerInformationRequest.data maxLength
MAX_TRANSACTIONS = 200  # the newest ones a report lists; the rest are counted as more


def _info(code: str, text: str) -> m.StatusInfoType:
    return m.StatusInfoType(reason_code=code, additional_info=text)


def _energy(tx: TxRecord) -> str:
    last = tx.meter_stop_wh if tx.meter_stop_wh is not None else tx.meter_last_wh
    return "?" if last is None else f"{max(0.0, last - tx.meter_start_wh):.0f} Wh"


def transaction_line(tx: TxRecord) -> str:
    """One transaction as the report says it."""
    ident = tx.transaction_id if tx.transaction_id is not None else f"local {tx.local_id}"
    until = tx.stopped_at or "running"
    reason = f", ended {tx.stop_reason}" if tx.stop_reason else ""
    return (
        f"transaction {ident}: EVSE {tx.connector_id}, {tx.started_at} - {until}, "
        f"{_energy(tx)}{reason}"
    )


def chunks(lines: list[str], size: int = DATA_SIZE) -> list[str]:
    """The lines in texts of at most ``size`` characters, lines kept whole where they fit."""
    out: list[str] = []
    part = ""
    for whole in lines:
        line = whole
        while len(line) > size:  # a line longer than a message (a very long token)
            if part:
                out.append(part)
                part = ""
            out.append(line[:size])
            line = line[size:]
        if not part:
            part = line
        elif len(part) + 1 + len(line) <= size:
            part += "\n" + line
        else:
            out.append(part)
            part = line
    if part or not out:
        out.append(part)
    return out


class CustomerInformation:
    """The N09/N10 handler over the journal."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.journal = services.journal

    def __repr__(self) -> str:
        return "<CustomerInformation>"

    async def _holdings(self, token: str) -> list[str]:
        """What the charger holds about ``token``, one line each (empty: nothing)."""
        lines = []
        cached = await self.journal.cache_lookup(token)
        if cached is not None:
            lines.append(
                f"authorization cache: {cached.status}, expires {cached.expiry or 'never'}, "
                f"group {cached.parent_id_tag or '-'}, updated {cached.updated_at}"
            )
        listed = await self.journal.list_lookup(token)
        if listed is not None:
            lines.append(
                f"local authorization list: {listed.status}, expires "
                f"{listed.expiry or 'never'}, group {listed.parent_id_tag or '-'}"
            )
        found = await self.journal.transactions_of(token, limit=MAX_TRANSACTIONS + 1)
        lines += [transaction_line(tx) for tx in found[:MAX_TRANSACTIONS]]
        if len(found) > MAX_TRANSACTIONS:
            lines.append(f"more transactions: only the newest {MAX_TRANSACTIONS} are listed")
        return lines

    async def answer(self, request: m.CustomerInformationRequest) -> Any:
        status = CustomerInformationStatusEnumType
        named = [
            x
            for x in (request.id_token, request.customer_certificate, request.customer_identifier)
            if x is not None
        ]
        if not request.report and not request.clear:  # N09.FR.07, N10.FR.07
            log.info("CustomerInformation %d: neither report nor clear", request.request_id)
            return m.CustomerInformationResponse(
                status=status.REJECTED,
                status_info=_info("InvalidValue", "neither report nor clear"),
            )
        if len(named) != 1:  # N09.FR.04, N10.FR.08: one reference to one customer
            return m.CustomerInformationResponse(
                status=status.INVALID,
                status_info=_info("InvalidValue", "name one customer: idToken, "
                                  "customerCertificate or customerIdentifier"),
            )  # fmt: skip
        token = request.id_token.id_token if request.id_token is not None else None
        try:
            lines = await self._holdings(token) if token is not None else []
            if request.clear and token is not None:
                await self.journal.cache_forget(token)
                lines = self._after_clear(lines)
        except JournalUnavailable as exc:  # N09.FR.03, N10.FR.05: cannot be processed now
            log.error("CustomerInformation %d: journal unavailable: %s", request.request_id, exc)
            return m.CustomerInformationResponse(
                status=status.REJECTED, status_info=_info("InternalError", "journal unavailable")
            )
        who = _who(request)
        if not lines:
            lines = [f"no data found for {who}"]  # N09.FR.06, N10.FR.04
        log.info(
            "CustomerInformation %d (%s%s): Accepted",
            request.request_id,
            "report" if request.report else "",
            " clear" if request.clear else "",
        )
        # a clear without a report still says what was cleared (N10.FR.06)
        response = m.CustomerInformationResponse(status=status.ACCEPTED)
        return Then(response, self._notify(request.request_id, chunks([who, *lines])))

    @staticmethod
    def _after_clear(lines: list[str]) -> list[str]:
        """The report of a clear: what was removed, and what was kept and why."""
        out = []
        for line in lines:
            if line.startswith("authorization cache:"):
                out.append(f"cleared {line}")
            elif line.startswith("local authorization list:"):
                out.append(f"kept (only the central system changes the list) {line}")
            else:
                out.append(f"kept (billing record) {line}")
        return out

    def _notify(self, request_id: int, texts: list[str]) -> Callable[[], Awaitable[None]]:
        generated_at = self.services.clock.now() or datetime.now(UTC)

        async def send() -> None:
            session = open_session(self.services.link)
            for seq_no, text in enumerate(texts):
                try:
                    await session.call(
                        m.NotifyCustomerInformationRequest(
                            data=text,
                            seq_no=seq_no,
                            generated_at=generated_at,
                            request_id=request_id,
                            tbc=seq_no < len(texts) - 1,
                        )
                    )
                except CallFailure as exc:
                    log.warning("customer information %d ended: %s", request_id, exc)
                    return

        return send


def _who(request: m.CustomerInformationRequest) -> str:
    if request.id_token is not None:
        return f"idToken {request.id_token.id_token} ({request.id_token.type.value})"
    if request.customer_certificate is not None:
        return f"customerCertificate serial {request.customer_certificate.serial_number}"
    return f"customerIdentifier {request.customer_identifier}"


def _no_keys(_site: Site) -> list[KeySpec]:
    return []


def handlers(services: Services) -> Mapping[str, Handler]:
    block = services.part("v201.customer", lambda: CustomerInformation(services))
    return {"CustomerInformation": TypedHandler(m.CustomerInformationRequest, block.answer)}


profile = Profile("CustomerInformation", keys=_no_keys, handlers=handlers, advertised=False)
"""N09/N10."""
