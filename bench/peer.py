"""The reference charge point: a small asyncio charge point on the ``ocpp`` PyPI package.

It does what ocppd does when idle, the way the package's own examples do it:
``ocpp.v16.ChargePoint`` over a ``websockets`` client, BootNotification, a
StatusNotification for connector 0 and 1, a Heartbeat every interval the central
system gave, and answers to GetConfiguration and DataTransfer. Everything is left
at the package defaults (validation in the default executor included), because
that is the Python charge point people would write.

Run as ``python -m bench.peer URL CHARGE_POINT_ID``; it runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    RegistrationStatus,
)


class ReferenceChargePoint(ChargePoint):  # type: ignore[misc]
    heartbeat_interval = 10
    keys = {"HeartbeatInterval": "10"}

    async def register(self) -> None:
        response = await self.call(
            call.BootNotification(charge_point_vendor="bench", charge_point_model="peer")
        )
        if response.status != RegistrationStatus.accepted:
            raise SystemExit(f"registration {response.status}")
        self.heartbeat_interval = response.interval or self.heartbeat_interval
        self.keys["HeartbeatInterval"] = str(self.heartbeat_interval)
        now = datetime.now(UTC).isoformat()
        for connector in (0, 1):
            await self.call(
                call.StatusNotification(
                    connector_id=connector,
                    error_code=ChargePointErrorCode.no_error,
                    status=ChargePointStatus.available,
                    timestamp=now,
                )
            )

    async def heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.call(call.Heartbeat())

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        wanted = key or list(self.keys)
        known = [{"key": k, "readonly": False, "value": self.keys[k]} for k in wanted if k in self]
        unknown = [k for k in wanted if k not in self]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)


async def main(url: str, cp_id: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with websockets.connect(f"{url}/{cp_id}", subprotocols=["ocpp1.6"]) as ws:
        cp = ReferenceChargePoint(cp_id, ws)
        tasks = [asyncio.create_task(cp.start())]
        await cp.register()
        tasks.append(asyncio.create_task(cp.heartbeats()))
        await stop.wait()
        for task in tasks:
            task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
