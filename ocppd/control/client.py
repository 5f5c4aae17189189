"""One request over the control socket from async code (the demo, tests). ``ocppctl`` has its
own blocking client: a one-shot tool needs no event loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio


class Refused(Exception):
    """The daemon answered ``ok: false``; the message says why."""


async def request(socket: Path, message: dict[str, Any]) -> Any:
    """Send ``message``, return the result; raise Refused when the daemon refuses."""
    stream = await trio.open_unix_socket(str(socket))
    async with stream:
        await stream.send_all(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data)
    if not reply.get("ok"):
        raise Refused(reply.get("error", "refused"))
    return reply.get("result")
