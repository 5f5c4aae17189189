"""The person at the charger: plug, swipe, charge a little, stop, unplug, in a seeded random walk.

Each step reads ``status`` and moves one connector one step on:

    unplugged, free     -> plug (or, now and then, swipe first and plug after)
    plugged, waiting    -> swipe a new tag (starts a transaction)
    charging            -> after the planned charging time: swipe the same tag (Local)
                           or unplug (EVDisconnected, StopTransactionOnEVSideDisconnect)
    finishing           -> unplug

The walk does not need the daemon to behave as planned: a swipe may land on the other
connector, a refusal is fine. What the daemon did is judged by the oracle from the
central system's frames and the journal, not from the driver's intentions. The driver
only records what it did (with wall-clock times) so the oracle can tell whether a
``Local`` or ``EVDisconnected`` stop had a cause.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from tests.crash.daemon import ControlRefused, ControlUnreachable, control


@dataclass
class Action:
    life: int
    wall: float  # when the request was sent
    t: float  # trio clock of the test process
    what: str  # plug | unplug | swipe
    connector: int | None
    tag: str | None
    result: str = "sent"  # the daemon's answer, "refused: ..." or "unreachable: ..."


class Driver:
    def __init__(
        self, socket: Path, rng: random.Random, connectors: int, life: int, run_tag: str
    ) -> None:
        self.socket = socket
        self.rng = rng
        self.connectors = list(range(1, connectors + 1))
        self.life = life
        self.run_tag = run_tag
        self.actions: list[Action] = []
        self._tags = 0
        self._charge_for: dict[int, float] = {}  # local id -> seconds to charge
        self._seen_at: dict[int, float] = {}  # local id -> trio time first seen running
        self.seen: dict[int, dict[str, Any]] = {}  # local id -> {connector, transaction}

    def _new_tag(self) -> str:
        self._tags += 1
        return f"{self.run_tag}L{self.life:03d}N{self._tags:03d}"  # <= 20 characters

    async def _do(self, what: str, connector: int | None, tag: str | None = None) -> str:
        wall, t = time.time(), trio.current_time()
        if what == "swipe":
            message: dict[str, Any] = {"cmd": "swipe", "id_tag": tag}
        else:
            message = {"cmd": "sim", "action": what, "connector": connector}
        # recorded before it is sent: a kill may cut the answer, not what the daemon did
        action = Action(self.life, wall, t, what, connector, tag)
        self.actions.append(action)
        try:
            action.result = str(await control(self.socket, message))
        except ControlRefused as exc:
            action.result = f"refused: {exc}"
        except ControlUnreachable as exc:
            action.result = f"unreachable: {exc}"
            raise
        return action.result

    async def run(self) -> None:
        """Walk until cancelled (the daemon's death ends it: ControlUnreachable is swallowed)."""
        try:
            while True:
                await self.step()
                await trio.sleep(self.rng.uniform(0.1, 0.5))
        except ControlUnreachable:
            await trio.sleep_forever()  # the daemon is going away; the life ends it

    async def step(self) -> None:
        status = await control(self.socket, {"cmd": "status"})
        connectors = {c["id"]: c for c in status["connectors"]}
        for c in connectors.values():
            shown = c["transaction"]
            if shown is not None:
                known = self.seen.get(shown["local_id"])
                # a transaction begun at the cable (2.0.1 EVConnected) shows its driver later
                if known is None or (not known["id_tag"] and shown["id_tag"]):
                    self.seen[shown["local_id"]] = {**shown, "connector": c["id"]}
        cid = self.rng.choice(self.connectors)
        c = connectors[cid]
        tx = c["transaction"]
        now = trio.current_time()
        if tx is not None:
            local_id = tx["local_id"]
            seen = self._seen_at.setdefault(local_id, now)
            planned = self._charge_for.setdefault(local_id, self.rng.uniform(0.3, 2.0))
            if now - seen < planned:
                return
            if not tx["id_tag"] and self.rng.random() < 0.5:
                # begun at the cable (2.0.1 EVConnected, or nobody is asked): a driver's tag
                await self._do("swipe", cid, self._new_tag())
            elif tx["id_tag"] and self.rng.random() < 0.5:
                await self._do("swipe", cid, tx["id_tag"])
            else:
                await self._do("unplug", cid)
            return
        if not c["plugged"]:
            others_free = any(
                o["transaction"] is None and not o["plugged"]
                for i, o in connectors.items()
                if i != cid
            )
            if not others_free and self.rng.random() < 0.3:
                await self._do("swipe", cid, self._new_tag())  # tag first, then the cable
            await self._do("plug", cid)
        elif c["status"] in ("Finishing", "Faulted", "Unavailable") or self.rng.random() < 0.1:
            await self._do("unplug", cid)
        else:
            await self._do("swipe", cid, self._new_tag())
