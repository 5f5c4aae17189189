"""The connection speaks the OCPP version the central system agrees to, from the dialects offered.

A central system on loopback (trio-websocket, no OCPP library) picks one subprotocol of
those the charge point offers and then talks raw frames: the tiny made-up dialect of
tests/protocol/tiny_dialect.py, or OCPP 1.6, over the same `Connection`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from ocppd.connection import Connection
from ocppd.protocol.dialect import Dialect
from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import IncomingCall
from ocppd.protocol.v16 import messages as m
from ocppd.protocol.v16.dialect import V16
from ocppd.protocol.v16.enums import ResetStatus
from ocppd.session import Session
from ocppd.transport.backoff import Backoff
from ocppd.transport.link import LinkTarget
from tests.protocol.tiny_dialect import TINY, EchoResponse, PingRequest

Script = Callable[[WebSocketConnection], Awaitable[list[Any]]]


async def central_system(
    nursery: trio.Nursery, prefer: tuple[str, ...], script: Script, seen: list[Any]
) -> int:
    """Serves one charge point: accepts the first of ``prefer`` it was offered, runs ``script``
    and keeps what it returns in ``seen`` (then the offered list and the one agreed)."""

    async def handle(request: WebSocketRequest) -> None:
        offered = list(request.proposed_subprotocols)
        agreed = next((p for p in prefer if p in offered), None)
        ws = await request.accept(subprotocol=agreed)
        seen.append((offered, agreed))
        seen.extend(await script(ws))
        await trio.sleep_forever()

    server = await nursery.start(serve_websocket, handle, "127.0.0.1", 0, None)
    return int(server.port)


async def receive(ws: WebSocketConnection) -> list[Any]:
    with trio.fail_after(10):
        return list(json.loads(await ws.get_message()))


def connection(
    port: int, answers: list[Any], dialects: tuple[Dialect, ...] = (TINY, V16)
) -> Connection:

    async def handler(call: IncomingCall) -> Any:
        if call.action == "Echo":
            return EchoResponse(call.request.text)
        return m.ResetResponse(status=ResetStatus.ACCEPTED)

    async def conversation(session: Session) -> None:
        spoken = session.rpc.dialect
        answers.append(
            await session.call(PingRequest() if spoken is TINY else m.HeartbeatRequest())
        )
        await trio.sleep_forever()

    return Connection(
        target=lambda: LinkTarget(
            url=f"ws://127.0.0.1:{port}/ocpp/CP-D",
            charge_point_id="CP-D",
            subprotocols=("tiny0.1", "ocpp1.6"),
        ),
        dialects={d.subprotocol: d for d in dialects},
        ids=MessageIds("cp"),
        supported=lambda dialect: {"Echo"} if dialect is TINY else {"Reset"},
        handler=handler,
        conversation=conversation,
        backoff=Backoff(1, 2),
        call_timeout=5,
        secret_keys=frozenset(),
    )


async def tiny_script(ws: WebSocketConnection) -> list[Any]:
    ping = await receive(ws)
    await ws.send_message(json.dumps([3, ping[1], {"at": "noon"}]))
    await ws.send_message('[2,"s1","Echo",{"text":"hello"}]')
    echoed = await receive(ws)
    await ws.send_message('[2,"s2","Echo",{}]')
    refused = await receive(ws)
    await ws.send_message('[2,"s3","Reset",{"type":"Soft"}]')
    unknown = await receive(ws)
    return [ping, echoed, refused[:3], unknown[:3]]


async def test_a_central_system_that_picks_the_tiny_dialect_is_spoken_to_in_it(
    nursery, autojump_clock
):
    seen: list[Any] = []
    answers: list[Any] = []
    port = await central_system(nursery, ("tiny0.1",), tiny_script, seen)
    conn = connection(port, answers)
    nursery.start_soon(conn.run)
    with trio.fail_after(10):
        while len(seen) < 5:
            await trio.sleep(0.1)
    (offered, agreed), ping, echoed, refused, unknown = seen
    assert (offered, agreed) == (["tiny0.1", "ocpp1.6"], "tiny0.1")
    assert ping == [2, "cp-1", "Ping", {}]
    assert echoed == [3, "s1", {"text": "hello"}]
    assert refused == [4, "s2", "OccurrenceConstraintViolation"]  # the tiny spelling
    assert unknown == [4, "s3", "NotImplemented"]  # a 1.6 action means nothing in it
    assert [a.at for a in answers] == ["noon"]
    assert conn.dialect is TINY
    assert "tiny0.1" in repr(conn)


async def v16_script(ws: WebSocketConnection) -> list[Any]:
    heartbeat = await receive(ws)
    await ws.send_message(json.dumps([3, heartbeat[1], {"currentTime": "2026-11-21T10:00:00Z"}]))
    await ws.send_message('[2,"s1","Reset",{"type":"Soft"}]')
    accepted = await receive(ws)
    await ws.send_message('[2,"s2","Reset",{"type":"Medium"}]')
    refused = await receive(ws)
    await ws.send_message('[2,"s3","Echo",{"text":"hello"}]')
    unknown = await receive(ws)
    return [heartbeat[2], accepted, refused[:3], unknown[:3]]


async def test_the_same_connection_speaks_16_when_the_central_system_picks_it(
    nursery, autojump_clock
):
    seen: list[Any] = []
    answers: list[Any] = []
    port = await central_system(nursery, ("ocpp1.6",), v16_script, seen)
    conn = connection(port, answers)
    nursery.start_soon(conn.run)
    with trio.fail_after(10):
        while len(seen) < 5:
            await trio.sleep(0.1)
    (offered, agreed), heartbeat, accepted, refused, unknown = seen
    assert (offered, agreed) == (["tiny0.1", "ocpp1.6"], "ocpp1.6")
    assert heartbeat == "Heartbeat"
    assert accepted == [3, "s1", {"status": "Accepted"}]
    assert refused == [4, "s2", "PropertyConstraintViolation"]
    assert unknown == [4, "s3", "NotImplemented"]
    assert [type(a) for a in answers] == [m.HeartbeatResponse]
    assert conn.dialect is V16


async def test_a_version_offered_without_a_dialect_is_a_configuration_error(
    nursery, autojump_clock
):
    conn = connection(1, [], dialects=(V16,))  # offers tiny0.1 too, which nobody here speaks
    nursery.start_soon(conn.run)
    with trio.fail_after(10):
        while conn.last_error is None:
            await conn.wait_changed()
    assert conn.last_error == "no dialect for subprotocol tiny0.1"
    assert conn.connects == 0
