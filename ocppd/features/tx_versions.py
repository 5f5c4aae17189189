"""The model's one TransactionLog over one recorder per OCPP version (design decision 5).

A transaction's messages are journaled in the version that is current when it starts
(``features/link.py``'s ``Versions``: the version of the open link, else the last version
a central system agreed to, kept in the journal, else the first of ``ocpp.versions``).
All its later messages stay in that version, whatever the link speaks by then: the
ledger keeps the transaction's protocol, and the courier delivers its rows over a link
in that version only (the courier passes over rows of other versions). An operator who changes
``ocpp.versions`` while transactions of the other version are queued sees them wait in
``ocppctl status`` until a central system speaks their version again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ocppd.features.core.transactions import AsModelError
from ocppd.model.metering import Sample
from ocppd.model.status import Status
from ocppd.model.token import Origin
from ocppd.model.transaction import StartCause, StopReason, TransactionLog, TxChange

log = logging.getLogger(__name__)


class TxLogs:
    """The model's TransactionLog: each transaction goes to the recorder of the version it
    started in; what belongs to no transaction (clock-aligned values without one) to the
    recorder of the version current now."""

    def __init__(
        self,
        logs: Mapping[str, TransactionLog],
        choose: Callable[[], str],
        protocol_of: Callable[[int], Awaitable[str | None]],
        unavailable: type[Exception],
    ) -> None:
        if not logs:
            raise ValueError("no transaction log")
        self.logs = logs
        self._choose = choose
        self._protocol_of = protocol_of
        self._as_model_error = AsModelError(unavailable)
        self._versions: dict[int, str] = {}  # local id -> the version it was recorded in
        self._any = next(iter(logs.values()))  # they share one journal

    def __repr__(self) -> str:
        return f"<TxLogs {', '.join(self.logs)} now={self._choose()}>"

    @property
    def healthy(self) -> bool:
        return self._any.healthy

    @property
    def problem(self) -> str | None:
        return self._any.problem

    async def wait_healthy(self) -> None:
        await self._any.wait_healthy()

    async def wait_unhealthy(self) -> None:
        await self._any.wait_unhealthy()

    def _current(self) -> TransactionLog:
        version = self._choose()
        found = self.logs.get(version)
        if found is None:  # a version offered without a recorder: a wiring bug
            raise RuntimeError(f"no transaction recorder for {version}")
        return found

    async def _of(self, local_id: int) -> TransactionLog:
        version = self._versions.get(local_id)
        if version is None:
            with self._as_model_error:
                found = await self._protocol_of(local_id)
            if found is None or found not in self.logs:
                log.error(
                    "transaction %d was recorded in %s, which this charge point does not "
                    "record: its messages go in %s",
                    local_id,
                    found,
                    self._choose(),
                )
                found = self._choose()
            version = self._versions[local_id] = found
        return self.logs[version]

    async def start(
        self,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: str,
        reservation_id: int | None,
        cause: StartCause = StartCause.TAG,
        remote_start_id: int | None = None,
        **more: Any,
    ) -> int:
        """``more``: further facts of the start a version may say (the token's origin),
        handed to the recorder as they are."""
        version = self._choose()
        local_id = await self._current().start(
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start_wh,
            timestamp=timestamp,
            reservation_id=reservation_id,
            cause=cause,
            remote_start_id=remote_start_id,
            **more,
        )
        self._versions[local_id] = version
        return local_id

    @property
    def follows_points(self) -> bool:
        """Whether a transaction that starts now (in the version current now) follows the
        policy's start and stop points."""
        return self._current().follows_points

    async def noted(
        self,
        local_id: int,
        *,
        change: TxChange,
        timestamp: str,
        id_tag: str | None = None,
        origin: Origin | None = None,
        reason: StopReason | None = None,
        remote_start_id: int | None = None,
    ) -> None:
        await (await self._of(local_id)).noted(
            local_id,
            change=change,
            timestamp=timestamp,
            id_tag=id_tag,
            origin=origin,
            reason=reason,
            remote_start_id=remote_start_id,
        )

    def known_id(self, local_id: int) -> int | str | None:
        version = self._versions.get(local_id)
        return None if version is None else self.logs[version].known_id(local_id)

    async def checkpoint(self, local_id: int, *, energy_wh: float, timestamp: str) -> None:
        await (await self._of(local_id)).checkpoint(
            local_id, energy_wh=energy_wh, timestamp=timestamp
        )

    async def changed(self, local_id: int, *, status: Status, timestamp: str) -> None:
        await (await self._of(local_id)).changed(local_id, status=status, timestamp=timestamp)

    async def meter_values(
        self, local_id: int | None, *, connector_id: int, samples: list[Sample], droppable: bool
    ) -> None:
        target = self._current() if local_id is None else await self._of(local_id)
        await target.meter_values(
            local_id, connector_id=connector_id, samples=samples, droppable=droppable
        )

    async def stop(
        self,
        local_id: int,
        *,
        meter_stop_wh: int,
        timestamp: str,
        reason: StopReason,
        id_tag: str | None,
        transaction_data: list[Sample],
    ) -> None:
        target = await self._of(local_id)
        await target.stop(
            local_id,
            meter_stop_wh=meter_stop_wh,
            timestamp=timestamp,
            reason=reason,
            id_tag=id_tag,
            transaction_data=transaction_data,
        )
        self._versions.pop(local_id, None)
