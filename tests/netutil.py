"""A TCP proxy for network faults: a blackhole (half-open link) and cut connections."""

from __future__ import annotations

import trio


class Proxy:
    """Forwards 127.0.0.1:<port> to ``target_port``. ``blackhole()`` drops every byte both ways
    while keeping the sockets open (what a dead mobile link looks like); ``cut()`` closes
    every connection; ``refuse`` makes new connections fail at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.blackholed = False
        self.refuse = False
        self.connections = 0
        self.openings: list[bytes] = []  # the first bytes each client sent (TLS: 0x16 ...)
        self._scopes: list[trio.CancelScope] = []

    def __repr__(self) -> str:
        return f"<Proxy :{self.port} -> :{self.target_port} blackholed={self.blackholed}>"

    async def serve(
        self, *, task_status: trio.TaskStatus[Proxy] = trio.TASK_STATUS_IGNORED
    ) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            task_status.started(self)
            await trio.serve_listeners(self._handle, listeners, handler_nursery=nursery)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def blackhole(self) -> None:
        self.blackholed = True

    def restore(self) -> None:
        self.blackholed = False

    def cut(self) -> None:
        for scope in self._scopes:
            scope.cancel()

    async def _handle(self, client: trio.SocketStream) -> None:
        if self.refuse:  # a central system behind a load balancer that is down
            try:
                await client.receive_some(65536)
                await client.send_all(
                    b"HTTP/1.1 503 Service Unavailable\r\n"
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except trio.BrokenResourceError:
                pass
            await client.aclose()
            return
        self.connections += 1
        with trio.CancelScope() as scope:
            self._scopes.append(scope)
            try:
                server = await trio.open_tcp_stream("127.0.0.1", self.target_port)
            except OSError:
                await client.aclose()
                return
            async with client, server, trio.open_nursery() as nursery:
                nursery.start_soon(self._pump, client, server, nursery.cancel_scope, self.openings)
                nursery.start_soon(self._pump, server, client, nursery.cancel_scope)
        self._scopes.remove(scope)

    async def _pump(
        self,
        src: trio.SocketStream,
        dst: trio.SocketStream,
        scope: trio.CancelScope,
        openings: list[bytes] | None = None,
    ) -> None:
        try:
            while True:
                data = await src.receive_some(65536)
                if not data:
                    break
                if openings is not None:
                    openings.append(bytes(data[:8]))
                    openings = None
                if not self.blackholed:
                    await dst.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        scope.cancel()
